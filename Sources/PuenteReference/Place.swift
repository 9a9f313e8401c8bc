import PuenteCore

/// A border crossing point, airport, seaport or reception centre where events are recorded.
///
/// Codes are project-owned and stable (`SV-LA_HACHADURA`, `HN-RC_CAMR_SPS`): `Data/places.csv` was
/// built from shared/data/ports, whose sources are listed in docs/data-model.md.
public struct Place: Hashable, Sendable {
    public enum Kind: String, Sendable { case land, air, sea, receptionCentre = "reception_centre" }

    public var code: String
    /// ISO alpha-3 of the country where it lies.
    public var country: String
    public var name: String
    public var kind: Kind
    /// Neighbouring country for land crossings (alpha-3).
    public var neighbour: String?
    /// Base unit where it lies (`SV-0108`), when known.
    public var division: String?

    static func loadAll() -> [Place] {
        ResourceCSV.rows("Data/places.csv").map { row in
            Place(
                code: row["code"]!, country: row["country_iso3"]!, name: row["name"]!,
                kind: Kind(rawValue: row["kind"]!) ?? .land,
                neighbour: row["neighbour_iso3"]!.isEmpty ? nil : String(row["neighbour_iso3"]!.prefix(3)),
                division: row["division"]!.isEmpty ? nil : row["division"])
        }
    }
}
