import AuditLog
import Foundation
import Reprocessor
import TestSupport
import Testing

/// The operations façade owns every rule of a request: its request types carry the defaults,
/// their `validate` methods every bound and combination, and a refusal names the field, which
/// each front end only renames. The front ends (the executable, `/v1`, the console) declare no
/// default or bound of their own: their sources are read here and searched for one.
@Suite("operations: one façade for every front end")
struct OperationsFacadeTests {
    /// The field an `OperatorRequest` is refused for, or nil when it is accepted.
    static func refused(_ request: OperatorRequest, _ command: OperatorActions.Command) -> RequestError.Field? {
        do {
            try request.validate(for: command)
            return nil
        } catch {
            return error.field
        }
    }

    @Test("operator requests: one selection, a reason for skip and rollback, force for rollback, bounded rate and ids")
    func operatorRequestRules() {
        for command in OperatorActions.Command.allCases {
            let reason: String? = command.requiresReason ? "why" : nil
            #expect(Self.refused(OperatorRequest(ids: [1], actor: "a", reason: reason), command) == nil, "\(command)")
            #expect(Self.refused(OperatorRequest(filter: ChangeFilter(), actor: "a", reason: reason), command) == nil)
            #expect(Self.refused(OperatorRequest(actor: "a", reason: reason), command) == .ids, "nothing chosen")
            #expect(
                Self.refused(OperatorRequest(ids: [1], filter: ChangeFilter(), actor: "a", reason: reason), command) == .filter,
                "ids and a filter")
            #expect(Self.refused(OperatorRequest(ids: [0], actor: "a", reason: reason), command) == .ids, "id 0")
            #expect(Self.refused(OperatorRequest(ids: [1], actor: "a", reason: reason, ratePerSecond: 0), command) == .rate)
            #expect(Self.refused(OperatorRequest(ids: [1], actor: "a", reason: reason, ratePerSecond: 10_000), command) == nil)
            let blank = Self.refused(OperatorRequest(ids: [1], actor: "a", reason: " \t"), command)
            #expect(blank == .reason, "\(command): a blank reason is refused, needed or not")
            let none = Self.refused(OperatorRequest(ids: [1], actor: "a"), command)
            #expect(none == (command.requiresReason ? .reason : nil), "\(command): no reason")
            let forced = Self.refused(OperatorRequest(ids: [1], actor: "a", reason: reason, force: true), command)
            #expect(forced == (command == .rollback ? nil : .force), "\(command): force")
        }
    }

    @Test("reconcile requests: segments default and bound, a reason to repair, a rate for a repair only")
    func reconcileRequestRules() {
        #expect(ReconcileRequest(actor: "a").segments == OperatorInput.segments.standard)
        func field(_ request: ReconcileRequest) -> RequestError.Field? {
            do {
                try request.validate()
                return nil
            } catch {
                return error.field
            }
        }
        #expect(field(ReconcileRequest(actor: "a")) == nil, "a dry run needs nothing")
        #expect(field(ReconcileRequest(actor: "a", reason: "")) == .reason, "but a reason given says something")
        #expect(field(ReconcileRequest(repair: true, actor: "a")) == .reason)
        #expect(field(ReconcileRequest(repair: true, actor: "a", reason: "  ")) == .reason)
        #expect(field(ReconcileRequest(repair: true, actor: "a", reason: "why", ratePerSecond: 5)) == nil)
        #expect(field(ReconcileRequest(actor: "a", ratePerSecond: 5)) == .rate, "a dry run has nothing to pace")
        #expect(field(ReconcileRequest(repair: true, actor: "a", reason: "why", ratePerSecond: .nan)) == .rate)
        for segments in [OperatorInput.segments.allowed.lowerBound - 1, OperatorInput.segments.allowed.upperBound + 1] {
            #expect(field(ReconcileRequest(segments: segments, actor: "a")) == .segments, "\(segments)")
        }
        #expect(field(ReconcileRequest(segments: OperatorInput.segments.allowed.upperBound, actor: "a")) == nil)
    }

    @Test("batch requests: at least one id in range, and a reason")
    func batchRequestRules() {
        func field(_ request: BatchRequest) -> RequestError.Field? {
            do {
                try request.validate()
                return nil
            } catch {
                return error.field
            }
        }
        #expect(field(BatchRequest(ids: [1, 2], actor: "a", reason: "why")) == nil)
        #expect(field(BatchRequest(ids: [], actor: "a", reason: "why")) == .ids)
        #expect(field(BatchRequest(ids: [-3], actor: "a", reason: "why")) == .ids)
        #expect(field(BatchRequest(ids: [1], actor: "a", reason: "")) == .reason)
    }

    @Test("a refusal reads with each front end's name for the field")
    func refusalNamesTheField() {
        let error = RequestError(.reason, "is required for skip: it is recorded with every change")
        #expect(error.description == "\"reason\" is required for skip: it is recorded with every change")
        #expect(
            error.message(naming: { "--\($0.rawValue)" }) == "--reason is required for skip: it is recorded with every change")
        let input = RequestError(.rate, InputError(field: "--rate", value: "0", problem: .outOfRange, accepted: "a number"))
        #expect(input.description == "\"rate\" 0 is out of range: give a number", "the input layer's own name is dropped")
    }

    /// The package's root folder.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every Swift file of the front ends, with its text.
    static func frontEndSources() throws -> [(path: String, text: String)] {
        var sources: [(String, String)] = []
        for folder in ["Sources/dlq-reprocessor", "Sources/ReprocessorService"] {
            let root = packageRoot.appendingPathComponent(folder)
            let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
            for case let file as URL in files where file.pathExtension == "swift" {
                sources.append(
                    (
                        file.path.replacingOccurrences(of: packageRoot.path + "/", with: ""),
                        try String(contentsOf: file, encoding: .utf8)
                    ))
            }
        }
        return sources
    }

    @Test("no front end declares a default or bound of a request's field, a page size or a drain setting")
    func frontEndsDeclareNoBounds() throws {
        let sources = try Self.frontEndSources()
        #expect(sources.count > 20, "the front ends' sources are read: \(sources.count)")
        // The names front ends give the façade's fields and the counts of OperatorInput/AuditQueries.
        let fields =
            RequestError.Field.allCases.map(\.rawValue) + [
                "limit", "pageSize", "wait", "concurrency", "interval", "reconcileInterval", "segments", "rate",
            ]
        let patterns: [(what: String, regex: String)] = [
            ("an integer range", #"\b\d[\d_]*\s*\.\.[.<]\s*\d[\d_]*\b"#),
            ("a help text stating a number range or default", #"help:[^\n]*"[^"\n]*(\d+-\d+|default \d)[^"\n]*""#),
            ("a field defaulted to a number", #"var (\#(fields.joined(separator: "|")))(: [A-Za-z]+)? = [\d.]+"#),
            ("a field falling back to a number", #"\b(\#(fields.joined(separator: "|"))) \?\? [\d.]+"#),
            ("a field falling back to the input layer's standard", #"\?\? (OperatorInput|AuditQueries)\.\w+\.standard"#),
        ]
        // Facts of protocols, not of operations: TCP ports, printable ASCII, HTTP status classes,
        // bytes of a random token.
        let allowed = ["0...65535", "0x21...0x7E", "200..<300", "400..<500", "0..<32", "0...255"]
        var found: [String] = []
        for (path, text) in sources {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for (what, regex) in patterns {
                    guard let range = code.range(of: regex, options: .regularExpression) else { continue }
                    if allowed.contains(where: { code[range].contains($0) }) { continue }
                    found.append("\(path):\(number + 1): \(what): \(code)")
                }
            }
        }
        #expect(found.isEmpty, "front ends with bounds or defaults of their own:\n\(found.joined(separator: "\n"))")
    }

    @Test("the executable names the flag of a refused request and exits 2 before opening the store")
    func executableRenamesTheField() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("facade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("audit.sqlite3").path
        let environment = ["AUDIT_DB": store, "DLQ_ACTOR": "tester", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]
        let cases: [(arguments: [String], says: String)] = [
            (["skip", "1"], "--reason is required for skip"),
            (["rollback", "1", "--reason", " "], "--reason is required for rollback"),
            (["retry"], "<ids> are required, or a filter"),
            (["retry", "1", "--status", "parked"], "a filter cannot go with change ids"),
            (["retry", "1", "--rate", "0"], "--rate 0.0 is out of range"),
            (["reconcile", "--repair"], "--reason is required to repair"),
            (["reconcile", "--rate", "5"], "--rate applies to a repair only"),
            (["reconcile", "--segments", "0"], "--segments 0 is out of range"),
            (["skip-batch", "1", "--reason", ""], "--reason is required"),
        ]
        for (arguments, says) in cases {
            let output = try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: environment)
            #expect(output.status == 2 && !output.killedBySignal, "\(arguments): \(output)")
            #expect(output.stderr.contains(says), "\(arguments): \(output.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: store), "no refused request opened (or created) the store")
    }
}
