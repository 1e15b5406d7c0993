import Reprocessor
import Testing

/// `DLQ_BATCH_PRIORITY_SHARE`: the share of a stream's retention past which `serve` reads a due
/// batch before it drains anything more.
@Suite("batch priority setting")
struct BatchPrioritySettingTests {
    @Test("defaults to half the retention; DLQ_BATCH_PRIORITY_SHARE sets any share from 0 to 1")
    func values() throws {
        #expect(try ReprocessorSettings.resolve(.init(), environment: [:]).batchPriorityShare == 0.5)
        for (text, share) in [("0", 0.0), ("0.25", 0.25), ("1", 1.0)] {
            let settings = try ReprocessorSettings.resolve(.init(), environment: ["DLQ_BATCH_PRIORITY_SHARE": text])
            #expect(settings.batchPriorityShare == share, "\(text)")
        }
    }

    @Test("a value that is not a number from 0 to 1 is refused in one line naming the variable")
    func invalid() {
        for text in ["1.5", "-0.1", "nan", "inf", "half"] {
            do {
                _ = try ReprocessorSettings.resolve(.init(), environment: ["DLQ_BATCH_PRIORITY_SHARE": text])
                Issue.record("\"\(text)\" was accepted")
            } catch {
                #expect("\(error)".contains("DLQ_BATCH_PRIORITY_SHARE"), "\(error)")
                #expect(!"\(error)".contains("\n"), "\(error)")
            }
        }
    }
}
