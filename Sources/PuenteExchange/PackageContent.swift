import Foundation
import PuenteCore
import PuenteReference
import PuenteStatistics

/// The payload of a statistics package: protected observations of `PUENTE:DF_MIG_FLOW(1.0)` in
/// SDMX-CSV 2.0, and the rules a receiver reads them by. Every row is checked against the agreement's
/// terms, not only the manifest's claims: a measure, a dimension, a code finer than the agreement allows
/// or a figure less protected than it requires refuses the whole package.
public struct PackageContent: Sendable {
    /// The part's name in the manifest.
    public static let partName = "observations.csv"
    public static let mediaType = "application/vnd.sdmx.data+csv;version=2.0.0"

    /// How strongly each protection guards a figure: a package may be stronger than its agreement asks,
    /// never weaker.
    static let protectionStrength = [
        DisclosurePolicy.Method.suppression.rawValue: 1, DisclosurePolicy.Method.cellKey.rawValue: 2,
    ]
    /// Frequency codes from coarsest to finest, and the agreement's period each needs.
    static let frequencies: [(code: String, period: Agreement.Period)] = [("A", .year), ("Q", .quarter), ("M", .month)]

    let flow: SDMXFlow
    let reference: ReferenceData

    public init(reference: ReferenceData = .shared) {
        self.reference = reference
        flow = SDMXFlow(reference: reference)
    }

    /// The pins of the code lists the flow's payload uses, as the sender writes them.
    public var codeListPins: [PackageManifest.CodeListPin] { flow.codeLists.map(PackageManifest.pin) }

    /// The frequency code for the agreement's finest period.
    public static func frequency(for period: Agreement.Period) -> String {
        frequencies.first { $0.period == period }!.code
    }

    /// The time periods a year holds at a frequency.
    public static func periods(of year: String, frequency: String) -> [String] {
        switch frequency {
        case "Q": (1...4).map { "\(year)-Q\($0)" }
        case "M": (1...12).map { "\(year)-" + ($0 < 10 ? "0\($0)" : "\($0)") }
        default: [year]
        }
    }

    /// The time periods of a year at every frequency from annual down to `finest`: what a package for
    /// that year holds and replaces.
    public static func periods(of year: String, upTo finest: String) -> [String] {
        let last = frequencies.firstIndex { $0.code == finest } ?? 0
        return frequencies[...last].flatMap { periods(of: year, frequency: $0.code) }
    }

