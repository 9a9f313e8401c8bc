"""DuckDB runs Puente's statistics query mix (written by `puente bench stats --mix-out`) over the same
events, exported from Puente's store as one row per event with its statistical columns. Reports the
median and 99th percentile latency the same way as Puente's benchmark."""
import csv
import glob
import json
import resource
import sys
import time

import duckdb

events_csv, mix_json, divisions_dir, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
started = time.perf_counter()
con.execute("CREATE TABLE events AS SELECT * FROM read_csv(?, header = true)", [events_csv])
load = time.perf_counter() - started
con.execute("CREATE TABLE division_department (division VARCHAR, department VARCHAR)")
for path in glob.glob(f"{divisions_dir}/*_municipios*.csv"):
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if "muni_code" in row:
                country = row["iso_3166_2_dept"][:2]
                con.execute("INSERT INTO division_department VALUES (?, ?)", [f"{country}-{row['muni_code']}", row["iso_3166_2_dept"]])
mix = json.load(open(mix_json))
latencies = []
for _ in range(rounds):
    for query in mix:
        t = time.perf_counter()
        con.execute(query["sql"]).fetchall()
        latencies.append((time.perf_counter() - t) * 1000)
latencies.sort()
def percentile(p):
    import math
    return latencies[min(len(latencies) - 1, math.ceil(len(latencies) * p) - 1)]
rows = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"duckdb {duckdb.__version__}: {len(mix)} queries × {rounds} rounds over {rows} events (loaded in {load:.1f} s): "
      f"median {percentile(0.5):.2f} ms, p99 {percentile(0.99):.2f} ms, max {latencies[-1]:.2f} ms, peak memory {peak:.0f} MB")
