import Foundation
import PuenteCore
import PuenteReference

/// What `puente generate --region` wrote.
public struct RegionSummary: Codable, Sendable {
    /// Country generator code (`SV`, `GT`, `HN`) → its files, in a folder of that name.
    public var countries: [String: GenerationSummary]
    /// Mexico's published returns by nationality, in the partner figures format.
    public var partnerFigures: String
    /// Per flow, pair and month: both sides' figures and the true flow.
    public var mirrorTruth: String
}

/// A consistent year of the region: El Salvador, Guatemala and Honduras with their exports, the same
/// persons crossing their shared borders (recorded on both sides, one side missing a known share), and
/// the partner side, Mexico's published returns by nationality, counting the removals reception
/// centres did not register. `truth/mirror.csv` gives, per flow, country pair and month, what each side
/// records and the true flow, so every mirror figure has a known answer.
public struct RegionGenerator {
    public static let countries = ["SV", "GT", "HN"]

    /// The two posts of each crossing on the borders between the three countries.
    static let crossingPairs: [(String, String)] = [
        ("SV-LA_HACHADURA", "GT-PEDRO_DE_ALVARADO"), ("SV-LAS_CHINAMAS", "GT-VALLE_NUEVO"),
        ("SV-SAN_CRISTOBAL", "GT-SAN_CRISTOBAL_FRONTERA"), ("SV-ANGUIATU", "GT-ANGUIATU"),
        ("SV-EL_POY", "HN-EL_POY"), ("SV-EL_AMATILLO", "HN-EL_AMATILLO"),
        ("GT-AGUA_CALIENTE", "HN-AGUA_CALIENTE"), ("GT-EL_FLORIDO", "HN-EL_FLORIDO"), ("GT-CORINTO", "HN-CORINTO"),
    ]

    /// Travellers per border in a year, before `scale`.
    static let travellers: [String: Int] = ["SLV-GTM": 24_000, "SLV-HND": 14_000, "GTM-HND": 12_000]

    /// The share of entries from a neighbour each country records at its land posts. Honduras records
    /// only three in four entries from Guatemala (the undercount a mirror comparison should find);
    /// elsewhere one in a hundred is missed. Exits are all recorded.
    public static func entryCoverage(into receiver: String, from sender: String) -> Double {
        receiver == "HND" && sender == "GTM" ? 0.75 : 0.99
    }

    public let year: Int
    public let seed: UInt64
    public let scale: Double
    private let reference: ReferenceData

    public init(year: Int, seed: UInt64 = 1, scale: Double = 1, reference: ReferenceData = .shared) throws {
        _ = try Generator(options: GeneratorOptions(country: "SV", year: year, seed: seed, scale: scale))
        self.year = year
        self.seed = seed
        self.scale = scale
        self.reference = reference
    }

