import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

// Privacy-preserving linkage: persons encoded as keyed Bloom filters, and encodings matched.
extension Link {
    struct Encode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode persons as keyed Bloom filters (CLKs) for privacy-preserving linkage; writes id,clk.",
            discussion: """
                Names, date of birth and sex become one 1024-bit filter keyed by the data owners' shared secret
                (HMAC, clkhash's scheme): another node can find common persons by Dice similarity
                (`puente link match`) without seeing a name. Keep the secret away from whoever matches.
                Encode a CSV through a linkage config, or the node's stored events with --stored (ids are
                event ids; reading them is audited).
                """)
        @Option(help: "CSV file to encode.") var input: String?
        @Option(
            help: "Linkage config naming the id column and the person fields (a YAML file or a shipped config's name).")
        var config: String?
        @Flag(help: "Encode the node's stored events instead of a file.") var stored = false
        @OptionGroup var store: StoreOptions
        @Option(help: "File holding the shared secret (at least 16 characters).") var secretFile: String
        @Option(help: "Where to write id,clk.") var output: String

        func validate() throws {
            guard stored || (input != nil && config != nil) else {
                throw ValidationError("Give --input and --config, or --stored.")
            }
        }

        func run() async throws {
            guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8),
                case let secret = text.trimmingCharacters(in: .whitespacesAndNewlines), secret.utf8.count >= 16
            else {
                throw PuenteError(
                    .invalidInput, "The secret file must hold a secret of at least 16 characters.",
                    at: InputLocation(file: secretFile))
            }
            let encoder = CLKEncoder(schema: .person, secret: Array(secret.utf8))
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id,clk\n")
            var count = 0, skipped = 0
            if stored {
                (count, skipped) = try await withStore(store) {
                    try await PersonLinkingService(store: $0).encodeStored(with: encoder, by: commandOperator) {
                        id, filter in
                        try writer.append(CLKFile.line(id: String(id), filter: filter))
                    }
                }
            } else {
                let (input, config) = (input!, config!)  // validate() checked them
                let linkage = try LinkageConfigs.load(config)
                let person = try CLKPersonValues(fields: linkage.fields)
                try LinkageCSV.forEachRecord(URL(fileURLWithPath: input), config: linkage) { id, raw in
                    let values = person.values(raw)
                    // no name: nothing to match on
                    guard !values[0].isEmpty || !values[1].isEmpty else { skipped += 1; return }
                    try writer.append(CLKFile.line(id: id, filter: encoder.encode(values)))
                    count += 1
                }
            }
            try writer.close()
            print(
                "\(count) records encoded to \(URL(fileURLWithPath: output).lastPathComponent)"
                    + (skipped > 0 ? "; \(skipped) left out (no name, or consent to exchange withdrawn)." : "."))
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match two CLK files on the encodings alone (Dice similarity); writes id_l,id_r,dice.",
            discussion: "Each record is matched at most once, best first (as anonlink's greedy solver for two parties)."
        )
        @Option(help: "Left CLK file (id,clk).") var left: String
        @Option(help: "Right CLK file (id,clk).") var right: String
        @Option(help: "Dice similarity at which two encodings match.") var threshold = 0.85
        @Option(help: "Where to write id_l,id_r,dice.") var output: String

        func validate() throws {
            guard (0.5...1).contains(threshold) else { throw ValidationError("Give a threshold from 0.5 to 1.") }
        }

        func run() async throws {
            let (l, r) = (try CLKFile.read(URL(fileURLWithPath: left)), try CLKFile.read(URL(fileURLWithPath: right)))
            let started = Date()
            let matches = CLKMatcher.match(l.filters, r.filters, threshold: threshold)
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id_l,id_r,dice\n")
            for (i, j, dice) in matches {
                try writer.append(field: l.ids[i]); try writer.append(","); try writer.append(field: r.ids[j]);
                try writer.append(",")
                try writer.append(LinkOutput.fixed6(dice)); try writer.append("\n")
            }
            try writer.close()
            print(
                "\(l.ids.count) left and \(r.ids.count) right encodings, \(matches.count) matches at Dice ≥ \(threshold) "
                    + String(format: "(%.2f s).", Date().timeIntervalSince(started)))
        }
    }
}
