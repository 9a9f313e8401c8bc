/// The `movement_event` table's columns in insert order, and how an event fills them.
///
/// Shared by both stores so that they store exactly the same thing.
public enum EventColumns {
    public static let names = [
        "import_id", "agency", "record_key", "source_file", "source_row", "event_type", "event_date", "event_day",
        "year", "month", "reporting_country", "place", "transport_mode", "sex",
        "age", "nationality", "birth_country", "residence_country", "residence_division",
        "document_type", "migration_status", "returning_from", "return_type", "child_status",
        "days_abroad", "cell_key", "person_sealed",
    ]

    /// The column holding an event's personal fields (names, birth date, document number), sealed
    /// together by the store's `PersonalDataCipher`: one seal per event, not four.
    public static let sealedColumn = "person_sealed"

    /// Columns that held personal fields one by one before they were sealed together. New events leave
    /// them NULL; `resealPersonalData` moves what older versions stored there into `person_sealed`.
    public static let legacyPersonal = ["given_names", "surnames", "birth_date", "document_number"]

    /// What the stores select to read events back: `id`, `names`, then `legacyPersonal`.
    public static var readColumns: [String] { ["id"] + names + legacyPersonal }

    /// Hands each column value of `batch.events[i]`, in `names` order, to `visitor`, with its personal
    /// fields as sealed in the batch: the path the stores' bulk loaders take.
    @inlinable
    public static func visit(_ batch: SealedEvents, at i: Int, importID: Int64, _ v: inout some EventColumnVisitor) {
        // Through a buffer: an array's subscript would copy the event (retaining all its strings).
        batch.events.withUnsafeBufferPointer {
            visit($0[i], sealed: batch.personal[i], cellKey: batch.cellKeys[i], importID: importID, &v)
        }
    }

    /// Borrowed, not copied: a copy of an event retains and releases each of its strings, per stored row.
    @inlinable
    static func visit(
        _ e: borrowing MovementEvent, sealed: String?, cellKey: UInt8, importID: Int64,
        _ v: inout some EventColumnVisitor
    ) {
        v.integer(Int(importID)); v.text(e.source.agency); v.text(e.source.recordKey); v.text(e.source.file)
        v.integer(e.source.row); v.text(e.type.rawValue); v.text(e.date.description); v.integer(e.date.daysSinceEpoch)
        v.integer(e.date.year); v.integer(e.date.month); v.text(e.reportingCountry); v.text(e.place)
        v.text(e.transportMode?.rawValue); v.text(e.person.sex.rawValue)
        v.integer(e.person.age); v.text(e.person.nationality); v.text(e.person.birthCountry)
        v.text(e.person.residenceCountry); v.text(e.person.residenceDivision); v.text(e.person.documentType?.rawValue)
        v.text(e.person.migrationStatus?.rawValue); v.text(e.returnDetails?.returningFrom)
        v.text(e.returnDetails?.returnType?.rawValue); v.text(e.returnDetails?.childStatus?.rawValue)
        v.integer(e.returnDetails?.daysAbroad); v.integer(Int(cellKey))
        v.text(sealed)
    }

    /// What a person's sealed fields are bound to (associated data): the column and the event's identity,
    /// so a sealed value copied onto another event does not open there.
    public static func sealContext(agency: String, recordKey: String) -> String {
        sealedColumn + "|" + agency + "|" + recordKey
    }

