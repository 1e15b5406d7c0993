import Foundation
import Reprocessor

/// Where a console listing's page is: its order (newest first unless `order=oldest`), the
/// position of its first row (`from`, carried beside the cursor), and the links around it.
struct ConsolePaging {
    /// The query parameters paging adds to a listing's filters.
    static let names: Set<String> = ["cursor", "order", "from", "limit"]

    /// Highest id first (the default).
    let newestFirst: Bool
    /// The 1-based position of this page's first row.
    let from: Int
    /// The previous page's `next`; nil on the first page.
    let cursor: String?
    /// Rows a page (`limit`, as `/v1` takes it).
    let limit: Int
    /// The `limit` parameter as given, carried by the page links.
    private let limitParameter: [(String, String)]

    /// - Throws: ``ServiceError`` (400) for an `order` that is neither `newest` nor `oldest`, or a
    ///   `limit` outside `pageSize`.
    init(_ query: QueryInput, pageSize: OperatorInput.Count) throws(ServiceError) {
        limit = try query.count("limit", pageSize)
        limitParameter = query.string("limit").map { [("limit", $0)] } ?? []
        switch query.string("order") {
        case nil, "newest": newestFirst = true
        case "oldest": newestFirst = false
        case let other?:
            throw ServiceError(.badRequest, "order \"\(other.prefix(40))\" is not newest or oldest", field: "order")
        }
        cursor = query.string("cursor")
        from = cursor == nil ? 1 : max(1, Int(query.string("from") ?? "") ?? 1)
    }

    /// The filters of `request` without the paging parameters and empty values, in their order.
    static func filters(of parameters: [(String, String)]) -> [(String, String)] {
        parameters.filter { !names.contains($0.0) && !$0.1.isEmpty }
    }

    /// The template values of a page of `rows` rows out of `total` at `path` with `filters`:
    /// `position` (`41–80 of 1,234 changes`), `nextLink`, `firstLink`, and `orders` (the toggle).
    func values(path: String, filters: [(String, String)], rows: Int, total: Int, next: String?, noun: (Int) -> String)
        -> [String: Any]
    {
        let order = [("order", newestFirst ? "newest" : "oldest")] + limitParameter
        let last = from + rows - 1
        let total = max(total, rows == 0 ? 0 : last)
        var values: [String: Any] = [
            "position": rows == 0
                ? "none of \(noun(total))"
                : "\(ConsoleText.number(from))–\(ConsoleText.number(last)) of \(noun(total))",
            "orders": [("newest", "Newest first", true), ("oldest", "Oldest first", false)].map { value, label, newest in
                [
                    "label": label, "current": newest == newestFirst,
                    "link": path + "?" + ConsoleText.query(filters + [("order", value)] + limitParameter),
                ] as [String: Any]
            },
        ]
        if let next {
            values["nextLink"] =
                path + "?" + ConsoleText.query(filters + order + [("cursor", next), ("from", String(last + 1))])
        }
        if cursor != nil { values["firstLink"] = path + "?" + ConsoleText.query(filters + order) }
        return values
    }
}
