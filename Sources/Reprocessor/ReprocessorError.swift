/// What went wrong in the reprocessor, as one line an operator can act on.
///
/// Errors from the modules below (audit log, AWS, OpenSearch) keep their own
/// types; this one covers the reprocessor's own rules: settings, leases,
/// operator requests that cannot be carried out.
public struct ReprocessorError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case missingSetting = "missing setting"
            case invalidSetting = "invalid setting"
            case invalidRequest = "invalid request"
            case notFound = "not found"
            case leaseLost = "lease lost"
            case storeInUse = "store in use"
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// A required setting was given neither as a flag nor in the environment.
        public static let missingSetting = Code(.missingSetting)
        /// A setting has a value that cannot be used.
        public static let invalidSetting = Code(.invalidSetting)
        /// An operator request that cannot be carried out as asked.
        public static let invalidRequest = Code(.invalidRequest)
        /// A change or document that does not exist.
        public static let notFound = Code(.notFound)
        /// Another process took the run lease over while this one worked; this one stopped.
        public static let leaseLost = Code(.leaseLost)
        /// A store another process is writing, which the command must not work on meanwhile.
        public static let storeInUse = Code(.storeInUse)

        public var description: String { kind.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The whole message, one line.
    public var description: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - description: One line saying what is wrong and how to fix it.
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A required setting is missing: names the flag and the environment variable.
    /// - Parameters:
    ///   - what: What the setting is, e.g. "DLQ queue URL".
    ///   - flag: The command-line flag, e.g. `--queue-url`.
    ///   - variable: The environment variable, e.g. `DLQ_URL`.
    public static func missing(_ what: String, flag: String, variable: String) -> ReprocessorError {
        ReprocessorError(.missingSetting, "missing \(what): pass \(flag) or set \(variable)")
    }
}
