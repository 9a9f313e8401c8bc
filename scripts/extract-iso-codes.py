#!/usr/bin/env python3
"""Extracts the ISO 3166 code lists Puente ships from Debian's iso-codes package.

Run after upgrading iso-codes; the version is recorded in the output so every code carries its source.
Usage: scripts/extract-iso-codes.py Sources/PuenteReference/Data/iso
"""
import csv, json, subprocess, sys, os

out = sys.argv[1]
version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "iso-codes"], capture_output=True, text=True).stdout
src = "/usr/share/iso-codes/json"
c1 = json.load(open(f"{src}/iso_3166-1.json"))["3166-1"]
with open(os.path.join(out, "iso_3166-1.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["alpha_2", "alpha_3", "numeric", "name"])
    for c in sorted(c1, key=lambda c: c["alpha_3"]):
        w.writerow([c["alpha_2"], c["alpha_3"], c["numeric"], c.get("common_name", c["name"])])
c2 = json.load(open(f"{src}/iso_3166-2.json"))["3166-2"]
with open(os.path.join(out, "iso_3166-2.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["code", "name", "type", "parent"])
    for c in sorted(c2, key=lambda c: c["code"]):
        if c["code"][:2] in ("SV", "GT", "HN", "MX", "US", "NI", "CR", "BZ", "PA"):
            w.writerow([c["code"], c["name"], c["type"], c.get("parent", "")])
with open(os.path.join(out, "SOURCE"), "w") as f:
    f.write(f"Debian iso-codes {version}\n")
