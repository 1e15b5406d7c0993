extension AuditLog {
    /// The keyset-paged listings whose `next` cursors front ends pass back.
    public enum PagedListing: String, Sendable, CaseIterable {
        /// ``listChanges(_:after:limit:newestFirst:)``, in either order.
        case changes
        /// ``listActions(_:after:limit:newestFirst:)``, in either order.
        case actions
        /// ``quarantinedMessages(after:limit:)``.
        case quarantinedMessages = "quarantined messages"
    }

    /// Checks that `text` has the form of a cursor `listing` hands out (a previous page's
    /// `next`), so that a front end can refuse it as bad input before it reaches a query.
    /// - Parameters:
    ///   - text: The cursor.
    ///   - listing: The listing it is for.
    /// - Throws: ``AuditLogError`` `.invalidCursor`.
    public static func checkCursor(_ text: String, for listing: PagedListing) throws(AuditLogError) {
        switch listing {
        case .quarantinedMessages:
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0] == "q", Int64(parts[1]) != nil, Int64(parts[2]) != nil { return }
        case .changes, .actions:
            for newestFirst in [false, true] {
                if let cursor = try? PageCursor(
                    decoding: text, listing: IDRange.listing(listing.rawValue, newestFirst: newestFirst), fieldCount: 2),
                    Int64(cursor.fields[0]) != nil, cursor.fields[1].isEmpty || Int64(cursor.fields[1]) != nil
                {
                    return
                }
            }
        }
        throw AuditLogError(
            code: .invalidCursor, description: "\(text.prefix(40)) is not a cursor of the \(listing.rawValue) listing")
    }
}
