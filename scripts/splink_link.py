#!/usr/bin/env python3
"""Link a linkage corpus (records.csv, left.csv, right.csv) with Splink on DuckDB.

Runs a Fellegi-Sunter model set up like `puente link` with the linkage-corpus configs (same fields,
comparable levels and blocking passes, u from random pairs, m by EM, term-frequency adjustments on
names), so both tools can be scored side by side with scripts/link_score.py.

  splink_link.py CORPUS_DIR --mode dedupe --passes 3 --out OUT_DIR   # OUT_DIR/splink-clusters.csv
  splink_link.py CORPUS_DIR --mode link --passes 8 --out OUT_DIR     # OUT_DIR/splink-pairs.csv
  (link: both files clustered together, every left-right pair of a cluster, as `puente link pair`)
  options: --threshold P (match probability to link, default 0.9), --memory-limit 8GB (DuckDB's cap;
           its default is 80% of RAM, which it fills before spilling), --verbose (Splink's own log)

Prints one line: mode, passes, records, pairs at the threshold, wall seconds, peak memory, Splink version.
Needs the packages pinned in tests/requirements-linkage.txt (venv: .venv-linkage).
"""
import argparse
import logging
import os
import resource
import shutil
import sys
import time

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# Estimated share of true pairs that the deterministic rules below find; sets the prior only.
DETERMINISTIC_RECALL = 0.7
U_MAX_PAIRS = 1e7
SEED = 42

# Splink compares columns as they are, so the normalisation Puente applies (case, accents,
# punctuation, empty = missing) is done here, in DuckDB SQL, before Splink sees the data.
MACROS = r"""
CREATE OR REPLACE MACRO clean_text(x) AS nullif(trim(regexp_replace(regexp_replace(
    lower(strip_accents(coalesce(x, ''))), '[^a-z ]', ' ', 'g'), ' +', ' ', 'g')), '');
CREATE OR REPLACE MACRO clean_code(x) AS nullif(upper(regexp_replace(coalesce(x, ''), '[^0-9A-Za-z]', '', 'g')), '');
CREATE OR REPLACE MACRO drop_particles(x) AS
    clean_text(regexp_replace(coalesce(x, ''), '\b(de|del|la|las|los|y)\b', ' ', 'g'));
"""


def phonetic_sql(word):
    """SQL for a Spanish soundex-like key of one lower-case, accent-free word.

    DuckDB has neither soundex nor dmetaphone, and a plain prefix misses Spanish spelling variants
    (Vásquez/Vázquez, Yesenia/Llesenia, Hernández/Ernández), so the key is built from regex rewrites:
    ge/gi -> je/ji, gue/gui -> ge/gi, qu -> k, ce/ci -> se/si, ch kept, other c -> k, z -> s, v/w -> b,
    ll -> y, silent h dropped, then vowels after the first letter and doubled letters dropped.
    Vásquez and Vázquez -> bsks, Hernández and Ernández -> ernds, Yesenia and Llesenia -> ysn.
    """
    s = f"coalesce({word}, '')"
    for pattern, replacement in [
        ("g([ei])", "j\\1"), ("gu([ei])", "g\\1"), ("qu", "k"), ("c([ei])", "s\\1"), ("ch", "X"),
        ("c", "k"), ("z", "s"), ("[vw]", "b"), ("ll", "y"), ("h", ""), ("X", "ch"),
    ]:
        s = f"regexp_replace({s}, '{pattern}', '{replacement}', 'g')"
    s = f"(left({s}, 1) || regexp_replace(substr({s}, 2), '[aeiou]', '', 'g'))"
    # DuckDB's regex engine (RE2) has no back-references, so doubled letters are listed.
    for letter in "bdfgjklmnprst":
        s = f"replace({s}, '{letter * 2}', '{letter}')"
    return f"nullif({s}, '')"


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def scalar(con, sql):
    # fetchall, not fetchone: DuckDB refuses further work on a connection with an unfinished result.
    return con.execute(sql).fetchall()[0][0]


