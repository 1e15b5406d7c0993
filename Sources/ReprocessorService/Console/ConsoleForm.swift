import Foundation
import Hummingbird
import NIOCore

/// The fields of a submitted console form (`application/x-www-form-urlencoded`).
struct ConsoleForm: Sendable {
    /// Largest form accepted.
    static let maxBytes = 64 * 1024

    private let fields: [(name: String, value: String)]

    /// Reads and decodes the body of `request`.
    /// - Throws: ``ServiceError`` (413) when the body is larger than ``maxBytes``.
    static func read(_ request: Request) async throws -> ConsoleForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw ServiceError(.payloadTooLarge, "the form is larger than \(maxBytes) bytes")
        }
        return ConsoleForm(encoded: String(buffer: buffer))
    }

    /// Decodes `name=value&…` text.
    init(encoded: String) {
        fields = encoded.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring?) -> String {
                guard let text else { return "" }
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts.first), decode(parts.count > 1 ? parts[1] : nil))
        }
    }

    /// The last non-empty value of `name`, nil when absent or empty.
    func string(_ name: String) -> String? {
        fields.last { $0.name == name && !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }?.value
    }

    /// Every non-empty value of `name`, in order.
    func list(_ name: String) -> [String] {
        fields.filter { $0.name == name && !$0.value.isEmpty }.map(\.value)
    }

    /// Whether a checkbox or button named `name` was sent with a true value.
    func flag(_ name: String) -> Bool {
        ["true", "on", "1", "yes"].contains(string(name) ?? "")
    }
}
