import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration
import PuenteServices
import PuenteStatistics

extension CaseStatus: ExpressibleByArgument {}
extension ClosureReason: ExpressibleByArgument {}
extension ReferralStatus: ExpressibleByArgument {}
extension ServiceKind: ExpressibleByArgument {}
extension ProgrammeStatistics.Measure: ExpressibleByArgument {}

/// `puente cases`: reintegration cases for scripts and bulk work, through the same service as the
/// screens. The operator acts as an administrator and is audited as `cli:<user>`; the four-eyes rule
/// holds for them too (a plan the operator drafted needs another approver).
struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Open, move, close and list reintegration cases.",
        discussion: """
            Lifecycle: \(CaseStatus.allCases.map(\.rawValue).joined(separator: " → ")); closed with a reason \
            (\(ClosureReason.allCases.map(\.rawValue).joined(separator: ", "))) from any status, and reopened where it was closed.
            See docs/reintegration.md.
            """,
        subcommands: [
            Open.self, List.self, Show.self, Move.self, Close.self, Reopen.self, Assign.self, Load.self, Stats.self,
        ])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The programme's figures, protected like every published table.",
            discussion: "Measures: "
                + ProgrammeStatistics.Measure.allCases.map {
                    "\($0.rawValue) (by \($0.dimensions.joined(separator: ", ")))"
                }
                .joined(separator: "; ") + ".")
        @OptionGroup var store: StoreOptions
        @Option(help: "What to count.") var measure: ProgrammeStatistics.Measure
        @Option(help: "Dimensions, comma-separated.") var by: String = ""
        @Flag(help: "Exact figures (no protection): needs --purpose, audited.") var exact = false
        @Option(help: "What exact figures are for.") var purpose: String?
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let dims = by.split(separator: ",").map(String.init)
            let result = try await withStore(store) { store in
                try await ProgrammeStatistics(store: store).table(
                    measure, by: dims, exact: exact, purpose: purpose, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(result)); return }
            printUnitTable(result.table) { show in
                if let cutoffs = result.cutoffs { print("sustainable at: " + cutoffs.joined(separator: ", ")) }
                if let rate = result.responseRate { print("follow-ups carried out: " + show(rate, true)) }
            }
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a folder of case work (staff.json, partners.json, actions.jsonl) through the services.",
            discussion: """
                Each action runs as the staff member it names, on its day, under every rule of the screens; a step \
                the rules refuse stops the load and names its line. Accounts named in staff.json are created \
                without a password. For 'puente generate --reintegration' and migrations from another case system.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The folder.") var folder: String

        func run() async throws {
            let summary = try await withStore(store) { store in
                try await CaseLoadService(store: store).load(folder: URL(fileURLWithPath: folder), by: commandOperator)
            }
            print(
                "\(summary.actions) steps loaded: \(summary.cases) cases, \(summary.referrals) referrals (\(summary.escalated) escalated), \(summary.partners) partners, \(summary.accounts) new accounts."
            )
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a case for a return registered at reception (imported first).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The agency's code (e.g. SV-DGME).") var agency: String
        @Option(help: "The return's key in the agency's register.") var record: String
        @Option(help: "Office that holds the case (e.g. SV-CAIM).") var office: String
        @Option(help: "Username of the case worker in charge.") var assignee: String?
        @Option(help: "A telephone number the person gave.") var phone: String?
        @Option(help: "Language the person prefers (ISO 639).") var language: String?

        func run() async throws {
            let file = try await withStore(store) { store in
                try await CaseService(store: store).open(
                    .init(
                        agency: agency, recordKey: record, office: office, assignee: assignee, phone: phone,
                        language: language), by: commandOperator)
            }
            print("Case \(file.id) opened at \(file.office) (\(file.status.rawValue)).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cases, most recently changed first.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this office's cases.") var office: String?
        @Option(help: "Only cases assigned to this username.") var assignee: String?
        @Option(help: "Only cases in this status (repeat for several).") var status: [CaseStatus] = []
        @Option(help: "At most this many.") var limit = 1000
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let query = CaseQuery(
                office: office, assignee: assignee, statuses: status.isEmpty ? nil : Set(status), limit: limit)
            let files = try await withStore(store) { store in
                try await CaseService(store: store).list(query, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(files)); return }
            if files.isEmpty { print("No cases."); return }
            for f in files {
                print(
                    [
                        "\(f.id)", f.office, f.status.rawValue + (f.workflow.closure.map { " (\($0.rawValue))" } ?? ""),
                        "arrived \(f.profile.arrivalDay)", f.profile.sex.rawValue, f.profile.municipality ?? "-",
                        f.assignee ?? "unassigned",
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A case with its timeline and referrals (audited as a read of personal data).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let view = try await withStore(store) { store in
                try await CaseService(store: store).show(id, by: commandOperator)
            }
            if format == .json {
                struct Shown: Encodable {
                    let caseFile: CaseFile
                    let entries: [CaseEntry]
                    let referrals: [Referral]
                }
                print(
                    try JSONText.encode(
                        Shown(caseFile: view.caseFile, entries: view.entries, referrals: view.referrals)))
                return
            }
            let f = view.caseFile
            print("Case \(f.id), \(f.office), \(f.status.rawValue), version \(f.version)")
            print(
                "  arrived \(f.profile.arrivalDay), \(f.profile.sex.rawValue), age \(f.profile.age.map(String.init) ?? "-")"
            )
            if let v = f.details.vulnerabilities {
                print("  vulnerabilities: " + (v.isEmpty ? "none" : v.map(\.rawValue).joined(separator: ", ")))
            }
            for entry in view.entries {
                print(
                    "  \(entry.at)  \(entry.actor)  \(entry.kind) \(entry.detail ?? "")"
                        + (entry.note.map { " — \($0)" } ?? ""))
            }
            for r in view.referrals {
                print(
                    "  referral \(r.id): \(r.partner) \(r.service.rawValue) \(r.status.rawValue)"
                        + (r.reason.map { " (\($0.rawValue))" } ?? ""))
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case to its next status, with what that status needs.",
            discussion: """
                screened needs --vulnerability (or --vulnerability none) and the person's consent to reintegration;
                assessed needs --skills and --intentions; plan_drafted needs --plan; plan_approved is a supervisor's,
                never the plan's author.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "The status to move to.") var to: CaseStatus
        @Option(
            help:
                "A need found at screening (repeat), or none: \(Vulnerability.allCases.map(\.rawValue).joined(separator: ", "))."
        )
        var vulnerability: [String] = []
        @Option(help: "Skills found at assessment.") var skills: String?
        @Option(help: "The person's intentions.") var intentions: String?
        @Option(help: "The plan: goals and the assistance it needs.") var plan: String?
        @Option(help: "A note on the timeline.") var note: String?
        @Option(help: "The case version you read (refused if it changed since).") var readAt: Int?

        func run() async throws {
            let file = try await withStore(store) { store in
                try await CaseService(store: store).move(
                    id, readAt: readAt, to: to,
                    update: .init(
                        vulnerabilities: vulnerability.isEmpty ? nil : vulnerability, skills: skills,
                        intentions: intentions, plan: plan, note: note), by: commandOperator)
            }
            print("Case \(file.id) is \(file.status.rawValue) (version \(file.version)).")
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a case with its reason.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "Why: \(ClosureReason.allCases.map(\.rawValue).joined(separator: ", ")).") var reason:
            ClosureReason
        @Option(help: "A note on the timeline.") var note: String?

        func run() async throws {
            let file = try await withStore(store) { store in
                try await CaseService(store: store).close(id, reason: reason, note: note, by: commandOperator)
            }
            print("Case \(file.id) closed (\(reason.rawValue)).")
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reopen a closed case where it was closed from.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "A note on the timeline.") var note: String?

        func run() async throws {
            let file = try await withStore(store) { store in
                try await CaseService(store: store).reopen(id, note: note, by: commandOperator)
            }
            print("Case \(file.id) reopened: \(file.status.rawValue).")
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a case to a case worker of its office.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "Username of a case worker or supervisor.") var to: String

        func run() async throws {
            let file = try await withStore(store) { store in
                try await CaseService(store: store).assign(id, to: to, by: commandOperator)
            }
            print("Case \(file.id) assigned to \(file.assignee ?? to).")
        }
    }
}

