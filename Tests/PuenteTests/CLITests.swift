import ArgumentParser
import Foundation
import PuenteCore
import PuenteTesting
import Testing

@testable import PuenteCLI

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

    @Test("A public key that begins with '-' (one base64url key in 64) is taken as the option's value")
    func keysBeginningWithDash() throws {
        let key = "-" + String(repeating: "A", count: 42)
        let draft = try AgreementCommand.Draft.parse([
            "--id", "A", "--receiver", "GT-IGM", "--receiver-country", "GTM", "--receiver-key", key,
            "--receiver-encryption-key", key, "--linkage-unit", "HB-SICA", "--linkage-unit-country", "SLV",
            "--linkage-unit-key", key, "--purpose", "linkage", "--valid-from", "2026-01-01",
            "--valid-to", "2027-01-01", "--retention-days", "30", "--out", "a.json",
        ])
        #expect(draft.receiverKey == key && draft.receiverEncryptionKey == key && draft.linkageUnitKey == key)
        #expect(try Node.Verify.parse(["--type", "t", "--public-key", key, "d.json", "d.jws"]).publicKey == key)
        #expect(try ExchangeCommand.TrustRegistry.parse(["r.json", "--hub-key", key]).hubKey == key)
        #expect(
            try ExchangeCommand.FetchRegistry.parse(["--from", "http://127.0.0.1:1", "--hub-key", key]).hubKey == key)
        #expect(
            try Members.Verify.parse(["r.json", "--hub-key", key]).hubKey == key)
    }

    @Test("Generate, ingest and stats work end to end in-process on a SQLite file")
    func endToEnd() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("cli.sqlite").path
        let generate = try Generate.parse(["--country", "HN", "--year", "2024", "--out", dir.path, "--scale", "0.01"])
        try await generate.run()
        let ingest = try Ingest.parse([
            "--database", db, "--profile", "hn-inm-retornos", dir.appendingPathComponent("hn-inm-retornos.csv").path,
        ])
        try await ingest.run()
        let store = try await StoreOptions.parse(["--database", db]).open()
        #expect(try await store.imports(limit: 5).first?.counts.read == 694)
        try await store.close()
        #expect(throws: (any Error).self) { try Stats.parse(["--measure"]) }
        #expect(throws: (any Error).self) { try Generate.parse(["--country", "SV"]) }

        // The operator is audited like an account: exact figures need a purpose and leave an entry, as a
        // file written does; the protected table on the terminal leaves none.
        let protected = try Stats.parse(["--database", db, "--measure", "returns", "--by", "sex"])
        try await protected.run()
        let noPurpose = try Stats.parse([
            "--database", db, "--measure", "returns", "--by", "sex", "--protection", "none",
        ])
        await #expect(throws: PuenteError.self) { try await noPurpose.run() }
        let exact = try Stats.parse([
            "--database", db, "--measure", "returns", "--by", "sex", "--protection", "none",
            "--purpose", "quarterly bulletin",
        ])
        try await exact.run()
        let file = try Stats.parse(["--database", db, "--measure", "returns", "--by", "sex", "--format", "csv"])
        try await file.run()
        let audited = try await StoreOptions.parse(["--database", db]).open()
        let exports = try await audited.auditEntries(after: 0, limit: 20).filter { $0.action == "export" }
        #expect(
            exports.map(\.target) == [
                "stats measure=returns by=sex format=table protection=none",
                "stats measure=returns by=sex format=csv protection=ckm",
            ])
        #expect(exports.map(\.purpose) == ["quarterly bulletin", nil])
        #expect(exports.allSatisfy { $0.actor.hasPrefix("cli:") })
        try await audited.close()

        // A rollback changes published figures: audited; an unknown batch is an error, not a usage error.
        let usage = #expect(throws: (any Error).self) {
            try Generate.parse(["--country", "MX", "--year", "2024", "--out", dir.path])
        }
        #expect(usage.map { Generate.message(for: $0).contains("SV, GT or HN") } == true)
        // Other usage errors are found in parsing, before a store is opened.
        #expect(throws: (any Error).self) { try Retention.parse(["--database", db]) }
        #expect(throws: (any Error).self) { try Stats.parse(["--database", "", "--measure", "returns"]) }
        #expect(throws: (any Error).self) { try Link.ConfigCommand.parse(["no-such-config"]) }
        let id = try #require(
            try await withStore(StoreOptions.parse(["--database", db])) { try await $0.imports(limit: 1).first?.id })
        let unknown = try Imports.Rollback.parse(["--database", db, String(id + 100)])
        await #expect(throws: PuenteError.self) { try await unknown.run() }
        try await Imports.Rollback.parse(["--database", db, String(id)]).run()
        let rolledBack = try await StoreOptions.parse(["--database", db]).open()
        #expect(try await rolledBack.imports(limit: 1).first?.status == .rolledBack)
        let rollbacks = try await rolledBack.auditEntries(after: 0, limit: 50).filter { $0.action == "import_rollback" }
        #expect(rollbacks.map(\.target) == ["import:\(id)"] && rollbacks.allSatisfy { $0.actor.hasPrefix("cli:") })
        try await rolledBack.close()
    }

    @Test("users, tokens and `audit verify`: an intact trail passes, a tampered entry fails with exit status 1")
    func auditVerify() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("audit.sqlite").path
        let create = try Users.Create.parse([
            "--database", db, "--username", "harvester", "--role", "regional_analyst", "--no-password",
        ])
        try await create.run()
        let token = try Tokens.Create.parse([
            "--database", db, "--user", "harvester", "--label", "sdmx", "--days", "30",
        ])
        try await token.run()
        let setRole = try Users.SetRole.parse(["--database", db, "harvester", "statistician"])
        try await setRole.run()
        #expect(throws: (any Error).self) {
            try Users.Create.parse(["--database", db, "--username", "x", "--role", "superuser"])
        }

        var verify = try Audit.Verify.parse(["--database", db])
        try await verify.run()
        let store = try await StoreOptions.parse(["--database", db]).open()
        #expect(
            try await store.auditEntries(after: 0, limit: 10).map(\.action) == [
                "user_created", "token_created", "role_changed",
            ])
        let head = try #require(try await store.lastAudit()).hash
        try await store.close()

        // Someone with the file rewrites who changed the role.
        try await StoreKind.executeBehindTheStore(
            [
                "DROP TRIGGER audit_entry_no_update",
                "UPDATE audit_entry SET actor = 'cli:nobody' WHERE sequence = 3",
            ], at: db)
        verify = try Audit.Verify.parse(["--database", db])
        await #expect(throws: ExitCode(1)) { try await verify.run() }
        // Restored, it passes again; removing the last entry passes the chain but not the recorded head.
        try await StoreKind.executeBehindTheStore(
            ["UPDATE audit_entry SET actor = '\(operatorName)' WHERE sequence = 3"], at: db)
        verify = try Audit.Verify.parse(["--database", db, "--expect-head", head])
        try await verify.run()
        try await StoreKind.executeBehindTheStore(
            ["DROP TRIGGER audit_entry_no_delete", "DELETE FROM audit_entry WHERE sequence = 3"], at: db)
        verify = try Audit.Verify.parse(["--database", db, "--expect-head", head])
        await #expect(throws: ExitCode(1)) { try await verify.run() }
    }

    @Test("`puente consent record`, `withdraw` and `list`: stored, audited, and bad input named by its field")
    func consent() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("consent.sqlite").path
        let base = ["--database", db, "--agency", "SV-DGME", "--record", "R-77"]
        let record = try ConsentCommand.Record.parse(
            base + [
                "--purpose", "linkage", "--recipient", "OIM", "--recipient", "CARITAS",
                "--guardian", "--date", "2026-01-15", "--scope", "solo retornos 2016",
            ])
        try await record.run()
        let referral = try ConsentCommand.Record.parse(base + ["--purpose", "referral", "--language", "en"])
        try await referral.run()

        func failure(_ command: some AsyncParsableCommand) async -> String {
            var command = command
            do { try await command.run(); return "no error" } catch { return "\(error)" }
        }
        #expect(
            try await failure(ConsentCommand.Record.parse(base + ["--purpose", "marketing"])).contains(
                "purpose: expected one of linkage"))
        #expect(
            try await failure(ConsentCommand.Record.parse(base + ["--purpose", "linkage", "--date", "15/01/2026"]))
                .contains("date: expected a date like"))
        #expect(
            try await failure(ConsentCommand.Record.parse(base + ["--purpose", "linkage"])).contains("consent in force")
        )
        #expect(
            try await failure(ConsentCommand.Withdraw.parse(["--database", db, "42"])).contains(
                "no consent with that id"))

        let withdraw = try ConsentCommand.Withdraw.parse(["--database", db, "1", "--date", "2026-02-01"])
        try await withdraw.run()
        #expect(
            try await failure(ConsentCommand.Withdraw.parse(["--database", db, "1"])).contains("withdrawn already"))
        let list = try ConsentCommand.List.parse(base + ["--format", "json"])
        try await list.run()

        let store = try await StoreOptions.parse(["--database", db]).open()
        let consents = try await store.consents(of: ConsentSubject(agency: "SV-DGME", recordKey: "R-77"))
        #expect(consents.map(\.purpose) == [.linkage, .referral])
        #expect(
            consents[0].recipients == ["OIM", "CARITAS"] && consents[0].guardian
                && consents[0].scope == "solo retornos 2016")
        #expect(consents[0].withdrawnOn == CivilDate(iso: "2026-02-01") && consents[0].withdrawnBy == operatorName)
        #expect(consents[1].language == "en" && consents[1].inForce && consents[1].collector == operatorName)
        #expect(
            try await ConsentGate(store: store).excluded(for: .linkage) == [
                ConsentSubject(agency: "SV-DGME", recordKey: "R-77")
            ])
        let audit = try await store.auditEntries(after: 0, limit: 20)
        #expect(audit.map(\.action) == ["consent_recorded", "consent_recorded", "consent_withdrawn", "consent_read"])
        #expect(audit.allSatisfy { !$0.target.contains("R-77") })
        try await store.close()
    }

    @Test("`puente cases`, `partners` and `referrals` walk a case from reception to a completed referral")
    func reintegrationLoop() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("cases.sqlite").path
        try await Generate.parse(["--country", "HN", "--year", "2024", "--out", dir.path, "--scale", "0.01"]).run()
        try await Ingest.parse([
            "--database", db, "--profile", "hn-inm-retornos", dir.appendingPathComponent("hn-inm-retornos.csv").path,
        ]).run()
        var store = try await StoreOptions.parse(["--database", db]).open()
        let importID = try #require(try await store.imports(limit: 1).first?.id)
        let returned = try #require(try await store.events(importID: importID, limit: 1).first)
        try await store.close()
        let (agency, key) = (returned.source.agency, returned.source.recordKey)
        let base = ["--database", db]

        func failure(_ command: some AsyncParsableCommand) async -> String {
            var command = command
            do { try await command.run(); return "no error" } catch { return "\(error)" }
        }
        try await CasesCommand.Open.parse(base + ["--agency", agency, "--record", key, "--office", "HN-CAMR"]).run()
        #expect(
            try await failure(CasesCommand.Move.parse(base + ["1", "--to", "screened", "--vulnerability", "none"]))
                .contains("consent to reintegration"))
        #expect(throws: (any Error).self) { try CasesCommand.Move.parse(base + ["1", "--to", "somewhere"]) }
        for purpose in ["reintegration", "referral"] {
            try await ConsentCommand.Record.parse(
                base + ["--agency", agency, "--record", key, "--purpose", purpose, "--recipient", "HN-INFOP"]
            ).run()
        }
        try await CasesCommand.Move.parse(base + ["1", "--to", "screened", "--vulnerability", "none"]).run()
        try await CasesCommand.Move.parse(
            base + ["1", "--to", "assessed", "--skills", "soldadura", "--intentions", "taller propio"]
        ).run()
        try await CasesCommand.Move.parse(base + ["1", "--to", "plan_drafted", "--plan", "Curso y herramientas"]).run()
        #expect(
            try await failure(CasesCommand.Move.parse(base + ["1", "--to", "plan_approved"])).contains("Four eyes"))
        try await PartnersCommand.Add.parse(
            base + [
                "--id", "HN-INFOP", "--name", "Instituto Nacional de Formación Profesional", "--service",
                "vocational_training",
            ]
        ).run()
        try await ReferralsCommand.Create.parse(
            base + ["--case", "1", "--partner", "HN-INFOP", "--service", "vocational_training", "--field", "phone"]
        ).run()
        for (status, reason) in [("received", nil), ("accepted", nil), ("completed", "delivered")] {
            try await ReferralsCommand.Update.parse(
                base + ["1", "--to", status] + (reason.map { ["--reason", $0] } ?? [])
            ).run()
        }
        try await ReferralsCommand.Feedback.parse(base + ["1", "--received", "--usefulness", "5"]).run()
        try await CasesCommand.Show.parse(base + ["1", "--format", "json"]).run()
        try await FollowUpsCommand.Record.parse(
            base + [
                "1", "--occasion", "baseline", "--mode", "visit", "--answer", "work=none", "--answer", "safety=safe",
            ]
        ).run()
        #expect(
            try await failure(
                FollowUpsCommand.Record.parse(
                    base + ["1", "--occasion", "baseline", "--mode", "visit", "--answer", "work"])
            ).contains("QUESTION=ANSWER"))
        let weights = dir.appendingPathComponent("weights.json")
        try Data(
            #"{"id":"w","instrument":"rss-puente","official":true,"note":"","dimension_weights":{},"composite_weights":{},"cutoff":0.5}"#
                .utf8
        )
        .write(to: weights)
        #expect(
            try await failure(
                FollowUpsCommand.Record.parse(
                    base + [
                        "1", "--occasion", "baseline", "--mode", "visit", "--answer", "work=none", "--weights",
                        weights.path,
                    ])
            ).contains("weights.json: dimension_weights: no weight for indicator"))
        try await FollowUpsCommand.Show.parse(base + ["1"]).run()
        #expect(
            try await failure(
                GrantsCommand.Apply.parse(
                    base + ["--case", "1", "--amount", "900", "--currency", "HNL", "--plan", "taller de soldadura"])
            ).contains("once the case's plan is approved"))
        #expect(throws: (any Error).self) { try GrantsCommand.Visit.parse(base + ["1", "--business", "booming"]) }
        try await GrantsCommand.Ledger.parse(base).run()
        try await FollowUpsCommand.Instrument.parse([]).run()

        store = try await StoreOptions.parse(["--database", db]).open()
        let file = try #require(try await store.caseFile(id: 1))
        #expect(file.status == .planDrafted && file.details.skills == "soldadura" && file.office == "HN-CAMR")
        let referral = try #require(try await store.referral(id: 1))
        #expect(referral.status == .completed && referral.reason == .delivered && referral.feedback?.usefulness == 5)
        let surveys = try await store.caseRecords(caseID: 1, kind: "survey")
        #expect(surveys.count == 1 && surveys[0].content?.contains("safe") == true)
        let trail = try await store.auditEntries(after: 0, limit: 100)
        #expect(trail.contains { $0.action == "case_opened" } && trail.contains { $0.action == "referral_requested" })
        #expect(!trail.contains { $0.target.contains(key) })
        try await store.close()
    }

    @Test("`puente demo --no-serve` generates, loads and leaves a store with its key file beside it")
    func demo() async throws {
        let dir = try Fixtures.tempDir()
        let db = dir.appendingPathComponent("demo.sqlite").path
        let demo = try Demo.parse([
            "--scale", "0.01", "--data-dir", dir.appendingPathComponent("data").path, "--database", db, "--no-serve",
        ])
        try await demo.run()
        #expect(FileManager.default.fileExists(atPath: db + ".keys"))
        let store = try await StoreOptions.parse(["--database", db]).open()
        let imports = try await store.imports(limit: 5)
        #expect(
            imports.count == 2
                && imports.allSatisfy { $0.status == .committed && $0.counts.isBalanced && $0.counts.accepted > 0 })
        // Persons linked over both imports, so the dashboard can count people.
        let run = try #require(try await store.latestLinkRun())
        #expect(run.importIDs == imports.map(\.id).sorted() && run.persons > 0 && run.persons < run.events)
        try await store.close()
    }

    @Test("Keys: random ids, private files only, and never a new key file for a database sealed with other keys")
    func keyFiles() async throws {
        let dir = try Fixtures.tempDir()
        let generate = try Generate.parse(["--country", "HN", "--year", "2024", "--out", dir.path, "--scale", "0.005"])
        try await generate.run()
        let db = dir.appendingPathComponent("node.sqlite").path
        let ingest = try Ingest.parse([
            "--database", db, "--profile", "hn-inm-retornos", dir.appendingPathComponent("hn-inm-retornos.csv").path,
        ])
        try await ingest.run()
        let keyFile = db + ".keys"
        let first = try String(contentsOfFile: keyFile, encoding: .utf8)
        // random ids: another node's (or file's) k1 is never taken for this one
        #expect(!first.contains("active k1\n"))
        // Run from elsewhere, with no key file there: refused, and nothing created.
        let elsewhere = dir.appendingPathComponent("elsewhere.keys").path
        await #expect(throws: PuenteError.self) {
            _ = try await StoreOptions.parse(["--database", db, "--key-file", elsewhere]).open()
        }
        #expect(!FileManager.default.fileExists(atPath: elsewhere))
        // Another node's key file is refused too.
        let other = dir.appendingPathComponent("other.sqlite").path
        // an empty store: its keys are created
        let otherStore = try await StoreOptions.parse(["--database", other]).open()
        try await otherStore.close()
        await #expect(throws: PuenteError.self) {
            _ = try await StoreOptions.parse(["--database", db, "--key-file", other + ".keys"]).open()
        }
        // A key file others can read is refused until it is made private.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
        await #expect(throws: PuenteError.self) { _ = try await StoreOptions.parse(["--database", db]).open() }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        let store = try await StoreOptions.parse(["--database", db]).open()
        try await store.close()
        // A key added gets a fresh random id too, the file is replaced in one step (nothing else left
        // beside it but the audit trail's head, which `keys add` moved on), and the data still opens.
        let add = try Keys.Add.parse(["--database", db])
        try await add.run()
        let ids = try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").filter {
            $0.hasPrefix("k")
        }.map { $0.split(separator: " ")[0] }
        #expect(ids.count == 2 && Set(ids).count == 2 && ids.allSatisfy { $0.count == 9 })
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".keys") }.sorted()
                == ["node.sqlite.keys", "node.sqlite.keys.audit-head", "other.sqlite.keys"])
        let rotate = try Keys.Rotate.parse(["--database", db])
        try await rotate.run()
        let reopened = try await StoreOptions.parse(["--database", db]).open()
        #expect(try await reopened.events(importID: 1, limit: 1).first?.person.givenNames != nil)
        try await reopened.close()

        // A key file cut short (a full disk while copying it, a truncated transfer), or missing the key
        // the data was last sealed with: refused at start, naming the problem, and left as it is.
        let whole = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        let lines = String(decoding: whole, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let active = try #require(lines.first { $0.hasPrefix("active ") }?.split(separator: " ").last.map(String.init))
        for damaged in [
            whole.prefix(whole.count / 2),  // mid-line
            Data(lines.filter { !$0.hasPrefix("active") }.joined(separator: "\n").utf8),  // no active key
            Data(lines.filter { !$0.hasPrefix(active + " ") }.joined(separator: "\n").utf8),  // the active key lost
            Data(),
        ] {
            try damaged.write(to: URL(fileURLWithPath: keyFile))
            let refused = await #expect(throws: PuenteError.self) {
                _ = try await StoreOptions.parse(["--database", db]).open()
            }
            #expect(refused?.message.isEmpty == false)
            #expect(try Data(contentsOf: URL(fileURLWithPath: keyFile)) == damaged)
        }
        try whole.write(to: URL(fileURLWithPath: keyFile))
        let restored = try await StoreOptions.parse(["--database", db]).open()
        #expect(try await restored.events(importID: 1, limit: 1).first?.person.givenNames != nil)
        try await restored.close()
    }

    @Test("`link encode` and `link match`: persons found on keyed encodings alone, never with another secret")
    func privacyPreservingLinkage() async throws {
        let dir = try Fixtures.tempDir()
        let generate = try Generate.parse([
            "--country", "SV", "--year", "2016", "--out", dir.path, "--scale", "0.02", "--seed", "9",
        ])
        try await generate.run()
        // Two registers of the same people: the first and the second half of a year's returns (persons who
        // returned twice are in both, recorded with their own errors each time).
        let lines = try String(
            contentsOfFile: dir.appendingPathComponent("sv-dgme-retornos.csv").path, encoding: .isoLatin1
        )
        .split(separator: "\n").map(String.init)
        let half = lines.count / 2
        for (name, rows) in [("left.csv", lines[1..<half]), ("right.csv", lines[half...])] {
            try ([lines[0]] + rows).joined(separator: "\n").appending("\n").write(
                to: dir.appendingPathComponent(name), atomically: true, encoding: .isoLatin1)
        }
        let secret = dir.appendingPathComponent("secret.txt"), other = dir.appendingPathComponent("other.txt")
        try "the owners' shared secret".write(to: secret, atomically: true, encoding: .utf8)
        try "somebody else's secret!!".write(to: other, atomically: true, encoding: .utf8)
        func encode(_ input: String, _ secretFile: URL, _ name: String) async throws -> [String] {
            let out = dir.appendingPathComponent(name).path
            let command = try Link.Encode.parse([
                "--input", dir.appendingPathComponent(input).path, "--config", "sv-dgme-retornos",
                "--secret-file", secretFile.path, "--output", out,
            ])
            try await command.run()
            return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let a = try await encode("left.csv", secret, "a.clk.csv"),
            b = try await encode("right.csv", secret, "b.clk.csv")
        _ = try await encode("right.csv", other, "c.clk.csv")
        #expect(a.first == "id,clk" && a.count > 400 && b.count > 400)
        #expect(a.dropFirst().allSatisfy { !$0.contains(" ") && $0.split(separator: ",").count == 2 })
        // No clear name in the encodings.
        let names = lines.dropFirst().prefix(20).map { $0.split(separator: ";").map(String.init) }
        #expect(names.allSatisfy { row in row.count < 6 || row[3].count < 6 || !a.joined().contains(row[3]) })

        func match(_ left: String, _ right: String) async throws -> [[String]] {
            let out = dir.appendingPathComponent("pairs.csv").path
            let command = try Link.Match.parse([
                "--left", dir.appendingPathComponent(left).path, "--right", dir.appendingPathComponent(right).path,
                "--threshold", "0.9", "--output", out,
            ])
            try await command.run()
            return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst().map {
                $0.split(separator: ",").map(String.init)
            }
        }
        // The persons in both halves are found on the encodings alone, against the ground truth.
        let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/sv-dgme-retornos.truth.csv"))
        let person = Dictionary(uniqueKeysWithValues: truth.map { ($0["record_key"]!, $0["person_id"]!) })
        let leftKeys = Set(a.dropFirst().map { String($0.split(separator: ",")[0]) }),
            rightKeys = Set(b.dropFirst().map { String($0.split(separator: ",")[0]) })
        let leftPersons = Dictionary(grouping: leftKeys, by: { person[$0]! }),
            rightPersons = Dictionary(grouping: rightKeys, by: { person[$0]! })
        let truePairs = leftPersons.reduce(0) { $0 + $1.value.count * (rightPersons[$1.key]?.count ?? 0) }
        let found = try await match("a.clk.csv", "b.clk.csv")
        let correct = found.filter { person[$0[0]] == person[$0[1]] }.count
        #expect(truePairs >= 10, "true cross pairs \(truePairs)")
        #expect(Double(correct) >= 0.95 * Double(found.count), "precision: \(correct) of \(found.count)")
        #expect(Double(correct) >= 0.7 * Double(truePairs), "recall: \(correct) of \(truePairs)")
        // Encodings made with another secret share nothing usable.
        #expect(try await match("a.clk.csv", "c.clk.csv").isEmpty)
    }
}
