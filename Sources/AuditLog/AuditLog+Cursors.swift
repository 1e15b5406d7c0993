extension AuditLog {
    /// Checks that `text` has the form of a paging cursor this audit log hands out (the `next`
    /// of the changes, actions, due-work or quarantined listings), so that a front end can
    /// refuse garbage as bad input before it reaches a query.
    /// - Parameter text: The cursor.
    /// - Throws: ``AuditLogError`` `.invalidCursor`.
    public static func checkCursor(_ text: String) throws(AuditLogError) {
        let quarantined = text.split(separator: ":", omittingEmptySubsequences: false)
        if quarantined.count == 3, quarantined[0] == "q", Int64(quarantined[1]) != nil, Int64(quarantined[2]) != nil {
            return
        }
        for (listing, fieldCount) in [("changes", 2), ("actions", 2), ("due", 3)] {
            guard let cursor = try? PageCursor(decoding: text, listing: listing, fieldCount: fieldCount) else { continue }
            if listing == "due"
                || (Int64(cursor.fields[0]) != nil && (cursor.fields[1].isEmpty || Int64(cursor.fields[1]) != nil))
            {
                return
            }
        }
        throw AuditLogError(code: .invalidCursor, description: "\(text.prefix(40)) is not a cursor of this audit log")
    }
}
