import Foundation

/// Rewrites the audit log's SQL, written in SQLite's dialect, into PostgreSQL's.
///
/// The audit log keeps to the subset both share; what remains is mechanical:
/// - parameters: `?N` becomes `$N`, and a bare `?` takes the next number after the largest
///   so far, as SQLite numbers them;
/// - `ifnull(` becomes `coalesce(` (SQLite's expression indexes are declared with `ifnull`,
///   PostgreSQL's with `coalesce`, so each side's planner matches its own index);
/// - `INDEXED BY name` and `NOT INDEXED` hints are dropped: PostgreSQL's planner picks
///   indexes itself;
/// - `json_each($n)` becomes `json_array_elements_text($n::json) AS json_each(value)`, so
///   `SELECT value FROM json_each(?)` reads a JSON array's members in both.
///
/// Quoted strings and identifiers are copied as they are.
enum PostgresDialect {
    /// `sql` in PostgreSQL's dialect.
    static func translate(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var highest = 0
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            switch character {
            case "'", "\"":
                var end = sql.index(after: index)
                while end < sql.endIndex, sql[end] != character { end = sql.index(after: end) }
                if end < sql.endIndex { end = sql.index(after: end) }
                output += sql[index..<end]
                index = end
            case "?":
                var end = sql.index(after: index)
                while end < sql.endIndex, sql[end].isASCII, sql[end].isNumber { end = sql.index(after: end) }
                let digits = sql[sql.index(after: index)..<end]
                let number = Int(digits) ?? highest + 1
                highest = max(highest, number)
                output += "$\(number)"
                index = end
            default:
                if let (replacement, end) = keyword(in: sql, at: index) {
                    output += replacement
                    index = end
                } else {
                    output.append(character)
                    index = sql.index(after: index)
                }
            }
        }
        return rewriteJSONEach(output)
    }

    /// `ifnull(` → `coalesce(`, and `INDEXED BY name` and `NOT INDEXED` → nothing, at a word start.
    private static func keyword(in sql: String, at index: String.Index) -> (String, String.Index)? {
        let character = sql[index]
        guard character == "i" || character == "I" || character == "N" else { return nil }
        if index > sql.startIndex {
            let before = sql[sql.index(before: index)]
            if before.isLetter || before.isNumber || before == "_" { return nil }
        }
        let rest = sql[index...]
        if rest.lowercased().hasPrefix("ifnull(") {
            return ("coalesce(", sql.index(index, offsetBy: 7))
        }
        if rest.hasPrefix("NOT INDEXED") {
            return ("", sql.index(index, offsetBy: 11))
        }
        if rest.hasPrefix("INDEXED BY ") {
            var end = sql.index(index, offsetBy: 11)
            while end < sql.endIndex, sql[end].isLetter || sql[end].isNumber || sql[end] == "_" { end = sql.index(after: end) }
            return ("", end)
        }
        return nil
    }

    private static func rewriteJSONEach(_ sql: String) -> String {
        guard sql.contains("json_each(") else { return sql }
        var output = ""
        var rest = Substring(sql)
        while let range = rest.range(of: "json_each(") {
            output += rest[..<range.lowerBound]
            rest = rest[range.upperBound...]
            guard let close = rest.firstIndex(of: ")") else {
                output += "json_each("
                continue
            }
            output += "json_array_elements_text(\(rest[..<close])::json) AS json_each(value)"
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}
