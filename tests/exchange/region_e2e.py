"""A region end to end, as separate processes on loopback: three national nodes (SQLite each) and a hub
(PostgreSQL), set up with the commands their officers would use.

  region_e2e.py PUENTE POSTGRES_URL WORKDIR PORT [TLS_DIR]

With TLS_DIR (a folder holding a throwaway CA's `ca.pem` and a certificate `server.pem` with its key
`server.key` for 127.0.0.1, as scripts/test makes for its PostgreSQL), every connection of the region is
TLS and verified: the hub serves HTTPS, the nodes push trusting that CA alone (`PUENTE_EXCHANGE_CA`),
the checks below read the hub trusting it too, and the hub reaches PostgreSQL with `sslmode=verify-full`.

Generates a region with a known answer, signs an agreement between each node and the hub, delivers
El Salvador's and Honduras' packages over HTTP (`exchange push` to `serve --hub`) and Guatemala's as a
file (`exchange import`), then checks what the hub serves:
- its regional figures are each node's own published cells (same cell keys), added up;
- its mirror pairs match the generator's truth within the cell key's noise, and the border given a known
  undercount is the one flagged;
- a changed package, a repeated one and one under a revoked agreement are refused or acknowledged as such.
"""

import csv
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PUENTE, POSTGRES, WORK, PORT = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
TLS = Path(sys.argv[5]) if len(sys.argv) > 5 else None
HUB = f"{'https' if TLS else 'http'}://127.0.0.1:{PORT}"
if TLS:
    POSTGRES += f"?sslmode=verify-full&sslrootcert={TLS / 'ca.pem'}"
    os.environ["PUENTE_EXCHANGE_CA"] = str(TLS / "ca.pem")  # the nodes trust the region's CA, nothing else
    HUB_TLS = ["--tls-certificate", str(TLS / "server.pem"), "--tls-key", str(TLS / "server.key")]
    CONTEXT = ssl.create_default_context(cafile=str(TLS / "ca.pem"))
else:
    HUB_TLS, CONTEXT = [], None
NODES = [("SV", "SV-DGME", "SLV", "DGME"), ("GT", "GT-IGM", "GTM", "IGM"), ("HN", "HN-INM", "HND", "INM")]
HUB_DB = ["--database", POSTGRES, "--key-file", str(WORK / "hub.keys")]


def puente(*args, check=True):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"puente {' '.join(args[:3])} … failed ({done.returncode}): {done.stderr.strip()}")
    return done


def node_db(code):
    return ["--database", str(WORK / f"{code}.sqlite")]


