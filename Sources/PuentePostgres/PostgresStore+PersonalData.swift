import PostgresNIO
import PuenteCore

extension PostgresStore {
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
        var event: (String, String, String)?, values: String?, details: String?
        try await guarded {
            let rows = try await client.query(
                """
                SELECT agency, record_key, person_sealed FROM movement_event WHERE person_sealed IS NOT NULL LIMIT 1
                """, logger: logger)
            for try await row in rows.decode((String, String, String).self) { event = row }
            for try await v in try await client.query("SELECT values_json FROM rejected_row LIMIT 1", logger: logger)
                .decode(String.self)
            {
                values = v
            }
            for try await v in try await client.query("SELECT details_sealed FROM case_file LIMIT 1", logger: logger)
                .decode(String.self)
            {
                details = v
            }
        }
        do {
            if let (agency, key, sealed) = event {
                _ = try cipher.open(sealed, field: EventColumns.sealContext(agency: agency, recordKey: key))
            }
            if let values { _ = try cipher.open(values: JSONText.decode(values)) }
            if let details { _ = try cipher.open(details, field: CaseRows.sealedColumns[0].field) }
        } catch {
            throw PuenteError.keysDoNotOpenStore
        }
    }

    public func erasePersonalData(agency: String, recordKeys: [String]) async throws -> Int {
        let erased = try CaseRows.erasedDetails(cipher: cipher)
        return try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                let rows = try await conn.query(
                    """
                    UPDATE movement_event SET \(unescaped: Self.erasing)
                    WHERE agency = \(agency) AND record_key = ANY(\(recordKeys)) AND \(unescaped: Self.anyPersonal) RETURNING id
                    """, logger: logger)
                var n = 0
                for try await _ in rows.decode(Int64.self) { n += 1 }
                for key in recordKeys {
                    try await conn.query(
                        Self.query(CrossBorderLinkRows.eraseForRecord, [.text(agency), .text(key)]), logger: logger)
                    try await conn.query(Self.query(CaseRows.eraseNotes, [.text(agency), .text(key)]), logger: logger)
                    try await conn.query(
                        Self.query(CaseRows.eraseRecordContent, [.text(agency), .text(key)]), logger: logger)
                    try await conn.query(
                        Self.query(CaseRows.eraseDetails, [.text(erased), .text(agency), .text(key)]), logger: logger)
                }
                return n
            }
        }
    }

    public func expirePersonalData(eventsBefore: CivilDate, rejectsBefore: String) async throws -> (
        events: Int, rejects: Int
    ) {
        try await guarded {
            try await client.withTransaction(logger: logger) { conn in
                var events = 0, rejects = 0
                for try await _ in try await conn.query(
                    """
                    UPDATE movement_event SET \(unescaped: Self.erasing)
                    WHERE event_day < \(eventsBefore.daysSinceEpoch) AND \(unescaped: Self.anyPersonal) RETURNING id
                    """, logger: logger
                ).decode(Int64.self) { events += 1 }
                for try await _ in try await conn.query(
                    """
                    DELETE FROM rejected_row WHERE import_id IN (SELECT id FROM import_batch WHERE started_at < \(rejectsBefore)) RETURNING id
                    """, logger: logger
                ).decode(Int64.self) { rejects += 1 }
                return (events, rejects)
            }
        }
    }

    public func resealPersonalData(batchSize: Int) async throws -> Int {
        try await guarded {
            var changed = 0
            var after: Int64 = 0
            // Events in batches by id, one short transaction each, so the node keeps serving.
            while true {
                let (last, n) = try await client.withTransaction(logger: logger) { conn -> (Int64?, Int) in
                    let rows = try await conn.query(
                        """
                        SELECT id, agency, record_key, person_sealed, given_names, surnames, birth_date, document_number FROM movement_event
                        WHERE id > \(after) ORDER BY id LIMIT \(batchSize) FOR UPDATE
                        """, logger: logger)
                    var pending: [(Int64, String?)] = []
                    var last: Int64?
                    for try await (id, agency, key, sealed, given, surnames, birth, document) in rows.decode(
                        (Int64, String, String, String?, String?, String?, String?, String?).self)
                    {
                        last = id
                        let legacy = [given, surnames, birth, document]
                        guard sealed.map(cipher.needsResealing) == true || legacy.contains(where: { $0 != nil }) else {
                            continue
                        }
                        let context = EventColumns.sealContext(agency: agency, recordKey: key)
                        let fields = try PersonalBundle.open(
                            sealed: sealed, legacy: legacy, cipher: cipher, context: context)
                        pending.append((id, PersonalBundle.encode(fields).map { cipher.seal($0, field: context) }))
                    }
                    for (id, sealed) in pending {
                        try await conn.query(
                            """
                            UPDATE movement_event SET \(unescaped: Self.legacyErasing), person_sealed = \(sealed) WHERE id = \(id)
                            """, logger: logger)
                    }
                    return (last, pending.count)
                }
                changed += n
                guard let last else { break }
                after = last
            }
            after = 0
            while true {
                let (last, n) = try await client.withTransaction(logger: logger) { conn -> (Int64?, Int) in
                    let rows = try await conn.query(
                        """
                        SELECT id, values_json FROM rejected_row WHERE id > \(after) ORDER BY id LIMIT \(batchSize) FOR UPDATE
                        """, logger: logger)
                    var pending: [(Int64, [String: String])] = []
                    var last: Int64?
                    for try await (id, json) in rows.decode((Int64, String).self) {
                        last = id
                        let values: [String: String] = try JSONText.decode(json)
                        if values.values.contains(where: cipher.needsResealing) { pending.append((id, values)) }
                    }
                    for (id, values) in pending {
                        let sealed = try JSONText.encode(cipher.seal(values: cipher.open(values: values)))
                        try await conn.query(
                            "UPDATE rejected_row SET values_json = \(sealed) WHERE id = \(id)", logger: logger)
                    }
                    return (last, pending.count)
                }
                changed += n
                guard let last else { break }
                after = last
            }
            for sealed in CaseRows.sealedColumns {
                after = 0
                while true {
                    let start = after
                    let (last, n) = try await client.withTransaction(logger: logger) { conn -> (Int64?, Int) in
                        let rows = try await conn.query(
                            Self.query(sealed.select + " FOR UPDATE", [.integer(Int(start)), .integer(batchSize)]),
                            logger: logger)
                        var pending: [(Int64, String)] = []
                        var last: Int64?
                        for try await (id, value) in rows.decode((Int64, String).self) {
                            last = id
                            if cipher.needsResealing(value) { pending.append((id, value)) }
                        }
                        for (id, value) in pending {
                            let resealed = cipher.seal(try cipher.open(value, field: sealed.field), field: sealed.field)
                            try await conn.query(
                                Self.query(sealed.update, [.text(resealed), .integer(Int(id))]), logger: logger)
                        }
                        return (last, pending.count)
                    }
                    changed += n
                    guard let last else { break }
                    after = last
                }
            }
            return changed
        }
    }
}