/// `puente partners`: the organisations cases are referred to.
struct PartnersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partners", abstract: "Register and list partner organisations and their services.",
        subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a partner, or replace its description.",
            discussion:
                "A partner's accounts name its code as their organisation (`puente users create --role partner --organisation CODE`)."
        )
        @OptionGroup var store: StoreOptions
        @Option(help: "A short code, e.g. SV-INSAFORP.") var id: String
        @Option(help: "The organisation's name.") var name: String
        @Option(help: "A service it offers (repeat): \(ServiceKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var service: [ServiceKind]
        @Option(help: "A municipality it covers, as a division code (repeat; none = the whole country).")
        var municipality: [String] = []
        @Option(help: "The node it works on, when not this one.") var node: String?
        @Flag(help: "No longer takes referrals.") var inactive = false

        func run() async throws {
            let partner = Partner(
                id: id, name: name, services: service, municipalities: municipality, node: node, active: !inactive)
            try await withStore(store) { store in
                try await ReferralService(store: store).register(partner, by: commandOperator)
            }
            print("Partner \(id) registered: " + service.map(\.rawValue).joined(separator: ", ") + ".")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered partners.")
        @OptionGroup var store: StoreOptions
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let partners = try await withStore(store) { store in
                try await ReferralService(store: store).partners(by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(partners)); return }
            if partners.isEmpty { print("No partners registered."); return }
            for p in partners {
                print(
                    [
                        p.id, p.name, p.services.map(\.rawValue).joined(separator: ","),
                        p.municipalities.isEmpty ? "whole country" : p.municipalities.joined(separator: ","),
                        p.active ? "active" : "inactive",
                    ].joined(separator: "\t"))
            }
        }
    }
}

