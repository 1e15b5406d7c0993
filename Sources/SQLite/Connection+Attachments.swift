/// Names a value that a connection's owner keeps with the connection, for code that is
/// handed only the connection (a `static func … in db: Connection` helper).
///
/// The SQLite module stores the value and never reads it.
public protocol ConnectionAttachmentKey {
    /// The type of the attached value.
    associatedtype Value
}

extension Connection {
    /// The value attached under `key`; nil when none is. Setting nil removes it.
    public subscript<Key: ConnectionAttachmentKey>(attachment key: Key.Type) -> Key.Value? {
        get { attachments[ObjectIdentifier(key)] as? Key.Value }
        set { attachments[ObjectIdentifier(key)] = newValue }
    }
}