    /// Rebuilds an event from a row read as `readColumns`, opening its personal fields.
    ///
    /// The cell key stays in the store (0 in the event) unless `withCellKey`: for the store's own cell
    /// counts and for linking, whose person cells count with it.
    public static func event(opening cipher: some PersonalDataCipher, from row: [CellValue?], withCellKey: Bool = false)
        throws -> MovementEvent?
    {
        func s(_ i: Int) -> String? { if case .text(let v)? = row[i] { return v }; return nil }
        func n(_ i: Int) -> Int? {
            switch row[i] {
            case .integer(let v)?: return v
            case .text(let v)?: return Int(v)
            default: return nil
            }
        }
        let c = 1  // offset: column 0 is the id
        guard let id = n(0), let type = s(c + 5).flatMap(EventType.init),
            let date = s(c + 6).flatMap({ CivilDate(iso: $0) })
        else { return nil }
        var details: ReturnDetails?
        if type == .return {
            details = ReturnDetails(
                returningFrom: s(c + 21), returnType: s(c + 22).flatMap(ReturnType.init),
                childStatus: s(c + 23).flatMap(ChildStatus.init), daysAbroad: n(c + 24))
        }
        let legacy = names.count + 1
        let personal = try PersonalBundle.open(
            sealed: s(c + 26), legacy: (0..<4).map { s(legacy + $0) }, cipher: cipher,
            context: sealContext(agency: s(c + 1) ?? "", recordKey: s(c + 2) ?? ""))
        var event = MovementEvent(
            id: Int64(id),
            source: SourceReference(
                agency: s(c + 1) ?? "", importID: Int64(n(c) ?? 0), file: s(c + 3) ?? "",
                row: n(c + 4) ?? 0, recordKey: s(c + 2) ?? ""),
            type: type, date: date, reportingCountry: s(c + 10) ?? "", place: s(c + 11),
            transportMode: s(c + 12).flatMap(TransportMode.init),
            person: PersonAttributes(
                givenNames: personal[0], surnames: personal[1], sex: s(c + 13).flatMap(Sex.init) ?? .unknown,
                birthDate: personal[2].flatMap { CivilDate(iso: $0) }, age: n(c + 14), nationality: s(c + 15),
                birthCountry: s(c + 16), residenceCountry: s(c + 17), residenceDivision: s(c + 18),
                documentType: s(c + 19).flatMap(DocumentType.init), documentNumber: personal[3],
                migrationStatus: s(c + 20).flatMap(MigrationStatus.init)),
            returnDetails: details)
        if withCellKey { event.cellKey = UInt8(truncatingIfNeeded: n(c + 25) ?? 0) }
        return event
    }

    /// Integer columns of the table (the rest hold text).
    public static let integerColumns: Set<String> = [
        "id", "import_id", "source_row", "event_day", "year", "month", "age", "days_abroad", "cell_key",
    ]
}

/// Receives an event's column values one by one, in `EventColumns.names` order.
public protocol EventColumnVisitor {
    mutating func text(_ value: String?)
    mutating func integer(_ value: Int?)
}

/// An event's personal fields as one text to seal: each field `-` when absent, else its UTF-8 length,
/// `:` and the value (so any character may appear in a value).
public enum PersonalBundle {
    public static func encode(_ p: PersonAttributes) -> String? {
        encode([p.givenNames, p.surnames, p.birthDate?.description, p.documentNumber])
    }

    public static func encode(_ fields: [String?]) -> String? {
        guard fields.contains(where: { $0 != nil }) else { return nil }
        // Written into one allocation: an import encodes a bundle per event.
        var capacity = 0
        for field in fields { capacity += field.map { $0.utf8.count + 21 } ?? 1 }
        return String(unsafeUninitializedCapacity: capacity) { out in
            var o = 0
            func put(_ bytes: some Sequence<UInt8>) { for b in bytes { out[o] = b; o += 1 } }
            for field in fields {
                guard var text = field else { put(CollectionOfOne(UInt8(ascii: "-"))); continue }
                put(String(text.utf8.count).utf8)
                put(CollectionOfOne(UInt8(ascii: ":")))
                text.withUTF8 { put($0) }
            }
            return o
        }
    }

    /// The four fields (given names, surnames, birth date, document number); nil when malformed.
    public static func decode(_ text: String) -> [String?]? {
        var fields: [String?] = []
        var bytes = Substring(text).utf8[...]
        while let first = bytes.first, fields.count < 4 {
            if first == UInt8(ascii: "-") { fields.append(nil); bytes = bytes.dropFirst(); continue }
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), let length = Int(Substring(bytes[..<colon])),
                length >= 0, bytes.distance(from: bytes.index(after: colon), to: bytes.endIndex) >= length
            else { return nil }
            let start = bytes.index(after: colon), end = bytes.index(start, offsetBy: length)
            fields.append(String(Substring(bytes[start..<end])))
            bytes = bytes[end...]
        }
        return fields.count == 4 && bytes.isEmpty ? fields : nil
    }

    /// Opens a row's sealed bundle, or the one-by-one columns older versions wrote.
    public static func open(sealed: String?, legacy: [String?], cipher: some PersonalDataCipher, context: String) throws
        -> [String?]
    {
        if let sealed {
            guard let fields = decode(try cipher.open(sealed, field: context)) else {
                throw PuenteError(.storeFailure, "A sealed person record is malformed.")
            }
            return fields
        }
        return try zip(legacy, EventColumns.legacyPersonal).map { try cipher.open($0, field: $1) }
    }
}
