import StreamModel

/// An operator's input that is malformed or out of range, naming the field and what it accepts:
/// `--rate 1e-12 is out of range: give a number of changes per second from 0.01 to 10000`.
/// The command line exits 2 with it, the API and the console answer 400.
public struct InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the value.
    public enum Problem: String, Sendable, Hashable {
        /// Not a value of the field's kind at all.
        case malformed = "is not valid"
        /// A value of the right kind, outside the field's range.
        case outOfRange = "is out of range"
    }

    /// The field as the front end names it: `--since`, `since`, `"rate"`.
    public let field: String
    /// The value given, as typed.
    public let value: String
    /// What is wrong with it.
    public let problem: Problem
    /// What the field accepts, in words.
    public let accepted: String

    /// Makes an error.
    public init(field: String, value: String, problem: Problem, accepted: String) {
        self.field = field
        self.value = value
        self.problem = problem
        self.accepted = accepted
    }

    /// One line: the field, the value (clipped, quoted when it is not a plain word), the problem and the range.
    public var description: String {
        "\(field) \(Self.quoted(value)) \(problem.rawValue): give \(accepted)"
    }

    /// `value` as shown in a message: at most 40 characters, quoted and escaped unless it is a
    /// plain word of letters, digits and `.:+-_#`.
    static func quoted(_ value: String) -> String {
        let clipped = value.count > 40 ? String(value.prefix(40)) + "…" : value
        let plain =
            !value.isEmpty && value.count <= 40
            && value.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || "0123456789.:+-_#".unicodeScalars.contains($0))
            }
        return plain ? clipped : JSONValue.string(clipped).serialized
    }
}

extension ReprocessorError {
    /// An operator request refused for its input (`.invalidRequest`, carrying the input error's line).
    public init(_ input: InputError) {
        self.init(.invalidRequest, input.description)
    }
}
