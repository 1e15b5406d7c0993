/// How search differs from the table for one document (issue 13). Raw values are what
/// `reconcile` prints and stores.
public enum DriftKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The item is in the table, the document is not in search.
    case missing
    /// Search is behind the table: its content differs and its `sync` stamp is older than a
    /// change the audit log knows for the document (or it has no stamp), or its content is right
    /// but its stamp is older than such a change.
    case stale
    /// The document is in search, the item is not in the table.
    case orphaned
    /// Same stamp, different content: nothing known is newer than the document's stamp, yet its
    /// content is not what the transform makes of the table's item (an edit by hand, a lost write).
    case differs
}