/// `puente referrals`: the closed referral loop.
struct ReferralsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "referrals",
        abstract: "Refer cases to partners and follow each referral to its outcome.",
        discussion: """
            A referral goes requested → received → accepted or rejected → in_progress → completed or failed, \
            and may be cancelled while open. Closing statuses need a reason; the returnee's feedback is recorded \
            at the next follow-up. A referral needs the person's referral consent naming the partner, or \
            --override with a reason (a supervisor's decision, audited).
            """,
        subcommands: [Create.self, Update.self, List.self, Feedback.self, Escalate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refer a case to a partner for one service.")
        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("case"), help: "Case id.") var caseID: Int64
        @Option(help: "The partner's code.") var partner: String
        @Option(help: "The service asked for.") var service: ServiceKind
        @Option(
            help:
                "A field the partner may see (repeat): \(ReferralField.allCases.map(\.rawValue).joined(separator: ", "))."
        )
        var field: [String]
        @Option(help: "Why to refer without a consent naming the partner.") var override: String?

        func run() async throws {
            let referral = try await withStore(store) { store in
                try await ReferralService(store: store, node: try self.store.optionalNodeIdentity()).refer(
                    .init(
                        caseID: caseID, partner: partner, service: service.rawValue, fields: field, override: override),
                    by: commandOperator)
            }
            print(
                "Referral \(referral.id) requested; \(referral.partner) should acknowledge by \(referral.acknowledgeBy)."
            )
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a referral's next status.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Referral id.") var id: Int64
        @Option(help: "The new status.") var to: ReferralStatus
        @Option(help: "Why (rejected, failed, cancelled) or how much was delivered (completed).") var reason: String?
        @Option(help: "A note on the case's timeline.") var note: String?

        func run() async throws {
            let referral = try await withStore(store) { store in
                try await ReferralService(store: store, node: try self.store.optionalNodeIdentity()).update(
                    id, to: to, reason: reason, note: note, by: commandOperator)
            }
            print("Referral \(referral.id) is \(referral.status.rawValue).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case's or a partner's referrals.")
        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("case"), help: "Only this case's.") var caseID: Int64?
        @Option(help: "Only this partner's.") var partner: String?
        @Option(help: "Only in this status (repeat).") var status: [ReferralStatus] = []
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let referrals = try await withStore(store) { store in
                try await ReferralService(store: store).list(
                    ReferralQuery(caseID: caseID, partner: partner, statuses: status.isEmpty ? nil : Set(status)),
                    by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(referrals)); return }
            if referrals.isEmpty { print("No referrals."); return }
            for r in referrals {
                print(
                    [
                        "\(r.id)", "case \(r.caseID)", r.partner, r.service.rawValue,
                        r.status.rawValue + (r.reason.map { " (\($0.rawValue))" } ?? ""),
                        "requested \(r.requestedOn)", r.escalatedOn.map { "escalated \($0)" } ?? "",
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Feedback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The returnee's word on a closed referral: did the service reach them, and was it of use.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Referral id.") var id: Int64
        @Flag(inversion: .prefixedNo, help: "Whether the service reached the person.") var received: Bool
        @Option(help: "1 (no use) to 5 (very useful).") var usefulness: Int?

        func run() async throws {
            let referral = try await withStore(store) { store in
                try await ReferralService(store: store).feedback(
                    id, received: received, usefulness: usefulness, by: commandOperator)
            }
            print("Feedback recorded on referral \(referral.id).")
        }
    }

    struct Escalate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark referrals not acknowledged by their day as escalated, and list them.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let escalated = try await withStore(store) { store in
                try await ReferralService(store: store).escalate(by: commandOperator)
            }
            if escalated.isEmpty { print("No referral is overdue."); return }
            for r in escalated {
                print("Referral \(r.id) to \(r.partner) (case \(r.caseID)): not acknowledged since \(r.requestedOn).")
            }
        }
    }
}

