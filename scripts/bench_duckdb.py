"""DuckDB's read_csv of the benchmark file into a table, for comparison with `puente bench ingest`.
DuckDB only parses and stores here: no profile, no harmonisation, no quarantine, no duplicate check."""
import resource
import sys
import time

import duckdb

path = sys.argv[1]
con = duckdb.connect("/tmp/puente-bench/duck.db" if len(sys.argv) < 3 else sys.argv[2])
con.execute("DROP TABLE IF EXISTS movements")
started = time.perf_counter()
con.execute("CREATE TABLE movements AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [path])
seconds = time.perf_counter() - started
rows = con.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"duckdb {duckdb.__version__} read_csv: {rows} rows in {seconds:.2f} s = {rows / seconds:.0f} rows/s, peak memory {peak:.0f} MB")
