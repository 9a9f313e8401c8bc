import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteIngest
import PuenteLinkage
import PuenteServices
import PuenteSynthetic

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a demo country-year, load it into a fresh store and serve it.",
        discussion: """
            Writes El Salvador 2016 (by default) to ./demo-data, loads it into ./puente-demo.sqlite (recreated
            each time), and serves http://127.0.0.1:8080. Stop it with Ctrl-C.

            With --region: El Salvador, Guatemala and Honduras as three nodes and a regional hub, each with
            its own store and key file under ./demo-region (recreated); each node signs an agreement with
            the hub and pushes its signed package to it over HTTP; the hub serves the region's dashboard.
            """)

    @Option(help: "Country: SV, GT or HN.") var country = "SV"
    @Option(help: "Year of the events.") var year = 2016
    @Option(help: "Multiplier of every volume.") var scale: Double = 1
    @Option(help: "Port to serve on.") var port = 8080
    @Option(help: "Folder for the generated files.") var dataDir = "demo-data"
    @Option(help: "SQLite file of the demo store (recreated).") var database = "puente-demo.sqlite"
    @Flag(help: "Load the data and exit without serving (for scripts).") var noServe = false
    @Flag(help: "Three nodes and a regional hub exchanging signed packages (see above).") var region = false

    private var options: GeneratorOptions { GeneratorOptions(country: country, year: year, seed: 1, scale: scale) }

    /// Country, year and scale outside what the generator makes are usage errors.
    func validate() throws {
        do { _ = try Generator(options: options) } catch let error as PuenteError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        if region { return try await runRegion() }
        let started = Date()
        let generator = try Generator(options: options)
        let dir = URL(fileURLWithPath: dataDir)
        say("Generating \(country.uppercased()) \(year) into \(dataDir)/ …")
        let summary = try generator.write(to: dir)
        _ = try generator.writeReintegration(to: dir)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        // Parsed like the user's own options, so every store setting (key file included) has its default.
        let options = try StoreOptions.parse(["--database", database])
        let opened = try options.makeStore()
        let store = opened.store
        /// The store made ready: migrated, keys checked, the generated files loaded.
        @Sendable func load() async throws {
            try await options.prepare(opened)
            let importer = Importer(store: store)
            for file in summary.files {
                let report = try await importer.importFile(
                    dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
                say(
                    "Loaded \(file.file): \(report.accepted) accepted, \(report.rejected) rejected (kept in quarantine), \(report.duplicates) duplicates"
                )
            }
            say(String(format: "Ready in %.1f s.", Date().timeIntervalSince(started)))
        }
        // Persons, so the dashboard counts people as well as events: before exiting for scripts, in the
        // background while serving (the returns page shows persons once they are linked).
        let linking = PersonLinking(config: try PersonLinking.defaultConfig())
        @Sendable func link() async throws {
            let run = try await linking.run(store: store)
            say("Linked \(run.events) events into \(run.persons) persons (\(run.reviewPairs) pairs left for review).")
        }
        // The reintegration programme's year, replayed through the case services as its staff took it.
        @Sendable func loadCases() async throws {
            let loaded = try await CaseLoadService(store: store).load(
                folder: dir.appendingPathComponent("reintegration"), by: .commandOperator("cli:demo"))
            say(
                "Loaded the reintegration programme: \(loaded.cases) cases, \(loaded.referrals) referrals, \(loaded.actions) steps (staff accounts have no password; set one with `puente users password`)."
            )
        }
        do {
            if noServe {
                try await withRunningStore(store) {
                    try await load()
                    try await link()
                    try await loadCases()
                }
            } else {
                say(
                    "Open http://127.0.0.1:\(port)/ once loaded (API: http://127.0.0.1:\(port)/api/v1/stats?measure=returns&by=sex); "
                        + "persons are linked in the background. Stop with Ctrl-C.")
                // The demo's figures are protected aggregates of generated people: published to every visitor.
                try await serve(
                    store: store, prepare: load, host: "127.0.0.1", port: port, publicStatistics: true,
                    background: [
                        BackgroundWork(name: "person linking", run: link),
                        BackgroundWork(name: "reintegration cohort", run: loadCases),
                    ])
            }
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

extension Demo {
    func runRegion() async throws {
        let started = Date()
        let demo = RegionDemo(
            root: URL(fileURLWithPath: dataDir == "demo-data" ? "demo-region" : dataDir), year: year, scale: scale)
        let prepared = try await demo.prepare(operator: commandOperator)
        let hubOptions = prepared.hub
        if noServe {
            // Offline, as between offices without a network: the hub imports the package files.
            try await withStore(hubOptions) { store in
                let exchange = ExchangeService(store: store, node: prepared.hubIdentity)
                let folder = demo.root.appendingPathComponent("packages")
                for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                    let reception = try await exchange.receive(
                        try readFile(folder.appendingPathComponent(name).path), source: name, by: commandOperator)
                    say("Hub: \(name) \(reception.outcome.rawValue)")
                }
            }
            say(String(format: "Region ready in %.1f s.", Date().timeIntervalSince(started)))
            return
        }
        let opened = try hubOptions.makeStore()
        let endpoint = "http://127.0.0.1:\(port)"
        say(
            "The hub serves \(endpoint)/ (the region's page) once the nodes have pushed their packages. Stop with Ctrl-C."
        )
        let push = BackgroundWork(
            name: "the nodes' pushes",
            run: {
                try await RegionDemo.push(prepared, endpoint: endpoint, by: commandOperator)
                say(String(format: "Region ready in %.1f s: %@/", Date().timeIntervalSince(started), endpoint))
            })
        do {
            try await serve(
                store: opened.store, prepare: { try await hubOptions.prepare(opened) }, host: "127.0.0.1", port: port,
                publicStatistics: true, node: prepared.hubIdentity, hub: true, background: [push])
        } catch {
            try? await opened.store.close()
            throw error
        }
        try await opened.store.close()
    }
}
