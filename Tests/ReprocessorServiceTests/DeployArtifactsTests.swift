import Foundation
import StreamModel
import TestSupport
import Testing

/// What `deploy/` ships beside the binary, held to the binary itself.
enum DeployArtifacts {
    /// The repository's top folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A metric a rule or panel names: `dlq_changes{status="parked"}` is `dlq_changes` with `status` = `parked`.
    struct Selector: Hashable, CustomStringConvertible {
        var name: String
        /// The `label="value"` matchers (`=` only; `!=`, `=~` and `!~` name no single series).
        var labels: [String: String]

        var description: String {
            labels.isEmpty
                ? name
                : "\(name){\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ","))}"
        }
    }

    /// Every `dlq_` metric named in a PromQL expression, with its equality matchers
    /// (`!=`, `=~` and `!~` name no single series, so they are not kept).
    static func selectors(in expression: String) -> [Selector] {
        expression.matches(of: /(dlq_[a-z0-9_]+)(\{([^}]*)\})?/).map { match in
            Selector(name: String(match.output.1), labels: labels(match.output.3.map(String.init) ?? ""))
        }
    }

    /// The `label="value"` pairs of a matcher list or a sample's labels.
    static func labels(_ text: String) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/) {
            labels[String(pair.output.1)] = String(pair.output.2)
        }
        return labels
    }

    /// The `expr:` values of a Prometheus rule file, folded block scalars (`expr: >-`) included.
    static func ruleExpressions(_ yaml: String) -> [String] {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var expressions: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("expr:") else { continue }
            let indent = line.count - trimmed.count
            let value = trimmed.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
            guard value == ">-" || value == ">" || value == "|" || value == "|-" else {
                expressions.append(value)
                continue
            }
            var block: [String] = []
            while index < lines.count, lines[index].isEmpty || lines[index].prefix(while: { $0 == " " }).count > indent {
                block.append(lines[index].trimmingCharacters(in: .whitespaces))
                index += 1
            }
            expressions.append(block.joined(separator: " "))
        }
        return expressions
    }

    /// Every query string of a Grafana dashboard: the `expr` of each target and each variable's `query`.
    static func dashboardExpressions(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let fields):
            return fields.sorted { $0.key < $1.key }.flatMap { key, field -> [String] in
                if key == "expr" || key == "query", let text = field.stringValue { return [text] }
                return dashboardExpressions(field)
            }
        case .array(let elements):
            return elements.flatMap(dashboardExpressions)
        default:
            return []
        }
    }

    /// The samples of a Prometheus text exposition: name and labels of each line.
    static func samples(_ text: String) -> [Selector] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            guard let match = line.firstMatch(of: /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/) else { return nil }
            return Selector(name: String(match.output.1), labels: labels(match.output.3.map(String.init) ?? ""))
        }
    }

    /// The selectors no sample of `exposition` answers.
    static func unanswered(_ selectors: Set<Selector>, in exposition: String) -> [Selector] {
        let samples = Self.samples(exposition)
        return selectors.filter { selector in
            !samples.contains { sample in
                sample.name == selector.name && selector.labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
        }.sorted { $0.description < $1.description }
    }
}

