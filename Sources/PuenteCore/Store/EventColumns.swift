/// The `movement_event` table's columns in insert order, and how an event fills them.
///
/// Shared by both stores so that they store exactly the same thing.
public enum EventColumns {
    public static let names = [
        "import_id", "agency", "record_key", "source_file", "source_row", "event_type", "event_date", "event_day",
        "year", "month", "reporting_country", "place", "transport_mode", "given_names", "surnames", "sex",
        "birth_date", "age", "nationality", "birth_country", "residence_country", "residence_division",
        "document_type", "document_number", "migration_status", "returning_from", "return_type", "child_status",
        "days_abroad", "cell_key",
    ]

    /// Columns holding personal data, stored only sealed by the store's `PersonalDataCipher`.
    public static let personal = ["given_names", "surnames", "birth_date", "document_number"]

    /// Hands each column value of `event`, in `names` order, to `visitor`, personal ones sealed: the
    /// path the stores' bulk loaders take.
    @inlinable
    public static func visit(_ e: MovementEvent, importID: Int64, sealing cipher: some PersonalDataCipher,
                             _ v: inout some EventColumnVisitor) {
        let p = e.person, r = e.returnDetails
        v.integer(Int(importID)); v.text(e.source.agency); v.text(e.source.recordKey); v.text(e.source.file)
        v.integer(e.source.row); v.text(e.type.rawValue); v.text(e.date.description); v.integer(e.date.daysSinceEpoch)
        v.integer(e.date.year); v.integer(e.date.month); v.text(e.reportingCountry); v.text(e.place)
        v.text(e.transportMode?.rawValue); v.text(cipher.seal(p.givenNames, field: "given_names"))
        v.text(cipher.seal(p.surnames, field: "surnames")); v.text(p.sex.rawValue)
        v.text(cipher.seal(p.birthDate?.description, field: "birth_date")); v.integer(p.age); v.text(p.nationality); v.text(p.birthCountry)
        v.text(p.residenceCountry); v.text(p.residenceDivision); v.text(p.documentType?.rawValue)
        v.text(cipher.seal(p.documentNumber, field: "document_number"))
        v.text(p.migrationStatus?.rawValue); v.text(r?.returningFrom); v.text(r?.returnType?.rawValue)
        v.text(r?.childStatus?.rawValue); v.integer(r?.daysAbroad); v.integer(Int(e.cellKey))
    }

    /// Rebuilds an event from a row read as `id` followed by `names`' columns, opening personal ones.
    public static func event(opening cipher: some PersonalDataCipher, from row: [CellValue?]) throws -> MovementEvent? {
        func s(_ i: Int) -> String? { if case .text(let v)? = row[i] { return v }; return nil }
        func personal(_ i: Int) throws -> String? { try cipher.open(s(i), field: names[i - 1]) }
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
                givenNames: try personal(c + 13), surnames: try personal(c + 14), sex: s(c + 15).flatMap(Sex.init) ?? .unknown,
                birthDate: try personal(c + 16).flatMap { CivilDate(iso: $0) }, age: n(c + 17), nationality: s(c + 18),
                birthCountry: s(c + 19), residenceCountry: s(c + 20), residenceDivision: s(c + 21),
                documentType: s(c + 22).flatMap(DocumentType.init), documentNumber: try personal(c + 23),
                migrationStatus: s(c + 24).flatMap(MigrationStatus.init)),
            returnDetails: details)
    }

    /// Integer columns of the table (the rest hold text).
    public static let integerColumns: Set<String> = ["import_id", "source_row", "event_day", "year", "month", "age", "days_abroad", "cell_key"]
}

/// Receives an event's column values one by one, in `EventColumns.names` order.
public protocol EventColumnVisitor {
    mutating func text(_ value: String?)
    mutating func integer(_ value: Int?)
}
