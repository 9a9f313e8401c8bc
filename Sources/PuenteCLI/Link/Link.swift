import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

/// `puente link`: find the records of the same person in files with no shared identifier.
struct Link: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Link records of the same person: deduplicate one file or link two (Fellegi–Sunter with EM).",
        discussion: """
            The config (YAML) names the id column and maps columns to comparison fields; give a path or the
            name of a shipped config (\(LinkageConfigs.names.joined(separator: ", "))). See docs/linkage.md.

              puente link dedupe --input F.csv --config C --output clusters.csv
              puente link pair --left A.csv --right B.csv --config C --output pairs.csv
              puente link blocking --config C F.csv --truth T.csv   # what each blocking pass compares
              puente link persons                  # the node's stored events, incrementally
              puente link review                   # pairs waiting for a person's decision
              puente link decide 12 845 match      # a reviewer's decision, respected by later runs
              puente link encode --input F.csv --config C --secret-file S --output F.clk.csv
              puente link match --left A.clk.csv --right B.clk.csv --output pairs.csv
            """,
        subcommands: [
            Dedupe.self, Pair.self, Blocking.self, Persons.self, Review.self, Decide.self, Encode.self, Match.self,
            ConfigCommand.self,
        ])
}
