import GRDB
import PuenteCore

/// Versioned schema migrations. Never edit a migration once merged: add a new one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("0001-events-imports-rejects") { db in
            try db.execute(
                sql: """
                    CREATE TABLE import_batch (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        profile TEXT NOT NULL,
                        agency TEXT NOT NULL,
                        file TEXT NOT NULL,
                        content_hash TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'committed', 'rolled_back')),
                        started_at TEXT NOT NULL,
                        rows_read INTEGER NOT NULL DEFAULT 0,
                        rows_accepted INTEGER NOT NULL DEFAULT 0,
                        rows_rejected INTEGER NOT NULL DEFAULT 0,
                        rows_duplicate INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX import_batch_hash ON import_batch (content_hash, status);
                    CREATE TABLE movement_event (
                        id INTEGER PRIMARY KEY,
                        import_id INTEGER NOT NULL REFERENCES import_batch (id),
                        agency TEXT NOT NULL,
                        record_key TEXT NOT NULL,
                        source_file TEXT NOT NULL,
                        source_row INTEGER NOT NULL,
                        event_type TEXT NOT NULL,
                        event_date TEXT NOT NULL,
                        event_day INTEGER NOT NULL,
                        year INTEGER NOT NULL,
                        month INTEGER NOT NULL,
                        reporting_country TEXT NOT NULL,
                        place TEXT,
                        transport_mode TEXT,
                        given_names TEXT,
                        surnames TEXT,
                        sex TEXT NOT NULL,
                        birth_date TEXT,
                        age INTEGER,
                        nationality TEXT,
                        birth_country TEXT,
                        residence_country TEXT,
                        residence_division TEXT,
                        document_type TEXT,
                        document_number TEXT,
                        migration_status TEXT,
                        returning_from TEXT,
                        return_type TEXT,
                        child_status TEXT,
                        days_abroad INTEGER,
                        UNIQUE (agency, record_key)
                    );
                    CREATE INDEX movement_event_import ON movement_event (import_id, source_row);
                    CREATE INDEX movement_event_cells ON movement_event (event_type, year, month, import_id, sex, age, residence_division);
                    CREATE TABLE rejected_row (
                        id INTEGER PRIMARY KEY,
                        import_id INTEGER NOT NULL REFERENCES import_batch (id),
                        file TEXT NOT NULL,
                        row_number INTEGER NOT NULL,
                        values_json TEXT NOT NULL,
                        reasons_json TEXT NOT NULL
                    );
                    CREATE INDEX rejected_row_import ON rejected_row (import_id, row_number);
                    """)
        }
        m.registerMigration("0002-reject-resolution") { db in
            // A reject is resolved by the import that read its corrected version.
            try db.execute(
                sql: """
                    ALTER TABLE rejected_row ADD COLUMN resolved_by INTEGER REFERENCES import_batch (id);
                    CREATE INDEX rejected_row_resolved ON rejected_row (resolved_by);
                    """)
        }
        m.registerMigration("0003-event-cells") { db in
            // Statistics read cell counts per batch instead of events; the events' own statistics index
            // goes, which also makes imports faster. Events stored before get their random cell key now.
            try db.execute(
                sql: """
                    ALTER TABLE movement_event ADD COLUMN cell_key INTEGER NOT NULL DEFAULT 0;
                    UPDATE movement_event SET cell_key = abs(random()) % 256;
                    DROP INDEX movement_event_cells;
                    CREATE TABLE event_cell (
                        import_id INTEGER NOT NULL REFERENCES import_batch (id),
                        event_type TEXT NOT NULL,
                        agency TEXT NOT NULL,
                        year INTEGER NOT NULL,
                        month INTEGER NOT NULL,
                        reporting_country TEXT NOT NULL,
                        place TEXT,
                        transport_mode TEXT,
                        sex TEXT NOT NULL,
                        age INTEGER,
                        nationality TEXT,
                        birth_country TEXT,
                        residence_division TEXT,
                        migration_status TEXT,
                        returning_from TEXT,
                        return_type TEXT,
                        child_status TEXT,
                        document_recorded INTEGER NOT NULL,
                        n INTEGER NOT NULL,
                        key_sum INTEGER NOT NULL
                    );
                    CREATE INDEX event_cell_import ON event_cell (import_id);
                    INSERT INTO event_cell SELECT import_id, \(CellColumn.fromEventsSQL), COUNT(*), SUM(cell_key)
                    FROM movement_event GROUP BY import_id, \(CellColumn.fromEventsSQL);
                    """)
        }
        m.registerMigration("0004-access") { db in
            // Accounts, sessions and API tokens (secrets stored as hashes), and the hash-chained audit trail.
            try db.execute(
                sql: """
                    CREATE TABLE app_user (
                        id INTEGER PRIMARY KEY,
                        username TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        country TEXT,
                        organisation TEXT,
                        password_hash TEXT,
                        failed_logins INTEGER NOT NULL DEFAULT 0,
                        locked_until TEXT,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE credential (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
                        user_id INTEGER NOT NULL REFERENCES app_user (id),
                        secret_hash TEXT NOT NULL UNIQUE,
                        csrf_token TEXT,
                        label TEXT,
                        created_at TEXT NOT NULL,
                        expires_at TEXT NOT NULL,
                        revoked INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE audit_entry (
                        sequence INTEGER PRIMARY KEY,
                        at TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        purpose TEXT,
                        address TEXT,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX credential_user ON credential (user_id);
                    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
                    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
                    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    """)
        }
        m.registerMigration("0005-sealed-person") { db in
            // An event's personal fields are sealed together in one column; the one-by-one columns stay
            // for rows older versions wrote, until `puente keys rotate` moves them.
            try db.execute(sql: "ALTER TABLE movement_event ADD COLUMN person_sealed TEXT")
        }
        m.registerMigration("0006-persons") { db in
            // Persons found by `puente link persons`: each linked event's person, the events' cells
            // with what each opens for its person (statistics count persons from these), the runs, and
            // the clerical review queue (event ids and comparison weights only, no personal value).
            try db.execute(
                sql: """
                    CREATE TABLE person_link (
                        event_id INTEGER PRIMARY KEY,
                        person_id INTEGER NOT NULL
                    );
                    CREATE INDEX person_link_person ON person_link (person_id);
                    CREATE TABLE person_cell (
                        first_level INTEGER NOT NULL,
                        event_type TEXT NOT NULL, agency TEXT NOT NULL, year INTEGER NOT NULL, month INTEGER NOT NULL, reporting_country TEXT NOT NULL, place TEXT, transport_mode TEXT, sex TEXT NOT NULL, age INTEGER, nationality TEXT, birth_country TEXT, residence_division TEXT, migration_status TEXT, returning_from TEXT, return_type TEXT, child_status TEXT, document_recorded INTEGER NOT NULL,
                        n INTEGER NOT NULL,
                        key_sum INTEGER NOT NULL
                    );
                    CREATE TABLE link_run (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mode TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT NOT NULL,
                        import_ids TEXT NOT NULL,
                        events INTEGER NOT NULL,
                        persons INTEGER NOT NULL,
                        candidate_pairs INTEGER NOT NULL,
                        linked_pairs INTEGER NOT NULL,
                        review_pairs INTEGER NOT NULL
                    );
                    CREATE TABLE link_review (
                        event_l INTEGER NOT NULL,
                        event_r INTEGER NOT NULL,
                        probability REAL NOT NULL,
                        contributions TEXT NOT NULL,
                        decision INTEGER,
                        decided_by TEXT,
                        decided_at TEXT,
                        PRIMARY KEY (event_l, event_r)
                    );
                    """)
        }
        m.registerMigration("0007-consent") { db in
            // Consent per person and purpose. At most one consent in force per subject and purpose (the
            // partial unique index); withdrawn ones stay as the record of what the person decided.
            try db.execute(
                sql: """
                    CREATE TABLE consent_record (
                        id INTEGER PRIMARY KEY,
                        agency TEXT NOT NULL,
                        record_key TEXT NOT NULL,
                        purpose TEXT NOT NULL,
                        scope TEXT,
                        recipients_json TEXT NOT NULL,
                        given_on TEXT NOT NULL,
                        language TEXT NOT NULL,
                        collector TEXT NOT NULL,
                        guardian INTEGER NOT NULL DEFAULT 0,
                        recorded_at TEXT NOT NULL,
                        withdrawn_on TEXT,
                        withdrawn_by TEXT
                    );
                    CREATE INDEX consent_record_subject ON consent_record (agency, record_key);
                    CREATE UNIQUE INDEX consent_record_in_force ON consent_record (agency, record_key, purpose) WHERE withdrawn_on IS NULL;
                    CREATE INDEX consent_record_withdrawn ON consent_record (purpose, agency, record_key) WHERE withdrawn_on IS NOT NULL;
                    """)
        }
        m.registerMigration("0008-counted-records") { db in
            // Every accepted row is stored, and `counted` says which copy of a record counts: duplicates
            // are settled against committed batches only, a rollback lets another copy count, and a
            // correction replaces a record while the previous version is kept (see `CountedRecords`).
            // SQLite cannot drop the old table-wide unique key in place: the table is rebuilt, ids kept.
            try db.execute(
                sql: """
                    CREATE TABLE movement_event_counted (
                        id INTEGER PRIMARY KEY,
                        import_id INTEGER NOT NULL REFERENCES import_batch (id),
                        agency TEXT NOT NULL,
                        record_key TEXT NOT NULL,
                        source_file TEXT NOT NULL,
                        source_row INTEGER NOT NULL,
                        event_type TEXT NOT NULL,
                        event_date TEXT NOT NULL,
                        event_day INTEGER NOT NULL,
                        year INTEGER NOT NULL,
                        month INTEGER NOT NULL,
                        reporting_country TEXT NOT NULL,
                        place TEXT,
                        transport_mode TEXT,
                        given_names TEXT,
                        surnames TEXT,
                        sex TEXT NOT NULL,
                        birth_date TEXT,
                        age INTEGER,
                        nationality TEXT,
                        birth_country TEXT,
                        residence_country TEXT,
                        residence_division TEXT,
                        document_type TEXT,
                        document_number TEXT,
                        migration_status TEXT,
                        returning_from TEXT,
                        return_type TEXT,
                        child_status TEXT,
                        days_abroad INTEGER,
                        cell_key INTEGER NOT NULL DEFAULT 0,
                        person_sealed TEXT,
                        counted INTEGER NOT NULL DEFAULT 1
                    );
                    INSERT INTO movement_event_counted SELECT *, 1 FROM movement_event;
                    DROP TABLE movement_event;
                    ALTER TABLE movement_event_counted RENAME TO movement_event;
                    CREATE INDEX movement_event_import ON movement_event (import_id, source_row);
                    CREATE UNIQUE INDEX movement_event_counted_key ON movement_event (agency, record_key) WHERE counted = 1;
                    CREATE INDEX movement_event_uncounted_key ON movement_event (agency, record_key) WHERE counted = 0;
                    CREATE INDEX movement_event_uncounted_batch ON movement_event (import_id) WHERE counted = 0;
                    ALTER TABLE import_batch ADD COLUMN mode TEXT NOT NULL DEFAULT 'add';
                    ALTER TABLE import_batch ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE import_batch ADD COLUMN rows_replaced INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE link_run ADD COLUMN import_revisions TEXT;
                    """)
        }
        m.registerMigration("0009-agreements") { db in
            // Data-sharing agreements this node is party to: the signed file as received, and its revocation.
            try db.execute(
                sql: """
                    CREATE TABLE agreement (
                        id TEXT PRIMARY KEY,
                        document TEXT NOT NULL,
                        accepted_at TEXT NOT NULL,
                        accepted_by TEXT NOT NULL,
                        revoked_on TEXT,
                        revoked_by TEXT,
                        revocation_reason TEXT
                    );
                    """)
        }
        m.registerMigration("0010-exchange") { db in
            // Packages sent (the queue until a receipt comes back) and received (held or published), the
            // observations partners sent (a deleted one stays as a deletion, for `updatedAfter`), and the
            // member registry versions trusted.
            try db.execute(
                sql: """
                    CREATE TABLE exchange_sent (
                        id TEXT PRIMARY KEY,
                        agreement TEXT NOT NULL,
                        receiver TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        period TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        file TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        delivered_at TEXT,
                        receipt TEXT,
                        UNIQUE (agreement, sequence)
                    );
                    CREATE TABLE exchange_received (
                        id TEXT PRIMARY KEY,
                        sender TEXT NOT NULL,
                        agreement TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        period TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        status TEXT NOT NULL,
                        received_at TEXT NOT NULL,
                        published_at TEXT,
                        file TEXT NOT NULL,
                        UNIQUE (sender, agreement, sequence)
                    );
                    CREATE TABLE exchange_observation (
                        sender TEXT NOT NULL,
                        agreement TEXT NOT NULL,
                        dataflow TEXT NOT NULL,
                        series_key TEXT NOT NULL,
                        period TEXT NOT NULL,
                        value REAL,
                        obs_status TEXT NOT NULL,
                        conf_status TEXT NOT NULL,
                        package_id TEXT NOT NULL,
                        updated_at TEXT NOT NULL,
                        deleted INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (sender, agreement, dataflow, series_key, period)
                    );
                    CREATE INDEX exchange_observation_updated ON exchange_observation (dataflow, updated_at);
                    CREATE TABLE exchange_registry (
                        version INTEGER PRIMARY KEY,
                        document TEXT NOT NULL,
                        trusted_at TEXT NOT NULL
                    );
                    """)
        }
        m.registerMigration("0011-partner-figures") { db in
            // Figures published by partners that run no node, for mirror statistics.
            try db.execute(
                sql: """
                    CREATE TABLE partner_figure (
                        reporter TEXT NOT NULL,
                        flow TEXT NOT NULL,
                        counterpart TEXT NOT NULL,
                        period TEXT NOT NULL,
                        value REAL NOT NULL,
                        source TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        loaded_at TEXT NOT NULL,
                        PRIMARY KEY (reporter, flow, counterpart, period)
                    );
                    """)
        }
        m.registerMigration("0012-reintegration") { db in
            // Reintegration cases (details sealed), their timeline (notes sealed), partner organisations
            // and referrals. Every case and referral carries a version, checked by each update.
            try db.execute(sql: CaseSchema.sqlite)
        }
        m.registerMigration("0013-case-records") { db in
            // What cases accumulate: surveys administered (answers sealed, scores clear), grants.
            try db.execute(sql: CaseSchema.sqliteRecords)
        }
        m.registerMigration("0014-incoming-referrals") { db in
            // Referrals other nodes made to partners working on this node (fields sealed).
            try db.execute(sql: IncomingReferralRows.sqliteSchema)
        }
        m.registerMigration("0015-cross-border-links") { db in
            // Links found by a linkage unit between this node's events and other nodes' records.
            try db.execute(sql: CrossBorderLinkRows.sqliteSchema)
        }
        m.registerMigration("0016-linkage-unit") { db in
            // What a linkage unit keeps: parties' encodings until matched, results until replaced.
            try db.execute(sql: LinkageUnitPackage.schema)
        }
        return m
    }
}
