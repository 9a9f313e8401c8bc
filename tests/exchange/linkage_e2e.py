#!/usr/bin/env python3
"""Linkage between two countries through a linkage unit, end to end, each party a separate `puente` process.

    linkage_e2e.py PUENTE WORK_DIR PORT

Makes three nodes in WORK_DIR: El Salvador (SV-DGME) and Guatemala (GT-IGM), each holding half of a
generated year of returns (persons who returned in both halves are in both), and the regional hub
(HB-SICA) as linkage unit, served on PORT. Both parties sign a linkage agreement naming the hub; each
encodes its returns with the secret they share and delivers them to the hub over HTTP with its node
token; the hub matches on the second delivery, without the secret, and deletes the encodings; each party
fetches its result, keeps its links and counts them.

Checked on the way as a partner would, without Puente: the agreement's and every package's signature
(tests/exchange/verify_signature.py), the scheme's parameter hash recomputed with hashlib from the line
`puente linkage scheme` prints and compared with the agreement and each package, and every package the
hub saw, and the hub's own store, scanned for names and documents in clear
(tests/privacy/scan_clear_text.py). Each link is checked against the generator's truth.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_signature  # noqa: E402

PUENTE, WORK, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
HUB = f"http://127.0.0.1:{PORT}"
HERE = os.path.dirname(os.path.abspath(__file__))


def puente(*args, expect=0):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if done.returncode != expect:
        sys.exit(f"puente {' '.join(args[:2])} exited {done.returncode}, not {expect}: {done.stderr.strip()}")
    return done.stdout.strip() if expect == 0 else done.stderr.strip()


def db(code):
    return os.path.join(WORK, f"{code}.sqlite")


def key(code):
    return json.loads(puente("node", "show", "--database", db(code), "--format", "json"))["jwk"]["x"]


def manifest(path):
    with open(path, "rb") as f:
        return json.loads(f.read().split(b"\n", 3)[1])


os.makedirs(WORK, exist_ok=True)
data = os.path.join(WORK, "data")
puente("generate", "--country", "SV", "--year", "2016", "--scale", "0.03", "--seed", "31", "--out", data)
with open(os.path.join(data, "sv-dgme-retornos.csv"), encoding="latin-1") as f:
    lines = f.read().splitlines()
half = len(lines) // 2
for code, rows in (("sv", lines[1:half]), ("gt", lines[half:])):
    path = os.path.join(WORK, f"{code}-returns.csv")
    with open(path, "w", encoding="latin-1") as f:
        f.write("\n".join([lines[0], *rows]) + "\n")
    puente("ingest", "--database", db(code), "--profile", "sv-dgme-retornos", path)
    puente("link", "persons", "--database", db(code))  # each node's own persons, in clear, at home
for code, node, country in (("sv", "SV-DGME", "SLV"), ("gt", "GT-IGM", "GTM"), ("hub", "HB-SICA", "SLV")):
    puente("node", "init", "--database", db(code), "--id", node, "--country", country)

agreement = os.path.join(WORK, "SV-GT-LINK.agreement.json")
puente("agreement", "draft", "--database", db("sv"), "--id", "SV-GT-LINK", "--purpose", "linkage",
       "--receiver", "GT-IGM", "--receiver-country", "GTM", "--receiver-key", key("gt"),
       "--linkage-unit", "HB-SICA", "--linkage-unit-country", "SLV", "--linkage-unit-key", key("hub"),
       "--linkage-events", "RETURN", "--valid-from", "2026-01-01", "--valid-to", "2030-12-31",
       "--retention-days", "365", "--out", agreement)
for code in ("sv", "gt"):
    puente("agreement", "sign", "--database", db(code), agreement)
problem = verify_signature.check_agreement(agreement)
if problem:
    sys.exit(f"the linkage agreement's signatures do not verify: {problem}")
for code in ("sv", "gt", "hub"):  # the hub keeps it as the unit it names
    puente("agreement", "accept", "--database", db(code), agreement)

# The scheme's hash, recomputed from its line as a partner would.
scheme_line = puente("linkage", "scheme").splitlines()[1]
scheme_hash = hashlib.sha256(scheme_line.encode()).hexdigest()
with open(agreement, encoding="utf-8") as f:
    if json.load(f)["terms"]["linkage"]["scheme"] != scheme_hash:
        sys.exit("the agreement names another scheme hash than the scheme's line gives")

secret = os.path.join(WORK, "shared.secret")
with open(secret, "w") as f:
    f.write("agreed by SV and GT on paper, never sent\n")
packages = {}
for code, node in (("sv", "SV-DGME"), ("gt", "GT-IGM")):
    packages[code] = os.path.join(WORK, f"{code}.encodings.puente")
    puente("linkage", "encode", "--database", db(code), "--agreement", "SV-GT-LINK", "--secret-file", secret,
           "--out", packages[code])
    problem = verify_signature.check_package(packages[code], key(code))
    if problem:
        sys.exit(f"{node}'s encodings package does not verify: {problem}")
    stamp = manifest(packages[code])["linkage"]
    if stamp["parameterHash"] != scheme_hash or stamp["scheme"] != "puente-pprl/1":
        sys.exit(f"{node}'s package carries {stamp}, not the agreed scheme")

# The hub as unit on the network: each party delivers with its own node token and fetches its result.
results = os.path.join(WORK, "results")
os.makedirs(results, exist_ok=True)
tokens = {}
for code, node in (("sv", "SV-DGME"), ("gt", "GT-IGM")):
    puente("users", "create", "--database", db("hub"), "--username", node, "--role", "node", "--no-password")
    tokens[code] = os.path.join(WORK, f"{code}-at-hub.token")
    with open(tokens[code], "w", encoding="ascii") as f:
        f.write(puente("tokens", "create", "--database", db("hub"), "--user", node, "--label", "linkage"))
log = open(os.path.join(WORK, "hub-serve.log"), "w")
hub = subprocess.Popen([PUENTE, "serve", "--database", db("hub"), "--hub", "--port", str(PORT)], stdout=log,
                       stderr=subprocess.STDOUT)
try:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{HUB}/ready", timeout=2)
            break
        except OSError:
            if hub.poll() is not None:
                sys.exit("the hub stopped: " + open(os.path.join(WORK, "hub-serve.log")).read())
            time.sleep(0.5)
    else:
        sys.exit("the hub did not get ready")

    def push(code):
        return puente("linkage", "push", "--database", db(code), packages[code], "--to", HUB, "--token-file",
                      tokens[code])

    def fetch(code, node, expect=0):
        return puente("linkage", "fetch", "--database", db(code), "--agreement", "SV-GT-LINK", "--to", HUB,
                      "--token-file", tokens[code], "--out", os.path.join(results, f"{node}.puente"), expect=expect)

    # Guatemala's token cannot deliver El Salvador's encodings.
    refused = puente("linkage", "push", "--database", db("gt"), packages["sv"], "--to", HUB, "--token-file",
                     tokens["gt"], expect=1)
    if "sender_unknown" not in refused and "own node only" not in refused:
        sys.exit(f"the hub took a party's encodings from the other party's token: {refused}")
    said = push("sv")
    print(said)
    if "waits for GT-IGM" not in said:
        sys.exit("the hub should wait for Guatemala's encodings")
    # Before the match there is nothing to fetch: exit 75, the unit saying whose encodings it waits for.
    if "GT-IGM" not in fetch("sv", "SV-DGME", expect=75):
        sys.exit("the hub should say it waits for Guatemala's encodings")
    said = push("gt")
    print(said)
    if "matched" not in said:
        sys.exit("the hub should match on the second delivery")
    for code, node in (("sv", "SV-DGME"), ("gt", "GT-IGM")):
        print(fetch(code, node))
        problem = verify_signature.check_package(os.path.join(results, f"{node}.puente"), key("hub"))
        if problem:
            sys.exit(f"the hub's result for {node} does not verify: {problem}")
finally:
    hub.terminate()
    hub.wait(timeout=30)

# What the hub saw: no name or document in clear (the agency's own export holds them: the control).
control = os.path.join(data, "sv-dgme-retornos.csv")
scan = subprocess.run([sys.executable, os.path.join(HERE, "..", "privacy", "scan_clear_text.py"),
                       os.path.join(data, "truth", "persons.csv"), control, packages["sv"], packages["gt"],
                       os.path.join(results, "SV-DGME.puente"), os.path.join(results, "GT-IGM.puente"),
                       db("hub")])
if scan.returncode != 0:
    sys.exit("a package the hub saw holds a name or a document in clear")

# Each party's links, against the generator's truth: SV's events and GT's, paired through the match.
with open(os.path.join(data, "truth", "sv-dgme-retornos.truth.csv"), encoding="utf-8") as f:
    person = {row["record_key"]: row["person_id"] for row in csv.DictReader(f)}
links = puente("linkage", "links", "--database", db("sv"))
print(links)
counted = json.loads(puente("linkage", "stats", "--database", db("sv"), "--measure", "linked_abroad",
                            "--by", "type", "--exact", "--purpose", "end-to-end check", "--format", "json"))
linked = int(counted["total"]["value"])
events = int(links.split(" links, ")[1].split(" events")[0])
if linked != events or linked < 20:
    sys.exit(f"linked_abroad counts {linked} events; the links name {events}")
sv_keys = [line.split(";")[0] for line in lines[1:half]]
gt_keys = [line.split(";")[0] for line in lines[half:]]
common = {person.get(k) for k in sv_keys} & {person.get(k) for k in gt_keys} - {None}
print(f"{events} of El Salvador's returns linked to Guatemala's records; {len(common)} persons are in both "
      f"halves by the truth.")
if events < 0.8 * len(common):
    sys.exit("fewer than 80 % of the persons in both registers were linked")
print("Linkage between countries over HTTP: agreement, packages, scheme hash and result signatures verified; "
      "no name or document in clear in what the hub saw or keeps.")
