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

/// A Swift value that can be read from a result column.
public protocol SQLColumnDecodable {
    /// Reads column `index` (0-based) of the statement's current row.
    static func decode(from statement: Statement, at index: Int) -> Self
}

extension Int64: SQLBindable, SQLColumnDecodable {
    /// `.integer(self)`.
    public var sqlValue: SQLValue { .integer(self) }
    /// The column as an integer (NULL reads as 0, as in SQLite).
    public static func decode(from statement: Statement, at index: Int) -> Int64 { statement.int64(at: index) }
}

extension Int: SQLBindable, SQLColumnDecodable {
    /// `.integer(Int64(self))`.
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    /// The column as an integer (NULL reads as 0, as in SQLite).
    public static func decode(from statement: Statement, at index: Int) -> Int { Int(statement.int64(at: index)) }
}

extension Bool: SQLBindable, SQLColumnDecodable {
    /// 1 or 0.
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    /// Non-zero is true.
    public static func decode(from statement: Statement, at index: Int) -> Bool { statement.int64(at: index) != 0 }
}

extension Double: SQLBindable, SQLColumnDecodable {
    /// `.real(self)`.
    public var sqlValue: SQLValue { .real(self) }
    /// The column as a double (NULL reads as 0).
    public static func decode(from statement: Statement, at index: Int) -> Double { statement.double(at: index) }
}

extension String: SQLBindable, SQLColumnDecodable {
    /// `.text(self)`.
    public var sqlValue: SQLValue { .text(self) }
    /// The column as text (NULL reads as "").
    public static func decode(from statement: Statement, at index: Int) -> String { statement.string(at: index) }
}

extension Array: SQLBindable, SQLColumnDecodable where Element == UInt8 {
    /// `.blob(self)`.
    public var sqlValue: SQLValue { .blob(self) }
    /// The column as bytes (NULL reads as empty).
    public static func decode(from statement: Statement, at index: Int) -> [UInt8] { statement.blob(at: index) }
}

extension Data: SQLBindable, SQLColumnDecodable {
    /// `.blob([UInt8](self))`.
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    /// The column as bytes (NULL reads as empty).
    public static func decode(from statement: Statement, at index: Int) -> Data { Data(statement.blob(at: index)) }
}

extension SQLValue: SQLColumnDecodable {
    /// The column with its storage class.
    public static func decode(from statement: Statement, at index: Int) -> SQLValue { statement.value(at: index) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    /// The wrapped value, or `.null`.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLColumnDecodable where Wrapped: SQLColumnDecodable {
    /// nil when the column is NULL, the decoded value otherwise.
    public static func decode(from statement: Statement, at index: Int) -> Wrapped? {
        statement.isNull(at: index) ? nil : Wrapped.decode(from: statement, at: index)
    }
}
