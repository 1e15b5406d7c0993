import Foundation
import StreamModel

/// `docs/openapi.yaml`, read as JSON through PyYAML (installed with moto by `scripts/setup.sh`),
/// with its operations listed and its local `$ref`s followed on demand.
struct OpenAPIDocument {
    struct Operation {
        var path: String
        var method: String
        /// The statuses its `responses` list.
        var statuses: Set<Int>
        /// `x-role`: open, read or operate.
        var role: String?
        /// Whether it needs a bearer token (its `security`, or the document's).
        var secured: Bool
        /// The operation object.
        var object: JSONValue
    }

    /// The whole document.
    let root: JSONValue
    var operations: [Operation] = []

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The repository's `docs/openapi.yaml`.
    static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
    }

    static func load() throws -> OpenAPIDocument {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", url.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LoadError(description: "PyYAML could not read \(url.path)") }
        var document = OpenAPIDocument(root: try JSONValue(parsing: Array(data)))
        let documentSecured = !(document.root["security"]?.arrayValue ?? []).isEmpty
        for (path, item) in (document.root["paths"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (method, operation) in (item.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let statuses = (operation["responses"]?.objectValue ?? [:]).keys.compactMap { Int($0) }
                let security = operation["security"]?.arrayValue.map { !$0.isEmpty } ?? documentSecured
                document.operations.append(
                    Operation(
                        path: path, method: method, statuses: Set(statuses), role: operation["x-role"]?.stringValue,
                        secured: security, object: operation))
            }
        }
        return document
    }

    /// `value`, or what its `$ref` (`#/components/…`) points to, followed to the end.
    func resolve(_ value: JSONValue) -> JSONValue {
        guard let reference = value["$ref"]?.stringValue, reference.hasPrefix("#/") else { return value }
        var target = root
        for part in reference.dropFirst(2).split(separator: "/") {
            guard let next = target[String(part)] else { return value }
            target = next
        }
        return resolve(target)
    }

    /// The parameters of `operation`, each resolved.
    func parameters(_ operation: Operation) -> [JSONValue] {
        (operation.object["parameters"]?.arrayValue ?? []).map(resolve)
    }

    /// The parameter `name` in `location` of `operation`, resolved, with its schema resolved.
    func parameter(_ operation: Operation, _ name: String, in location: String = "query") -> (
        parameter: JSONValue, schema: JSONValue
    )? {
        guard
            let parameter = parameters(operation).first(where: {
                $0["name"]?.stringValue == name && $0["in"]?.stringValue == location
            })
        else { return nil }
        return (parameter, resolve(parameter["schema"] ?? .null))
    }

    /// The JSON schema of `operation`'s request body, resolved.
    func requestSchema(_ operation: Operation) -> JSONValue? {
        operation.object["requestBody"]?["content"]?["application/json"]?["schema"].map(resolve)
    }

    /// The schema named `name` under `components/schemas`.
    func schema(_ name: String) -> JSONValue {
        root["components"]?["schemas"]?[name] ?? .null
    }
}
