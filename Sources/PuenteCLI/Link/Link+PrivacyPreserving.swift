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
            abstract: "Encode persons as keyed Bloom filters for privacy-preserving linkage; writes id,clk.",
            discussion: """
                Names, date of birth and sex become one filter keyed by the data owners' shared secret: another
                party can find common persons by Dice similarity (`puente link match`) without seeing a name.
                Keep the secret away from whoever matches.
                --scheme standard (the default) is Puente's hardened encoding (puente-pprl/1: HMAC-SHA-256 token
                positions, record-level, balanced, BLIP), keyed by the secret and --agreement; a JSON
                file gives other parameters; --scheme clkhash encodes as clkhash does with Puente's person schema.
                Encode a CSV through a linkage config, or the node's stored events with --stored (ids are event
                ids; reading them is audited; persons who withdrew consent to exchange are left out).
                """)
        @Option(help: "CSV file to encode.") var input: String?
        @Option(
            help: "Linkage config naming the id column and the person fields (a YAML file or a shipped config's name).")
        var config: String?
        @Flag(help: "Encode the node's stored events instead of a file.") var stored = false
        @OptionGroup var store: StoreOptions
        @Option(help: "File holding the shared secret (at least 16 characters).") var secretFile: String
        @Option(help: "standard, clkhash, or a JSON file of puente-pprl/1 parameters.") var scheme = "standard"
        @Option(help: "The linkage agreement's id: keys the standard scheme's encodings.") var agreement = "puente"
        @Option(help: "Where to write id,clk.") var output: String

        func validate() throws {
            guard stored || (input != nil && config != nil) else {
                throw ValidationError("Give --input and --config, or --stored.")
            }
        }

        func run() async throws {
            let secret = try readSecret(secretFile)
            let encode = try PersonEncoding(scheme: scheme, secret: secret, agreement: agreement)
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id,clk\n")
            var batches = encode.batches { id, clk in try writer.append(CSVWriter.line([id, clk])) }
            var count = 0, skipped = 0
            if stored {
                (count, skipped) = try await withStore(store) {
                    try await PersonLinkingService(store: $0).encodeStored(by: commandOperator) { event, values in
                        try batches.add(String(event.id), values: values, record: String(event.id))
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
                    try batches.add(id, values: values, record: id)
                    count += 1
                }
            }
            try batches.flush()
            try writer.close()
            print(
                "\(count) records encoded to \(URL(fileURLWithPath: output).lastPathComponent)"
                    + (skipped > 0 ? "; \(skipped) left out (no name, or consent to exchange withdrawn)." : ".")
                    + (encode.parameterHash.map { " Scheme \(PPRLScheme.currentVersion), parameters \($0)." } ?? ""))
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match two files of encodings on the encodings alone (Dice similarity); writes id_l,id_r,dice.",
            discussion: """
                Candidate pairs come from locality-sensitive hashing on the encodings (records agreeing on every
                sampled bit of one band), never from all pairs. With --one-to-one each record is matched at most
                once, best first (as anonlink's greedy solver for two parties).
                """)
        @Option(help: "Left file (id,clk).") var left: String
        @Option(help: "Right file (id,clk).") var right: String
        @Option(
            help:
                "Dice similarity at which two encodings match (the standard scheme: 0.88 for records, 0.87 for persons)."
        )
        var threshold: Double?
        @Option(help: "Bands of sampled bits.") var bands = 60
        @Option(help: "Bits sampled per band (default 24 for records, 26 for persons).") var bitsPerBand: Int?
        @Flag(help: "Each record in at most one match.") var oneToOne = false
        @Option(
            help: ArgumentHelp(
                "The left party's persons: record_id,cluster_id (as `link dedupe` writes); persons are matched.",
                discussion:
                    "Two persons match when their best pair of records does (the threshold rising where persons crowd); all their records are then linked."
            ))
        var leftClusters: String?
        @Option(help: "The right party's persons: record_id,cluster_id.") var rightClusters: String?
        @Option(help: "Where to write id_l,id_r,dice.") var output: String

        func validate() throws {
            guard threshold.map({ (0.5...1).contains($0) }) ?? true else {
                throw ValidationError("Give a threshold from 0.5 to 1.")
            }
            guard (leftClusters == nil) == (rightClusters == nil) else {
                throw ValidationError("Give both parties' clusters, or neither.")
            }
            guard leftClusters == nil || !oneToOne else {
                throw ValidationError("--one-to-one matches records; persons are matched with every record they hold.")
            }
        }

        func run() async throws {
            let l = try EncodingFile.read(URL(fileURLWithPath: left))
            let r = try EncodingFile.read(URL(fileURLWithPath: right))
            let started = Date()
            var parameters =
                leftClusters == nil
                ? EncodingMatcher.Parameters(
                    threshold: threshold ?? PPRLScheme.standardThreshold, bitsPerBand: 24, oneToOne: oneToOne)
                : EncodingMatcher.personParameters(threshold: threshold ?? PPRLScheme.standardPersonThreshold)
            parameters.bands = bands
            if let bitsPerBand { parameters.bitsPerBand = bitsPerBand }
            let result =
                if let leftClusters, let rightClusters {
                    try EncodingMatcher.matchPersons(
                        l, r, leftPersons: try Self.persons(leftClusters, l.ids),
                        rightPersons: try Self.persons(rightClusters, r.ids), parameters)
                } else {
                    try EncodingMatcher.match(l, r, parameters)
                }
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id_l,id_r,dice\n")
            for m in result.matches {
                try writer.append(field: l.ids[Int(m.left)]); try writer.append(",")
                try writer.append(field: r.ids[Int(m.right)]); try writer.append(",")
                try writer.append(LinkOutput.fixed6(Double(m.dice))); try writer.append("\n")
            }
            try writer.close()
            print(
                "\(l.count) left and \(r.count) right encodings, \(result.compared) pairs compared, "
                    + "\(result.matches.count) matches at Dice ≥ \(parameters.threshold) "
                    + String(format: "(%.2f s).", Date().timeIntervalSince(started)))
        }

        /// Each record's person as a number, from a `record_id,cluster_id` file; a record not in it is
        /// a person of its own.
        static func persons(_ path: String, _ ids: [String]) throws -> [Int32] {
            let cluster = try Blocking.readGroups(path, column: "cluster_id", file: "clusters file")
            var numbers: [Int64: Int32] = [:]
            var next = Int32(0)
            return ids.map { id in
                defer { next += 1 }
                guard let c = cluster[id] else { return Int32(-1) - next }  // a person of its own
                if let n = numbers[c] { return n }
                numbers[c] = next
                return next
            }
        }
    }
}

