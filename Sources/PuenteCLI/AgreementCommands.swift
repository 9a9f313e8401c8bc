import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteLinkage
import PuenteServices

/// `puente agreement`: data-sharing agreements as files both parties sign.
struct AgreementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Draft, sign and check data-sharing agreements between this node and another.",
        discussion: """
            An agreement file holds the terms and each party's signature over them (docs/exchange.md). This
            node drafts as the sender, sends the file to the receiver, which signs it and sends it back:

              puente agreement draft --id SV-HUB-2026 --receiver HUB-SICA --receiver-country SLV --receiver-key X \\
                  --purpose regional_statistics --measures returns --dimensions sex,age_group,department,quarter \\
                  --finest-geography department --finest-period quarter --valid-from 2026-01-01 --valid-to 2027-12-31 \\
                  --retention-days 1825 --out SV-HUB-2026.agreement.json
              puente agreement sign SV-HUB-2026.agreement.json
              puente agreement show SV-HUB-2026.agreement.json
              puente agreement accept SV-HUB-2026.agreement.json   # both parties, once both have signed
              puente agreement revoke SV-HUB-2026 --reason "replaced by SV-HUB-2027"
            """,
        subcommands: [Draft.self, Sign.self, Show.self, Accept.self, List.self, Revoke.self])

    struct Draft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the terms of an agreement, this node sending.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The agreement's id.") var id: String
        @Option(help: "The receiving node's id.") var receiver: String
        @Option(help: "The receiving node's country (ISO 3166 alpha-3).") var receiverCountry: String
        @Option(
            parsing: .unconditional,
            help: "The receiving node's public key (the `x` of its JWK, from its `puente node show`).")
        var receiverKey: String
        @Option(help: "regional_statistics, mirror_statistics, return_verification, linkage or referral.")
        var purpose: Agreement.Purpose
        @Option(help: "Measures that may flow, comma-separated (none for referral).") var measures = ""
        @Option(help: "Dimensions figures may be broken down by, comma-separated (none for referral).")
        var dimensions = ""
        @Option(help: "country, department or municipality.") var finestGeography: Agreement.Geography = .country
        @Option(help: "year, quarter or month.") var finestPeriod: Agreement.Period = .year
        @Option(
            parsing: .unconditional,
            help:
                "Referral agreements: the receiving node's encryption key (from its `puente node show`).")
        var receiverEncryptionKey: String?
        @Option(
            help:
                "Referral agreements: the case fields a referral may carry, comma-separated (\(ReferralField.allCases.map(\.rawValue).joined(separator: ", ")))."
        )
        var referralFields: String?
        @Option(help: "Linkage agreements: the linkage unit's node id (the hub).") var linkageUnit: String?
        @Option(help: "Linkage agreements: the unit's country (ISO 3166 alpha-3).") var linkageUnitCountry: String?
        @Option(
            parsing: .unconditional, help: "Linkage agreements: the unit's public key (from its `puente node show`).")
        var linkageUnitKey: String?
        @Option(help: "Linkage agreements: what the unit returns to each party, pairs or counts.")
        var linkageResult = "pairs"
        @Option(help: "Linkage agreements: the event types encoded, comma-separated (RETURN, ENTRY, EXIT).")
        var linkageEvents = "RETURN,ENTRY,EXIT"
        @Option(help: "Linkage agreements: the Dice coefficient at which encodings match.")
        var linkageThreshold = PPRLScheme.standardPersonThreshold
        @Option(help: "The weakest protection: ckm or suppression.") var protection = "ckm"
        @Option(help: "First day in force, YYYY-MM-DD.") var validFrom: String
        @Option(help: "Last day in force, YYYY-MM-DD.") var validTo: String
        @Option(help: "Days the receiver keeps what it receives.") var retentionDays: Int
        @Flag(help: "The receiver may pass the figures on.") var onwardTransfer = false
        @Flag(
            help:
                "The sender's server exports changed years and pushes them on its schedule (serve --push-every).")
        var automatic = false
        @Option(help: "Where to write the agreement file.") var out: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let referral = purpose == .referral
            let terms = Agreement(
                id: id, sender: .init(node, encrypting: referral),
                receiver: .init(
                    node: receiver, country: receiverCountry, key: receiverKey,
                    encryptionKey: referral ? receiverEncryptionKey : nil),
                purpose: purpose, measures: Self.list(measures), dimensions: Self.list(dimensions),
                finestGeography: finestGeography, finestPeriod: finestPeriod, minimumProtection: protection,
                validFrom: validFrom, validTo: validTo, retentionDays: retentionDays, onwardTransfer: onwardTransfer,
                automatic: automatic, referralFields: referralFields.map(Self.list), linkage: linkageTerms)
            try writeFile(try SignedAgreement(drafting: terms).file(), to: out)
            print("Agreement \(id) drafted in \(out); sign it with `puente agreement sign \(out)`.")
        }

        /// The linkage terms, for a linkage agreement: the standard scheme's parameter hash.
        var linkageTerms: Agreement.LinkageTerms? {
            guard purpose == .linkage else { return nil }
            return Agreement.LinkageTerms(
                unit: .init(node: linkageUnit ?? "", country: linkageUnitCountry ?? "", key: linkageUnitKey ?? ""),
                scheme: PPRLScheme.standard.parameterHash, result: linkageResult,
                thresholdPerMille: Int((linkageThreshold * 1000).rounded()), events: Self.list(linkageEvents))
        }

        static func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign an agreement file as this node, in place.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The agreement file.") var file: String

        func run() async throws {
            let node = try store.nodeIdentity()
            var agreement = try SignedAgreement(file: try readFile(file), source: file)
            try agreement.sign(by: node)
            try writeFile(try agreement.file(), to: file)
            print("Signed agreement \(agreement.terms.id) as \(node.kid).")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The terms, each party's signature checked, and whether the agreement is in force today.")
        @Argument(help: "The agreement file.") var file: String
        @Option(help: "The day to check, YYYY-MM-DD (default: today).") var on: CivilDate?

        func run() async throws {
            let agreement = try SignedAgreement(file: try readFile(file), source: file)
            let day = on ?? .today
            let t = agreement.terms
            print("Agreement \(t.id): \(t.sender.node) → \(t.receiver.node), \(t.purpose.rawValue), \(t.dataflow)")
            print(
                "  measures \(t.measures.joined(separator: ", ")); dimensions \(t.dimensions.joined(separator: ", "))")
            print(
                "  finest \(t.finestGeography.rawValue) and \(t.finestPeriod.rawValue); at least \(t.minimumProtection)"
            )
            print(
                "  \(t.validFrom) to \(t.validTo); kept \(t.retentionDays) days; onward transfer \(t.onwardTransfer ? "allowed" : "not allowed")"
                    + (t.automatic == true ? "; sent automatically" : "")
            )
            for status in try agreement.signatureStatus() {
                print("  \(status.party): " + (status.signed ? "signed" : (status.reason ?? "not signed")))
            }
            if let reason = try agreement.notInForce(on: day) {
                print("Not in force on \(day): \(reason)" + (reason.hasSuffix(".") ? "" : "."))
                throw ExitCode(1)
            }
            print("In force on \(day).")
        }
    }
}

