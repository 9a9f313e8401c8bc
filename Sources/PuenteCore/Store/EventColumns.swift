/// The `movement_event` table's columns in insert order, and how an event fills them.
///
/// Shared by both stores so that they store exactly the same thing.
public enum EventColumns {
    public static let names = [
        "import_id", "agency", "record_key", "source_file", "source_row", "event_type", "event_date", "event_day",
        "year", "month", "reporting_country", "place", "transport_mode", "given_names", "surnames", "sex",
        "birth_date", "age", "nationality", "birth_country", "residence_country", "residence_division",
        "document_type", "document_number", "migration_status", "returning_from", "return_type", "child_status",
        "days_abroad",
    ]

    /// Column values of `event` stored in batch `importID`, in `names` order.
    public static func values(of e: MovementEvent, importID: Int64) -> [CellValue?] {
        let p = e.person, r = e.returnDetails
        func t(_ s: String?) -> CellValue? { s.map(CellValue.text) }
        func i(_ v: Int?) -> CellValue? { v.map(CellValue.integer) }
        return [
            .integer(Int(importID)), .text(e.source.agency), .text(e.source.recordKey), .text(e.source.file),
            .integer(e.source.row), .text(e.type.rawValue), .text(e.date.description), .integer(e.date.daysSinceEpoch),
            .integer(e.date.year), .integer(e.date.month), .text(e.reportingCountry), t(e.place),
            t(e.transportMode?.rawValue), t(p.givenNames), t(p.surnames), .text(p.sex.rawValue),
            t(p.birthDate?.description), i(p.age), t(p.nationality), t(p.birthCountry), t(p.residenceCountry),
            t(p.residenceDivision), t(p.documentType?.rawValue), t(p.documentNumber), t(p.migrationStatus?.rawValue),
            t(r?.returningFrom), t(r?.returnType?.rawValue), t(r?.childStatus?.rawValue), i(r?.daysAbroad),
        ]
    }

    /// Rebuilds an event from a row read as `id` followed by `names`' columns.
    public static func event(from row: [CellValue?]) -> MovementEvent? {
        func s(_ i: Int) -> String? { if case .text(let v)? = row[i] { return v }; return nil }
        func n(_ i: Int) -> Int? {
            switch row[i] {
            case .integer(let v)?: return v
            case .text(let v)?: return Int(v)
            default: return nil
            }
        }
        let c = 1   // offset: column 0 is the id
        guard let id = n(0), let type = s(c + 5).flatMap(EventType.init), let date = s(c + 6).flatMap({ CivilDate(iso: $0) })
        else { return nil }
        var details: ReturnDetails?
        if type == .return {
            details = ReturnDetails(returningFrom: s(c + 25), returnType: s(c + 26).flatMap(ReturnType.init),
                                    childStatus: s(c + 27).flatMap(ChildStatus.init), daysAbroad: n(c + 28))
        }
        return MovementEvent(
            id: Int64(id),
            source: SourceReference(agency: s(c + 1) ?? "", importID: Int64(n(c) ?? 0), file: s(c + 3) ?? "",
                                    row: n(c + 4) ?? 0, recordKey: s(c + 2) ?? ""),
            type: type, date: date, reportingCountry: s(c + 10) ?? "", place: s(c + 11),
            transportMode: s(c + 12).flatMap(TransportMode.init),
            person: PersonAttributes(
                givenNames: s(c + 13), surnames: s(c + 14), sex: s(c + 15).flatMap(Sex.init) ?? .unknown,
                birthDate: s(c + 16).flatMap { CivilDate(iso: $0) }, age: n(c + 17), nationality: s(c + 18),
                birthCountry: s(c + 19), residenceCountry: s(c + 20), residenceDivision: s(c + 21),
                documentType: s(c + 22).flatMap(DocumentType.init), documentNumber: s(c + 23),
                migrationStatus: s(c + 24).flatMap(MigrationStatus.init)),
            returnDetails: details)
    }

    /// Integer columns of the table (the rest hold text).
    public static let integerColumns: Set<String> = ["import_id", "source_row", "event_day", "year", "month", "age", "days_abroad"]
}
