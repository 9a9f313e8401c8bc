"""Scans files (database files, dumps, logs) for the clear names and document numbers of generated people.

Usage: scan_clear_text.py PERSONS_CSV CONTROL_FILE FILE...

PERSONS_CSV is the generator's truth/persons.csv. CONTROL_FILE is a file known to hold the people in
clear (an agency export): the scan must find them there, so a scan that finds nothing elsewhere means
something. Exits 1 when any FILE holds a person's name (two consecutive words: first given name and
first surname, or both surnames) or a document number.
"""
import csv
import re
import sys
import unicodedata

WORD = re.compile(r"[^\W\d_]+")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{4,}")


def folded(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


def needles(persons_csv):
    names, documents = set(), set()
    with open(persons_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            given = row["given_names"].split()
            for pair in ((given[0] if given else "", row["first_surname"]), (row["first_surname"], row["second_surname"])):
                if all(len(w) >= 3 for w in pair):
                    names.add(folded(" ".join(pair)))
            for document in (row["national_id"], row["passport"]):
                if len(document) >= 6:
                    documents.add(document)
    return names, documents


def hits(path, names, documents):
    with open(path, "rb") as f:
        data = f.read()
    found = 0
    for text in {data.decode("utf-8", errors="ignore"), data.decode("latin-1")}:
        words = [folded(w) for w in WORD.findall(text)]
        found += sum(1 for a, b in zip(words, words[1:]) if f"{a} {b}" in names)
        found += sum(1 for t in TOKEN.findall(text) if t in documents)
    return found


def main():
    persons, control, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    names, documents = needles(persons)
    in_control = hits(control, names, documents)
    if in_control < 100:
        print(f"scan is blind: only {in_control} known values found in the control file {control}")
        return 1
    failed = False
    for path in files:
        # Report how many, never which: the values are personal data.
        n = hits(path, names, documents)
        print(f"{path}: {n} clear names or document numbers")
        failed |= n > 0
    print(f"control {control}: {in_control} found, as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
