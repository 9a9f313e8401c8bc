import Foundation

/// Municipal boundaries of one country as SVG path data, ready for a choropleth map drawn on the server.
///
/// The shipped GeoJSON (`Data/boundaries/`, see `docs/data-model.md`) is projected once on first use
/// (equirectangular, scaled by the cosine of the mid latitude so shapes keep their proportions), and
/// simplified to the map's resolution, so a map of 262 municipalities stays a few tens of kilobytes.
public struct BoundaryMap: Sendable {
    public struct Unit: Sendable {
        /// Base unit or view code as stored and published (`SV-0614`, `SV-M0603`, `GT-0101`).
        public var id: String
        public var name: String
        /// SVG path data in the map's coordinates.
        public var path: String
    }

    /// Which set of units: the base units of a country, or El Salvador's 2024 municipalities.
    public enum Level: String, Sendable, CaseIterable {
        case municipality
        case municipality2024 = "municipality_2024"
    }

    public let width: Int
    public let height: Int
    public let units: [Unit]

    /// Width of every map in SVG user units; one unit is the simplification tolerance.
    static let mapWidth = 600.0

    /// The map of a country (alpha-2 or alpha-3) at a level; nil when Puente ships no boundaries for it.
    public static func of(country: String, level: Level) -> BoundaryMap? {
        let key: String
        switch (country.count == 3 ? ReferenceData.alpha2(of: country) : country, level) {
        case ("SV", .municipality): key = "slv_adm2_municipios_pre2024"
        case ("SV", .municipality2024): key = "slv_adm2_municipios_2024"
        case ("GT", .municipality): key = "gtm_adm2_municipios"
        case ("HN", .municipality): key = "hnd_adm2_municipios"
        default: return nil
        }
        return cache.map(key)
    }

    /// The region's countries (Mexico, Central America and the Caribbean; the United States left out, so
    /// the region fills the map), keyed by ISO alpha-3 with Spanish names. Natural Earth 1:50m outlines.
    public static var region: BoundaryMap? { cache.map("region_adm0_countries") }

    private static let cache = Cache()

    /// Maps are built once per process; building one takes tens of milliseconds.
    private final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var maps: [String: BoundaryMap] = [:]

        func map(_ key: String) -> BoundaryMap? {
            lock.lock()
            defer { lock.unlock() }
            if let map = maps[key] { return map }
            guard let map = BoundaryMap(resource: key) else { return nil }
            maps[key] = map
            return map
        }
    }

    private init?(resource: String) {
        guard let url = ReferenceData.bundle.resourceURL?.appendingPathComponent("Data/boundaries/\(resource).geojson"),
            let data = try? Data(contentsOf: url),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let features = root["features"] as? [[String: Any]]
        else { return nil }
        let prefix = resource.hasPrefix("slv") ? "SV-" : resource.hasPrefix("gtm") ? "GT-" : "HN-"
        let is2024 = resource.hasSuffix("_2024")
        let isRegion = resource.hasPrefix("region")
        // Property names of a unit's code and name in each file.
        let (codeProperty, nameProperty) =
            isRegion ? ("iso_a3", "name_es") : is2024 ? ("mun2024_code", "mun2024_name") : ("muni_code", "muni_name")
        // Rings per unit, in degrees; features without a code (lakes, the former border pocket) are left out.
        var shapes: [(id: String, name: String, rings: [[(Double, Double)]])] = []
        for feature in features {
            guard let properties = feature["properties"] as? [String: Any],
                let code = properties[codeProperty] as? String, !(isRegion && code == "USA"),
                let geometry = feature["geometry"] as? [String: Any],
                let coordinates = geometry["coordinates"] as? [Any]
            else { continue }
            let polygons: [[Any]] =
                geometry["type"] as? String == "MultiPolygon"
                ? coordinates.compactMap { $0 as? [Any] } : [coordinates]
            let rings = polygons.flatMap { $0 }.compactMap { ring -> [(Double, Double)]? in
                (ring as? [[Double]])?.compactMap { $0.count >= 2 ? ($0[0], $0[1]) : nil }
            }
            let name = properties[nameProperty] as? String ?? code
            shapes.append((isRegion ? code : prefix + (is2024 ? "M" : "") + code, name, rings))
        }
        let points = shapes.flatMap { $0.rings.flatMap { $0 } }
        guard let minLon = points.map(\.0).min(), let maxLon = points.map(\.0).max(),
            let minLat = points.map(\.1).min(), let maxLat = points.map(\.1).max()
        else { return nil }
        let aspect = cos((minLat + maxLat) / 2 * .pi / 180)
        let scale = Self.mapWidth / ((maxLon - minLon) * aspect)
        width = Int(Self.mapWidth)
        height = Int(((maxLat - minLat) * scale).rounded(.up))
        units = shapes.map { shape in
            var path = ""
            for ring in shape.rings {
                let projected = ring.map { ((($0.0 - minLon) * aspect * scale), ((maxLat - $0.1) * scale)) }
                let kept = Self.simplify(projected, tolerance: 0.8).map { (Int($0.0.rounded()), Int($0.1.rounded())) }
                // Relative moves after the first point: the shortest text for a path.
                var previous: (Int, Int)?
                for point in kept {
                    if let p = previous {
                        if point == p { continue }
                        path += "l\(point.0 - p.0) \(point.1 - p.1)"
                    } else {
                        path += "M\(point.0) \(point.1)"
                    }
                    previous = point
                }
                if previous != nil { path += "z" }
            }
            return Unit(id: shape.id, name: shape.name, path: path)
        }
    }

    /// Douglas–Peucker: keeps the points that stray more than `tolerance` from the simplified line.
    static func simplify(_ points: [(Double, Double)], tolerance: Double) -> [(Double, Double)] {
        guard points.count > 3 else { return points }
        var keep = [Bool](repeating: false, count: points.count)
        keep[0] = true
        keep[points.count - 1] = true
        var stack = [(0, points.count - 1)]
        while let (first, last) = stack.popLast() {
            guard last > first + 1 else { continue }
            let (ax, ay) = points[first], (bx, by) = points[last]
            let dx = bx - ax, dy = by - ay
            let length = (dx * dx + dy * dy).squareRoot()
            var farthest = first, distance = 0.0
            for i in (first + 1)..<last {
                let (px, py) = points[i]
                let d =
                    length == 0
                    ? ((px - ax) * (px - ax) + (py - ay) * (py - ay)).squareRoot()
                    : abs(dy * px - dx * py + bx * ay - by * ax) / length
                if d > distance { distance = d; farthest = i }
            }
            if distance > tolerance {
                keep[farthest] = true
                stack.append((first, farthest))
                stack.append((farthest, last))
            }
        }
        let kept = zip(points, keep).filter(\.1).map(\.0)
        // A ring simplified below a triangle would vanish; keep small islands visible.
        return kept.count >= 4 ? kept : points
    }
}
