#!/usr/bin/env python3
"""Pairwise precision, recall and F1 of a linkage run against a truth file.

Scores any tool's output the same way, so runs can be compared side by side.

  link_score.py TRUTH.csv --clusters FILE                         # dedupe: record_id,cluster_id
  link_score.py TRUTH.csv --pairs FILE --left L.csv --right R.csv # link: id_l,id_r,match_probability,...
  options: --label TEXT, --json (one line: label, mode, precision, recall, f1, tp, fp, fn),
           --threshold P (pairs only: keep rows with match_probability >= P; default keeps all)

TRUTH.csv has record_id and person_id columns (others are ignored). Dedupe: a true pair is two records
of one person, a predicted pair two records of one cluster. Link: a true pair is a record of left.csv and
a record of right.csv of one person. With no predicted pairs precision is 1.0, with no true pairs recall
is 1.0 (as scripts/link-accuracy does). Standard library only.
"""
import argparse
import csv
import json
import sys
from collections import Counter


def pairs_in(n):
    return n * (n - 1) // 2


def open_csv(path):
    # utf-8-sig: a byte order mark left by a spreadsheet must not rename the first column.
    return open(path, newline="", encoding="utf-8-sig")


def column_indexes(path, header, names):
    missing = [n for n in names if n not in header]
    if missing:
        sys.exit(f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
    return [header.index(n) for n in names]


def read_truth(path):
    with open_csv(path) as f:
        rows = csv.reader(f)
        rid, pid = column_indexes(path, next(rows), ["record_id", "person_id"])
        return {row[rid]: row[pid] for row in rows if row}


def read_ids(path):
    with open_csv(path) as f:
        rows = csv.reader(f)
        (rid,) = column_indexes(path, next(rows), ["record_id"])
        return [row[rid] for row in rows if row]


def warn(message):
    print(f"link_score: {message}", file=sys.stderr)


def score_clusters(person_of, path):
    # Counters only: pairs within a group of n are n(n-1)/2, so no pair is ever enumerated.
    cluster_sizes, cell_sizes = Counter(), Counter()
    seen = set()
    unknown = 0
    with open_csv(path) as f:
        rows = csv.reader(f)
        rid, cid = column_indexes(path, next(rows), ["record_id", "cluster_id"])
        for row in rows:
            if not row:
                continue
            record, cluster = row[rid], row[cid]
            if record in seen:
                sys.exit(f"{path}: record {record} appears twice")
            seen.add(record)
            person = person_of.get(record)
            if person is None:
                unknown += 1
                person = ("unknown", record)  # its own person: every pair it is in is a false link
            cluster_sizes[cluster] += 1
            cell_sizes[(cluster, person)] += 1
    if unknown:
        warn(f"{unknown} record(s) of {path} are not in the truth file")
    missing = len(person_of) - (len(seen) - unknown)
    if missing:
        warn(f"{missing} record(s) of the truth file are not in {path} (counted as unlinked)")
    tp = sum(pairs_in(n) for n in cell_sizes.values())
    predicted = sum(pairs_in(n) for n in cluster_sizes.values())
    true = sum(pairs_in(n) for n in Counter(person_of.values()).values())
    return tp, predicted - tp, true - tp


def score_pairs(person_of, path, left_path, right_path, threshold):
    left, right = set(read_ids(left_path)), set(read_ids(right_path))
    left_per_person = Counter(person_of.get(r) for r in left)
    right_per_person = Counter(person_of.get(r) for r in right)
    left_per_person.pop(None, None)
    right_per_person.pop(None, None)
    true = sum(n * right_per_person[p] for p, n in left_per_person.items())

    predicted = set()
    reversed_rows = not_cross = 0
    with open_csv(path) as f:
        rows = csv.reader(f)
        header = next(rows)
        il, ir = column_indexes(path, header, ["id_l", "id_r"])
        ip = column_indexes(path, header, ["match_probability"])[0] if threshold is not None else None
        for row in rows:
            if not row or (ip is not None and float(row[ip]) < threshold):
                continue
            a, b = row[il], row[ir]
            if a in right and b in left:
                a, b = b, a  # a tool that writes right before left still names the same pair
                reversed_rows += 1
            elif not (a in left and b in right):
                not_cross += 1
            predicted.add((a, b))
    if reversed_rows:
        warn(f"{reversed_rows} row(s) of {path} had id_l from the right file (swapped)")
    if not_cross:
        warn(f"{not_cross} row(s) of {path} are not a left-right pair (counted as false links)")

    tp = 0
    for a, b in predicted:
        person = person_of.get(a)
        if person is not None and a in left and b in right and person == person_of.get(b):
            tp += 1
    return tp, len(predicted) - tp, true - tp


def main():
    parser = argparse.ArgumentParser(description="Pairwise precision, recall and F1 of a linkage run.")
    parser.add_argument("truth", help="truth CSV with record_id and person_id")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--clusters", help="dedupe output: record_id,cluster_id")
    mode.add_argument("--pairs", help="link output: id_l,id_r,match_probability,...")
    parser.add_argument("--left", help="left.csv (with --pairs)")
    parser.add_argument("--right", help="right.csv (with --pairs)")
    parser.add_argument("--threshold", type=float, help="with --pairs: keep rows with match_probability >= this")
    parser.add_argument("--label", default="", help="name of the run, repeated in the output")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    if args.pairs and not (args.left and args.right):
        parser.error("--pairs needs --left and --right")

    person_of = read_truth(args.truth)
    if args.clusters:
        mode_name = "dedupe"
        tp, fp, fn = score_clusters(person_of, args.clusters)
    else:
        mode_name = "link"
        tp, fp, fn = score_pairs(person_of, args.pairs, args.left, args.right, args.threshold)

    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if args.json:
        print(json.dumps({"label": args.label, "mode": mode_name, "precision": round(precision, 6),
                          "recall": round(recall, 6), "f1": round(f1, 6), "tp": tp, "fp": fp, "fn": fn}))
    else:
        name = f"{args.label} " if args.label else ""
        print(f"{name}{mode_name}: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f} "
              f"(TP {tp}, FP {fp}, FN {fn})")


if __name__ == "__main__":
    main()
