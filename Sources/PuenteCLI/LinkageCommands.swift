import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteLinkage
import PuenteServices

extension CrossBorderStatistics.Measure: ExpressibleByArgument {}

/// `puente linkage`: linkage between countries under linkage agreements, names never leaving a node.
struct LinkageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linkage",
        abstract: "Link persons across countries on hardened encodings, through a linkage unit without the secret.",
        discussion: """
            Under a linkage agreement (purpose linkage, naming the unit, the scheme, pairs or counts and the
            event types), each party encodes, the unit matches, each party keeps what comes back:

              puente linkage encode --agreement SV-GT-LINK --secret-file shared.secret --out SV.puente   # each party
              puente linkage match --agreement SV-GT-LINK.json SV.puente GT.puente --out-dir results     # the unit
              puente linkage apply results/SV-DGME.puente                                                # each party
              puente linkage links

            Over HTTP, with the unit serving (`puente serve --hub`) and keeping the agreement:

              puente linkage push SV.puente --to https://hub.example --token-file hub.token  # each party
              puente linkage fetch --agreement SV-GT-LINK --to https://hub.example --token-file hub.token --wait 600

            The secret is agreed by the two parties out of band and kept apart from the store; the unit never
            sees it. docs/linkage.md has the scheme, docs/exchange.md the packages.
            """,
        subcommands: [
            Encode.self, Push.self, Fetch.self, Match.self, Apply.self, Links.self, Stats.self, Scheme.self,
        ])

    struct Encode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode this node's agreed events for the linkage unit, as a signed package.",
            discussion: "Persons who withdrew consent to exchange and erased records are never encoded.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The linkage agreement's id.") var agreement: String
        @Option(help: "File holding the secret shared with the other party (at least 16 characters).")
        var secretFile: String
        @Option(help: "Where to write the package (a .puente file).") var out: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let secret = try readSecret(secretFile)
            let (package, encoded, leftOut) = try await withStore(store) {
                try await CrossBorderLinkage(store: $0, node: node).encodings(
                    agreement: agreement, secret: secret, by: commandOperator)
            }
            try writeFile(try package.file(), to: out)
            print(
                "\(encoded) events encoded under \(agreement) for \(package.manifest.receiver) in \(out)"
                    + (leftOut > 0 ? "; \(leftOut) left out (erased, or consent to exchange withdrawn)." : "."))
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "As the linkage unit: match the two parties' encodings and seal each party's result.",
            discussion: """
                Refuses encodings whose scheme parameters differ from the agreement's, naming the party. Writes
                <party node>.puente in --out-dir for each party.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The signed linkage agreement file.") var agreement: String
        @Argument(help: "The two parties' encodings packages.") var packages: [String]
        @Option(help: "Folder for the result packages.") var outDir: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let signed = try SignedAgreement(file: try readFile(agreement), source: agreement)
            let outcome = try LinkageUnit(node: node).match(
                agreement: signed, packages: try packages.map { (try readFile($0), $0) })
            try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
            for (party, package) in outcome.results.sorted(by: { $0.key < $1.key }) {
                try writeFile(
                    try package.file(), to: URL(fileURLWithPath: outDir).appendingPathComponent("\(party).puente").path)
            }
            print(
                "\(outcome.matches) matches, \(outcome.compared) pairs compared "
                    + String(format: "in %.2f s", outcome.seconds) + "; results for "
                    + outcome.results.keys.sorted().joined(separator: " and ") + " in \(outDir).")
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep the linkage unit's result: links against this node's events, or counts.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The result package.") var file: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let data = try readFile(file)
            let applied = try await withStore(store) {
                try await CrossBorderLinkage(store: $0, node: node).apply(data, source: file, by: commandOperator)
            }
            Self.report(applied)
        }

        static func report(_ applied: CrossBorderLinkage.Applied) {
            if let counts = applied.counts {
                print("\(counts.matched) of \(counts.records) records matched (\(counts.pairs) pairs).")
            } else {
                print(
                    "\(applied.links ?? 0) links kept"
                        + (applied.dropped > 0
                            ? "; \(applied.dropped) matches dropped (records erased or consent withdrawn since)." : ".")
                )
            }
        }
    }

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver an encodings package to the linkage unit over HTTP.",
            discussion: """
                The unit matches as soon as it holds both parties' encodings; it then deletes them. Exits 75
                when the unit could not be reached.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The encodings package (from `puente linkage encode`).") var file: String
        @Option(help: "The unit's base URL (default: its endpoint in the trusted member registry).") var to: String?
        @Option(help: "A file holding this node's API token at the unit (default: $PUENTE_EXCHANGE_TOKEN).")
        var tokenFile: String?

        func run() async throws {
            let node = try store.nodeIdentity()
            let token = try exchangeToken(tokenFile)
            let data = try readFile(file)
            let delivery = try await unreachableExits75 {
                try await withStore(store) {
                    try await ExchangeClient(exchange: ExchangeService(store: $0, node: node), store: $0)
                        .deliverEncodings(data, source: file, endpoint: to, token: token)
                }
            }
            if let matches = delivery.matches {
                print(
                    "\(delivery.records) encodings delivered; the unit matched them: \(matches) matches. Fetch the result."
                )
            } else {
                print(
                    "\(delivery.records) encodings delivered; the unit waits for "
                        + "\(delivery.waitingFor ?? "the other party")'s.")
            }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch this node's result from the linkage unit over HTTP and keep it, as `apply` does.",
            discussion:
                "Exits 75 when there is no result yet (after --wait, if given) or the unit could not be reached.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The linkage agreement's id.") var agreement: String
        @Option(help: "The unit's base URL (default: its endpoint in the trusted member registry).") var to: String?
        @Option(help: "A file holding this node's API token at the unit (default: $PUENTE_EXCHANGE_TOKEN).")
        var tokenFile: String?
        @Option(help: "Seconds to keep asking while the unit has no result yet (every 5 s).") var wait: Int = 0
        @Option(help: "Also keep the result package in this file.") var out: String?

        func run() async throws {
            let node = try store.nodeIdentity()
            let token = try exchangeToken(tokenFile)
            let applied: CrossBorderLinkage.Applied? = try await unreachableExits75 {
                try await withStore(store) { store in
                    let terms = try await AgreementService(store: store, node: node).inForce(id: agreement).terms
                    guard let unit = terms.linkage?.unit.node else {
                        throw PuenteError(.outsideAgreement, "Agreement \(agreement) is not a linkage agreement.")
                    }
                    let client = try ExchangeClient(exchange: ExchangeService(store: store, node: node), store: store)
                    let deadline = Date().addingTimeInterval(Double(wait))
                    while true {
                        let (file, reason) = try await client.fetchLinkageResult(
                            agreement: agreement, unit: unit, endpoint: to, token: token)
                        if let file {
                            if let out { try writeFile(file, to: out) }
                            return try await CrossBorderLinkage(store: store, node: node).apply(
                                file, source: "result from \(unit)", by: commandOperator)
                        }
                        guard Date() < deadline else {
                            printError(reason ?? "No result yet.")
                            return nil
                        }
                        try await Task.sleep(for: .seconds(5))
                    }
                }
            }
            guard let applied else { throw ExitCode(75) }
            Apply.report(applied)
        }
    }

    struct Links: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The cross-border links kept: per agreement and partner, links, events and partner records.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let links = try await withStore(store) { try await $0.crossBorderLinks() }
            let groups = Dictionary(grouping: links) { "\($0.agreement) with \($0.partner)" }
            for (name, group) in groups.sorted(by: { $0.key < $1.key }) {
                print(
                    "\(name): \(group.count) links, \(Set(group.map(\.event)).count) events, "
                        + "\(Set(group.map(\.partnerRecord)).count) partner records.")
            }
            if groups.isEmpty { print("No cross-border links kept.") }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Figures of this node's events followed across borders, protected like every published table.",
            discussion: "Measures: "
                + CrossBorderStatistics.Measure.allCases.map {
                    "\($0.rawValue) (by \($0.dimensions.joined(separator: ", ")))"
                }
                .joined(separator: "; ") + ".")
        @OptionGroup var store: StoreOptions
        @Option(help: "What to count.") var measure: CrossBorderStatistics.Measure
        @Option(help: "Dimensions, comma-separated.") var by: String = ""
        @Flag(help: "Exact figures (no protection): needs --purpose, audited.") var exact = false
        @Option(help: "What exact figures are for.") var purpose: String?
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let dims = by.split(separator: ",").map(String.init)
            let table = try await withStore(store) { store in
                try await CrossBorderStatistics(store: store).table(
                    measure, by: dims, exact: exact, purpose: purpose, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(table)); return }
            printUnitTable(table)
        }
    }

    struct Scheme: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The standard encoding scheme's parameters, their line and its hash (for an agreement's terms).")

        func run() async throws {
            let s = PPRLScheme.standard
            print(String(decoding: try JSONEncoder().encode(s), as: UTF8.self))
            print(s.parameterText)
            print(s.parameterHash)
        }
    }
}

/// Runs `body`; a party that could not be reached is said on stderr and exits 75 (try again later).
func unreachableExits75<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as PuenteError where error.code == .storeUnavailable {
        printError(error.message)
        throw ExitCode(75)
    }
}

/// A secret of at least 16 characters from its file, trimmed.
func readSecret(_ path: String) throws -> [UInt8] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
        case let secret = text.trimmingCharacters(in: .whitespacesAndNewlines), secret.utf8.count >= 16
    else {
        throw PuenteError(
            .invalidInput, "The secret file must hold a secret of at least 16 characters.",
            at: InputLocation(file: path))
    }
    return Array(secret.utf8)
}
