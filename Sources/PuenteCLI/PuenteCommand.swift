import ArgumentParser
import Foundation
import PuenteCore

/// The `puente` command.
public struct PuenteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "puente",
        abstract: "Puente: a migration information node for the administrative records of a country.",
        discussion: """
            Start with `puente demo`: it generates a realistic data set, loads it and serves the dashboard and
            API on http://127.0.0.1:8080. For your own data: `puente ingest --profile NAME FILE`, then
            `puente stats --measure returns --by sex`.

            Every command keeps its data in the store chosen by --database (default: puente.sqlite here).
            """,
        subcommands: [
            Demo.self, Generate.self, Ingest.self, Stats.self, SDMXCommand.self, Serve.self, Profiles.self,
            ProfileCommand.self, Imports.self, Rejects.self, Link.self, LinkageCommand.self, Users.self, Tokens.self,
            Audit.self, Keys.self,
            Retention.self, Erase.self, ConsentCommand.self, Node.self, AgreementCommand.self, Members.self,
            ExchangeCommand.self, MirrorCommand.self, CasesCommand.self, PartnersCommand.self, ReferralsCommand.self,
            FollowUpsCommand.self, GrantsCommand.self, Backup.self, Restore.self,
            Bench.self,
        ])

    public init() {}
}
