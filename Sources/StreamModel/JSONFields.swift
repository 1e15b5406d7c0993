/// Typed reads of an object's fields, with errors that name the field.
/// A field that is absent or JSON `null` counts as missing.
extension [String: JSONValue] {
    /// The field's value; nil when absent or null.
    func presentValue(_ key: String) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }

    /// The field's value.
    /// - Throws: ``StreamModelError`` `<key>: missing` when absent or null.
    func requiredValue(_ key: String) throws(StreamModelError) -> JSONValue {
        guard let value = presentValue(key) else { throw StreamModelError("missing").located(in: key) }
        return value
    }

    /// A string field; nil when missing.
    /// - Throws: ``StreamModelError`` when present with another type.
    func optionalString(_ key: String) throws(StreamModelError) -> String? {
        guard let value = presentValue(key) else { return nil }
        guard case .string(let text) = value else {
            throw StreamModelError("expected a string, got \(value.typeName)").located(in: key)
        }
        return text
    }

    /// A string field that must be there.
    /// - Throws: ``StreamModelError`` when missing or of another type.
    func requiredString(_ key: String) throws(StreamModelError) -> String {
        guard let text = try optionalString(key) else { throw StreamModelError("missing").located(in: key) }
        return text
    }

    /// An object field; nil when missing.
    /// - Throws: ``StreamModelError`` when present with another type.
    func optionalObject(_ key: String) throws(StreamModelError) -> [String: JSONValue]? {
        guard let value = presentValue(key) else { return nil }
        guard case .object(let members) = value else {
            throw StreamModelError("expected an object, got \(value.typeName)").located(in: key)
        }
        return members
    }

    /// An integral number field; nil when missing.
    /// - Throws: ``StreamModelError`` when present but not an integer.
    func optionalInt(_ key: String) throws(StreamModelError) -> Int? {
        guard let value = presentValue(key) else { return nil }
        guard let number = value.intValue else {
            throw StreamModelError("expected an integer, got \(value.typeName)").located(in: key)
        }
        return number
    }

    /// Lenient read for metadata fields: a string as is, a number's text, or nil for anything else.
    func lenientString(_ key: String) -> String? {
        switch self[key] {
        case .string(let text): text
        case .number(let text): text
        default: nil
        }
    }

    /// Lenient read for metadata counts: an integral number or a string of one, else nil.
    func lenientInt(_ key: String) -> Int? {
        switch self[key] {
        case .number(let text): JSONValue.number(text).intValue
        case .string(let text): Int(text)
        default: nil
        }
    }
}
