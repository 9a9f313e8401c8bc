import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteServices

/// `puente members`: the hub's member registry, a file it signs anew on every change.
struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The hub's member registry: the nodes of the exchange and their signing keys.",
        discussion: """
            Run on the hub (a node with an identity from `puente node init`). Every change writes the next
            version of the registry, signed by the hub and valid for --days; members fetch it and check it
            with `puente members verify`, refusing an older version than one they trusted.

              puente members add --registry registry.json --node SV-DGME --country SLV --organisation DGME \\
                  --kid SV-DGME/s1a2b3c4d --key X
              puente members rotate --registry registry.json --node SV-DGME --kid SV-DGME/s5e6f7a8b --key Y
              puente members revoke --registry registry.json --node SV-DGME
              puente members list --registry registry.json
              puente members verify registry.json --hub-key Z --highest-trusted 3
            """,
        subcommands: [Add.self, Rotate.self, Revoke.self, List.self, Verify.self])

    struct RegistryOptions: ParsableArguments {
        @OptionGroup var store: StoreOptions
        @Option(help: "The registry file, created by the first `add`.") var registry: String
        @Option(help: "Days each version stays valid.") var days = 30

        /// Applies `change` to the current registry and writes the next version, signed by this node; the
        /// node then trusts it, which publishes it to members at `GET /api/v1/exchange/registry`.
        func update(_ change: (inout MemberRegistry, CivilDate) throws -> Void) async throws -> SignedRegistry {
            let hub = try store.nodeIdentity()
            let today = CivilDate.today
            var current = MemberRegistry(hub: hub.id, issuedOn: today.description, expiresOn: today.description)
            if FileManager.default.fileExists(atPath: registry) {
                let signed = try SignedRegistry(file: try readFile(registry), source: registry)
                // The hub's own file: checked with its own key, so a changed file is never signed anew.
                try signed.checkSignature(hubKey: hub.publicKeyBase64URL)
                current = signed.registry
            }
            try change(&current, today)
            let next = try SignedRegistry.issue(current, by: hub, on: today, days: days)
            let file = try next.file()
            try writeFile(file, to: registry)
            _ = try await withStore(store) {
                try await ExchangeService(store: $0, node: hub).trustRegistry(
                    file, source: registry, hubKey: hub.publicKeyBase64URL, on: today, by: commandOperator)
            }
            return next
        }

        func validate() throws {
            guard (1...366).contains(days) else { throw ValidationError("--days: expected 1 to 366.") }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a node with its current signing key.")
        @OptionGroup var options: RegistryOptions
        @Option(help: "The node's id, like SV-DGME.") var node: String
        @Option(help: "Its country, ISO 3166 alpha-3.") var country: String
        @Option(help: "The organisation running it.") var organisation: String
        @Option(help: "Its key id, as its `puente node show` gives it (kid).") var kid: String
        @Option(parsing: .unconditional, help: "Its public key, the `x` of its JWK.") var key: String
        @Option(help: "Its exchange endpoint (https://…), if it receives pushes.") var endpoint: String?

        func run() async throws {
            let next = try await options.update {
                try $0.add(
                    node: node, country: country, organisation: organisation, endpoint: endpoint, key: key, kid: kid,
                    on: $1)
            }
            print("Registry version \(next.registry.version): \(node) added; valid until \(next.registry.expiresOn).")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a member a new key; what the old one signed still verifies.")
        @OptionGroup var options: RegistryOptions
        @Option(help: "The node's id.") var node: String
        @Option(help: "The new key's id (kid).") var kid: String
        @Option(parsing: .unconditional, help: "The new public key, the `x` of its JWK.") var key: String

        func run() async throws {
            let next = try await options.update { try $0.rotate(node: node, key: key, kid: kid, on: $1) }
            print("Registry version \(next.registry.version): \(node) signs with \(kid) from now.")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a member: none of its keys is trusted any more.")
        @OptionGroup var options: RegistryOptions
        @Option(help: "The node's id.") var node: String

        func run() async throws {
            let next = try await options.update { try $0.revoke(node: node, on: $1) }
            print("Registry version \(next.registry.version): \(node) revoked.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The members and their keys.")
        @Option(help: "The registry file.") var registry: String

        func run() async throws {
            let signed = try SignedRegistry(file: try readFile(registry), source: registry)
            let r = signed.registry
            print("Registry of \(r.hub), version \(r.version), issued \(r.issuedOn), valid until \(r.expiresOn)")
            for m in r.members {
                print("\(m.node)\t\(m.country)\t\(m.organisation)\t\(m.status.rawValue)\t\(m.endpoint ?? "-")")
                for k in m.keys {
                    let state = k.revokedOn.map { "revoked \($0)" } ?? k.retiredOn.map { "retired \($0)" } ?? "current"
                    print("  \(k.kid)\t\(k.x)\t\(state)")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check a registry fetched from the hub; exits non-zero with the reason when it must not be trusted.")
        @Argument(help: "The registry file.") var registry: String
        @Option(parsing: .unconditional, help: "The hub's public key, the `x` of its JWK.") var hubKey: String
        @Option(help: "The highest version this node trusted before (older ones are refused).") var highestTrusted = 0

        func run() async throws {
            let signed = try SignedRegistry(file: try readFile(registry), source: registry)
            switch try signed.verify(hubKey: hubKey, highestTrusted: highestTrusted, on: .today) {
            case .trusted: print("Registry version \(signed.registry.version) of \(signed.registry.hub) trusted.")
            case .trustedInGrace(let expiredOn):
                print(
                    "WARNING: registry version \(signed.registry.version) expired on \(expiredOn); fetch a newer one.")
            }
        }
    }
}
