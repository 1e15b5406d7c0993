import Reprocessor
import Testing

/// `--opensearch-timeout` / `OPENSEARCH_TIMEOUT`: the limit on each OpenSearch request.
@Suite("OpenSearch timeout setting")
struct OpenSearchTimeoutSettingTests {
    @Test("defaults to 30 s; the flag wins over OPENSEARCH_TIMEOUT")
    func precedence() throws {
        #expect(try ReprocessorSettings.resolve(.init(), environment: [:]).openSearchTimeout == .seconds(30))
        let fromEnvironment = try ReprocessorSettings.resolve(.init(), environment: ["OPENSEARCH_TIMEOUT": "7"])
        #expect(fromEnvironment.openSearchTimeout == .seconds(7))
        var overrides = ReprocessorSettings.Overrides()
        overrides.openSearchTimeoutSeconds = 3
        #expect(
            try ReprocessorSettings.resolve(overrides, environment: ["OPENSEARCH_TIMEOUT": "7"]).openSearchTimeout == .seconds(3))
    }

    @Test("a value that is not 1 to 300 whole seconds is refused in one line naming the flag and the variable")
    func invalid() {
        for text in ["0", "301", "-1", "2.5", "soon"] {
            do {
                _ = try ReprocessorSettings.resolve(.init(), environment: ["OPENSEARCH_TIMEOUT": text])
                Issue.record("\"\(text)\" was accepted")
            } catch {
                #expect("\(error)".contains("OPENSEARCH_TIMEOUT") && !"\(error)".contains("\n"), "\(error)")
            }
        }
        var overrides = ReprocessorSettings.Overrides()
        overrides.openSearchTimeoutSeconds = 0
        #expect(throws: ReprocessorError.self) { try ReprocessorSettings.resolve(overrides, environment: [:]) }
    }
}