def get(path):
    with urllib.request.urlopen(HUB + path, timeout=60, context=CONTEXT) as response:
        return json.loads(response.read())


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    data = WORK / "data"
    puente("generate", "--region", "--year", "2016", "--scale", "0.02", "--out", str(data))
    summary = json.loads((data / "truth" / "summary.json").read_text())

    puente("node", "init", *HUB_DB, "--id", "HB-SICA", "--country", "SLV")
    hub_x = json.loads(puente("node", "show", *HUB_DB, "--format", "json").stdout)["jwk"]["x"]
    tokens = {}
    for code, node, country, organisation in NODES:
        puente("node", "init", *node_db(code), "--id", node, "--country", country)
        for f in summary["countries"][code]["files"]:
            puente("ingest", *node_db(code), "--profile", f["profile"], str(data / code / f["file"]))
        shown = json.loads(puente("node", "show", *node_db(code), "--format", "json").stdout)
        agreement = WORK / f"{node}-agreement.json"
        puente(
            "agreement", "draft", *node_db(code), "--id", f"{node}-HUB", "--receiver", "HB-SICA",
            "--receiver-country", "SLV", "--receiver-key", hub_x, "--purpose", "mirror_statistics",
            "--measures", "returns,entries,exits", "--dimensions", "sex,returning_from,place,quarter",
            "--finest-geography", "country", "--finest-period", "quarter", "--valid-from", "2016-01-01",
            "--valid-to", "2030-12-31", "--retention-days", "1825", "--out", str(agreement))
        puente("agreement", "sign", *node_db(code), str(agreement))
        puente("agreement", "sign", *HUB_DB, str(agreement))
        puente("agreement", "accept", *node_db(code), str(agreement))
        puente("agreement", "accept", *HUB_DB, str(agreement))
        puente(
            "members", "add", *HUB_DB, "--registry", str(WORK / "registry.json"), "--node", node, "--country",
            country, "--organisation", organisation, "--kid", shown["kid"], "--key", shown["jwk"]["x"])
        puente("users", "create", *HUB_DB, "--username", node, "--role", "node", "--no-password")
        token = WORK / f"{node}.token"
        token.write_text(puente("tokens", "create", *HUB_DB, "--user", node, "--label", "push").stdout.strip())
        tokens[code] = token
    puente("mirror", "load", *HUB_DB, str(data / summary["partnerFigures"]))

    server = subprocess.Popen(
        [PUENTE, "serve", *HUB_DB, "--hub", "--public-statistics", "--port", str(PORT), *HUB_TLS],
        stdout=open(WORK / "hub-serve.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            try:
                get("/api/v1/regional/coverage")
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.5)
        else:
            raise SystemExit("the hub did not start: " + (WORK / "hub-serve.log").read_text())
        deliver(tokens)
        check_regional_figures()
        check_mirror(data)
        check_refusals(tokens)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("region end to end" + (" over TLS" if TLS else "")
          + ": three nodes and a hub agree, mirror pairs match the truth, refusals hold")


def deliver(tokens):
    for code, node, _, _ in NODES:
        package = WORK / f"{node}-2016-1.puente"
        puente("exchange", "export", *node_db(code), "--agreement", f"{node}-HUB", "--year", "2016",
               "--out", str(package))
        if code == "GT":  # an office without a network: the file travels, the hub imports it
            puente("exchange", "verify", *HUB_DB, str(package))
            puente("exchange", "import", *HUB_DB, str(package))
        else:
            puente("exchange", "push", *node_db(code), "--to", HUB, "--token-file", str(tokens[code]))
            listed = puente("exchange", "list", *node_db(code)).stdout
            assert "delivered" in listed and "not delivered" not in listed, listed


def check_regional_figures():
    regional = get("/api/v1/regional/stats?measure=returns&by=reporting_country,sex&filter=year:2016")
    assert sorted(regional["countries"]) == ["GTM", "HND", "SLV"], regional["countries"]
    for code, _, country, _ in NODES:
        own = json.loads(puente("stats", *node_db(code), "--measure", "returns", "--by", "sex",
                                "--filter", "year=2016", "--format", "json").stdout)
        for cell in own["cells"]:
            hub = next(c for c in regional["cells"] if c["key"] == [country, cell["key"][0]])
            assert hub["value"] == cell["value"], (country, cell, hub)
    # The region's total by sex is the sum of the countries' own cells, never re-derived.
    by_sex = get("/api/v1/regional/stats?measure=returns&by=sex&filter=year:2016")
    for cell in by_sex["cells"]:
        parts = [c["value"] for c in regional["cells"] if c["key"][1] == cell["key"][0]]
        assert cell["value"] == sum(parts) and cell["status"] == "complete", (cell, parts)


def check_mirror(data):
    truth = {}
    with open(data / "truth" / "mirror.csv", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["flow"], row["sender"], row["receiver"])
            t = truth.setdefault(key, [0, 0])
            t[0] += int(row["sender_recorded"])
            t[1] += int(row["receiver_recorded"])
    pairs = get("/api/v1/regional/mirror?period=2016")
    assert len(pairs) == 9, [(p["flow"], p["sender"]["country"], p["receiver"]["country"]) for p in pairs]
    for p in pairs:
        key = (p["flow"], p["sender"]["country"], p["receiver"]["country"])
        sender, receiver = truth[key]
        cells = 4 * (1 if p["flow"] == "RETURN" else 4)  # quarters × posts on that border, at most
        noise = 5 * cells
        if p["flow"] == "RETURN":
            assert p["sender"]["figure"] == sender, (key, p["sender"], sender)
        else:
            assert abs(p["sender"]["figure"] - sender) <= noise, (key, p["sender"], sender)
        assert abs(p["receiver"]["figure"] - receiver) <= noise, (key, p["receiver"], receiver)
        assert p["flagged"] == (key == ("EXIT_ENTRY", "GTM", "HND")), (key, p["adjusted"])


def check_refusals(tokens):
    # A changed byte: refused offline with its code, and nothing kept.
    package = (WORK / "SV-DGME-2016-1.puente").read_bytes()
    changed = bytearray(package)
    changed[-3] = ord("9") if changed[-3] != ord("9") else ord("8")
    (WORK / "changed.puente").write_bytes(bytes(changed))
    refused = puente("exchange", "import", *HUB_DB, str(WORK / "changed.puente"), check=False)
    assert refused.returncode != 0 and "package_tampered" in refused.stderr + refused.stdout, refused
    # The same package again: acknowledged as a duplicate, nothing changes.
    again = puente("exchange", "import", *HUB_DB, str(WORK / "SV-DGME-2016-1.puente"))
    assert "duplicate" in again.stdout + again.stderr, again
    # Revoked at the hub: the next package under it is refused over HTTP, and stays queued at the node.
    puente("agreement", "revoke", *HUB_DB, "HN-INM-HUB", "--reason", "end-to-end test")
    puente("exchange", "export", *node_db("HN"), "--agreement", "HN-INM-HUB", "--year", "2016",
           "--out", str(WORK / "HN-INM-2016-2.puente"))
    if TLS:  # a node that does not trust the hub's CA does not send, and keeps the package queued
        untrusting = {k: v for k, v in os.environ.items() if k != "PUENTE_EXCHANGE_CA"}
        refused = subprocess.run([PUENTE, "exchange", "push", *node_db("HN"), "--to", HUB, "--token-file",
                                  str(tokens["HN"])], capture_output=True, text=True, env=untrusting)
        assert refused.returncode != 0 and "not signed by a CA this node trusts" in refused.stderr, refused
        assert "not delivered" in puente("exchange", "list", *node_db("HN")).stdout
    pushed = puente("exchange", "push", *node_db("HN"), "--to", HUB, "--token-file", str(tokens["HN"]),
                    check=False)
    assert pushed.returncode == 1 and "agreement_not_in_force" in pushed.stdout + pushed.stderr, pushed
    log = json.loads(puente("exchange", "log", *HUB_DB, "--format", "json").stdout)
    refusals = [e["target"] for e in log if e["action"] == "package_refused"]
    assert any("package_tampered" in t for t in refusals) and any("agreement_not_in_force" in t for t in refusals), refusals


if __name__ == "__main__":
    main()
