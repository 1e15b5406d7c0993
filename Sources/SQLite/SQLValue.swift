import Foundation

/// A value as SQLite stores it: one of its five storage classes.
public enum SQLValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// An IEEE double.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes (an empty blob is not NULL).
    case blob([UInt8])
}

extension SQLValue: SQLBindable {
    /// The value itself.
    public var sqlValue: SQLValue { self }
}

/// A Swift value that can be bound to a statement parameter.
public protocol SQLBindable {
    /// The value to bind.
    var sqlValue: SQLValue { get }
}

/// One row of a query's result, read by column index: a SQLite ``Statement`` on its current
/// row, or a row another database returned, converted to ``SQLValue``s (``SQLValueRow``).
public protocol SQLRow {
    /// Whether column `index` (0-based) is NULL.
    func isNull(at index: Int) -> Bool
    /// Column `index` as an integer (NULL is 0).
    func int64(at index: Int) -> Int64
    /// Column `index` as a double (NULL is 0).
    func double(at index: Int) -> Double
    /// Column `index` as text (NULL is "").
    func string(at index: Int) -> String
    /// Column `index` as bytes (NULL is empty).
    func blob(at index: Int) -> [UInt8]
    /// Column `index` with its storage class.
    func value(at index: Int) -> SQLValue
}

extension SQLRow {
    /// Column `index` decoded as `T`; use an optional type to read NULL as nil.
    public func column<T: SQLColumnDecodable>(_ index: Int, as type: T.Type = T.self) -> T {
        T.decode(from: self, at: index)
    }
}

/// A row held as values, as a database other than SQLite hands it over.
public struct SQLValueRow: SQLRow, Sendable {
    /// The columns, in order.
    public let values: [SQLValue]

    /// A row of `values`.
    public init(_ values: [SQLValue]) {
        self.values = values
    }

    public func isNull(at index: Int) -> Bool {
        if case .null = values[index] { return true }
        return false
    }

    public func int64(at index: Int) -> Int64 {
        switch values[index] {
        case .integer(let value): value
        case .real(let value): Int64(value)
        case .text(let value): Int64(value) ?? 0
        case .null, .blob: 0
        }
    }

    public func double(at index: Int) -> Double {
        switch values[index] {
        case .integer(let value): Double(value)
        case .real(let value): value
        case .text(let value): Double(value) ?? 0
        case .null, .blob: 0
        }
    }

    public func string(at index: Int) -> String {
        switch values[index] {
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        case .null: ""
        }
    }

    public func blob(at index: Int) -> [UInt8] {
        switch values[index] {
        case .blob(let bytes): bytes
        case .text(let value): Array(value.utf8)
        case .integer, .real, .null: []
        }
    }

    public func value(at index: Int) -> SQLValue {
        values[index]
    }
}

/// A Swift value that can be read from a result column.
public protocol SQLColumnDecodable {
    /// Reads column `index` (0-based) of `row`.
    static func decode(from row: some SQLRow, at index: Int) -> Self
}

extension Int64: SQLBindable, SQLColumnDecodable {
    /// `.integer(self)`.
    public var sqlValue: SQLValue { .integer(self) }
    /// The column as an integer (NULL reads as 0, as in SQLite).
    public static func decode(from row: some SQLRow, at index: Int) -> Int64 { row.int64(at: index) }
}

extension Int: SQLBindable, SQLColumnDecodable {
    /// `.integer(Int64(self))`.
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    /// The column as an integer (NULL reads as 0, as in SQLite).
    public static func decode(from row: some SQLRow, at index: Int) -> Int { Int(row.int64(at: index)) }
}

extension Bool: SQLBindable, SQLColumnDecodable {
    /// 1 or 0.
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    /// Non-zero is true.
    public static func decode(from row: some SQLRow, at index: Int) -> Bool { row.int64(at: index) != 0 }
}

extension Double: SQLBindable, SQLColumnDecodable {
    /// `.real(self)`.
    public var sqlValue: SQLValue { .real(self) }
    /// The column as a double (NULL reads as 0).
    public static func decode(from row: some SQLRow, at index: Int) -> Double { row.double(at: index) }
}

extension String: SQLBindable, SQLColumnDecodable {
    /// `.text(self)`.
    public var sqlValue: SQLValue { .text(self) }
    /// The column as text (NULL reads as "").
    public static func decode(from row: some SQLRow, at index: Int) -> String { row.string(at: index) }
}

extension Array: SQLBindable, SQLColumnDecodable where Element == UInt8 {
    /// `.blob(self)`.
    public var sqlValue: SQLValue { .blob(self) }
    /// The column as bytes (NULL reads as empty).
    public static func decode(from row: some SQLRow, at index: Int) -> [UInt8] { row.blob(at: index) }
}

extension Data: SQLBindable, SQLColumnDecodable {
    /// `.blob([UInt8](self))`.
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    /// The column as bytes (NULL reads as empty).
    public static func decode(from row: some SQLRow, at index: Int) -> Data { Data(row.blob(at: index)) }
}

extension SQLValue: SQLColumnDecodable {
    /// The column with its storage class.
    public static func decode(from row: some SQLRow, at index: Int) -> SQLValue { row.value(at: index) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    /// The wrapped value, or `.null`.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLColumnDecodable where Wrapped: SQLColumnDecodable {
    /// nil when the column is NULL, the decoded value otherwise.
    public static func decode(from row: some SQLRow, at index: Int) -> Wrapped? {
        row.isNull(at: index) ? nil : Wrapped.decode(from: row, at: index)
    }
}
