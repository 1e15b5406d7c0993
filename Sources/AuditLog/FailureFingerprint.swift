import Crypto

/// A failure's fingerprint: its error text with what differs from one document to the next
/// masked, and the short group id of that text, so that every change failing for one cause
/// (eleven documents refused by one mapping mistake) falls into one failure group.
///
/// The text is the error as the store records it (the write engine's
/// `OpenSearch <status> <error.type>: <error.reason>`, or any other reason). The masking
/// follows how Sentry and ServicePulse group messages:
///
/// - the `OpenSearch <status> <type>: ` prefix is kept as it is;
/// - quoted values (`'…'`, `"…"`) become `'<value>'`, or `'<id>'` after the word `id`; a value
///   quoted after `value: ` runs to the text's last quote (OpenSearch's preview of a field's
///   value ends the reason and may hold quotes itself); `field="name"` keeps its name;
/// - a bracketed name (`[name]`, `[integer]`, `[_doc]`: letters, digits, `_`, `.`, `-`, `@`)
///   is kept, with the numbers in it masked; any other bracketed text, a bracket before `:`
///   (the document id of `[5]: version conflict`) and a bracket after `id`, `value`, `seqNo`,
///   `term`, `version` or `date field` become `[<value>]` or `[<id>]`;
/// - times (`2026-11-24T10:00:05.000Z`) become `<time>`, UUIDs `<uuid>`, hexadecimal runs of 16
///   or more characters `<hex>`, and numbers standing alone (`42`, `3.5`, sequence numbers) `<n>`;
///   digits inside a word (`address2`, `UTF8`) are part of the word and kept.
///
/// Masking is idempotent: the fingerprint of a fingerprint is itself.
public struct FailureFingerprint: Sendable, Hashable {
    /// The masked text.
    public let text: String
    /// The group id: the first ten hexadecimal digits of the text's SHA-256.
    public let groupID: String

    /// The fingerprint of `error`.
    /// - Parameter error: An error text as recorded with a failure.
    public init(error: String) {
        let text = Self.mask(error)
        self.text = text
        self.groupID = Self.groupID(of: text)
    }

    /// How many hexadecimal digits a group id has.
    public static let groupIDLength = 10

