/// Which stored copy of a record counts, in SQL both stores run.
///
/// Every accepted row is stored; `movement_event.counted` says whether it counts. At most one row per
/// `(agency, record_key)` counts (a partial unique index), and once a record has a row in a committed
/// batch, the counted row is a committed one. A batch's cells are always the sums of its counted rows:
/// whenever a row stops or starts counting, its cell is added with the sign of the change (so a
/// batch's cells may repeat a key, with negative counts), and the committed batch's revision grows.
/// (A row whose personal fields were erased counts as one without a document when it changes.)
///
/// The statements use two work tables of row ids, `counted_on` (rows that start counting) and
/// `counted_off` (rows that stop), each with columns `row_id` and `batch_id`; a store creates them as
/// temporary tables for its transaction. Batch ids are integers the store chose, never input.
public enum CountedRecords {
    /// The work tables' columns.
    public static let workTableColumns = "(row_id BIGINT PRIMARY KEY, batch_id BIGINT NOT NULL)"

    /// Rows of `batch` that take over their record when it commits: per record, its first row that does
    /// not count yet, where no committed batch (nor `batch` itself) counts the record. In `replace`
    /// mode, every record `batch` holds a non-counting row of, unless `batch` already counts it.
    public static func collectTakeovers(batch: Int64, replace: Bool) -> String {
        let countedElsewhere =
            replace ? "c.import_id = \(batch)" : "(cb.status = 'committed' OR c.import_id = \(batch))"
        return """
            INSERT INTO counted_on (row_id, batch_id)
            SELECT MIN(e.id), \(batch) FROM movement_event e
            WHERE e.import_id = \(batch) AND e.counted = 0
            AND NOT EXISTS (SELECT 1 FROM movement_event c JOIN import_batch cb ON cb.id = c.import_id
                            WHERE c.agency = e.agency AND c.record_key = e.record_key AND c.counted = 1 AND \(countedElsewhere))
            GROUP BY e.agency, e.record_key
            """
    }

    /// The rows now counting the records of `counted_on`, in other batches: they stop counting.
    public static let collectDisplaced = """
        INSERT INTO counted_off (row_id, batch_id)
        SELECT c.id, c.import_id FROM counted_on t JOIN movement_event n ON n.id = t.row_id
        JOIN movement_event c ON c.agency = n.agency AND c.record_key = n.record_key AND c.counted = 1 AND c.id <> n.id
        """

    /// For each record `batch` counts, the row that counts in its place when `batch` goes: a
    /// non-counting copy in another live batch, committed batches first; among them the latest
    /// correction (`replace` batch), else the earliest batch.
    public static func collectSuccessors(of batch: Int64) -> String {
        """
        INSERT INTO counted_on (row_id, batch_id)
        SELECT id, import_id FROM (
            SELECT u.id, u.import_id, ROW_NUMBER() OVER (
                PARTITION BY u.agency, u.record_key
                ORDER BY CASE WHEN ub.status = 'committed' THEN 0 ELSE 1 END,
                         CASE WHEN ub.mode = 'replace' THEN 0 ELSE 1 END,
                         CASE WHEN ub.mode = 'replace' THEN -u.import_id ELSE u.import_id END, u.id) AS choice
            FROM movement_event u JOIN import_batch ub ON ub.id = u.import_id
            WHERE u.counted = 0 AND u.import_id <> \(batch) AND ub.status IN ('pending', 'committed')
            AND EXISTS (SELECT 1 FROM movement_event a
                        WHERE a.agency = u.agency AND a.record_key = u.record_key AND a.counted = 1 AND a.import_id = \(batch))
        ) ranked WHERE choice = 1
        """
    }

    /// Sets `counted` on the rows in `table`.
    public static func setCounted(_ table: String, _ counted: Bool) -> String {
        "UPDATE movement_event SET counted = \(counted ? 1 : 0) WHERE id IN (SELECT row_id FROM \(table))"
    }

    /// A row that stops counting leaves its person; person figures wait for the next link run.
    public static let unlinkDisplaced = "DELETE FROM person_link WHERE event_id IN (SELECT row_id FROM counted_off)"

    /// Committed batches whose counted rows change get a new revision.
    public static func reviseBatches(_ table: String) -> String {
        "UPDATE import_batch SET revision = revision + 1 WHERE status = 'committed' AND id IN (SELECT batch_id FROM \(table))"
    }

    /// Moves counting from the rows of `counted_off` to those of `counted_on`, revisions following: the
    /// statements to run, in order, once both tables are filled. The store changes the cells itself, with
    /// a `CellAccumulator` over the opened rows (SQL cannot see a sealed document), before or after: they
    /// follow the rows, whichever flag they hold.
    public static let switchCounting: [String] = [
        setCounted("counted_off", false),
        unlinkDisplaced,
        reviseBatches("counted_off"),
        setCounted("counted_on", true),
        reviseBatches("counted_on"),
    ]

    /// The rows of a work table, as `EventColumns.readColumns`, for the store to open and count by cell.
    public static func rows(of table: String) -> String {
        "SELECT " + EventColumns.readColumns.map { "e." + $0 }.joined(separator: ", ")
            + " FROM \(table) t JOIN movement_event e ON e.id = t.row_id"
    }
}
