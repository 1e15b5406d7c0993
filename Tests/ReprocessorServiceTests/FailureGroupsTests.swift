import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Failure groups by fingerprint on real OpenSearch errors (osmem-server), through the
    /// command line: eleven documents refused by one mapping mistake are one group, another field
    /// is another group, and one `retry --group ID` acts on the whole group. With the actor's
    /// rules and the action commands' output.
    @Suite("failure groups: errors, --group, the actor, output")
    struct FailureGroupsTests {
        /// A mapping with `name` and `rating` as integers: artists 1-11 (named "Artist N") are
        /// refused on `name`, artists 12-14 (named with digits, rated beyond an integer) on `rating`.
        static func worldWithTwoGroups() async throws -> ReprocessorWorld {
            let world = try await ReprocessorWorld.start()
            try await world.openSearchServer.fixtures.recreateIndex(
                world.index, body: #"{"mappings": {"properties": {"name": {"type": "integer"}, "rating": {"type": "integer"}}}}"#)
            for id in 1...11 { try await world.putArtist("\(id)", name: "Artist \(id)") }
            for id in 12...14 { try await world.putArtist("\(id)", name: "\(id)", rating: "99999999999") }
            let records = try await world.streamRecords()
            try await world.send([world.failedBatchBody(records, requestID: "mapping-mistake")])
            let run = try await world.cli("run", "--once", "--max-attempts", "1")
            #expect(run.status == 3, "fourteen changes parked: \(run)")
            #expect(run.stdout.contains("\nreplay: 14 changes, "), "the replay said in words: \(run.stdout)")
            #expect(run.stdout.contains(": 14 parked for an operator\n"), "\(run.stdout)")
            return world
        }

        static func run(_ world: ReprocessorWorld, _ arguments: [String], environment: [String: String] = [:]) async throws
            -> CommandRunner.Output
        {
            try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: world.environment(environment))
        }

        @Test("eleven documents refused on one field are one group, three on another field another; retry --group acts on all")
        func oneGroupPerMappingMistake() async throws {
            let world = try await Self.worldWithTwoGroups()
            let (errors, json) = try await world.cliJSON("errors")
            let groups = try #require(json?["errors"]?.arrayValue, "\(errors)")
            #expect(groups.count == 2, "\(groups)")
            let name = try #require(groups.first { $0["fingerprint"]?.stringValue?.contains("[name]") == true })
            let rating = try #require(groups.first { $0["fingerprint"]?.stringValue?.contains("[rating]") == true })
            #expect(name["count"]?.intValue == 11 && name["documents"]?.intValue == 11, "\(name)")
            #expect(rating["count"]?.intValue == 3 && rating["documents"]?.intValue == 3, "\(rating)")
            #expect(name["statuses"]?["parked"]?.intValue == 11)
            #expect(
                name["fingerprint"]?.stringValue
                    == "OpenSearch 400 mapper_parsing_exception: failed to parse field [name] of type [integer] in document "
                    + "with id '<id>'. Preview of field's value: '<value>'")
            let example = try #require(name["error"]?.stringValue)
            #expect(example.contains("Preview of field's value: 'Artist "), "a full example: \(example)")
            let nameGroup = try #require(name["group"]?.stringValue)
            let ratingGroup = try #require(rating["group"]?.stringValue)

            // The table: one row per group, its example in full below it, wrapped to COLUMNS.
            let table = try await Self.run(world, ["errors"], environment: ["COLUMNS": "60"])
            #expect(table.status == 0, "\(table)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("GROUP       COUNT  DOCUMENTS") == true, "\(table.stdout)")
            #expect(lines.filter { $0.hasPrefix(nameGroup) || $0.hasPrefix(ratingGroup) }.count == 2, "\(table.stdout)")
            #expect(lines.allSatisfy { $0.count <= 60 || $0.hasPrefix("act on") || !$0.hasPrefix("    ") }, "\(table.stdout)")
            let unwrapped = lines.filter { $0.hasPrefix("    ") }.map { $0.dropFirst(4) }.joined(separator: " ")
            let examples = groups.compactMap { $0["error"]?.stringValue }
            #expect(examples.allSatisfy(unwrapped.contains), "every example in full:\n\(table.stdout)")
            let wide = try await Self.run(world, ["errors", "--wide"], environment: ["COLUMNS": "60"])
            #expect(wide.stdout.split(separator: "\n").contains { $0.hasPrefix(nameGroup) && $0.hasSuffix(example) }, "\(wide)")

            let listed = try await Self.run(world, ["list", "--group", nameGroup, "--json"])
            #expect(try JSONValue(parsing: listed.stdout)["changes"]?.arrayValue?.count == 11, "\(listed)")

            let preview = try await Self.run(world, ["retry", "--group", nameGroup.uppercased(), "--dry-run"])
            #expect(preview.status == 0, "\(preview)")
            let previewLines = preview.stdout.split(separator: "\n").map(String.init)
            #expect(previewLines.first == "ID  OUTCOME      STATUS  MESSAGE", "an aligned table: \(preview.stdout)")
            #expect(previewLines.last == "dry run: 11 changes (11 would_retry); nothing changed", "\(preview.stdout)")

            try await world.openSearchServer.fixtures.recreateIndex(world.index)
            let retried = try await Self.run(world, ["retry", "--group", nameGroup])
            #expect(retried.status == 0, "\(retried)")
            #expect(retried.stdout.split(separator: "\n").last == "11 changes: 11 applied", "\(retried.stdout)")
            for id in ["1", "6", "11"] {
                #expect(try await world.liveDocument(id) != nil, "artist \(id) is in search")
            }
            let (_, after) = try await world.cliJSON("errors")
            #expect(
                after?["errors"]?.arrayValue?.compactMap { $0["group"]?.stringValue } == [ratingGroup],
                "\(String(describing: after))")

            let none = try await Self.run(world, ["retry", "--group", nameGroup, "--dry-run"])
            #expect(none.status == 0 && none.stdout == "dry run: no change matches; nothing would be retried\n", "\(none)")
            let bad = try await Self.run(world, ["retry", "--group", "name-field", "--dry-run"])
            #expect(bad.status == 2 && bad.stderr.contains("--group"), "\(bad)")
            let unknown = try await Self.run(world, ["history", "999"])
            #expect(unknown.status == 0 && unknown.stdout == "ARTIST#999: no changes recorded for this artist\n", "\(unknown)")
        }

        @Test("the actor: --actor, else DLQ_ACTOR, else the user id's login name; a user id without one is refused")
        func actor() async throws {
            let world = try await Self.worldWithTwoGroups()
            let (_, list) = try await world.cliJSON("list", "--status", "parked")
            let ids = try #require(list?["changes"]?.arrayValue?.compactMap { $0["id"]?.intValue }.map(String.init))
            #expect(ids.count >= 4)

            let byVariable = try await Self.run(
                world, ["skip", ids[0], "--reason", "known"], environment: ["DLQ_ACTOR": "carol"])
            let byFlag = try await Self.run(
                world, ["skip", ids[1], "--reason", "known", "--actor", "dave"], environment: ["DLQ_ACTOR": "carol"])
            let byAccount = try await Self.run(world, ["skip", ids[2], "--reason", "known"], environment: ["DLQ_ACTOR": " "])
            for output in [byVariable, byFlag, byAccount] { #expect(output.status == 0, "\(output)") }
            let account = try #require(getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } })
            for (id, actor) in [(ids[0], "carol"), (ids[1], "dave"), (ids[2], account)] {
                let (_, shown) = try await world.cliJSON("show", id)
                #expect(shown?["actions"]?.arrayValue?.last?["actor"]?.stringValue == actor, "change \(id)")
            }
            #expect(byVariable.stdout.hasPrefix("ID  OUTCOME  STATUS   MESSAGE\n\(ids[0])"), "\(byVariable.stdout)")

            // A user id the password database does not know (as in many containers): refused before
            // anything is opened, with one line naming the remedies.
            var environment = world.environment()
            environment.removeValue(forKey: "USER")
            let refused = try await CommandRunner.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=54321", "--regid=54321", "--clear-groups", ReprocessorExecutable.path, "skip", ids[3], "--reason",
                    "x",
                ],
                environment: environment)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.stderr.contains("no actor to record") && refused.stderr.contains("DLQ_ACTOR"), "\(refused)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
            let (_, still) = try await world.cliJSON("show", ids[3])
            #expect(still?["status"]?.stringValue == "parked", "\(String(describing: still))")
        }
    }
}
