import GRDB
import PuenteCore

extension SQLiteStore {
    /// The personal columns set to NULL: the event keeps everything statistics count.
    private static let erasing = ([EventColumns.sealedColumn] + EventColumns.legacyPersonal).map { "\($0) = NULL" }
        .joined(separator: ", ")
    /// The one-by-one columns of older versions emptied, once their values are sealed together.
    private static let legacyErasing = EventColumns.legacyPersonal.map { "\($0) = NULL" }.joined(separator: ", ")
    private static let anyPersonal =
        "("
        + ([EventColumns.sealedColumn] + EventColumns.legacyPersonal).map { "\($0) IS NOT NULL" }
        .joined(separator: " OR ") + ")"

    public func checkKeys() async throws {
        let sample = try await writer.read { db in
            (
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT agency, record_key, person_sealed FROM movement_event WHERE person_sealed IS NOT NULL LIMIT 1"
                )
                .map { ($0[0] as String, $0[1] as String, $0[2] as String) },
                try String.fetchOne(db, sql: "SELECT values_json FROM rejected_row LIMIT 1"),
                try String.fetchOne(db, sql: "SELECT details_sealed FROM case_file LIMIT 1")
            )
        }
        do {
            if let (agency, key, sealed) = sample.0 {
                _ = try cipher.open(sealed, field: EventColumns.sealContext(agency: agency, recordKey: key))
            }
            if let values = sample.1 { _ = try cipher.open(values: JSONText.decode(values)) }
            if let details = sample.2 { _ = try cipher.open(details, field: CaseRows.sealedColumns[0].field) }
        } catch {
            throw PuenteError.keysDoNotOpenStore
        }
    }

    public func erasePersonalData(agency: String, recordKeys: [String]) async throws -> Int {
        try await writer.write { db in
            var n = 0
            let erased = try CaseRows.erasedDetails(cipher: cipher)
            for key in recordKeys {
                try db.execute(
                    sql:
                        "UPDATE movement_event SET \(Self.erasing) WHERE agency = ? AND record_key = ? AND \(Self.anyPersonal)",
                    arguments: [agency, key])
                n += db.changesCount
                try db.execute(sql: CrossBorderLinkRows.eraseForRecord, arguments: [agency, key])
                try db.execute(sql: CaseRows.eraseNotes, arguments: [agency, key])
                try db.execute(sql: CaseRows.eraseRecordContent, arguments: [agency, key])
                try db.execute(sql: CaseRows.eraseDetails, arguments: [erased, agency, key])
            }
            return n
        }
    }

    public func expirePersonalData(eventsBefore: CivilDate, rejectsBefore: String) async throws -> (
        events: Int, rejects: Int
    ) {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE movement_event SET \(Self.erasing) WHERE event_day < ? AND \(Self.anyPersonal)",
                arguments: [eventsBefore.daysSinceEpoch])
            let events = db.changesCount
            try db.execute(
                sql: "DELETE FROM rejected_row WHERE import_id IN (SELECT id FROM import_batch WHERE started_at < ?)",
                arguments: [rejectsBefore])
            return (events, db.changesCount)
        }
    }

    public func resealPersonalData(batchSize: Int) async throws -> Int {
        let columns = ["agency", "record_key", EventColumns.sealedColumn] + EventColumns.legacyPersonal
        var changed = 0
        // Events, then quarantined rows, each in batches by id: one short transaction per batch.
        var after: Int64 = 0
        while true {
            let start = after
            let (last, n) = try await writer.write { db -> (Int64?, Int) in
                let rows = try Row.fetchAll(
                    db,
                    sql:
                        "SELECT id, \(columns.joined(separator: ", ")) FROM movement_event WHERE id > ? ORDER BY id LIMIT ?",
                    arguments: [start, batchSize])
                var n = 0
                for row in rows {
                    let sealed: String? = row[3]
                    let legacy: [String?] = (4...7).map { row[$0] }
                    guard sealed.map(cipher.needsResealing) == true || legacy.contains(where: { $0 != nil }) else {
                        continue
                    }
                    let context = EventColumns.sealContext(agency: row[1], recordKey: row[2])
                    let fields = try PersonalBundle.open(
                        sealed: sealed, legacy: legacy, cipher: cipher, context: context)
                    try db.execute(
                        sql:
                            "UPDATE movement_event SET \(Self.legacyErasing), \(EventColumns.sealedColumn) = ? WHERE id = ?",
                        arguments: [
                            PersonalBundle.encode(fields).map { cipher.seal($0, field: context) }, row["id"] as Int64,
                        ])
                    n += 1
                }
                return (rows.last?["id"], n)
            }
            changed += n
            guard let last else { break }
            after = last
        }
        after = 0
        while true {
            let start = after
            let (last, n) = try await writer.write { db -> (Int64?, Int) in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, values_json FROM rejected_row WHERE id > ? ORDER BY id LIMIT ?",
                    arguments: [start, batchSize])
                var n = 0
                for row in rows {
                    let values: [String: String] = try JSONText.decode(row["values_json"])
                    guard values.values.contains(where: cipher.needsResealing) else { continue }
                    try db.execute(
                        sql: "UPDATE rejected_row SET values_json = ? WHERE id = ?",
                        arguments: [
                            try JSONText.encode(cipher.seal(values: cipher.open(values: values))), row["id"] as Int64,
                        ])
                    n += 1
                }
                return (rows.last?["id"], n)
            }
            changed += n
            guard let last else { break }
            after = last
        }
        for sealed in CaseRows.sealedColumns {
            after = 0
            while true {
                let start = after
                let (last, n) = try await writer.write { db -> (Int64?, Int) in
                    let rows = try Row.fetchAll(db, sql: sealed.select, arguments: [start, batchSize])
                    var n = 0
                    for row in rows where cipher.needsResealing(row[1]) {
                        let clear = try cipher.open(row[1] as String, field: sealed.field)
                        try db.execute(
                            sql: sealed.update, arguments: [cipher.seal(clear, field: sealed.field), row[0] as Int64])
                        n += 1
                    }
                    return (rows.last?[0], n)
                }
                changed += n
                guard let last else { break }
                after = last
            }
        }
        return changed
    }
}
