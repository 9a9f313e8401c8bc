import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteServices

/// `puente exchange`: signed packages of protected statistics between nodes, as files.
struct ExchangeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange",
        abstract: "Send and receive signed packages of protected statistics under agreements in force.",
        discussion: """
            A package (a .puente file, docs/exchange.md) carries what an agreement allows for one year,
            protected as this node publishes it, signed with the node's key. Offline, between offices:

              puente exchange export --agreement SV-HUB-2026 --year 2016 --out SV-2016-1.puente   # the sender
              puente exchange verify SV-2016-1.puente                                             # the receiver
              puente exchange import SV-2016-1.puente --receipt SV-2016-1.receipt.json
              puente exchange receipt SV-2016-1.receipt.json                                      # the sender

            Online, `puente exchange push` delivers every queued package to its receiver and keeps the
            receipts; what cannot be delivered stays queued for the next push.
            """,
        subcommands: [
            Export.self, Push.self, Verify.self, Import.self, Receipt.self, List.self, Log.self, TrustRegistry.self,
            FetchRegistry.self, ApplyRetention.self,
        ])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build and sign the package of a year under an agreement in which this node sends.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The agreement's id.") var agreement: String
        @Option(help: "The calendar year the package covers (it replaces what was sent for that year).") var year: Int
        @Option(help: "Where to write the package (a .puente file).") var out: String

        func validate() throws {
            guard (1900...2200).contains(year) else { throw ValidationError("--year: expected a year like 2016.") }
            guard out.hasSuffix(".puente") else { throw ValidationError("--out: package files end in .puente.") }
        }

        func run() async throws {
            let node = try store.nodeIdentity()
            let sent = try await withStore(store) {
                try await ExchangeService(store: $0, node: node).export(
                    agreement: agreement, year: year, by: commandOperator)
            }
            try writeFile(Data(sent.file.utf8), to: out)
            print(
                "Package \(sent.id) (sequence \(sent.sequence) under \(sent.agreement), for \(sent.receiver)) "
                    + "written to \(out); sha256 \(sent.digest).")
        }
    }

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver queued packages over HTTP and keep the receivers' signed receipts.",
            discussion: """
                Exits 0 when the queue is empty afterwards, 1 when a receiver refused a package, 75 when a
                receiver could not be reached (the packages stay queued; push again later).
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The receiver's base URL (default: its endpoint in the trusted member registry).") var to: String?
        @Option(help: "Only the packages addressed to this node (what --to reaches, when packages wait for several).")
        var receiver: String?
        @Option(help: "A file holding this node's API token at the receiver (default: $PUENTE_EXCHANGE_TOKEN).")
        var tokenFile: String?

        func run() async throws {
            let node = try store.nodeIdentity()
            let token = try exchangeToken(tokenFile)
            let report = try await withStore(store) {
                try await ExchangeClient(exchange: ExchangeService(store: $0, node: node), store: $0).push(
                    endpoint: to, receiver: receiver, token: token, by: commandOperator)
            }
            for (package, receipt) in report.delivered {
                print(
                    "\(package.agreement) #\(package.sequence) (\(package.period)) delivered to \(package.receiver): \(receipt.receipt.outcome.rawValue)."
                )
            }
            for (package, code, message) in report.refused {
                printError(
                    "\(package.agreement) #\(package.sequence) refused by \(package.receiver) (\(code)): \(message)")
            }
            if let unreachable = report.unreachable {
                printError("\(unreachable); \(report.queued) packages stay queued.")
            }
            if report.delivered.isEmpty && report.refused.isEmpty && report.unreachable == nil {
                print("Nothing queued.")
            }
            if !report.refused.isEmpty { throw ExitCode(1) }
            if report.unreachable != nil { throw ExitCode(75) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a package as this node would on receiving it, without keeping anything.",
            discussion: "Exits 1 with the refusal's code and reason when the package would be refused.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The package file.") var file: String
        @Option(help: "The day to check, YYYY-MM-DD (default: today).") var on: CivilDate?

        func run() async throws {
            let node = try store.nodeIdentity()
            let data = try readFile(file)
            do {
                let checked = try await withStore(store) {
                    try await ExchangeService(store: $0, node: node).check(data, source: file, on: on ?? .today)
                }
                let m = checked.package.manifest
                print(
                    "Package \(m.id) from \(m.sender), sequence \(m.sequence) under \(m.agreement), \(m.period): "
                        + "\(checked.observations.count) observations, signature and terms check."
                        + (checked.duplicateOf != nil ? " It was received before." : ""))
            } catch let error as PuenteError {
                printError("Refused (\(error.code.rawValue)): \(error.description)")
                throw ExitCode(1)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive package files: each checked, then published, held for an earlier one, or refused.",
            discussion: "One bad file never stops the others; exits 1 when any was refused.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Package files, in any order.") var files: [String]
        @Option(help: "Write the signed receipt here (with one file), to send back to the sender.") var receipt: String?

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("Give one or more package files.") }
            guard receipt == nil || files.count == 1 else {
                throw ValidationError("--receipt: give one package file with it.")
            }
        }

        func run() async throws {
            let node = try store.nodeIdentity()
            var refused = 0
            try await withStore(store) { store in
                let service = ExchangeService(store: store, node: node)
                for file in files {
                    do {
                        let reception = try await service.receive(try readFile(file), source: file, by: commandOperator)
                        let m = reception.manifest
                        var line =
                            "\(file): \(reception.outcome.rawValue) (\(m.sender), sequence \(m.sequence) under \(m.agreement))"
                        if !reception.released.isEmpty {
                            line +=
                                "; released held sequence "
                                + reception.released.map(String.init).joined(separator: ", ")
                        }
                        print(line)
                        if let receipt { try writeFile(try reception.receipt.file(), to: receipt) }
                    } catch let error as PuenteError {
                        refused += 1
                        printError("\(file): refused (\(error.code.rawValue)): \(error.message)")
                    }
                }
            }
            if refused > 0 { throw ExitCode(1) }
        }
    }

    struct Receipt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep a receiver's signed receipt for a package this node sent.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The receipt file.") var file: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let data = try readFile(file)
            let receipt = try await withStore(store) {
                try await ExchangeService(store: $0, node: node).recordReceipt(data, source: file, by: commandOperator)
            }
            print(
                "Package \(receipt.receipt.package) delivered to \(receipt.receipt.receiver) at \(receipt.receipt.receivedAt): \(receipt.receipt.outcome.rawValue)."
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Packages sent and received.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let node = try store.nodeIdentity()
            let (sent, received) = try await withStore(store) {
                let service = ExchangeService(store: $0, node: node)
                return (try await service.sent(), try await service.received())
            }
            if sent.isEmpty && received.isEmpty { print("Nothing sent or received yet.") }
            for p in sent {
                print(
                    "sent\t\(p.agreement)\t#\(p.sequence)\t\(p.period)\tto \(p.receiver)\t"
                        + (p.deliveredAt.map { "delivered \($0)" } ?? "not delivered") + "\t\(p.id)")
            }
            for p in received {
                print(
                    "received\t\(p.agreement)\t#\(p.sequence)\t\(p.period)\tfrom \(p.sender)\t\(p.status.rawValue)\t\(p.id)"
                )
            }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The exchange log: packages created, delivered, received and refused (part of the audit trail).")
        @OptionGroup var store: StoreOptions
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let node = try store.nodeIdentity()
            let entries = try await withStore(store) {
                try await ExchangeService(store: $0, node: node).log(by: commandOperator)
            }
            switch format {
            case .json: print(try JSONText.encode(entries))
            case .text:
                for e in entries {
                    print(
                        "\(e.sequence)\t\(e.at)\t\(e.actor)\t\(e.action)\t\(e.target)"
                            + (e.purpose.map { "\t\($0)" } ?? ""))
                }
            }
        }
    }

    struct TrustRegistry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust-registry",
            abstract: "Trust a member registry the hub signed: senders' keys are checked against it from then on.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The registry file.") var file: String
        @Option(
            parsing: .unconditional,
            help: "The hub's public key (default: the key an agreement kept here names for the hub).")
        var hubKey: String?

        func run() async throws {
            let node = try store.nodeIdentity()
            let data = try readFile(file)
            let (signed, verdict) = try await withStore(store) {
                try await ExchangeService(store: $0, node: node).trustRegistry(
                    data, source: file, hubKey: hubKey, by: commandOperator)
            }
            reportTrusted(signed, verdict)
        }
    }
}

extension ExchangeCommand {
    struct FetchRegistry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fetch-registry",
            abstract: "Fetch the hub's member registry over HTTP and trust it when its signature and version check.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The hub's base URL.") var from: String
        @Option(
            parsing: .unconditional,
            help: "The hub's public key (default: the key an agreement kept here names for the hub).")
        var hubKey: String?

        func run() async throws {
            let node = try store.nodeIdentity()
            let (signed, verdict) = try await withStore(store) {
                try await ExchangeClient(exchange: ExchangeService(store: $0, node: node), store: $0).fetchRegistry(
                    from: from, hubKey: hubKey, by: commandOperator)
            }
            reportTrusted(signed, verdict)
        }
    }
}

extension ExchangeCommand {
    struct ApplyRetention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retention",
            abstract: "Delete received figures kept longer than their agreement allows (the server does it daily).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The day to apply it on, YYYY-MM-DD (default: today).") var on: CivilDate?

        func run() async throws {
            let node = try store.nodeIdentity()
            let years = try await withStore(store) {
                try await ExchangeService(store: $0, node: node).applyRetention(on: on ?? .today, by: commandOperator)
            }
            print(years == 0 ? "Nothing received is past its retention." : "\(years) sender-years expired.")
        }
    }
}

/// What a node says once it trusts a registry, warning when it is in its grace period.
func reportTrusted(_ signed: SignedRegistry, _ verdict: SignedRegistry.Verdict) {
    if case .trustedInGrace(let expired) = verdict {
        printError("Warning: the registry expired on \(expired); the hub has not issued a newer one yet.")
    }
    print("Trusting registry version \(signed.registry.version) of \(signed.registry.hub).")
}

/// This node's API token at another node: from a file (never on the command line, where other users of
/// the machine could read it) or from $PUENTE_EXCHANGE_TOKEN.
func exchangeToken(_ file: String?) throws -> String {
    let token =
        try file.map { String(decoding: try readFile($0), as: UTF8.self) }
        ?? ProcessInfo.processInfo.environment["PUENTE_EXCHANGE_TOKEN"] ?? ""
    let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else {
        throw PuenteError(
            .unauthenticated, "Give this node's API token at the receiver with --token-file or $PUENTE_EXCHANGE_TOKEN.")
    }
    return trimmed
}