extension FollowUpService.Occasion: ExpressibleByArgument {}
extension FollowUpService.Mode: ExpressibleByArgument {}

/// `puente followups`: the sustainability survey at baseline and follow-ups, and what is due.
struct FollowUpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "followups",
        abstract: "Record sustainability surveys, see scores and the follow-ups due.",
        discussion: """
            Scores (0–1: economic, social, psychosocial and composite) are computed when a survey is recorded, \
            with the instrument and weight table in use, and never recomputed. Puente ships an instrument \
            modelled on IOM's Reintegration Sustainability Survey and UNOFFICIAL equal weights; load the \
            programme's own with --instrument and --weights (docs/reintegration.md).
            """,
        subcommands: [Record.self, Show.self, Due.self, Instrument.self])

    struct SurveyOptions: ParsableArguments {
        @Option(help: "A survey instrument (JSON) instead of Puente's.") var instrument: String?
        @Option(help: "A weight table (JSON) instead of the unofficial equal weights.") var weights: String?

        func service(_ store: any PuenteStore) throws -> FollowUpService {
            let (instrument, weights) = try loaded()
            return FollowUpService(store: store, instrument: instrument, weights: weights)
        }

        /// The instrument and weight table named, Puente's own for those not named.
        func loaded() throws -> (instrument: SurveyInstrument, weights: WeightTable) {
            let instrument =
                try self.instrument.map { try SurveyInstrument.load(readFile($0), source: $0) }
                ?? SustainabilitySurvey.defaultInstrument()
            let weights =
                try self.weights.map { try WeightTable.load(readFile($0), source: $0, for: instrument) }
                ?? SustainabilitySurvey.defaultWeights(for: instrument)
            return (instrument, weights)
        }

        func readFile(_ path: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PuenteError(.notFound, "\(path): cannot be read.")
            }
            return data
        }
    }

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a survey administered to a case's person.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var survey: SurveyOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "baseline or follow_up.") var occasion: FollowUpService.Occasion
        @Option(help: "phone or visit.") var mode: FollowUpService.Mode
        @Option(help: "An answer as QUESTION=ANSWER (repeat); `puente followups instrument` lists them.")
        var answer: [String]
        @Option(help: "Day it was administered, YYYY-MM-DD (default: today).") var date: CivilDate?

        func run() async throws {
            var answers: [String: String] = [:]
            for pair in answer {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw PuenteError(.invalidArgument, "answer: expected QUESTION=ANSWER.") }
                answers[parts[0]] = parts[1]
            }
            let recorded = try await withStore(store) { store in
                try await survey.service(store).record(
                    caseID: id, occasion: occasion, mode: mode, answers: answers, on: date, by: commandOperator)
            }
            print(FollowUpsCommand.describe(recorded))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case's surveys and scores, oldest first.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Case id.") var id: Int64
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let surveys = try await withStore(store) { store in
                try await FollowUpService(store: store).surveys(caseID: id, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(surveys)); return }
            if surveys.isEmpty { print("No survey recorded for case \(id)."); return }
            for s in surveys { print(FollowUpsCommand.describe(s)) }
        }
    }

    struct Due: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow-ups due, and overdue, by a day.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Due by this day, YYYY-MM-DD (default: a week from today).") var until: CivilDate?
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let due = try await withStore(store) { store in
                try await FollowUpService(store: store).due(
                    until: until ?? CivilDate.today.adding(days: 7), by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(due)); return }
            if due.isEmpty { print("No follow-up due."); return }
            for d in due {
                print(
                    "case \(d.caseID)\tfollow-up \(d.number)\tdue \(d.dueOn)\t\(d.assignee ?? "unassigned")"
                        + (d.overdue ? "\tOVERDUE" : ""))
            }
        }
    }

    struct Instrument: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The survey's questions and answers, and the weight table in use.")
        @OptionGroup var survey: SurveyOptions

        func run() async throws {
            let (instrument, weights) = try survey.loaded()
            print("\(instrument.reference): \(instrument.note)")
            print(
                "Weights \(weights.id)\(weights.official ? "" : " (UNOFFICIAL)"), cut-off \(weights.cutoff): \(weights.note)"
            )
            for indicator in instrument.indicators {
                print("\n\(indicator.dimension.rawValue) / \(indicator.id): \(indicator.labelEN)")
                for q in instrument.questions where q.indicator == indicator.id {
                    print("  \(q.id): \(q.textEN)\n    " + q.answers.joined(separator: " < "))
                }
            }
        }
    }

    static func describe(_ s: FollowUpService.RecordedSurvey) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
        let scores = s.survey.scores
        return "survey \(s.id), case \(s.caseID), \(s.day) \(s.survey.occasion.rawValue) by \(s.survey.mode.rawValue): "
            + "composite \(f(scores.composite)) (economic \(f(scores.economic)), social \(f(scores.social)), "
            + "psychosocial \(f(scores.psychosocial))); weakest \(scores.weakest?.rawValue ?? "-"); "
            + "sustainable at \(scores.cutoff) (\(scores.weights)): \(scores.sustainable.map { $0 ? "yes" : "no" } ?? "-")"
    }
}