extension AgreementCommand {
    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep an agreement both parties signed; nothing flows under one that is not kept.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The agreement file.") var file: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let data = try readFile(file)
            let (agreement, isNew) = try await withStore(store) {
                try await AgreementService(store: $0, node: node).accept(data, source: file, by: commandOperator)
            }
            print("Agreement \(agreement.terms.id) " + (isNew ? "kept." : "was kept already."))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The agreements this node keeps.")
        @OptionGroup var store: StoreOptions
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let node = try store.nodeIdentity()
            let kept = try await withStore(store) { try await AgreementService(store: $0, node: node).list() }
            switch format {
            case .json: print(try JSONText.encode(kept))
            case .text:
                if kept.isEmpty {
                    print("No agreements kept; `puente agreement accept FILE` keeps one both parties signed.")
                }
                for a in kept {
                    print(
                        "\(a.id)\taccepted \(a.acceptedAt) by \(a.acceptedBy)"
                            + (a.revokedOn.map { "\trevoked \($0): \(a.revocationReason ?? "")" } ?? ""))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an agreement: nothing flows under it from today.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The agreement's id.") var id: String
        @Option(help: "Why (3 to 200 characters); recorded in the audit trail.") var reason: String

        func run() async throws {
            let node = try store.nodeIdentity()
            let revoked = try await withStore(store) {
                try await AgreementService(store: $0, node: node).revoke(id: id, reason: reason, by: commandOperator)
            }
            print("Agreement \(revoked.id) revoked from \(revoked.revokedOn!).")
        }
    }
}

extension Agreement.Purpose: ExpressibleByArgument {}
extension Agreement.Geography: ExpressibleByArgument {}
extension Agreement.Period: ExpressibleByArgument {}
