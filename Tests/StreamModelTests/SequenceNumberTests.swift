import Foundation
import Testing

@testable import StreamModel

@Suite("SequenceNumber")
struct SequenceNumberTests {
    @Test("digits are canonical: leading zeros dropped, zero stays zero")
    func canonical() throws {
        #expect(try #require(SequenceNumber("800000000003126276362")).digits == "800000000003126276362")
        #expect(try #require(SequenceNumber("000123")).digits == "123")
        #expect(try #require(SequenceNumber("0")).digits == "0")
        #expect(try #require(SequenceNumber("0000")).digits == "0")
        #expect(SequenceNumber("000123") == SequenceNumber("123"))
        #expect(try #require(SequenceNumber("42")).description == "42")
    }

    @Test(
        "anything but 1 to 80 ASCII digits is rejected",
        arguments: ["", " 1", "1 ", "-1", "+1", "1.0", "1e5", "abc", "١٢٣", "１２", String(repeating: "1", count: 81)])
    func rejected(text: String) {
        #expect(SequenceNumber(text) == nil)
    }

    @Test("80 digits is the longest accepted")
    func longest() throws {
        let text = String(repeating: "9", count: 80)
        #expect(try #require(SequenceNumber(text)).sortKey == text)
    }

    @Test("ordering is numeric across lengths (21 vs 22 digits)")
    func orderingAcrossLengths() throws {
        let short = try #require(SequenceNumber("999999999999999999999"))  // 21 digits
        let long = try #require(SequenceNumber("1000000000000000000000"))  // 22 digits
        #expect(short < long)
        #expect(!(long < short))
        #expect(short.digits > long.digits, "text order would get this wrong")
        #expect(short.sortKey < long.sortKey)
        #expect(try #require(SequenceNumber("0100")) > #require(SequenceNumber("99")))
    }

    @Test("sortKey text order equals numeric order for random numbers of 1 to 40 digits")
    func sortKeyOrder() throws {
        var generator = SeededGenerator(seed: 42)
        let numbers = try (0..<500).map { _ in
            let length = Int.random(in: 1...40, using: &generator)
            let text = String((0..<length).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            return try #require(SequenceNumber(text))
        }
        let byValue = numbers.sorted()
        let byKey = numbers.sorted { $0.sortKey < $1.sortKey }
        #expect(byValue == byKey)
        for number in numbers {
            #expect(number.sortKey.utf8.count == 80)
            #expect(SequenceNumber(sortKey: number.sortKey) == number)
        }
        for (smaller, larger) in zip(byValue, byValue.dropFirst()) {
            #expect(
                smaller.digits.count < larger.digits.count
                    || (smaller.digits.count == larger.digits.count && smaller.digits <= larger.digits))
        }
    }

    @Test("init(sortKey:) needs exactly 80 digits")
    func sortKeyInit() {
        #expect(SequenceNumber(sortKey: "123") == nil)
        #expect(SequenceNumber(sortKey: String(repeating: "0", count: 79) + "x") == nil)
        #expect(SequenceNumber(sortKey: String(repeating: "0", count: 80))?.digits == "0")
    }

    @Test("Codable as the canonical digit string; bad strings fail to decode")
    func codable() throws {
        let number = try #require(SequenceNumber("00042"))
        let encoded = try JSONEncoder().encode([number])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["42"]"#)
        #expect(try JSONDecoder().decode([SequenceNumber].self, from: encoded) == [number])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([SequenceNumber].self, from: Data(#"["4x"]"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([SequenceNumber].self, from: Data(#"[42]"#.utf8))
        }
    }
}
