/// How both stores lay out referrals received from other nodes (`IncomingReferral`), in the style of
/// `CaseRows`: one SQL text with `$n` placeholders in order of first use, one conversion each way. The
/// referred fields' values are sealed together with the store's cipher; the rest is codes and dates.
public enum IncomingReferralRows {
    static let columns = [
        "sender", "agreement", "origin_id", "partner", "status", "version", "updated_at", "body_json", "values_sealed",
    ]
    public static let integerColumns: Set<String> = ["id", "origin_id", "version"]
    public static let selectColumns = ["id"] + columns
    static let select = "SELECT \(selectColumns.joined(separator: ", ")) FROM incoming_referral"
    public static let insert =
        "INSERT INTO incoming_referral (\(columns.joined(separator: ", "))) VALUES (\(CaseRows.placeholders(columns.count))) RETURNING id"
    /// Binds the values, then the id ($10) and the version it was read at ($11).
    public static let update =
        "UPDATE incoming_referral SET "
        + columns.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
        + " WHERE id = $\(columns.count + 1) AND version = $\(columns.count + 2)"
    static let valuesField = "incoming_referral"

    /// Which incoming referrals: by id, by the referring node's own id, or a partner's (all when nil).
    public static func query(id: Int64? = nil, sender: String? = nil, originID: Int64? = nil, partner: String? = nil)
        -> (sql: String, binds: [CellValue?])
    {
        var conditions: [String] = []
        var binds: [CellValue?] = []
        if let id {
            binds.append(.integer(Int(id)))
            conditions.append("id = $\(binds.count)")
        }
        if let sender, let originID {
            binds.append(.text(sender))
            conditions.append("sender = $\(binds.count)")
            binds.append(.integer(Int(originID)))
            conditions.append("origin_id = $\(binds.count)")
        }
        if let partner {
            binds.append(.text(partner))
            conditions.append("partner = $\(binds.count)")
        }
        return (select + CaseRows.whereClause(conditions) + " ORDER BY id", binds)
    }

    /// The referral's values as stored, its version the new one; the body keeps everything but the id,
    /// the version and the sealed values.
    public static func values(of r: IncomingReferral, cipher: any PersonalDataCipher) throws -> [CellValue?] {
        var body = r
        body.values = [:]
        body.id = 0
        body.version = 0
        return [
            .text(r.sender), .text(r.agreement), .integer(Int(r.originID)), .text(r.partner), .text(r.status.rawValue),
            .integer(r.version), .text(r.updatedAt), .text(try JSONText.encode(body)),
            r.values.isEmpty ? nil : .text(cipher.seal(try JSONText.encode(r.values), field: valuesField)),
        ]
    }

    public static func referral(_ v: [CellValue?], cipher: any PersonalDataCipher) throws -> IncomingReferral {
        let r = CaseRows.Reader(values: v, columns: selectColumns, table: "incoming_referral")
        var referral: IncomingReferral = try r.json("body_json")
        referral.id = Int64(try r.integer("id"))
        referral.version = try r.integer("version")
        if let sealed = r.optionalText("values_sealed") {
            referral.values = try JSONText.decode(try cipher.open(sealed, field: valuesField))
        }
        return referral
    }

    /// For resealing under a new key and checking keys, beside the case tables' columns.
    public static let sealedColumn = CaseRows.SealedColumn(
        table: "incoming_referral", column: "values_sealed", field: valuesField)

    static func table(id: String, integer: String) -> [String] {
        [
            """
            CREATE TABLE incoming_referral (
                id \(id),
                sender TEXT NOT NULL,
                agreement TEXT NOT NULL,
                origin_id \(integer) NOT NULL,
                partner TEXT NOT NULL,
                status TEXT NOT NULL,
                version \(integer) NOT NULL,
                updated_at TEXT NOT NULL,
                body_json TEXT NOT NULL,
                values_sealed TEXT,
                UNIQUE (sender, origin_id)
            )
            """,
            "CREATE INDEX incoming_referral_partner ON incoming_referral (partner, status)",
        ]
    }

    public static let sqliteSchema = table(id: "INTEGER PRIMARY KEY AUTOINCREMENT", integer: "INTEGER")
        .map { $0 + ";" }.joined(separator: "\n")
    public static let postgresSchema = table(id: "BIGSERIAL PRIMARY KEY", integer: "BIGINT")
}