/// One of the two encodings `link encode` offers, as a function from a record's normalised values and
/// id to its encoding's bytes, applied a batch at a time on every core.
struct PersonEncoding {
    let parameterHash: String?
    private let encode: EncodingBatches<String>.Encode

    init(scheme: String, secret: [UInt8], agreement: String) throws {
        if scheme == "clkhash" {
            let encoder = CLKEncoder(schema: .person, secret: secret)
            parameterHash = nil
            encode = { values, _, _, _ in encoder.encode(values).bytes }
            return
        }
        let parameters: PPRLScheme
        if scheme == "standard" {
            parameters = .standard
        } else {
            guard let data = FileManager.default.contents(atPath: scheme) else {
                throw PuenteError(
                    .notFound, "Give standard, clkhash or a scheme file that exists.", at: InputLocation(file: scheme))
            }
            do { parameters = try JSONDecoder().decode(PPRLScheme.self, from: data) } catch {
                throw PuenteError(
                    .invalidInput, "Expected puente-pprl/1 parameters as JSON (docs/linkage.md).",
                    at: InputLocation(file: scheme))
            }
        }
        let encoder = try PPRLEncoder(scheme: parameters, secret: secret, context: agreement)
        parameterHash = parameters.parameterHash
        encode = encoder.bytesOfRecord
    }

    /// Batches whose `emit` gets each record's id with its encoding in base64, in order.
    func batches(emit: @escaping (String, String) throws -> Void) -> EncodingBatches<String> {
        EncodingBatches(encode: encode, emit: emit)
    }
}
