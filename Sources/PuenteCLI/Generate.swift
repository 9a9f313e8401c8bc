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
            (El Salvador about 52,500 in 2016); --scale 0.1 a tenth.
            """)

    @Option(help: "Country: SV, GT or HN.") var country: String
    @Option(help: "Year of the events.") var year: Int
    @Option(help: ArgumentHelp("Folder to write into (created if needed).", valueName: "dir")) var out: String
    @Option(help: "Seed of the random generator.") var seed: UInt64 = 1
    @Option(help: "Multiplier of every volume.") var scale: Double = 1

    private var options: GeneratorOptions { GeneratorOptions(country: country, year: year, seed: seed, scale: scale) }

    /// Country, year and scale outside what the generator makes are usage errors.
    func validate() throws {
        do { _ = try Generator(options: options) } catch let error as PuenteError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let generator = try Generator(options: options)
        let summary = try generator.write(to: URL(fileURLWithPath: out))
        for file in summary.files {
            print(
                "\(out)/\(file.file): \(file.rows) rows (\(file.malformedRows) malformed on purpose) — puente ingest --profile \(file.profile) \(out)/\(file.file)"
            )
        }
        print("\(out)/truth/: ground truth for \(summary.persons) persons")
    }
}
