import Testing

@testable import StreamModel

@Suite("DynamoDBNumber")
struct DynamoDBNumberTests {
    @Test(
        "DynamoDB number syntax is accepted and the text kept",
        arguments: [
            "0", "-0", "12345678901234567890.123", "1E+3", "1e-3", "+5", ".5", "5.", "-.5", "00012", "1.50",
            "9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130",
        ])
    func accepted(text: String) throws {
        #expect(try DynamoDBNumber(text).text == text)
    }

    @Test(
        "text that is not a number is rejected",
        arguments: [
            "", "abc", "1,5", "1 ", " 1", "0x10", "1e", "1e+", "--1", "+-1", ".", "-", "NaN", "Infinity", "1.2.3", "١٢",
        ])
    func rejected(text: String) {
        #expect {
            try DynamoDBNumber(text)
        } throws: { error in
            String(describing: error).hasSuffix("is not a number")
        }
    }

    @Test("more than 38 significant digits is rejected; leading and trailing zeros do not count")
    func precision() throws {
        _ = try DynamoDBNumber(String(repeating: "9", count: 38))
        _ = try DynamoDBNumber("000" + String(repeating: "9", count: 38) + "000")
        _ = try DynamoDBNumber("1" + String(repeating: "0", count: 100))
        #expect {
            try DynamoDBNumber(String(repeating: "9", count: 39))
        } throws: { error in
            String(describing: error).contains("has 39 significant digits (DynamoDB allows 38)")
        }
    }

    @Test(
        "magnitudes outside 1E-130 … 9.99E+125 are rejected",
        arguments: ["1E+126", "-1E+126", "1E-131", "0.99E-130", "1e999999999999999999999999"])
    func range(text: String) {
        #expect {
            try DynamoDBNumber(text)
        } throws: { error in
            String(describing: error).contains("outside DynamoDB's range")
        }
    }

    @Test(
        "jsonText rewrites only what JSON forbids",
        arguments: [
            ("1E+3", "1E+3"), ("-0.5", "-0.5"), ("00012", "12"), ("+5", "5"), (".5", "0.5"), ("-.5", "-0.5"),
            ("5.", "5"),
            ("5.e3", "5e3"), ("-00.250", "-0.250"), ("000", "0"), ("-0", "-0"), ("1.50", "1.50"),
            ("12345678901234567890.123", "12345678901234567890.123"), ("+00.0e-007", "0.0e-007"),
        ])
    func jsonText(text: String, expected: String) throws {
        let json = try DynamoDBNumber(text).jsonText
        #expect(json == expected)
        #expect(try JSONValue(parsing: json) == .number(json))
    }

    @Test("ordering and equality are numeric")
    func ordering() throws {
        let texts = [
            "10", "9", "-1", "1.5", "-10.25", "0", "1e2", "0.001", "99.9", "-0.5", "12345678901234567890.123", "1E-130",
        ]
        let sorted = try texts.map { try DynamoDBNumber($0) }.sorted().map(\.text)
        #expect(
            sorted == [
                "-10.25", "-1", "-0.5", "0", "1E-130", "0.001", "1.5", "9", "10", "99.9", "1e2",
                "12345678901234567890.123",
            ])
        #expect(try DynamoDBNumber("1") == DynamoDBNumber("1.000"))
        #expect(try DynamoDBNumber("-0") == DynamoDBNumber("0"))
        #expect(try DynamoDBNumber("100") == DynamoDBNumber("1E+2"))
        #expect(try Set([DynamoDBNumber("1"), DynamoDBNumber("1.0"), DynamoDBNumber("01")]).count == 1)
        #expect(try DynamoDBNumber("0.12") > DynamoDBNumber("0.1"))
        #expect(try DynamoDBNumber("-0.12") < DynamoDBNumber("-0.1"))
        #expect(try DynamoDBNumber("12345678901234567890.124") > DynamoDBNumber("12345678901234567890.123"))
    }
}