    public func write(to directory: URL) throws -> RegionSummary {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.appendingPathComponent("truth"), withIntermediateDirectories: true)
        try fm.createDirectory(at: directory.appendingPathComponent("MX"), withIntermediateDirectories: true)
        let trips = sharedCrossings()
        var summaries: [String: GenerationSummary] = [:]
        var truth = MirrorTruth()
        for code in Self.countries {
            let alpha3 = Scenario.named(code)!.country
            let plan = RegionPlan(
                countries: Set(Self.countries.map { Scenario.named($0)!.country }), crossings: trips[alpha3] ?? [])
            let generator = try Generator(
                options: GeneratorOptions(country: code, year: year, seed: seed, scale: scale),
                reference: reference, region: plan)
            let (summary, log) = try generator.writeLogged(to: directory.appendingPathComponent(code))
            summaries[code] = summary
            for removal in log.removals {
                let period = Self.month(removal.date)
                truth.add("RETURN", "MEX", alpha3, period, sender: 1, receiver: removal.accepted ? 1 : 0, true: 1)
            }
            // Each crossing is counted once as a flow (at its exit side) and once per side recorded.
            for (i, crossing) in plan.crossings.enumerated() {
                let neighbour = crossing.place.neighbour!
                let accepted = log.acceptedCrossings.contains(i) ? 1 : 0
                let period = Self.month(crossing.date)
                if crossing.type == .exit {
                    truth.add("EXIT_ENTRY", alpha3, neighbour, period, sender: accepted, receiver: 0, true: 1)
                } else {
                    truth.add("EXIT_ENTRY", neighbour, alpha3, period, sender: 0, receiver: accepted, true: 0)
                }
            }
        }
        let partner = "MX/mx-upm-devueltos-\(year).csv"
        try truth.partnerFigures(year: year).write(
            to: directory.appendingPathComponent(partner), atomically: true, encoding: .utf8)
        try truth.csv().write(
            to: directory.appendingPathComponent("truth/mirror.csv"), atomically: true, encoding: .utf8)
        let summary = RegionSummary(countries: summaries, partnerFigures: partner, mirrorTruth: "truth/mirror.csv")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: directory.appendingPathComponent("truth/summary.json"))
        return summary
    }

    static func month(_ date: CivilDate) -> String { String(date.description.prefix(7)) }

    /// Every trip across the region's internal borders, as each country's side of it: a traveller leaves
    /// home at one post, enters the neighbour at the other post the same day, and comes back days later.
    func sharedCrossings() -> [String: [SharedCrossing]] {
        var rng = RandomSource(seed: seed &* 0xA24B_AED4_963E_E407 &+ UInt64(year))
        var people = PersonFactory(reference: reference, firstID: 10_000_001)
        let places = Dictionary(uniqueKeysWithValues: reference.places.map { ($0.code, $0) })
        let yearStart = CivilDate(year: year, month: 1, day: 1)!
        let days = CivilDate.isLeap(year) ? 366 : 365
        var out: [String: [SharedCrossing]] = [:]
        for (border, volume) in Self.travellers.sorted(by: { $0.key < $1.key }) {
            let (a, b) = (String(border.prefix(3)), String(border.suffix(3)))
            let posts = Self.crossingPairs.compactMap { pair -> (Place, Place)? in
                guard let x = places[pair.0], let y = places[pair.1] else { return nil }
                if x.country == a && y.country == b { return (x, y) }
                if x.country == b && y.country == a { return (y, x) }
                return nil
            }
            guard !posts.isEmpty else { continue }
            for _ in 0..<Int((Double(volume) * scale).rounded()) {
                let draw = rng.unit()
                let nationality = draw < 0.45 ? a : draw < 0.9 ? b : "NIC"
                let age = rng.chance(0.12) ? rng.int(0...17) : rng.int(18...75)
                let birth = yearStart.adding(days: -(age * 365 + rng.int(0...364)))
                var person = people.make(
                    sex: rng.chance(0.55) ? .male : .female, birthDate: birth, nationality: nationality,
                    on: yearStart, rng: &rng)
                if person.passport == nil { person.passport = PersonFactory.passport(nationality, rng: &rng) }
                let home = nationality == b || (nationality != a && rng.chance(0.5)) ? b : a
                let trips = rng.chance(0.7) ? 1 : rng.int(2...4)
                for _ in 0..<trips {
                    let (postA, postB) = posts[rng.int(0...posts.count - 1)]
                    let (homePost, awayPost) = home == a ? (postA, postB) : (postB, postA)
                    let away = home == a ? b : a
                    let start = yearStart.adding(days: rng.int(0...days - 1))
                    let end = min(start.adding(days: rng.int(0...10)), yearStart.adding(days: days - 1))
                    let steps: [(String, Place, EventType, CivilDate, String)] = [
                        (home, homePost, .exit, start, away), (away, awayPost, .entry, start, home),
                        (away, awayPost, .exit, end, home), (home, homePost, .entry, end, away),
                    ]
                    for (country, post, type, date, other) in steps {
                        let recorded =
                            type == .exit || rng.chance(Self.entryCoverage(into: country, from: other))
                        out[country, default: []].append(
                            SharedCrossing(person: person, date: date, type: type, place: post, recorded: recorded))
                    }
                }
            }
        }
        return out
    }
}

/// The known answer of every mirror figure of a generated region, by month.
struct MirrorTruth {
    struct Key: Hashable, Comparable {
        var flow: String, sender: String, receiver: String, period: String
        static func < (l: Key, r: Key) -> Bool {
            (l.flow, l.sender, l.receiver, l.period) < (r.flow, r.sender, r.receiver, r.period)
        }
    }
    var figures: [Key: (sender: Int, receiver: Int, true: Int)] = [:]

    mutating func add(
        _ flow: String, _ sender: String, _ receiver: String, _ period: String, sender s: Int, receiver r: Int,
        true t: Int
    ) {
        let key = Key(flow: flow, sender: sender, receiver: receiver, period: period)
        var f = figures[key] ?? (0, 0, 0)
        f.sender += s
        f.receiver += r
        f.true += t
        figures[key] = f
    }

    func csv() -> String {
        var out = "flow,sender,receiver,period,sender_recorded,receiver_recorded,true_flow\n"
        for key in figures.keys.sorted() {
            let f = figures[key]!
            out += CSVWriter.line([
                key.flow, key.sender, key.receiver, key.period, String(f.sender), String(f.receiver), String(f.true),
            ])
        }
        return out
    }

    /// Mexico's side as a partner statistics office publishes it: returns by nationality and month.
    func partnerFigures(year: Int) -> String {
        var out = "reporter,flow,counterpart,period,value,source\n"
        for key in figures.keys.sorted() where key.flow == "RETURN" && key.sender == "MEX" {
            out += CSVWriter.line([
                "MEX", "RETURN", key.receiver, key.period, String(figures[key]!.sender),
                "Generated: removals by Mexico of the counterpart's nationals, \(year) (as INM/UPM publish them)",
            ])
        }
        return out
    }
}
