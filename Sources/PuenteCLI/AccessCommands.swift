import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteServices

/// Who runs a command, for the audit trail: the operating-system account (whoever can run `puente` on
/// the server already holds the store).
var operatorName: String {
    "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName)
}

/// The operator as the acting identity the services take.
var commandOperator: Actor { .commandOperator(operatorName) }

/// Reads a password without echo from a terminal, or one line from standard input with `--password-stdin`.
func readPassword(fromStandardInput: Bool, prompt: String) throws -> String {
    if fromStandardInput {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw PuenteError(.invalidInput, "Pipe the password on standard input, one line.")
        }
        return line
    }
    guard isatty(0) != 0, let raw = getpass(prompt) else {
        throw PuenteError(.invalidInput, "No terminal to ask for the password; use --password-stdin.")
    }
    let first = String(cString: raw)
    guard let again = getpass("Again: "), String(cString: again) == first else {
        throw PuenteError(.invalidInput, "The two passwords differ; run the command again.")
    }
    return first
}

extension Role: ExpressibleByArgument {}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage accounts: create the first administrator, change roles, disable.",
        discussion: """
            Roles: admin, statistician, data_officer, case_worker, supervisor, partner, regional_analyst, auditor, node
            (what each may do: docs/security.md). There is no default account or password.
            """,
        subcommands: [Create.self, List.self, SetRole.self, Password.self, Disable.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account (asks for its password).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Login name: letters, digits, dots, dashes, underscores.") var username: String
        @Option(help: "Role of the account.") var role: Role
        @Option(help: "ISO alpha-3 country whose data the account works on.") var country: String?
        @Option(help: "Office or partner organisation.") var organisation: String?
        @Flag(help: "Read the password from standard input (for scripts).") var passwordStdin = false
        @Flag(help: "No password: a machine account that uses API tokens only.") var noPassword = false

        func run() async throws {
            let password =
                noPassword
                ? nil : try readPassword(fromStandardInput: passwordStdin, prompt: "Password for \(username): ")
            let user = try await withStore(store) { store in
                try await AccessService(store: store).createUser(
                    username: username, role: role, password: password, country: country,
                    organisation: organisation, by: commandOperator)
            }
            print("Created \(user.username) (\(user.role.rawValue)).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accounts with their roles.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let users = try await withStore(store) { try await $0.users() }
            if users.isEmpty {
                print("No accounts yet. Create the first with `puente users create --username NAME --role admin`.")
            }
            for u in users {
                print(
                    "\(u.username)\t\(u.role.rawValue)\t\(u.country ?? "-")\t\(u.organisation ?? "-")"
                        + (u.disabled ? "\tdisabled" : "") + (u.lockedUntil.map { "\tlocked until \($0)" } ?? ""))
            }
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change an account's role.")
        @OptionGroup var store: StoreOptions
        @Argument var username: String
        @Argument var role: Role

        func run() async throws {
            try await withStore(store) {
                try await AccessService(store: $0).setRole(username: username, role: role, by: commandOperator)
            }
            print("\(username) is now \(role.rawValue).")
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password (and lift a lockout).")
        @OptionGroup var store: StoreOptions
        @Argument var username: String
        @Flag(help: "Read the password from standard input.") var passwordStdin = false

        func run() async throws {
            let password = try readPassword(fromStandardInput: passwordStdin, prompt: "New password for \(username): ")
            try await withStore(store) {
                try await AccessService(store: $0).setPassword(
                    username: username, password: password, by: commandOperator)
            }
            print("Password of \(username) changed.")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account and revoke its sessions and tokens.")
        @OptionGroup var store: StoreOptions
        @Argument var username: String

        func run() async throws {
            try await withStore(store) {
                try await AccessService(store: $0).disable(username: username, by: commandOperator)
            }
            print("\(username) disabled.")
        }
    }
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "API tokens for machines: shown once, stored hashed, revocable, with an expiry.",
        subcommands: [Create.self, List.self, Revoke.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Account the token acts as.") var user: String
        @Option(help: "What the token is for.") var label: String
        @Option(help: "Days until it expires (1–366).") var days = 90

        func run() async throws {
            let (credential, secret) = try await withStore(store) {
                try await AccessService(store: $0).createToken(
                    username: user, label: label, days: days, by: commandOperator)
            }
            printError(
                "Token \(credential.id) for \(user), expires \(credential.expiresAt). Keep it secret; it is not shown again:"
            )
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sessions and tokens (never their secrets).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (credentials, users) = try await withStore(store) {
                (try await $0.credentials(userID: nil), try await $0.users())
            }
            let names = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0.username) })
            for c in credentials where c.kind == .token {
                print(
                    "\(c.id)\t\(names[c.userID] ?? "?")\t\(c.label ?? "")\texpires \(c.expiresAt)"
                        + (c.revoked ? "\trevoked" : ""))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")
        @OptionGroup var store: StoreOptions
        @Argument var id: Int64

        func run() async throws {
            try await withStore(store) { try await AccessService(store: $0).revokeToken(id: id, by: commandOperator) }
            print("Token \(id) revoked.")
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read and verify the audit trail (hash-chained, append-only).",
        subcommands: [List.self, Verify.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Entries in order.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Show entries after this sequence number.") var after: Int64 = 0
        @Option(help: "How many.") var limit = 100

        func run() async throws {
            let entries = try await withStore(store) {
                try await AuditTrailService(store: $0).entries(after: after, limit: limit, by: commandOperator)
            }
            for e in entries {
                print(
                    "\(e.sequence)\t\(e.at)\t\(e.actor)\t\(e.action)\t\(e.target)"
                        + (e.purpose.map { "\tpurpose: \($0)" } ?? "")
                        + (e.address.map { "\tfrom \($0)" } ?? ""))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash of the trail; exit 1 when an entry was changed, removed or reordered.",
            discussion: """
                The hashes are keyed with a key from the key file, and every new head is recorded beside it
                (`<key file>.audit-head`), so entries removed from the end show too. With keys from
                PUENTE_KEYS there is no such file: compare the head hash this prints with one recorded
                earlier (--expect-head), e.g. from a daily report kept elsewhere.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "A head hash recorded earlier; the trail must still contain it.") var expectHead: String?

        func run() async throws {
            let (result, head) = try await withStore(store) {
                try await AuditTrailService(store: $0).verify(expectedHead: expectHead)
            }
            if !result.intact {
                print("Audit trail BROKEN at entry \(result.brokenAt ?? 0): \(result.problem ?? "").")
                throw ExitCode(1)
            }
            print("Audit trail intact: \(result.entries) entries; head \(head?.hash ?? AuditEntry.genesisHash).")
            if result.unkeyedEntries > 0 {
                print(
                    "The first \(result.unkeyedEntries) entries were written before the trail was keyed (plain SHA-256)."
                )
            }
            if !result.anchored {
                print(
                    "No head recorded outside the database was found (keys from PUENTE_KEYS, or nothing appended since keying): "
                        + "entries removed from the end would show only against --expect-head.")
            }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the keys that seal personal data at rest (names, documents, birth dates, quarantined rows).",
        discussion: """
            Rotation without downtime: `puente keys add` makes a new key active (running servers pick it up
            from the file when they meet it); `puente keys rotate` re-seals stored values with it in short
            transactions; `puente keys retire ID` removes an old key after making sure nothing uses it.
            """,
        subcommands: [Status.self, Add.self, Rotate.self, Retire.self], defaultSubcommand: Status.self)

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where the keys are and which is active (never the keys).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await withStore(store) { _ in }  // checks the keys open the store (and creates them on a new node)
            let ring = try store.keyring().ring
            print(
                "Keys: \(store.keyFileURL?.path ?? "$PUENTE_KEYS"); active \(ring.activeKeyID); held \(ring.keyIDs.joined(separator: ", "))."
            )
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a key to the key file and make it active.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard let file = store.keyFileURL else {
                throw PuenteError(
                    .invalidArgument,
                    "Keys from $PUENTE_KEYS are managed where they are kept; use a key file to add one here.")
            }
            try await withStore(store) { store in  // checks the keys open the store (and creates them on a new node)
                let id = try await KeyService(store: store).addKey(file: file, by: commandOperator)
                print("Key \(id) added and active. Now run `puente keys rotate` to re-seal stored data with it.")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored personal value with the active key.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Rows per transaction.") var batchSize = 1_000

        func run() async throws {
            let changed = try await withStore(store) {
                try await KeyService(store: $0).rotate(batchSize: batchSize, by: commandOperator)
            }
            print("Re-sealed \(changed) rows with key \(try store.keyring().ring.activeKeyID).")
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an old key, after re-sealing anything it still seals.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Key id, as `puente keys status` shows it.") var id: String

        func run() async throws {
            guard let file = store.keyFileURL else {
                throw PuenteError(.invalidArgument, "Keys from $PUENTE_KEYS are managed where they are kept.")
            }
            try await withStore(store) { try await KeyService(store: $0).retire(id, file: file, by: commandOperator) }
            print("Key \(id) retired.")
        }
    }
}
