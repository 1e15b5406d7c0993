/// A request the operations refuse as asked, naming the field in the request types' own terms.
///
/// The operations (``Operations``) own every rule of a request: which fields it needs, which go
/// together, and every bound. Each front end only renames the field: the command line says
/// `--reason` and exits 2, `/v1` answers 400 with `"field": "reason"`, the console marks the
/// form's field. ``message(naming:)`` builds the one line with the front end's name.
public struct RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The fields of ``OperatorRequest`` and ``ReconcileRequest``, by the names `/v1` gives them.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        /// The changes named by id.
        case ids
        /// The changes chosen by filter.
        case filter
        /// Why.
        case reason
        /// Roll back even when the live document no longer reflects the change.
        case force
        /// At most this many per second.
        case rate
        /// Parallel scan segments of a reconcile.
        case segments
        /// Report only, change nothing.
        case dryRun
    }

    /// The field at fault.
    public let field: Field
    /// What is wrong, written to follow the field's name: `is required for skip and rollback`.
    public let problem: String

    /// Makes an error.
    /// - Parameters:
    ///   - field: The field at fault.
    ///   - problem: What is wrong, to follow the field's name.
    public init(_ field: Field, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    /// A value out of its field's range or malformed, as the input layer words it.
    /// - Parameters:
    ///   - field: The field at fault.
    ///   - input: The input layer's error (its own field name is replaced).
    public init(_ field: Field, _ input: InputError) {
        self.init(field, "\(InputError.quoted(input.value)) \(input.problem.rawValue): give \(input.accepted)")
    }

    /// The one line, with the field named as a front end names it.
    /// - Parameter name: The front end's name of each field (`--reason`, `"reason"`).
    public func message(naming name: (Field) -> String) -> String {
        "\(name(field)) \(problem)"
    }

    /// The one line with the field's `/v1` name in quotes: `"reason" is required for skip and rollback`.
    public var description: String { message(naming: { "\"\($0.rawValue)\"" }) }

    /// The rule every request's reason follows: present and not blank where it is required,
    /// and never blank when given (a reason is recorded; an empty one says nothing).
    /// - Parameters:
    ///   - reason: The reason given, if any.
    ///   - required: What follows "is required" when the request needs one (`for skip: …`), else nil.
    /// - Throws: ``RequestError`` naming `reason`.
    static func checkReason(_ reason: String?, required: String?) throws(RequestError) {
        let blank = reason.map { $0.allSatisfy(\.isWhitespace) }
        if let required, blank ?? true { throw RequestError(.reason, "is required \(required)") }
        if blank == true { throw RequestError(.reason, "is blank: say why, or leave it out") }
    }
}