extension ServeTests {
    /// The alert rules and the dashboard against a real `/metrics`.
    @Suite("serve: shipped alerts and dashboard")
    struct ShippedMonitoringTests {
        @Test("every metric and label value the alert rules and the dashboard name is in a real /metrics after work")
        func rulesAndPanelsNameRealMetrics() async throws {
            let rules = try String(
                contentsOf: DeployArtifacts.root.appendingPathComponent("deploy/prometheus/alerts.yml"), encoding: .utf8)
            let dashboard = try JSONValue(
                parsing: String(
                    contentsOf: DeployArtifacts.root.appendingPathComponent("deploy/grafana/dashboard.json"), encoding: .utf8))
            let ruleExpressions = DeployArtifacts.ruleExpressions(rules)
            let panelExpressions = DeployArtifacts.dashboardExpressions(dashboard)
            #expect(ruleExpressions.count >= 12, "the rules are all read: \(ruleExpressions)")
            #expect(panelExpressions.count >= 12, "the panels are all read: \(panelExpressions)")
            let ruleSelectors = Set(ruleExpressions.flatMap(DeployArtifacts.selectors(in:)))
            let panelSelectors = Set(panelExpressions.flatMap(DeployArtifacts.selectors(in:)))

            // Real work: a format-A batch read from the stream and applied, a quarantined body,
            // and a dry-run reconcile (the drift gauges exist only once a run has been made).
            let world = try await ReprocessorWorld.start()
            // Scheduled backups too, so their gauge exists once one has been made.
            let backups = world.directory.appendingPathComponent("backups").path
            let service = try await RunningService.start(
                world, arguments: ["--backup-dir", backups, "--backup-every", "1s"], environment: OperatorAPITests.tokens)
            defer { service.process.stop() }
            try await world.putArtist("1", name: "One")
            try await world.putArtist("2", name: "Two")
            let records = try await world.streamRecords()
            try await world.send([world.failedBatchBody(records, requestID: "monitoring", arrivedAt: Date()), "not json"])
            try await service.eventually("both changes applied") {
                try await service.metric(#"dlq_changes{status="applied"}"#) == 2
            }
            let reconcile = try await service.post("/v1/reconcile", #"{"dryRun": true}"#, token: OperatorAPITests.alice)
            #expect(reconcile.status == 200, "\(reconcile)")
            try await service.eventually("the reconcile run in the metrics") {
                try await service.metric("dlq_reconcile_last_run_timestamp_seconds") != nil
            }
            try await service.eventually("a scheduled backup in the metrics") {
                try await service.metric("dlq_backup_last_success_timestamp_seconds") != nil
            }

            let exposition = try await service.get("/metrics").body
            #expect(DeployArtifacts.unanswered(ruleSelectors, in: exposition) == [], "alert rules name metrics /metrics lacks")
            #expect(
                DeployArtifacts.unanswered(panelSelectors, in: exposition) == [], "dashboard panels name metrics /metrics lacks")
            // The check itself can fail: a misspelt name and an unknown label value are caught.
            let wrong: Set = [
                DeployArtifacts.Selector(name: "dlq_change_lag_seconds", labels: [:]),
                DeployArtifacts.Selector(name: "dlq_changes", labels: ["status": "parkd"]),
            ]
            #expect(DeployArtifacts.unanswered(wrong, in: exposition) == wrong.sorted { $0.description < $1.description })
        }
    }
}

/// Shell completion scripts, generated by swift-argument-parser from the command tree.
@Suite("shell completion")
struct ShellCompletionTests {
    @Test("bash, zsh and fish completion scripts generate and offer every subcommand", arguments: ["bash", "zsh", "fish"])
    func completionScriptGenerates(shell: String) async throws {
        let environment = ["PATH": "/usr/bin:/bin"]
        let dump = try await CommandRunner.run(ReprocessorExecutable.path, ["--experimental-dump-help"], environment: environment)
        #expect(dump.status == 0, "\(dump)")
        let subcommands = try #require(try JSONValue(parsing: dump.stdout)["command"]?["subcommands"]?.arrayValue)
            .compactMap { $0["commandName"]?.stringValue }
        #expect(subcommands.contains("serve") && subcommands.contains("reconcile"), "\(subcommands)")

        let script = try await CommandRunner.run(
            ReprocessorExecutable.path, ["--generate-completion-script", shell], environment: environment)
        #expect(script.status == 0 && script.stderr.isEmpty, "\(script)")
        #expect(script.stdout.contains("dlq-reprocessor"))
        for subcommand in subcommands {
            #expect(script.stdout.contains(subcommand), "\(shell) completion offers \(subcommand)")
        }
    }
}
