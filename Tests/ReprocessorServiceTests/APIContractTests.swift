import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The `/v1` contract that automation relies on (issue 29): problem details, 405 with `Allow`,
    /// `Retry-After`, and idempotency keys on POST actions, against a real `serve`.
    @Suite("serve: API contract")
    struct APIContractTests {
        static let alice = "alice-contract-token-0123456789"
        static let bob = "bob-contract-token-0123456789"
        static let tokens = ["OPERATOR_TOKENS": "alice:\(alice),bob:\(bob)"]

        /// A service over one applied change of artist 5, and the change's id.
        static func seeded() async throws -> (ReprocessorWorld, RunningService, Int) {
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("5", name: "Five")
            let service = try await RunningService.start(world, environment: tokens)
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "contract")])
            try await service.eventually("the change applied") {
                try await service.get("/v1/stats").json?["changes"]?["applied"]?.intValue == 1
            }
            let id = try #require(try await service.get("/v1/changes").json?["changes"]?[0]?["id"]?.intValue)
            return (world, service, id)
        }

        /// Sends `method path` with `headers` and an optional JSON body.
        static func send(
            _ service: RunningService, _ method: HTTPMethod, _ path: String, body: String? = nil,
            headers: [(String, String)] = []
        ) async throws -> HTTPAnswer {
            var request = HTTPClientRequest(url: service.baseURL + path)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body {
                request.body = .bytes(ByteBuffer(string: body))
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return HTTPAnswer(
                status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
                headers: response.headers, body: String(buffer: bytes))
        }

        /// Checks that `answer` is problem details with `status` and `code`.
        static func expectProblem(
            _ answer: HTTPAnswer, _ status: Int, _ code: String, field: String? = nil, _ what: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(answer.status == status, "\(what): \(answer)", sourceLocation: sourceLocation)
            #expect(answer.contentType == "application/problem+json", "\(what): \(answer)", sourceLocation: sourceLocation)
            let json = answer.json
            #expect(json?["code"]?.stringValue == code, "\(what): \(answer)", sourceLocation: sourceLocation)
            #expect(json?["status"]?.intValue == status, "\(what): \(answer)", sourceLocation: sourceLocation)
            #expect(
                json?["type"]?.stringValue == "urn:dlq-reprocessor:problem:\(code)", "\(what): \(answer)",
                sourceLocation: sourceLocation)
            let title = json?["title"]?.stringValue ?? ""
            #expect(title.isEmpty == false, "\(what): \(answer)", sourceLocation: sourceLocation)
            let detail = json?["detail"]?.stringValue
            #expect(detail != nil && detail == answer.error, "\(what): error and detail agree", sourceLocation: sourceLocation)
            #expect(json?["field"]?.stringValue == field, "\(what): field \(answer)", sourceLocation: sourceLocation)
            let requestID = json?["requestId"]?.stringValue
            #expect(
                requestID != nil && requestID == answer.headers.first(name: "X-Request-Id"),
                "\(what): the request id is in the body and X-Request-Id", sourceLocation: sourceLocation)
        }

        @Test("refusals are problem details naming the field; a known path with another method is 405 with Allow")
        func problemDetailsAndMethods() async throws {
            let (_, service, id) = try await Self.seeded()
            defer { service.process.stop() }

            Self.expectProblem(try await service.get("/v1/changes?limit=0"), 400, "invalid_input", field: "limit", "limit 0")
            Self.expectProblem(try await service.get("/v1/changes?limit="), 400, "invalid_input", field: "limit", "limit=")
            Self.expectProblem(try await service.get("/v1/reconcile?limit="), 400, "invalid_input", field: "limit", "empty")
            Self.expectProblem(
                try await service.get("/v1/changes?since=yesterday-ish"), 400, "invalid_input", field: "since", "a bad time")
            Self.expectProblem(try await service.get("/v1/changes?colour=red"), 400, "bad_request", field: "colour", "unknown")
            Self.expectProblem(
                try await service.get("/v1/history/%C3%A9t%C3%A9"), 400, "invalid_input", field: "key", "not an artist key")
            Self.expectProblem(
                try await service.post("/v1/changes/retry", #"{"ids": [1], "rate": 0.001}"#, token: Self.alice), 400,
                "invalid_input", field: "rate", "a rate out of range")
            Self.expectProblem(
                try await service.post("/v1/changes/retry?x=1", #"{"ids": [1]}"#, token: Self.alice), 400, "bad_request",
                field: "x", "a POST takes no query")
            Self.expectProblem(try await service.get("/v1/changes/999999"), 404, "not_found", "an unknown change")
            Self.expectProblem(try await service.get("/v1/nothing-here"), 404, "not_found", "an unknown path")

            let anonymous = try await service.get("/v1/stats", token: nil)
            Self.expectProblem(anonymous, 401, "unauthorized", "no token")
            #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
            Self.expectProblem(
                try await service.post("/v1/changes/\(id)/retry", "{}", token: RunningService.readerToken), 403, "forbidden",
                "a read token on a POST")

            for (method, path, allow) in [
                (HTTPMethod.DELETE, "/v1/changes/\(id)", "GET"), (.GET, "/v1/changes/retry", "POST"),
                (.PUT, "/v1/reconcile", "GET, POST"), (.POST, "/healthz", "GET"), (.PATCH, "/v1/history/5", "GET"),
                (.POST, "/v1/changes/\(id)", "GET"),
            ] {
                let answer = try await Self.send(service, method, path, headers: [("Authorization", "Bearer \(Self.alice)")])
                Self.expectProblem(answer, 405, "method_not_allowed", "\(method) \(path)")
                #expect(answer.headers.first(name: "Allow") == allow, "\(method) \(path): \(answer.headers)")
            }
            let unauthenticated = try await Self.send(service, .DELETE, "/v1/stats")
            #expect(unauthenticated.status == 405, "a method the path does not take is 405 for anyone: \(unauthenticated)")
            #expect(try await Self.send(service, .DELETE, "/v1/nothing").status == 404)
            #expect(try await Self.send(service, .DELETE, "/V1/STATS").status == 404, "paths are matched as spelt")
        }

        @Test(
            "a POST repeated with its Idempotency-Key answers the first result, acting once; another request with the key is 422")
        func idempotencyKeys() async throws {
            let (_, service, id) = try await Self.seeded()
            defer { service.process.stop() }
            func retries() async throws -> Int {
                let actions = try await service.get("/v1/changes/\(id)").json?["actions"]?.arrayValue ?? []
                return actions.filter { $0["action"]?.stringValue == "retried" && $0["actor"]?.stringValue == "alice" }.count
            }
            // Retry reaches a rolled-back change (an applied one it refuses): roll the change back first.
            func rollBack() async throws {
                try await service.eventually("the change is applied") {
                    try await service.get("/v1/changes/\(id)").json?["status"]?.stringValue == "applied"
                }
                let rolledBack = try await service.post(
                    "/v1/changes/\(id)/rollback", #"{"reason": "contract"}"#, token: Self.alice)
                #expect(rolledBack.json?["results"]?[0]?["outcome"]?.stringValue == "rolled_back", "\(rolledBack)")
            }
            try await rollBack()
            let path = "/v1/changes/\(id)/retry"
            let key = [("Authorization", "Bearer \(Self.alice)"), ("Idempotency-Key", "retry-\(UUID().uuidString)")]
            let first = try await Self.send(service, .POST, path, body: #"{"reason": "contract"}"#, headers: key)
            #expect(first.status == 200, "\(first)")
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(try await retries() == 1)

            let again = try await Self.send(service, .POST, path, body: #"{ "reason" : "contract" }"#, headers: key)
            #expect(again.status == 200 && again.body == first.body, "the first answer again: \(again)")
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try await retries() == 1, "the repeat (the same JSON, spaced otherwise) did nothing again")

            Self.expectProblem(
                try await Self.send(service, .POST, path, body: #"{"reason": "other"}"#, headers: key), 422,
                "idempotency_key_reused", field: "Idempotency-Key", "the key with another body")
            Self.expectProblem(
                try await Self.send(service, .POST, "/v1/changes/\(id)/resync", body: #"{"reason": "contract"}"#, headers: key),
                422, "idempotency_key_reused", field: "Idempotency-Key", "the key on another endpoint")

            let bobs = [("Authorization", "Bearer \(Self.bob)"), key[1]]
            let bob = try await Self.send(service, .POST, path, body: #"{"reason": "contract"}"#, headers: bobs)
            #expect(bob.status == 200 && bob.headers.first(name: "Idempotent-Replayed") == nil, "keys are per operator: \(bob)")

            // A refused request acted on nothing: it frees its key for the corrected request.
            let skipKey = [("Authorization", "Bearer \(Self.alice)"), ("Idempotency-Key", "skip-\(UUID().uuidString)")]
            Self.expectProblem(
                try await Self.send(service, .POST, "/v1/changes/\(id)/skip", body: "{}", headers: skipKey), 400,
                "invalid_input", field: "reason", "a skip without a reason names the field")
            let skip = try await Self.send(
                service, .POST, "/v1/changes/\(id)/skip", body: #"{"reason": "contract", "dryRun": true}"#, headers: skipKey)
            #expect(skip.status == 200 && skip.json?["results"]?[0]?["id"]?.intValue == id, "\(skip)")

            try await rollBack()
            let many = [("Authorization", "Bearer \(Self.alice)"), ("Idempotency-Key", "many-\(UUID().uuidString)")]
            let body = "{\"ids\": [\(id)], \"reason\": \"contract\"}"
            let streamed = try await Self.send(service, .POST, "/v1/changes/retry", body: body, headers: many)
            let repeated = try await Self.send(service, .POST, "/v1/changes/retry", body: body, headers: many)
            #expect(streamed.status == 200 && repeated.body == streamed.body, "\(streamed) / \(repeated)")
            #expect(repeated.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try await retries() == 2, "the many-change retry acted once")

            for bad in ["", "has space", String(repeating: "k", count: 256)] {
                let answer = try await Self.send(
                    service, .POST, path, body: "{}",
                    headers: [("Authorization", "Bearer \(Self.alice)"), ("Idempotency-Key", bad)])
                Self.expectProblem(answer, 400, "invalid_input", field: "Idempotency-Key", "key \(bad.prefix(10))")
            }
        }

        @Test("a standby serve's /readyz is 503 with Retry-After")
        func notReadyRetryAfter() async throws {
            let (world, service, _) = try await Self.seeded()
            defer { service.process.stop() }
            let standby = try await RunningService.start(world, environment: Self.tokens)
            defer { standby.process.stop() }
            try await standby.eventually("the standby says it is not ready") {
                try await standby.get("/readyz", token: nil).status == 503
            }
            let ready = try await standby.get("/readyz", token: nil)
            #expect(ready.status == 503, "\(ready)")
            #expect(ready.headers.first(name: "Retry-After") == "1", "\(ready.headers)")
            #expect(ready.json?["failing"]?.arrayValue?.contains(.string("lease")) == true, "\(ready)")
        }
    }
}
