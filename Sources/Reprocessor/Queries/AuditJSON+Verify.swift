import AuditLog
import StreamModel

extension AuditJSON {
    /// `verify --json`: `{"ok", "head": {"count", "hash"}, "keyed", "keyedFrom", "actionsChecked",
    /// "firstBrokenActionId", "brokenReason", "headReason", "rowsChecked", "firstBrokenRow",
    /// "brokenRowReason", "rowProblems": [{"row", "reason"}], "integrityCheck", "missingActions": [[FROM, TO], …]}`:
    /// `missingActions` lists every stretch of action ids missing from the chain; `rowProblems` names
    /// every row that does not agree with the chain (the first few of each check), the first of them
    /// again in `firstBrokenRow` and `brokenRowReason`.
    /// - Parameter report: What ``AuditLog/verify(expectedHead:)`` found.
    /// - Returns: The JSON object.
    public static func verifyReport(_ report: VerifyReport) -> JSONValue {
        .object([
            "ok": .bool(report.isIntact),
            "head": .object(["count": .number(String(report.head.count)), "hash": .string(report.head.hash)]),
            "keyed": .bool(report.isKeyed),
            "keyedFrom": report.keyedFrom.map { .number(String($0)) } ?? .null,
            "actionsChecked": .number(String(report.actionsChecked)),
            "firstBrokenActionId": report.firstBrokenActionID.map { .number(String($0)) } ?? .null,
            "brokenReason": optional(report.brokenReason),
            "headReason": optional(report.headReason),
            "rowsChecked": .number(String(report.rowsChecked)),
            "firstBrokenRow": optional(report.firstBrokenRow),
            "brokenRowReason": optional(report.brokenRowReason),
            "rowProblems": .array(
                report.rowProblems.map { .object(["row": .string($0.row), "reason": .string($0.reason)]) }),
            "integrityCheck": .array(report.integrityCheck.map(JSONValue.string)),
            "missingActions": .array(
                report.missingActions.map { .array([.number(String($0.lowerBound)), .number(String($0.upperBound))]) }),
        ])
    }
}
