#!/usr/bin/env python3
"""Extracts the ISO 3166 code lists Puente ships from Debian's iso-codes package.

Run after upgrading iso-codes; the version is recorded in the output so every code carries its source.
Usage: scripts/extract-iso-codes.py Sources/PuenteReference/Data/iso
"""
import csv, gettext, json, subprocess, sys, os

out = sys.argv[1]
version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "iso-codes"], capture_output=True, text=True).stdout
src = "/usr/share/iso-codes/json"
c1 = json.load(open(f"{src}/iso_3166-1.json"))["3166-1"]
# Spanish names from the package's own translations.
spanish = gettext.translation("iso_3166-1", "/usr/share/locale", ["es"]).gettext
with open(os.path.join(out, "iso_3166-1.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["alpha_2", "alpha_3", "numeric", "name", "name_es"])
    for c in sorted(c1, key=lambda c: c["alpha_3"]):
        name = c.get("common_name", c["name"])
        w.writerow([c["alpha_2"], c["alpha_3"], c["numeric"], name, spanish(name)])
c2 = json.load(open(f"{src}/iso_3166-2.json"))["3166-2"]
with open(os.path.join(out, "iso_3166-2.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["code", "name", "type", "parent"])
    for c in sorted(c2, key=lambda c: c["code"]):
        if c["code"][:2] in ("SV", "GT", "HN", "MX", "US", "NI", "CR", "BZ", "PA"):
            w.writerow([c["code"], c["name"], c["type"], c.get("parent", "")])
with open(os.path.join(out, "SOURCE"), "w") as f:
    f.write(f"Debian iso-codes {version}\n")
