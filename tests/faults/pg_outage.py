#!/usr/bin/env python3
"""PostgreSQL stopped and started again under a serving node: while it is down, `/ready` and every
request answer 503 within a few seconds (never a hang, never a 500); once it is back, the node serves
again by itself, with the same figures.

    pg_outage.py PUENTE POSTGRES_SERVER_URL CSV PORT STOP_COMMAND START_COMMAND

CSV is an El Salvador returns export (sv-dgme-retornos); STOP_COMMAND and START_COMMAND stop and start
the PostgreSQL server (shell command lines). Prints the slowest answer during the outage and how long
the node took to serve again after the server was back.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PUENTE, SERVER, CSV, PORT, STOP, START = sys.argv[1:7]
PAGES = ["/ready", "/api/v1/stats?measure=returns&by=sex,department", "/returns", "/api/v1/codelists/CL_SEX"]
LIMIT = 5.0  # seconds an answer may take while the store is down


def get(path, timeout=15):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started
    except OSError as error:  # a timeout: the node hung
        return None, str(error).encode(), time.monotonic() - started


def main():
    work = tempfile.mkdtemp(prefix="puente-outage-")
    server = urllib.parse.urlsplit(SERVER)
    subprocess.run(["psql", "-q", SERVER, "-c", "DROP DATABASE IF EXISTS puente_outage", "-c",
                    "CREATE DATABASE puente_outage"], check=True, capture_output=True)
    database = urllib.parse.urlunsplit(server._replace(path="/puente_outage"))
    keys = os.path.join(work, "outage.keys")
    subprocess.run([PUENTE, "ingest", "--database", database, "--key-file", keys, "--profile", "sv-dgme-retornos",
                    CSV], check=True, capture_output=True)
    log = open(os.path.join(work, "serve.log"), "w")
    node = subprocess.Popen([PUENTE, "serve", "--database", database, "--key-file", keys, "--port", PORT,
                             "--public-statistics"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            if get("/ready", timeout=2)[0] == 200:
                break
            time.sleep(0.5)
        before = {path: get(path) for path in PAGES}
        assert all(status == 200 for status, _, _ in before.values()), before

        subprocess.run(STOP, shell=True, check=True)
        slowest = 0.0
        statuses = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for path in PAGES:
                status, body, took = get(path)
                slowest = max(slowest, took)
                if path == "/api/v1/codelists/CL_SEX":
                    # Shipped with the node: served from memory whether the store answers or not.
                    assert status == 200, f"{path} answered {status} while the store was down"
                    continue
                statuses.add(status)
                assert status == 503, f"{path} answered {status} after {took:.1f} s while the store was down"
                assert took <= LIMIT, f"{path} took {took:.1f} s to answer while the store was down"
                if path.startswith("/api/") or path == "/ready":
                    assert json.loads(body)["error"]["code"] == "store_unavailable", body[:200]
            time.sleep(0.3)
        assert node.poll() is None, "the node stopped during the outage"

        subprocess.run(START, shell=True, check=True)
        back = time.monotonic()
        while get("/ready", timeout=LIMIT)[0] != 200:
            assert time.monotonic() - back < 30, "the node did not serve again within 30 s of the store's return"
            time.sleep(0.2)
        recovered = time.monotonic() - back
        after = {path: get(path) for path in PAGES}
        for path in PAGES:
            assert after[path][0] == 200, f"{path} answered {after[path][0]} after the store came back"
        stats = PAGES[1]
        assert json.loads(after[stats][1])["cells"] == json.loads(before[stats][1])["cells"], "the figures changed"
        print(f"Store down 10 s: every answer 503 ({sorted(statuses)}), the slowest in {slowest:.1f} s; "
              f"serving again {recovered:.1f} s after PostgreSQL was back, with the same figures.")
    finally:
        node.terminate()
        node.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
