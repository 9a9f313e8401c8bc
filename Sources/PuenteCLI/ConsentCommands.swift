import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore

struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record, withdraw and list people's consent, one purpose at a time.",
        discussion: """
            Purposes: \(ConsentPurpose.allCases.map { "\($0.rawValue): \($0.titleEN.lowercased())" }.joined(separator: "; ")).

            A withdrawal stops processing for its purpose: `puente link` leaves the record out from its next run.
            Each consent, withdrawal and lookup is in the audit trail, without the record key.
            """,
        subcommands: [Record.self, Withdraw.self, List.self])

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a consent given for one purpose.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The agency's code (e.g. SV-DGME).") var agency: String
        @Option(help: "The record's key in the agency's system (the record the consent was collected for).") var record:
            String
        @Option(help: "linkage, reintegration, referral or exchange.") var purpose: String
        @Option(help: "An organisation the data may go to (repeat for several).") var recipient: [String] = []
        @Option(help: "Language consent was given in (ISO 639, e.g. es, en, es-SV).") var language = "es"
        @Option(help: "What was agreed to, when narrower than the purpose.") var scope: String?
        @Flag(help: "Given by a parent or legal guardian on behalf of a child.") var guardian = false
        @Option(help: "Day consent was given, YYYY-MM-DD (default: today).") var date: String?

        func run() async throws {
            let consent = try await withStore(store) { store in
                try await ConsentService(store: store).record(
                    .init(
                        agency: agency, recordKey: record, purpose: purpose, recipients: recipient, scope: scope,
                        language: language,
                        guardian: guardian, givenOn: date), by: commandOperator)
            }
            print(
                "Consent \(consent.id) recorded: \(consent.purpose.rawValue), given \(consent.givenOn)"
                    + (consent.guardian ? " by a guardian" : "")
                    + ". Withdraw it with `puente consent withdraw \(consent.id)`.")
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a consent; processing for its purpose stops for the record.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Consent id, as `puente consent list` shows it.") var id: Int64
        @Option(help: "Day of the withdrawal, YYYY-MM-DD (default: today).") var date: String?

        func run() async throws {
            let consent = try await withStore(store) { store in
                try await ConsentService(store: store).withdraw(id: id, on: date, by: commandOperator)
            }
            print(
                "Consent \(consent.id) (\(consent.purpose.rawValue)) withdrawn as of \(consent.withdrawnOn?.description ?? "today")."
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A record's consents, withdrawn ones included.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The agency's code.") var agency: String
        @Option(help: "The record's key in the agency's system.") var record: String
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let consents = try await withStore(store) { store in
                try await ConsentService(store: store).consents(agency: agency, recordKey: record, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(consents)); return }
            if consents.isEmpty { print("No consent recorded for this record."); return }
            for c in consents {
                var fields = ["\(c.id)", c.purpose.rawValue, "given \(c.givenOn)", c.language, "by \(c.collector)"]
                if c.guardian { fields.append("guardian") }
                if !c.recipients.isEmpty { fields.append("to " + c.recipients.joined(separator: ", ")) }
                if let scope = c.scope { fields.append("scope: \(scope)") }
                if let withdrawn = c.withdrawnOn { fields.append("WITHDRAWN \(withdrawn) by \(c.withdrawnBy ?? "?")") }
                print(fields.joined(separator: "\t"))
            }
        }
    }
}
