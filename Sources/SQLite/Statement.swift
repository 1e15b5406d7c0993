internal import CSQLite

/// A compiled statement owned by one ``Connection``: bind parameters, step through rows,
/// read typed columns. Not Sendable: it belongs to the connection's single owner.
///
/// Parameter indexes are 1-based (as in SQLite); column indexes are 0-based.
public final class Statement: SQLRow {
    /// The SQL text this statement was compiled from.
    public let sql: String
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    private let path: String

    /// Compiles one SQL statement.
    /// - Throws: ``SQLiteError`` if SQLite rejects the statement, or if `sql` holds more than one statement.
    init(sql: String, connection: OpaquePointer, path: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        var hasSecondStatement = false
        let code = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(connection, text, -1, &handle, &tail)
            if code == SQLITE_OK, let tail, tail.pointee != 0 {
                // Something follows the first statement: it is fine if it compiles to nothing (spaces, comments).
                var next: OpaquePointer?
                sqlite3_prepare_v2(connection, tail, -1, &next, nil)
                hasSecondStatement = next != nil
                sqlite3_finalize(next)
            }
            return code
        }
        guard code == SQLITE_OK, let handle else {
            if code != SQLITE_OK {
                let error = SQLiteError(connection: connection, resultCode: code, sql: sql, path: path)
                sqlite3_finalize(handle)
                throw error
            }
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_MISUSE, message: "no SQL statement in text", sql: sql, path: path)
        }
        guard !hasSecondStatement else {
            sqlite3_finalize(handle)
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_MISUSE,
                message: "more than one statement in text; use Connection.execute for scripts", sql: sql, path: path)
        }
        self.handle = handle
        self.connection = connection
        self.path = path
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    private func error(_ code: Int32) -> SQLiteError {
        SQLiteError(connection: connection, resultCode: code, sql: sql, path: path)
    }

    // MARK: Binding

    /// How many parameters the statement has.
    public var parameterCount: Int {
        Int(sqlite3_bind_parameter_count(handle))
    }

    /// Binds `value` to parameter `index` (1-based).
    /// - Throws: ``SQLiteError`` (`SQLITE_RANGE`) for an index out of range.
    public func bind(_ value: some SQLBindable, at index: Int) throws(SQLiteError) {
        let position = Int32(index)
        let code: Int32
        switch value.sqlValue {
        case .null:
            code = sqlite3_bind_null(handle, position)
        case .integer(let integer):
            code = sqlite3_bind_int64(handle, position, integer)
        case .real(let real):
            code = sqlite3_bind_double(handle, position, real)
        case .text(var text):
            code = text.withUTF8 { bytes in
                // A zero-length buffer may have no address, and a NULL pointer would bind NULL: bind "" explicitly.
                guard let base = bytes.baseAddress, bytes.count > 0 else {
                    return sqlite3_bind_text(handle, position, "", 0, sqliteTransient)
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text64(handle, position, $0, sqlite3_uint64(bytes.count), sqliteTransient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let bytes):
            code = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress, buffer.count > 0 else {
                    return sqlite3_bind_zeroblob(handle, position, 0)
                }
                return sqlite3_bind_blob64(handle, position, base, sqlite3_uint64(buffer.count), sqliteTransient)
            }
        }
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Binds `value` to the parameter named `name` (`:name`, `@name` or `$name`; a bare name means `:name`).
    /// - Throws: ``SQLiteError`` (`SQLITE_RANGE`) if the statement has no such parameter.
    public func bind(_ value: some SQLBindable, named name: String) throws(SQLiteError) {
        let fullName = name.first.map { ":@$".contains($0) } == true ? name : ":" + name
        let index = sqlite3_bind_parameter_index(handle, fullName)
        guard index > 0 else {
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_RANGE, message: "no parameter named \(fullName)", sql: sql, path: path)
        }
        try bind(value, at: Int(index))
    }

    /// Binds positional values to parameters 1...n.
    /// - Throws: ``SQLiteError`` (`SQLITE_RANGE`) if the count differs from ``parameterCount``.
    public func bind(_ values: [any SQLBindable]) throws(SQLiteError) {
        try expectParameters(values.count)
        for (offset, value) in values.enumerated() {
            try bind(value.sqlValue, at: offset + 1)
        }
    }

    /// Binds values to parameters 1...n, as ``bind(_:)-([any SQLBindable])`` does, without
    /// boxing each value: for statements with many parameters (multi-row inserts).
    /// - Throws: ``SQLiteError`` (`SQLITE_RANGE`) if the count differs from ``parameterCount``.
    public func bind(values: ArraySlice<SQLValue>) throws(SQLiteError) {
        try expectParameters(values.count)
        var position = 1
        for value in values {
            try bind(value, at: position)
            position += 1
        }
    }

    /// Throws `SQLITE_RANGE` unless `count` is the statement's ``parameterCount``.
    private func expectParameters(_ count: Int) throws(SQLiteError) {
        guard count == parameterCount else {
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_RANGE,
                message: "statement has \(parameterCount) parameters, \(count) values given", sql: sql, path: path)
        }
    }

    /// Binds values by parameter name (see ``bind(_:named:)``).
    /// - Throws: ``SQLiteError`` (`SQLITE_RANGE`) for a name the statement does not have.
    public func bind(_ values: [String: any SQLBindable]) throws(SQLiteError) {
        for (name, value) in values {
            try bind(value.sqlValue, named: name)
        }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    /// Rewinds the statement so it can run again (bindings are kept).
    public func reset() {
        sqlite3_reset(handle)
    }

    /// Whether the statement has started stepping and was not reset or run to completion.
    var isBusy: Bool {
        sqlite3_stmt_busy(handle) != 0
    }

    // MARK: Stepping

    /// Advances to the next row.
    /// - Returns: `true` when a row is ready, `false` when the statement is done.
    /// - Throws: ``SQLiteError`` with the extended result code (e.g. `SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`).
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let failure = error(code)
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Runs the statement to completion with `bindings` (positional), ignoring any rows, then resets it.
    /// - Throws: ``SQLiteError``.
    public func execute(_ bindings: [any SQLBindable] = []) throws(SQLiteError) {
        reset()
        clearBindings()
        try bind(bindings)
        defer { reset() }
        while try step() {}
    }

    // MARK: Columns

    /// How many columns a result row has.
    public var columnCount: Int {
        Int(sqlite3_column_count(handle))
    }

    /// The name of column `index` (0-based).
    public func columnName(at index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// Whether column `index` of the current row is NULL.
    public func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// Column `index` as an integer (SQLite's conversion rules; NULL is 0).
    public func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(index))
    }

    /// Column `index` as a double (NULL is 0).
    public func double(at index: Int) -> Double {
        sqlite3_column_double(handle, Int32(index))
    }

    /// Column `index` as text (NULL is ""). Invalid UTF-8 is repaired with U+FFFD.
    public func string(at index: Int) -> String {
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` as bytes (NULL and the empty blob are both empty).
    public func blob(at index: Int) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(handle, Int32(index)) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Column `index` with its storage class.
    public func value(at index: Int) -> SQLValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: .integer(int64(at: index))
        case SQLITE_FLOAT: .real(double(at: index))
        case SQLITE_TEXT: .text(string(at: index))
        case SQLITE_BLOB: .blob(blob(at: index))
        default: .null
        }
    }
}

@available(*, unavailable)
extension Statement: Sendable {}

/// Tells SQLite to copy bound text and blobs before the bind call returns.
var sqliteTransient: sqlite3_destructor_type {
    unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