    /// Checks the manifest's claims against the agreement's terms and the code lists known here.
    public func checkManifest(_ manifest: PackageManifest, terms: Agreement, source: String) throws {
        let at = InputLocation(file: source)
        func outside(_ message: String) -> PuenteError { PuenteError(.outsideAgreement, message, at: at) }
        guard manifest.dataflow == SDMXFlow.flowReference, terms.dataflow == SDMXFlow.flowID else {
            throw outside("The package's dataflow is not the one agreement \(terms.id) covers (\(terms.dataflow)).")
        }
        if let measure = manifest.measures.first(where: { !terms.measures.contains($0) }) {
            throw outside("Measure \(measure) is not among those agreement \(terms.id) shares.")
        }
        if let dimension = manifest.dimensions.first(where: { !terms.dimensions.contains($0) }) {
            throw outside("Dimension \(dimension) is not among those agreement \(terms.id) shares.")
        }
        guard let strength = Self.protectionStrength[manifest.protection],
            strength >= Self.protectionStrength[terms.minimumProtection] ?? .max
        else {
            throw outside(
                "Protection \(manifest.protection) is weaker than agreement \(terms.id) requires (\(terms.minimumProtection))."
            )
        }
        guard let finest = Self.frequencies.firstIndex(where: { $0.period == terms.finestPeriod }),
            let asked = Self.frequencies.firstIndex(where: { $0.code == manifest.frequency }), asked <= finest
        else {
            throw outside(
                "Frequency \(manifest.frequency) is finer than agreement \(terms.id) allows (\(terms.finestPeriod.rawValue))."
            )
        }
        guard manifest.period.count == 4, Int(manifest.period) != nil else {
            throw PuenteError(.packageMalformed, "period: expected a year like 2016.", at: at)
        }
        let known = Dictionary(codeListPins.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for pin in manifest.codeLists where known[pin.id] != pin {
            guard let mine = known[pin.id], mine.version == pin.version else {
                throw PuenteError(
                    .codeListUnknown, "Code list \(pin.id) version \(pin.version) is not known here.", at: at)
            }
            throw PuenteError(
                .codeListUnknown,
                "Code list \(pin.id) version \(pin.version) has other codes here (SHA-256 differs): the sender and receiver must agree on one version.",
                at: at)
        }
        let pinned = Set(manifest.codeLists.map(\.id))
        if let missing = flow.codeLists.map(\.id).first(where: { !pinned.contains($0) }) {
            throw PuenteError(.codeListUnknown, "The manifest does not pin code list \(missing).", at: at)
        }
    }

    /// Reads the observations of a package whose manifest passed `checkManifest`, checking every row
    /// against the terms. Errors name the row and column, never a figure.
    public func observations(of package: SignedPackage, terms: Agreement, source: String) throws
        -> [ExchangeObservation]
    {
        let manifest = package.manifest
        guard let data = package.part(Self.partName) else {
            throw PuenteError(
                .packageMalformed, "The package has no \(Self.partName) part.", at: InputLocation(file: source))
        }
        let file = source + ":" + Self.partName
        func fail(_ code: PuenteError.Code, _ row: Int, _ field: String?, _ message: String) -> PuenteError {
            PuenteError(code, message, at: InputLocation(file: file, row: row, field: field))
        }
        let header = SDMXFlow.csvHeader
        let dimensionIDs = SDMXFlow.dimensionIDs
        let timeColumn = 3 + dimensionIDs.count
        // Per DSD dimension, the codes this package may use: `_T` plus those of the dimensions it shares.
        let shared = Set(manifest.dimensions.compactMap(PuenteStatistics.Dimension.init(rawValue:)))
        var allowed: [Set<String>] = []
        var sharedNames: [String] = []
        for id in dimensionIDs {
            let shows = SDMXFlow.shownDimensions(of: id).filter(shared.contains)
            var codes: Set<String> = ["_T"]
            for d in shows { codes.formUnion(d.allowedCodes(reference: reference) ?? []) }
            if !shows.isEmpty { codes.insert("_U") }
            allowed.append(codes)
            sharedNames.append(shows.isEmpty ? "only the total _T" : shows.map(\.rawValue).joined(separator: " or "))
        }
        let freqIndex = dimensionIDs.firstIndex(of: "FREQ")!
        let areaIndex = dimensionIDs.firstIndex(of: "REF_AREA")!
        let flowIndex = dimensionIDs.firstIndex(of: "MIG_FLOW")!
        let movementCodes = Set(
            manifest.measures.compactMap { Measure(rawValue: $0).flatMap { SDMXFlow.movementCodes[$0] } })
        let frequencyCodes = Set(
            Self.frequencies.prefix { $0.code != manifest.frequency }.map(\.code) + [manifest.frequency])
        let periods = Dictionary(
            uniqueKeysWithValues: frequencyCodes.map { ($0, Set(Self.periods(of: manifest.period, frequency: $0))) })
        let exactStatus = manifest.protection == DisclosurePolicy.Method.cellKey.rawValue ? "E" : "A"

        var observations: [ExchangeObservation] = []
        var seen: [String: Int] = [:]
        var row = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            row += 1
            if row == 1 {
                guard String(decoding: line, as: UTF8.self) == header.joined(separator: ",") else {
                    throw fail(.packageMalformed, 1, nil, "Expected the SDMX-CSV header of \(SDMXFlow.flowReference).")
                }
                continue
            }
            if line.isEmpty {
                // Only the newline that ends the last record.
                guard line.endIndex == data.endIndex else { throw fail(.packageMalformed, row, nil, "Empty line.") }
                continue
            }
            let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count == header.count else {
                throw fail(.packageMalformed, row, nil, "Expected \(header.count) fields.")
            }
            guard fields[0] == "dataflow", fields[1] == SDMXFlow.flowReference, fields[2] == "I" else {
                throw fail(.packageMalformed, row, "STRUCTURE_ID", "Expected dataflow,\(SDMXFlow.flowReference),I.")
            }
            let key = Array(fields[3..<timeColumn])
            for (i, code) in key.enumerated() {
                let column = dimensionIDs[i]
                switch i {
                case freqIndex:
                    guard frequencyCodes.contains(code) else {
                        throw fail(
                            .outsideAgreement, row, column,
                            "A frequency finer than the manifest's \(manifest.frequency).")
                    }
                case areaIndex:
                    guard code == terms.sender.country else {
                        throw fail(
                            .outsideAgreement, row, column, "Expected the sender's country, \(terms.sender.country).")
                    }
                case flowIndex:
                    guard movementCodes.contains(code) else {
                        throw fail(
                            .outsideAgreement, row, column, "A movement of a measure the package does not declare.")
                    }
                default:
                    guard allowed[i].contains(code) else {
                        throw fail(
                            .outsideAgreement, row, column,
                            "A code the agreement does not share here (it allows \(sharedNames[i]), at most as fine as \(terms.finestGeography.rawValue) for territory)."
                        )
                    }
                }
            }
            let period = fields[timeColumn]
            guard periods[key[freqIndex]]?.contains(period) == true else {
                throw fail(
                    .outsideAgreement, row, "TIME_PERIOD",
                    "A period outside the package's \(manifest.period) at the row's frequency.")
            }
            let (valueText, obsStatus, confStatus) = (
                fields[timeColumn + 1], fields[timeColumn + 2], fields[timeColumn + 3]
            )
            let value: Double?
            if valueText == "NaN" {
                guard obsStatus == "Q" || obsStatus == "M" || obsStatus == "O" else {
                    throw fail(.packageMalformed, row, "OBS_STATUS", "A missing value needs OBS_STATUS Q, M or O.")
                }
                value = nil
            } else {
                guard let number = Double(valueText), number.isFinite, number == number.rounded() else {
                    throw fail(.packageMalformed, row, "OBS_VALUE", "Expected a whole number or NaN.")
                }
                guard obsStatus == exactStatus else {
                    throw fail(
                        .outsideAgreement, row, "OBS_STATUS",
                        "A figure not protected by the package's method (\(manifest.protection) marks figures \(exactStatus))."
                    )
                }
                value = number
            }
            guard ["F", "A", "D"].contains(confStatus) else {
                throw fail(.packageMalformed, row, "CONF_STATUS", "Expected F, A or D.")
            }
            let seriesKey = key.joined(separator: ".")
            if let first = seen.updateValue(row, forKey: seriesKey + " " + period) {
                throw fail(.packageMalformed, row, nil, "The same cell as row \(first).")
            }
            observations.append(
                ExchangeObservation(
                    sender: manifest.sender, agreement: manifest.agreement, dataflow: SDMXFlow.flowID,
                    seriesKey: seriesKey, period: period, value: value, obsStatus: obsStatus, confStatus: confStatus,
                    packageID: manifest.id))
        }
        return observations
    }
}
