import PuenteCore

/// What the generator reproduces for one country: published magnitudes and the layouts its agencies use.
///
/// Returns follow the 2016 published totals: El Salvador 52,487 (31,147 from Mexico by land, 21,340 from
/// the United States by air; DGME), Guatemala about 95,000, Honduras about 69,400; about 16 % children.
/// Mexico reported returning 31,347 Salvadorans, 59,679 Guatemalans and 50,964 Hondurans (INM/UPM): the
/// removals a reception centre did not register are generated too, and kept out of its export, so the
/// partner side of a generated region has a known truth. Other years reuse the 2016 magnitudes: they
/// are a realistic order, not a forecast.
/// Border movements are a sample of the register sized for a demo (not a published total).
struct Scenario: Sendable {
    var country: String
    var alpha2: String
    var returnsPerYear: Int
    /// Returns from Mexico the reception centres register, of the `removalsByMexico` Mexico counts.
    var returnsFromMexico: Int
    var removalsByMexico: Int
    var movementsPerYear: Int
    var returnsProfile: String
    var movementsProfile: String
    /// Reception place by (transport mode, is a child).
    var receptionPlace: @Sendable (TransportMode, Bool) -> String
    /// Nationalities of people crossing the borders, with weights.
    var nationalities: [(String, Double)]
    /// Record key of the n-th return and the n-th movement of a year.
    var returnKey: @Sendable (Int, Int) -> String
    var movementKey: @Sendable (Int, Int) -> String
    /// Names are written in capitals by this agency.
    var uppercaseNames: Bool

    static func named(_ code: String) -> Scenario? {
        switch code.uppercased() {
        case "SV", "SLV": return .elSalvador
        case "GT", "GTM": return .guatemala
        case "HN", "HND": return .honduras
        default: return nil
        }
    }

    static let elSalvador = Scenario(
        country: "SLV", alpha2: "SV", returnsPerYear: 52_487, returnsFromMexico: 31_147, removalsByMexico: 31_347,
        movementsPerYear: 240_000,
        returnsProfile: "sv-dgme-retornos", movementsProfile: "sv-dgme-movimientos",
        receptionPlace: { mode, _ in mode == .air ? "SV-RC_AIRPORT_SAL" : "SV-RC_CAIM" },
        nationalities: [
            ("SLV", 55), ("GTM", 15), ("HND", 12), ("NIC", 5), ("USA", 6), ("MEX", 3), ("CRI", 1),
            ("CAN", 1), ("ESP", 1), ("COL", 1),
        ],
        returnKey: { year, n in "DAM-\(year)-\(pad(n, 6))" }, movementKey: { year, n in "SV\(year)\(pad(n, 8))" },
        uppercaseNames: true)

    static let guatemala = Scenario(
        country: "GTM", alpha2: "GT", returnsPerYear: 95_000, returnsFromMexico: 57_889, removalsByMexico: 59_679,
        movementsPerYear: 400_000,
        returnsProfile: "gt-igm-retornos", movementsProfile: "gt-igm-movimientos",
        receptionPlace: { mode, _ in mode == .air ? "GT-RC_FAG" : "GT-TECUN_UMAN" },
        nationalities: [
            ("GTM", 52), ("SLV", 14), ("HND", 12), ("MEX", 10), ("USA", 6), ("NIC", 2), ("BLZ", 2),
            ("CUB", 1), ("HTI", 1),
        ],
        returnKey: { year, n in "RET-\(year % 100)-\(pad(n, 7))" }, movementKey: { year, n in "\(year)-\(pad(n, 9))" },
        uppercaseNames: false)

    static let honduras = Scenario(
        country: "HND", alpha2: "HN", returnsPerYear: 69_400, returnsFromMexico: 48_925, removalsByMexico: 50_964,
        movementsPerYear: 300_000,
        returnsProfile: "hn-inm-retornos", movementsProfile: "hn-inm-movimientos",
        receptionPlace: { mode, child in child ? "HN-RC_BELEN" : (mode == .air ? "HN-RC_CAMR_SPS" : "HN-RC_CAMR_OMOA")
        },
        nationalities: [
            ("HND", 58), ("GTM", 12), ("SLV", 11), ("NIC", 10), ("USA", 5), ("MEX", 2), ("CUB", 1),
            ("COL", 1),
        ],
        returnKey: { _, n in String(100_000 + n) }, movementKey: { year, n in "M\(year % 100)\(pad(n, 9))" },
        uppercaseNames: true)

    /// Share of returns in each month (seasonality: fewer around the year-end holidays, more in spring).
    static let monthWeights: [Double] = [7.2, 7.8, 9.0, 9.1, 9.3, 8.6, 8.2, 8.5, 8.1, 8.4, 8.4, 7.4]
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}
