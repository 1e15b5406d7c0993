/// Why a JSON text could not be parsed, and where.
///
/// `description` is one line naming the problem and its byte offset, e.g.
/// `unexpected character 'x' at byte 0 (expected a value)`.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Hashable {
    /// One operator-readable line, including the byte offset.
    public var description: String
    /// Byte offset (from 0) in the UTF-8 input where the problem was found.
    public var offset: Int

    /// Creates an error for `problem` found at byte `offset`, optionally saying what was expected there.
    init(_ problem: String, at offset: Int, expected: String? = nil) {
        self.offset = offset
        if let expected {
            description = "\(problem) at byte \(offset) (expected \(expected))"
        } else {
            description = "\(problem) at byte \(offset)"
        }
    }

    /// How a byte is shown in a message: `'x'` for printable ASCII, `byte 0xNN` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte > 0x20, byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }
}
