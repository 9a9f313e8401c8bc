import ArgumentParser
import Foundation
import PuenteCore
@testable import PuenteCLI
import Testing

@Suite("Command line")
struct CLITests {
    @Test("Top-level help lists every command and how to start")
    func topHelp() {
        let help = PuenteCommand.helpMessage()
        for command in ["demo", "generate", "ingest", "stats", "serve", "profiles", "imports", "rejects"] {
            #expect(help.contains(command))
        }
        #expect(help.contains("puente demo"))
    }

    @Test("Each command's help names its options")
    func subcommandHelp() {
        #expect(PuenteCommand.helpMessage(for: Generate.self).contains("--country"))
        #expect(PuenteCommand.helpMessage(for: Generate.self).contains("--scale"))
        #expect(PuenteCommand.helpMessage(for: Ingest.self).contains("--profile"))
        #expect(PuenteCommand.helpMessage(for: Ingest.self).contains("--database"))
        #expect(PuenteCommand.helpMessage(for: Stats.self).contains("age_group"))
        #expect(PuenteCommand.helpMessage(for: Serve.self).contains("--port"))
        #expect(PuenteCommand.helpMessage(for: Demo.self).contains("Ctrl-C"))
    }

    @Test("Generate, ingest and stats work end to end in-process on a SQLite file")
    func endToEnd() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("cli.sqlite").path
        var generate = try Generate.parse(["--country", "HN", "--year", "2024", "--out", dir.path, "--scale", "0.01"])
        try await generate.run()
        var ingest = try Ingest.parse(["--database", db, "--profile", "hn-inm-retornos", dir.appendingPathComponent("hn-inm-retornos.csv").path])
        try await ingest.run()
        let store = try await StoreOptions.parse(["--database", db]).open()
        #expect(try await store.imports(limit: 5).first?.counts.read == 694)
        try await store.close()
        #expect(throws: (any Error).self) { try Stats.parse(["--measure"]) }
        #expect(throws: (any Error).self) { try Generate.parse(["--country", "SV"]) }
    }
}
