import Reprocessor
import Testing

/// The receive visibility timeout: how long a crashed ingest's messages stay hidden.
@Suite("visibility timeout setting")
struct VisibilityTimeoutSettingTests {
    @Test("defaults to 120 s; the flag wins over DLQ_VISIBILITY_TIMEOUT")
    func precedence() throws {
        #expect(try ReprocessorSettings.resolve(.init(), environment: [:]).visibilityTimeoutSeconds == 120)
        let fromEnvironment = try ReprocessorSettings.resolve(.init(), environment: ["DLQ_VISIBILITY_TIMEOUT": "7"])
        #expect(fromEnvironment.visibilityTimeoutSeconds == 7)
        let fromFlag = try ReprocessorSettings.resolve(
            .init(visibilityTimeoutSeconds: 3), environment: ["DLQ_VISIBILITY_TIMEOUT": "7"])
        #expect(fromFlag.visibilityTimeoutSeconds == 3)
    }

    @Test("a value that is not 1 to 43200 whole seconds is refused, naming the flag and the variable")
    func invalid() {
        for text in ["0", "43201", "-5", "2.5", "soon"] {
            #expect(throws: ReprocessorError.self, "\(text)") {
                try ReprocessorSettings.resolve(.init(), environment: ["DLQ_VISIBILITY_TIMEOUT": text])
            }
        }
        do {
            _ = try ReprocessorSettings.resolve(.init(visibilityTimeoutSeconds: 0), environment: [:])
            Issue.record("0 s was accepted")
        } catch {
            #expect(error.code == .invalidSetting)
            #expect("\(error)".contains("--visibility-timeout") && "\(error)".contains("DLQ_VISIBILITY_TIMEOUT"))
        }
    }
}
