// swift-tools-version: 6.0
import PackageDescription

/// Settings shared by every target: strict Swift 6 plus the upcoming features
/// the house style turns on everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "dlq-reprocessor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dlq-reprocessor", targets: ["dlq-reprocessor"]),
        .executable(name: "dlq-bench", targets: ["DLQBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "SQLite",
            dependencies: ["CSQLite"],
            swiftSettings: swiftSettings
        ),
        // The shared store's PostgreSQL layer (issue 15); its main file is the design note.
        .target(
            name: "PostgresStore",
            dependencies: [
                "SQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StreamModel",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SyncTransform",
            dependencies: ["StreamModel"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AWSClients",
            dependencies: [
                "StreamModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OpenSearchClient",
            dependencies: [
                "AWSClients",
                "StreamModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The audit log builds the top-level `migrations/` folder, the schema's only source, into
        // the binary (a generated Swift source, see scripts/embed-migrations.sh): no resource bundle.
        .target(
            name: "AuditLog",
            dependencies: [
                "SQLite",
                "PostgresStore",
                "StreamModel",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedMigrations"]
        ),
        // Sits under Sources/ (the layout keeps the top level to the package, sources, tests, schema and scripts).
        .plugin(name: "EmbedMigrations", capability: .buildTool(), path: "Sources/EmbedMigrations"),
        .target(
            name: "Reprocessor",
            dependencies: [
                "AuditLog", "AWSClients", "OpenSearchClient", "StreamModel", "SyncTransform",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReprocessorService",
            dependencies: [
                "Reprocessor", "AuditLog", "StreamModel",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dlq-reprocessor",
            dependencies: [
                "Reprocessor", "ReprocessorService", "AuditLog", "StreamModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark (scripts/bench.sh runs it): one subcommand per step, each its own process,
        // so that each step's peak resident set size is its own.
        .executableTarget(
            name: "DLQBench",
            dependencies: [
                "Reprocessor", "AuditLog", "AWSClients", "OpenSearchClient", "StreamModel", "SyncTransform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "AWSClients", "AuditLog", "OpenSearchClient", "StreamModel", "SyncTransform",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "SQLite", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AuditLogTests", dependencies: ["AuditLog", "SQLite", "StreamModel", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "StreamModelTests", dependencies: ["StreamModel"], swiftSettings: swiftSettings),
        .testTarget(name: "SyncTransformTests", dependencies: ["SyncTransform", "StreamModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSClientsTests",
            dependencies: ["AWSClients", "StreamModel", "TestSupport", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OpenSearchClientTests",
            dependencies: [
                "OpenSearchClient", "AWSClients", "StreamModel", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReprocessorTests",
            dependencies: [
                "Reprocessor", "AuditLog", "AWSClients", "OpenSearchClient", "StreamModel", "SyncTransform", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReprocessorServiceTests",
            dependencies: [
                "ReprocessorService", "Reprocessor", "AuditLog", "AWSClients", "OpenSearchClient", "StreamModel", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The console's browser flows (a Selenium script the tests run), not Swift sources.
            exclude: ["Browser"],
            swiftSettings: swiftSettings
        ),
        // The deterministic simulation of the write engine (docs/simulation.md, scripts/simulate.sh).
        .testTarget(
            name: "SimulationTests",
            dependencies: [
                "Reprocessor", "AuditLog", "AWSClients", "OpenSearchClient", "StreamModel", "SyncTransform", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "Reprocessor", "AuditLog", "AWSClients", "OpenSearchClient", "SQLite", "StreamModel", "SyncTransform",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
