import ArgumentParser
import Foundation
import PuenteCore
import Testing

@testable import PuenteCLI

/// The node as a real process: `puente serve` runs the store, the server and background work in one
/// service group, and a signal shuts them down in order.
@Suite("Lifecycle: services and graceful shutdown")
struct LifecycleTests {
    /// The `puente` executable built beside the tests (`swift build --build-tests` builds both).
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("puente")
    }

    @Test(
        "SIGTERM during a background link run: the server exits cleanly and the stored persons stay the previous run's")
    func sigtermDuringLinking() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.executable.path), "build the puente executable first")
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        let generate = try Generate.parse(["--country", "GT", "--year", "2016", "--scale", "0.05", "--out", dir.path])
        try await generate.run()
        let movements = try Ingest.parse([
            "--database", db, "--profile", "gt-igm-movimientos",
            dir.appendingPathComponent("gt-igm-movimientos.csv").path,
        ])
        try await movements.run()
        let link = try Link.Persons.parse(["--database", db])
        try await link.run()
        let (previousRun, previousLinks) = try await withStore(try StoreOptions.parse(["--database", db])) { store in
            (try await store.latestLinkRun(), try await store.personLinks())
        }
        // New records, so the next run has work to do.
        let returns = try Ingest.parse([
            "--database", db, "--profile", "gt-igm-retornos", dir.appendingPathComponent("gt-igm-retornos.csv").path,
        ])
        try await returns.run()

        let port = (ProcessInfo.processInfo.environment["PUENTE_TEST_HTTP_PORT"].flatMap { Int($0) } ?? 8097) + 1
        let log = dir.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let server = Process()
        server.executableURL = Self.executable
        server.arguments = ["serve", "--database", db, "--port", String(port), "--link-persons"]
        server.standardOutput = try FileHandle(forWritingTo: log)
        server.standardError = server.standardOutput
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        // The signal goes as soon as the link run has started: reading the events alone takes longer. The
        // watch runs on a thread of its own: under the full suite every cooperative thread may be busy with
        // another test's computation, and a poll waiting for one sent the signal after the run had ended.
        let pid = server.processIdentifier
        let started = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            Thread.detachNewThread {
                var seen = false
                for _ in 0..<3_000 where !seen {
                    seen =
                        (try? String(contentsOf: log, encoding: .utf8))?.contains(
                            "puente.work=person linking [PuenteCLI] Background work started") == true
                    if !seen { usleep(10_000) }
                }
                if seen { kill(pid, SIGTERM) }
                done.resume(returning: seen)
            }
        }
        try #require(
            started, "the server did not start linking: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        server.waitUntilExit()

        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(server.terminationReason == .exit && server.terminationStatus == 0, "\(output)")
        #expect(output.contains("puente.work=person linking [PuenteCLI] Stopped for shutdown"))
        #expect(!output.contains("puente.work=person linking [PuenteCLI] Background work done"))
        let (run, links) = try await withStore(try StoreOptions.parse(["--database", db])) { store in
            (try await store.latestLinkRun(), try await store.personLinks())
        }
        #expect(run?.id == previousRun?.id && links == previousLinks)
        // And the interrupted run, done again, completes: nothing half-written stands in its way.
        let again = try Link.Persons.parse(["--database", db])
        try await again.run()
        let after = try await withStore(try StoreOptions.parse(["--database", db])) { try await $0.latestLinkRun() }
        #expect(after.map { $0.id > (previousRun?.id ?? 0) } == true)
    }
}