def prepare_table(con, csv_path, table):
    """Loads one corpus CSV (all columns as text) and adds the derived columns Splink compares on."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE raw_{table} AS
        SELECT * FROM read_csv({sql_string(csv_path)}, header = true, delim = ',', all_varchar = true, quote = '"', escape = '"')
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE base_{table} AS
        SELECT
            record_id,
            clean_text(given_names) AS given_names,
            clean_text(first_surname) AS first_surname,
            clean_text(second_surname) AS second_surname,
            nullif(trim(birth_date), '') AS birth_date,
            clean_code(sex) AS sex,
            clean_code(document_number) AS document_number,
            clean_code(municipality) AS municipality
        FROM raw_{table}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH named AS (
            SELECT *,
                split_part(given_names, ' ', 1) AS given_first,
                -- Both surnames as one string: records that typed both in first_surname (second empty)
                -- then agree exactly with records that split them.
                nullif(concat_ws(' ', first_surname, second_surname), '') AS surnames,
                -- The paternal surname without particles, even when both were typed in one field.
                split_part(drop_particles(first_surname), ' ', 1) AS surname_main
            FROM base_{table}
        )
        SELECT *,
            left(given_names, 1) AS given_initial,
            {phonetic_sql("given_first")} AS given_key,
            {phonetic_sql("nullif(surname_main, '')")} AS surname_key
        FROM named
    """)
    con.execute(f"DROP TABLE raw_{table}")
    con.execute(f"DROP TABLE base_{table}")
    return scalar(con, f"SELECT count(*) FROM {table}")


def comparisons():
    surnames = cl.CustomComparison(
        output_column_name="surnames",
        comparison_description="Surnames: exact, swapped, close, paternal surname shared, similar",
        comparison_levels=[
            cll.NullLevel("surnames"),
            cll.ExactMatchLevel("surnames").configure(tf_adjustment_column="surnames"),
            cll.ColumnsReversedLevel("first_surname", "second_surname", symmetrical=True),
            cll.JaroWinklerLevel("surnames", 0.92),
            # Shared paternal surname: a missing or changed second surname (married name).
            cll.ExactMatchLevel("surname_main").configure(
                tf_adjustment_column="surname_main", label_for_charts="Paternal surname equal"
            ),
            cll.JaroWinklerLevel("surnames", 0.80),
            cll.ElseLevel(),
        ],
    )
    return [
        # Exact (with term frequencies) / Jaro-Winkler >= 0.92 / >= 0.80 / else.
        cl.NameComparison("given_names", jaro_winkler_thresholds=[0.92, 0.80]),
        surnames,
        # Exact / Levenshtein <= 1 on the string (one mistyped digit) / within 1 month / 1 year
        # (day-month swaps, a mistyped year) / 10 years / else: Splink's default date-of-birth levels.
        cl.DateOfBirthComparison("birth_date", input_is_string=True, datetime_format="%Y-%m-%d"),
        cl.ExactMatch("sex"),
        cl.LevenshteinAtThresholds("document_number", 1),
        cl.ExactMatch("municipality"),
    ]


def blocking_rules(passes):
    rules = [
        block_on("birth_date", "given_initial"),
        block_on("surname_key", "given_key"),  # the soundex-like keys of phonetic_sql
        block_on("document_number"),
    ]
    if passes == 8:
        # The five extra passes of the linkage-corpus-8 config: names typed in the wrong field or
        # changed, a missing or mistyped birth date, a changed second surname.
        rules += [
            block_on("birth_date", "municipality"),
            block_on("birth_date", "sex"),
            block_on("given_names", "surname_main"),
            block_on("given_first", "municipality"),
            block_on("given_initial", "surnames"),
        ]
    return rules


def peak_memory_mb():
    # ru_maxrss is in KiB on Linux; DuckDB runs in this process, children are counted for completeness.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def copy_to_csv(con, sql, path):
    con.execute(f"COPY ({sql}) TO {sql_string(path)} (HEADER, DELIMITER ',')")