    /// Whether `text` has the shape of a group id: ``groupIDLength`` lowercase hexadecimal digits.
    public static func isGroupID(_ text: String) -> Bool {
        text.utf8.count == groupIDLength && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func groupID(of text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.prefix(groupIDLength / 2).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    // MARK: Masking

    static func mask(_ error: String) -> String {
        // Unicode scalars, not characters: a combining mark after a quote must not hide the quote.
        let characters = Array(error.unicodeScalars)
        var output = ""
        output.reserveCapacity(error.utf8.count)
        var index = 0
        if let end = openSearchPrefixEnd(characters) {
            output.unicodeScalars.append(contentsOf: characters[0..<end])
            index = end
        }
        var scanner = Masker(characters: characters, output: output)
        scanner.run(from: index)
        return scanner.output
    }

    /// The end of a leading `OpenSearch <status> <type>: `, which is kept as it is.
    private static func openSearchPrefixEnd(_ characters: [Unicode.Scalar]) -> Int? {
        let head = Array("OpenSearch ".unicodeScalars)
        guard characters.count > head.count, Array(characters[0..<head.count]) == head else { return nil }
        var index = head.count
        let digitsStart = index
        while index < characters.count, Masker.isDigit(characters[index]) { index += 1 }
        guard index > digitsStart, index < characters.count, characters[index] == " " else { return nil }
        index += 1
        let typeStart = index
        while index < characters.count, Masker.isWordCharacter(characters[index]) { index += 1 }
        guard index > typeStart, index + 1 < characters.count, characters[index] == ":", characters[index + 1] == " "
        else { return nil }
        return index + 2
    }
}

/// One pass over an error text, appending the masked text to `output`.
private struct Masker {
    let characters: [Unicode.Scalar]
    var output: String

    /// Words before a bracket or quote that say it holds a value, not a name.
    static let valueWords: Set<String> = ["value", "seqno", "term", "version", "values"]

    static func isWordCharacter(_ character: Unicode.Scalar) -> Bool {
        character.properties.isAlphabetic || character.properties.numericType != nil || character == "_"
    }

    /// A word character or a mask's `<` `>`: what an apostrophe (`field's`) sits between, and
    /// what a closing quote is never followed by. Masks replace word characters only, so a quote
    /// reads the same before and after masking.
    static func isWordLike(_ character: Unicode.Scalar) -> Bool {
        isWordCharacter(character) || character == "<" || character == ">"
    }

    static func isHexDigit(_ character: Unicode.Scalar) -> Bool {
        isDigit(character) || ("a"..."f").contains(character) || ("A"..."F").contains(character)
    }

    static func isDigit(_ character: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(character)
    }

    /// Letters, digits and `_ . - @`, and the masks' own `< >`: what a bracketed name is made of.
    static func isNameCharacter(_ character: Unicode.Scalar) -> Bool {
        isWordCharacter(character) || ".-@<>".unicodeScalars.contains(character)
    }

    mutating func run(from start: Int) {
        var index = start
        while index < characters.count {
            index = step(at: index)
        }
    }

    /// Masks or copies what starts at `index`; returns where the next step starts.
    private mutating func step(at index: Int) -> Int {
        let character = characters[index]
        let atWordStart = index == 0 || !Self.isWordCharacter(characters[index - 1])
        if atWordStart, Self.isWordCharacter(character) {
            if let end = timeEnd(at: index) {
                output += "<time>"
                return end
            }
            if let end = uuidEnd(at: index) {
                output += "<uuid>"
                return end
            }
            return word(at: index)
        }
        switch character {
        case "'", "\"":
            return quoted(at: index, quote: character)
        case "[":
            return bracketed(at: index)
        default:
            output.unicodeScalars.append(character)
            return index + 1
        }
    }

    // MARK: Words and numbers

    /// A word: a hexadecimal run, a number standing alone, or a word kept as it is.
    private mutating func word(at index: Int) -> Int {
        var end = index
        while end < characters.count, Self.isWordCharacter(characters[end]) { end += 1 }
        let word = characters[index..<end]
        if word.count >= 16, word.allSatisfy(Self.isHexDigit), word.contains(where: Self.isDigit),
            word.contains(where: { !Self.isDigit($0) })
        {
            output += "<hex>"
            return end
        }
        guard word.allSatisfy(Self.isDigit) else {
            output.unicodeScalars.append(contentsOf: word)
            return end
        }
        // A decimal fraction is part of the number.
        if end + 1 < characters.count, characters[end] == ".", Self.isDigit(characters[end + 1]) {
            var fractionEnd = end + 1
            while fractionEnd < characters.count, Self.isWordCharacter(characters[fractionEnd]) { fractionEnd += 1 }
            if characters[(end + 1)..<fractionEnd].allSatisfy(Self.isDigit) { end = fractionEnd }
        }
        output += "<n>"
        return end
    }

    /// The end of an ISO 8601 date or time at `index` (`2026-11-24`, `2026-11-24T10:00:05.000Z`,
    /// `2026-11-24 10:00:05+01:00`), or nil.
    private func timeEnd(at index: Int) -> Int? {
        var position = index
        func digits(_ count: Int) -> Bool {
            guard position + count <= characters.count,
                characters[position..<(position + count)].allSatisfy(Self.isDigit)
            else { return false }
            position += count
            return true
        }
        func literal(_ character: Unicode.Scalar) -> Bool {
            guard position < characters.count, characters[position] == character else { return false }
            position += 1
            return true
        }
        guard digits(4), literal("-"), digits(2), literal("-"), digits(2) else { return nil }
        var end = position
        if position < characters.count, characters[position] == "T" || characters[position] == " " {
            position += 1
            if digits(2), literal(":"), digits(2) {
                end = position
                if literal(":"), digits(2) {
                    end = position
                    if literal("."), digits(1) {
                        while position < characters.count, Self.isDigit(characters[position]) { position += 1 }
                        end = position
                    }
                }
                position = end
                if literal("Z") {
                    end = position
                } else if literal("+") || literal("-"), digits(2) {
                    _ = literal(":")
                    if digits(2) { end = position }
                }
            }
        }
        guard end >= characters.count || !Self.isWordCharacter(characters[end]) else { return nil }
        return end
    }

    /// The end of a UUID (8-4-4-4-12 hexadecimal digits) at `index`, or nil.
    private func uuidEnd(at index: Int) -> Int? {
        var position = index
        for (number, length) in [8, 4, 4, 4, 12].enumerated() {
            if number > 0 {
                guard position < characters.count, characters[position] == "-" else { return nil }
                position += 1
            }
            guard position + length <= characters.count,
                characters[position..<(position + length)].allSatisfy(Self.isHexDigit)
            else { return nil }
            position += length
        }
        guard position >= characters.count || !Self.isWordCharacter(characters[position]) else { return nil }
        return position
    }

    // MARK: Quotes and brackets

    /// The word before `index` (spaces and a `:` skipped), lowercased.
    private func words(before index: Int, count: Int) -> [String] {
        var words: [String] = []
        var position = index
        while words.count < count {
            while position > 0, characters[position - 1] == " " || characters[position - 1] == ":" { position -= 1 }
            let end = position
            while position > 0, Self.isWordCharacter(characters[position - 1]) { position -= 1 }
            guard position < end else { break }
            words.insert(String(String.UnicodeScalarView(characters[position..<end])).lowercased(), at: 0)
        }
        return words
    }

    private mutating func quoted(at index: Int, quote: Unicode.Scalar) -> Int {
        // An apostrophe inside a word (field's) opens nothing.
        if quote == "'", index > 0, Self.isWordLike(characters[index - 1]) {
            output.unicodeScalars.append(quote)
            return index + 1
        }
        // A closing quote is not followed by a letter or digit; a preview after `value: ` runs to the last one.
        let characters = self.characters
        let closings = ((index + 1)..<characters.count).lazy.filter { position in
            characters[position] == quote
                && (position + 1 == characters.count || !Self.isWordLike(characters[position + 1]))
        }
        let before = words(before: index, count: 1)
        let previewsToEnd = before == ["value"] && index > 0 && characters[index - 1] == " "
        guard let close = previewsToEnd ? closings.last : closings.first else {
            output.unicodeScalars.append(quote)
            return index + 1
        }
        let isFieldName = quote == "\"" && index >= 6 && characters[(index - 6)..<index].elementsEqual("field=".unicodeScalars)
        if isFieldName {
            output.unicodeScalars.append(contentsOf: characters[index...close])
        } else {
            output += before == ["id"] ? "\(quote)<id>\(quote)" : "\(quote)<value>\(quote)"
        }
        return close + 1
    }

    private mutating func bracketed(at index: Int) -> Int {
        guard let close = characters[(index + 1)...].firstIndex(of: "]") else {
            output.unicodeScalars.append("[")
            return index + 1
        }
        let content = characters[(index + 1)..<close]
        let before = words(before: index, count: 2)
        if before.last == "id" || (close + 1 < characters.count && characters[close + 1] == ":") {
            output += "[<id>]"
        } else if !content.isEmpty, content.allSatisfy(Self.isNameCharacter),
            !(before.last.map(Self.valueWords.contains) ?? false), before != ["date", "field"]
        {
            var inner = Masker(characters: Array(content), output: "")
            inner.run(from: 0)
            output += "[" + inner.output + "]"
        } else {
            output += "[<value>]"
        }
        return close + 1
    }
}
