import StreamModel

/// The rows of a change's diff: every field of its old image, new image and the live document,
/// a nested object's members and an array's elements as indented rows under their field, each
/// marked added, removed or changed between the old and the new image.
enum ConsoleDiff {
    /// The deepest indentation the style sheet draws; deeper rows are drawn at this depth.
    static let deepestIndent = 6

    /// The rows of the three documents' fields, by name, members after their field.
    static func rows(old: [String: JSONValue], new: [String: JSONValue], live: [String: JSONValue]) -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for (name, path) in members(old: .object(old), new: .object(new), live: .object(live), path: "") {
            walk(name: name, path: path, depth: 0, old[name], new[name], live[name], into: &rows)
        }
        return rows
    }

    /// `added`, `removed`, `changed`, or nil when the old and the new image agree.
    static func mark(old: JSONValue?, new: JSONValue?) -> String? {
        switch (old, new) {
        case (nil, nil): nil
        case (nil, _): "added"
        case (_, nil): "removed"
        case (let old?, let new?): old == new ? nil : "changed"
        }
    }

    private static func walk(
        name: String, path: String, depth: Int, _ old: JSONValue?, _ new: JSONValue?, _ live: JSONValue?,
        into rows: inout [[String: Any]]
    ) {
        let nested = [old, new, live].contains { $0?.objectValue != nil || $0?.arrayValue != nil }
        var row: [String: Any] = [
            "field": name, "path": path, "indent": min(depth, deepestIndent), "nested": nested,
            "old": cell(old), "new": cell(new), "live": cell(live),
        ]
        if let mark = mark(old: old, new: new) {
            row["mark"] = mark
            row["markSymbol"] = ["added": "+", "removed": "−", "changed": "~"][mark] ?? ""
        }
        rows.append(row)
        guard nested else { return }
        for (member, memberPath) in members(old: old, new: new, live: live, path: path) {
            walk(
                name: member, path: memberPath, depth: depth + 1, child(old, member), child(new, member), child(live, member),
                into: &rows)
        }
    }

    /// The member names (`city`) or element labels (`[0]`) of the containers among the three, with their paths.
    private static func members(old: JSONValue?, new: JSONValue?, live: JSONValue?, path: String) -> [(String, String)] {
        let values = [old, new, live].compactMap { $0 }
        let keys = Set(values.flatMap { $0.objectValue.map { Array($0.keys) } ?? [] }).sorted()
        let count = values.compactMap { $0.arrayValue?.count }.max() ?? 0
        return keys.map { ($0, path.isEmpty ? $0 : path + "." + $0) } + (0..<count).map { ("[\($0)]", path + "[\($0)]") }
    }

    /// The member `name` (`city` or `[2]`) of a container, nil when absent.
    private static func child(_ value: JSONValue?, _ name: String) -> JSONValue? {
        if let object = value?.objectValue { return object[name] }
        if let array = value?.arrayValue, name.hasPrefix("["), let index = Int(name.dropFirst().dropLast()),
            array.indices.contains(index)
        {
            return array[index]
        }
        return nil
    }

    /// A value as its cell shows it: a container by its size (its members have their own rows).
    private static func cell(_ value: JSONValue?) -> String {
        if let object = value?.objectValue { return object.isEmpty ? "{}" : ConsoleText.counted(object.count, "field") }
        if let array = value?.arrayValue { return array.isEmpty ? "[]" : ConsoleText.counted(array.count, "element") }
        return ConsoleText.value(value)
    }
}