def main():
    parser = argparse.ArgumentParser(description="Splink (DuckDB) on a linkage corpus.")
    parser.add_argument("corpus", help="folder with records.csv, left.csv and right.csv")
    parser.add_argument("--mode", choices=["dedupe", "link"], required=True)
    parser.add_argument("--passes", type=int, choices=[3, 8], required=True)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--threshold", type=float, default=0.9, help="match probability to link")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 8GB (default: DuckDB's, 80%% of RAM)")
    parser.add_argument("--verbose", action="store_true", help="show Splink's own log")
    args = parser.parse_args()

    started = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    con = duckdb.connect()
    # DuckDB fills memory up to its limit before spilling; spills go beside the output, not to the cwd.
    spill_dir = os.path.join(args.out, "duckdb-spill")
    con.execute(f"SET temp_directory = {sql_string(spill_dir)}")
    if args.memory_limit:
        con.execute(f"SET memory_limit = {sql_string(args.memory_limit)}")
    con.execute(MACROS)
    db_api = DuckDBAPI(connection=con)

    if args.mode == "dedupe":
        records = prepare_table(con, os.path.join(args.corpus, "records.csv"), "records")
        inputs = [db_api.register("records", dataset_display_name="records")]
        link_type = "dedupe_only"
    else:
        records = prepare_table(con, os.path.join(args.corpus, "left.csv"), "left_records")
        records += prepare_table(con, os.path.join(args.corpus, "right.csv"), "right_records")
        inputs = [
            db_api.register("left_records", dataset_display_name="left"),
            db_api.register("right_records", dataset_display_name="right"),
        ]
        # As `puente link pair`: both files' records clustered together, every left-right pair of a
        # cluster a link (link_only would compare across the files alone).
        link_type = "link_and_dedupe"

    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(args.passes),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(inputs, settings, log_level=logging.INFO if args.verbose else logging.WARNING)

    # Prior from rules that admit almost no false links, scaled up by their assumed recall.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_names", "surnames", "birth_date"), block_on("document_number", "birth_date")],
        recall=DETERMINISTIC_RECALL,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    # EM (u fixed) on two blocking rules, as Splink's tutorials do: each rule leaves out the
    # comparisons it blocks on, and between them every comparison gets an m estimate.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_names", "surnames"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))

    predictions = linker.inference.predict(threshold_match_probability=args.threshold)
    pairs = scalar(con, f"SELECT count(*) FROM {predictions.physical_name}")

    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold
    )
    if args.mode == "dedupe":
        copy_to_csv(con, f"SELECT record_id, cluster_id FROM {clusters.physical_name} ORDER BY cluster_id, record_id",
                    os.path.join(args.out, "splink-clusters.csv"))
    else:
        # Each left-right pair of a cluster, with the pair's own probability where Splink scored it.
        # Splink puts a pair's records in its own order of source datasets; orient by the dataset name.
        copy_to_csv(con, f"""
            WITH scored AS (
                SELECT
                    CASE WHEN source_dataset_l = 'left' THEN record_id_l ELSE record_id_r END AS id_l,
                    CASE WHEN source_dataset_l = 'left' THEN record_id_r ELSE record_id_l END AS id_r,
                    match_probability
                FROM {predictions.physical_name}
                WHERE source_dataset_l <> source_dataset_r
            )
            SELECT l.record_id AS id_l, r.record_id AS id_r, round(s.match_probability, 6) AS match_probability
            FROM {clusters.physical_name} l
            JOIN {clusters.physical_name} r ON l.cluster_id = r.cluster_id
            LEFT JOIN scored s ON s.id_l = l.record_id AND s.id_r = r.record_id
            WHERE l.source_dataset = 'left' AND r.source_dataset = 'right'
            ORDER BY match_probability DESC NULLS LAST, id_l, id_r
        """, os.path.join(args.out, "splink-pairs.csv"))

    con.close()
    shutil.rmtree(spill_dir, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"splink mode={args.mode} passes={args.passes} records={records} pairs={pairs} "
          f"seconds={seconds:.1f} peak_mb={peak_memory_mb():.0f} splink={splink.__version__}")


if __name__ == "__main__":
    sys.exit(main())
