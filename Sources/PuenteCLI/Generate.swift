import ArgumentParser
import Foundation
import PuenteCore
import PuenteSynthetic

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a realistic, deterministic country-year of agency exports, with ground truth.",
        discussion: """
            Writes one CSV per agency layout into --out, each named after the profile that reads it (e.g.
            sv-dgme-retornos.csv is read by --profile sv-dgme-retornos), and the ground truth in --out/truth/.
            The same --seed always gives the same files. --scale 1 gives the published magnitudes of returns
            (El Salvador 52,487 in 2016); --scale 0.1 a tenth.

            --region writes El Salvador, Guatemala and Honduras at once into --out/SV, GT and HN, with the same
            people crossing their shared borders, Mexico's published returns by nationality in --out/MX (the
            partner figures format, read by 'puente mirror load'), and in --out/truth/mirror.csv what each side
            records of every flow and the true flow.

            --linkage writes a corpus for measuring record linkage instead: --records records (default 100,000)
            of persons of the three countries recorded one to ten times each, many in families, with harder
            errors than the agency exports (initials for compound given names, both surnames in one field,
            married names, names in the wrong field, scanning confusions, mistyped birth years and days,
            renewed documents, moves, El Salvador's 2024 municipalities): records.csv to deduplicate,
            left.csv and right.csv to link, truth.csv with each record's person. The shipped configs
            linkage-corpus (3 blocking passes) and linkage-corpus-8 (8 passes) read it.
            """)

    @Option(help: "Country: SV, GT or HN.") var country: String?
    @Flag(help: "Write the three countries and the partner side as one consistent region.") var region = false
    @Flag(help: "Write a corpus for measuring record linkage (see below).") var linkage = false
    @Option(help: "Records of the linkage corpus.") var records = 100_000
    @Option(help: "Year of the events.") var year: Int?
    @Option(help: ArgumentHelp("Folder to write into (created if needed).", valueName: "dir")) var out: String
    @Option(help: "Seed of the random generator.") var seed: UInt64 = 1
    @Option(help: "Multiplier of every volume.") var scale: Double = 1
    @Flag(
        help:
            "Also write a reintegration programme's year over the returns: --out/reintegration (for 'puente cases load')."
    )
    var reintegration = false

    private var options: GeneratorOptions {
        GeneratorOptions(country: country ?? "", year: year ?? 0, seed: seed, scale: scale)
    }

    /// Country, year and scale outside what the generator makes are usage errors.
    func validate() throws {
        if linkage {
            if region || country != nil || year != nil || reintegration {
                throw ValidationError("--linkage goes with --records and --seed alone.")
            }
            do { _ = try LinkageCorpus(records: records, seed: seed) } catch let error as PuenteError {
                throw ValidationError(error.message)
            }
            return
        }
        guard let year else { throw ValidationError("Give --year.") }
        if region, country != nil { throw ValidationError("Give either --country or --region, not both.") }
        if !region, country == nil { throw ValidationError("Give --country SV, GT or HN, or --region.") }
        if region, reintegration { throw ValidationError("--reintegration goes with --country.") }
        do {
            if region {
                _ = try RegionGenerator(year: year, seed: seed, scale: scale)
            } else {
                _ = try Generator(options: options)
            }
        } catch let error as PuenteError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        if linkage {
            let summary = try LinkageCorpus(records: records, seed: seed).write(to: URL(fileURLWithPath: out))
            print(
                "\(out)/records.csv: \(summary.records) records of \(summary.persons) persons (\(summary.families) families) — puente link dedupe --config linkage-corpus"
            )
            print(
                "\(out)/left.csv, right.csv: \(summary.left) and \(summary.right) records — puente link pair --config linkage-corpus"
            )
            print("\(out)/truth.csv: each record's person, family and errors")
            return
        }
        let year = year!
        if region {
            let summary = try RegionGenerator(year: year, seed: seed, scale: scale).write(
                to: URL(fileURLWithPath: out))
            for (code, country) in summary.countries.sorted(by: { $0.key < $1.key }) {
                for file in country.files {
                    print("\(out)/\(code)/\(file.file): \(file.rows) rows — puente ingest --profile \(file.profile)")
                }
            }
            print("\(out)/\(summary.partnerFigures): Mexico's returns by nationality — puente mirror load")
            print("\(out)/\(summary.mirrorTruth): both sides' figures and the true flow, by pair and month")
            return
        }
        let generator = try Generator(options: options)
        let summary = try generator.write(to: URL(fileURLWithPath: out))
        for file in summary.files {
            print(
                "\(out)/\(file.file): \(file.rows) rows (\(file.malformedRows) malformed on purpose) — puente ingest --profile \(file.profile) \(out)/\(file.file)"
            )
        }
        print("\(out)/truth/: ground truth for \(summary.persons) persons")
        if reintegration {
            let cohort = try generator.writeReintegration(to: URL(fileURLWithPath: out))
            print(
                "\(out)/reintegration/: \(cohort.cases) cases, \(cohort.actions) steps — puente cases load \(out)/reintegration (after ingesting the returns)"
            )
        }
    }
}
