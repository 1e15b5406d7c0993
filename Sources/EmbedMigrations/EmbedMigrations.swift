// Builds the package's migrations/ folder (the schema's only source) into the AuditLog target
// as a generated Swift source, so that the executable is self-contained: no resource bundle.
import Foundation
import PackagePlugin

/// Runs `scripts/embed-migrations.sh` to write `EmbeddedMigrations.swift` from `migrations/*.sql`
/// and `migrations/postgres/*.sql`, again whenever one of them (or the script) changes.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let package = context.package.directoryURL
        let script = package.appending(path: "scripts/embed-migrations.sh")
        let folder = package.appending(path: "migrations")
        var inputs = [script]
        for directory in [folder, folder.appending(path: "postgres")] {
            inputs += try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding migrations/ into \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, folder.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