extension Grant.BusinessStatus: ExpressibleByArgument {}

/// `puente grants`: business plans, seed grants, tranches and the disbursement ledger.
struct GrantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants",
        abstract: "Seed grants: application, review, decision, tranches, disbursements, visits and the ledger.",
        discussion: """
            Amounts are exact (e.g. 1500 or 1500.50). Reviews, decisions and disbursement approvals are a \
            supervisor's, never the applicant's or the requester's; a tranche after the first needs a monitoring \
            visit after the previous one was paid (docs/reintegration.md).
            """,
        subcommands: [
            Apply.self, Review.self, Decide.self, Schedule.self, Request.self, Approve.self, Disburse.self, Visit.self,
            List.self, Ledger.self,
        ])

    static func report(_ g: GrantService.RecordedGrant) {
        let grant = g.grant
        print(
            "Grant \(g.id) (case \(g.caseID)): \(grant.status.rawValue), requested \(grant.requested)"
                + (grant.approved.map { ", approved \($0)" } ?? "") + ", disbursed \(grant.disbursed)")
        for t in grant.tranches {
            print("  tranche \(t.number): \(t.amount) \(t.status.rawValue)" + (t.disbursedOn.map { " on \($0)" } ?? ""))
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply for a grant on a case with an approved plan.")
        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("case"), help: "Case id.") var caseID: Int64
        @Option(help: "Amount requested, e.g. 1500.00.") var amount: String
        @Option(help: "ISO 4217 currency (USD, GTQ, HNL).") var currency: String
        @Option(help: "The business plan, as text (sealed when stored).") var plan: String

        func run() async throws {
            let g = try await withStore(store) { store in
                try await GrantService(store: store).apply(
                    caseID: caseID, amount: amount, currency: currency, businessPlan: plan, by: commandOperator)
            }
            GrantsCommand.report(g)
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score an application (0 to 100).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "0 to 100.") var score: Int

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).review(id, score: score, by: commandOperator)
                })
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve an amount, or reject with a reason.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "The amount approved (at most the request).") var approve: String?
        @Option(help: "Why it is rejected.") var reject: String?

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).decide(
                        id, approve: approve, rejectionReason: reject, by: commandOperator)
                })
        }
    }

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the tranches of an approved grant.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "A tranche as AMOUNT or AMOUNT:CONDITION, in order (repeat).") var tranche: [String]

        func run() async throws {
            let tranches = tranche.map { text -> (amount: String, condition: String?) in
                let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
                return (parts.first ?? "", parts.count > 1 ? parts[1] : nil)
            }
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).schedule(id, tranches: tranches, by: commandOperator)
                })
        }
    }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Request a tranche's disbursement.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "Tranche number.") var tranche: Int

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).requestTranche(id, number: tranche, by: commandOperator)
                })
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a requested disbursement (not the requester).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "Tranche number.") var tranche: Int

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).approveTranche(id, number: tranche, by: commandOperator)
                })
        }
    }

    struct Disburse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an approved tranche as paid: a cash reference, or the in-kind items.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "Tranche number.") var tranche: Int
        @Option(help: "The transfer's reference.") var reference: String?
        @Option(help: "An item delivered in kind (repeat).") var item: [String] = []
        @Option(help: "Day paid, YYYY-MM-DD (default: today).") var date: CivilDate?

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).disburse(
                        id, number: tranche, reference: reference, inKind: item, on: date, by: commandOperator)
                })
        }
    }

    struct Visit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a monitoring visit and the business's status.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Grant id.") var id: Int64
        @Option(help: "not_started, operating, struggling or closed.") var business: Grant.BusinessStatus
        @Option(help: "Day of the visit, YYYY-MM-DD (default: today).") var date: CivilDate?

        func run() async throws {
            GrantsCommand.report(
                try await withStore(store) {
                    try await GrantService(store: $0).visit(id, business: business, on: date, by: commandOperator)
                })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A case's grants.")
        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("case"), help: "Case id.") var caseID: Int64
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let grants = try await withStore(store) {
                try await GrantService(store: $0).grants(caseID: caseID, by: commandOperator)
            }
            if format == .json { print(try JSONText.encode(grants)); return }
            if grants.isEmpty { print("No grant on case \(caseID)."); return }
            grants.forEach(GrantsCommand.report)
        }
    }

    struct Ledger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every disbursement, by day, with totals per currency.")
        @OptionGroup var store: StoreOptions
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let (lines, totals) = try await withStore(store) {
                try await GrantService(store: $0).ledger(by: commandOperator)
            }
            if format == .json {
                struct Ledger: Encodable {
                    let lines: [GrantService.LedgerLine]
                    let totals: [String: Money]
                }
                print(try JSONText.encode(Ledger(lines: lines, totals: totals)))
                return
            }
            for l in lines {
                print(
                    "\(l.disbursedOn)\tcase \(l.caseID)\tgrant \(l.grantID)\ttranche \(l.tranche)\t\(l.amount)\t"
                        + (l.reference ?? l.inKind?.joined(separator: ", ") ?? "")
                        + "\t\(l.requestedBy)/\(l.approvedBy)")
            }
            for (_, total) in totals.sorted(by: { $0.key < $1.key }) { print("total\t\(total)") }
        }
    }
}

/// A protected table of units as tab-separated lines: each cell (a share with its denominator), the
/// total, what `notes` adds, then the protection applied. Perturbed cells are marked (E), withheld ones x.
func printUnitTable(
    _ table: UnitStatistics.Table, notes: (_ show: (StatisticsCell, Bool) -> String) -> Void = { _ in }
) {
    let share = table.denominators != nil
    func show(_ cell: StatisticsCell, _ share: Bool) -> String {
        (cell.value.map { share ? String(format: "%.2f %%", $0) : String(Int($0)) } ?? "x")
            + (cell.perturbed ? " (E)" : "")
    }
    for (i, cell) in table.cells.enumerated() {
        let denominator = table.denominators.map { " of " + show($0[i], false) } ?? ""
        print(cell.key.joined(separator: "\t") + "\t" + show(cell, share) + denominator)
    }
    print("total\t" + show(table.total, share))
    notes(show)
    print("protection: \(table.protection.method), threshold \(table.protection.threshold)")
}
