import Foundation
import StreamModel

/// One page of a keyset-paged listing.
public struct Page<Row: Sendable>: Sendable {
    /// The rows of this page.
    public var rows: [Row]
    /// The opaque cursor of the next page (pass it as `after`); nil on the last page.
    public var next: String?

    /// Makes a page.
    public init(rows: [Row], next: String?) {
        self.rows = rows
        self.next = next
    }
}

extension Page: Equatable where Row: Equatable {}

extension Page: Hashable where Row: Hashable {}
