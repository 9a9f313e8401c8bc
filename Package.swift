// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The linker's inner loops run millions of comparisons: optimised even in debug builds, so the demo,
/// the tests and `swift run` link persons in seconds rather than minutes.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Puente",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "puente", targets: ["puente"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Domain values, code lists, store protocols, text reading and writing, errors. No dependencies.
        .target(name: "PuenteCore", swiftSettings: strict),
        // Reference data Puente ships (divisions, population, ports, names) and its loaders.
        .target(
            name: "PuenteReference", dependencies: ["PuenteCore"],
            resources: [.copy("Data")], swiftSettings: strict),
        // zlib from the system (Debian's zlib1g-dev), for gzip files and XLSX workbooks.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libxml2 from the system (Debian's libxml2-dev): a streaming, namespace-aware XML parser for the
        // parts of XLSX workbooks.
        .systemLibrary(
            name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // Source profiles, readers and harmonisation of agency exports.
        .target(
            name: "PuenteIngest",
            dependencies: [
                "PuenteCore", "PuenteReference", "CZlib", "CLibXML2", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Profiles")], swiftSettings: strict),
        // Deterministic, realistic demo data in the agencies' export layouts, with ground truth.
        .target(
            name: "PuenteSynthetic",
            dependencies: ["PuenteCore", "PuenteReference", "PuenteIngest", "PuenteReintegration"],
            resources: [.copy("Names")],
            swiftSettings: strict),
        // OpenSSL's libcrypto from the system (Debian's libssl-dev): AES-GCM with a context kept across
        // values, for sealing millions of personal fields on import.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // Accounts, password hashing, sessions and tokens, the hash-chained audit trail, sealing keys.
        .target(
            name: "PuenteAccess",
            dependencies: [
                "PuenteCore", "COpenSSL", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ], swiftSettings: strict),
        // Record linkage: Spanish name comparisons, Fellegi–Sunter with EM, blocking, clustering, and
        // Bloom-filter encodings for privacy-preserving linkage.
        .target(
            name: "PuenteLinkage",
            dependencies: [
                "PuenteCore", "PuenteAccess", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ], resources: [.copy("Configs")], swiftSettings: strict + optimisedInDebug),
        // Measures, dimensions and disclosure rules over a store.
        .target(name: "PuenteStatistics", dependencies: ["PuenteCore", "PuenteReference"], swiftSettings: strict),
        // Stores: one type each, same protocol, import only Core.
        .target(
            name: "PuenteSQLite",
            dependencies: [
                "PuenteCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ], swiftSettings: strict),
        .target(
            name: "PuentePostgres",
            dependencies: [
                "PuenteCore", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        // What crosses organisations: canonical JSON (RFC 8785) and Ed25519 signatures (detached JWS)
        // over documents, checkable by a partner without Puente.
        .target(
            name: "PuenteExchange",
            dependencies: [
                "PuenteCore", "PuenteAccess", "PuenteReference", "PuenteStatistics",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Reintegration: the sustainability survey (versioned instruments, weight tables, scores).
        .target(
            name: "PuenteReintegration", dependencies: ["PuenteCore"], resources: [.copy("Instruments")],
            swiftSettings: strict),
        // The use cases behind both front doors: each takes a store and an acting identity, and does
        // policy, consent checks and audit in one call. The CLI and HTTP parse, call and render.
        .target(
            name: "PuenteServices",
            dependencies: [
                "PuenteCore", "PuenteReference", "PuenteIngest", "PuenteStatistics", "PuenteLinkage", "PuenteAccess",
                "PuenteExchange", "PuenteReintegration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ], swiftSettings: strict),
        // HTTP API, OpenAPI document and the dashboard.
        .target(
            name: "PuenteHTTP",
            dependencies: [
                "PuenteCore", "PuenteReference", "PuenteIngest", "PuenteStatistics", "PuenteAccess", "PuenteServices",
                "PuenteExchange", "PuenteReintegration", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], resources: [.copy("Assets"), .copy("OpenAPI")], swiftSettings: strict),
        // The `puente` commands: parse options, pick the store, run services.
        .target(
            name: "PuenteCLI",
            dependencies: [
                "PuenteCore", "PuenteReference", "PuenteIngest", "PuenteSynthetic", "PuenteStatistics", "PuenteLinkage",
                "PuenteSQLite", "PuentePostgres", "PuenteHTTP", "PuenteAccess", "PuenteServices", "PuenteExchange",
                "PuenteReintegration", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ], swiftSettings: strict),
        .executableTarget(
            name: "puente",
            dependencies: [
                "PuenteCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        // Store conformance suite and temporary stores, shared by the tests.
        .target(
            name: "PuenteTesting",
            dependencies: [
                "PuenteCore", "PuenteSQLite", "PuentePostgres", "PuenteAccess",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "PuenteTests",
            dependencies: [
                "PuenteCore", "PuenteReference", "PuenteIngest", "PuenteSynthetic", "PuenteStatistics", "PuenteLinkage",
                "PuenteSQLite", "PuentePostgres", "PuenteHTTP", "PuenteTesting", "PuenteCLI", "PuenteAccess",
                "PuenteServices", "PuenteExchange", "PuenteReintegration", "CZlib",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ], exclude: ["Fixtures"], swiftSettings: strict),  // read from the source tree by path
    ]
)
