#!/usr/bin/env python3
"""Writers and readers at the same time, as separate processes, on SQLite and (with a server URL)
PostgreSQL:

    concurrency.py PUENTE WORK_DIR PORT [POSTGRES_SERVER_URL]

1. Two imports of different files started together (returns and border movements): both succeed, and the
   store's exact figures are those of the two imports run one after the other.
2. An import while the node answers the statistics API and the returns page: every answer is 200 and
   every figure is the one from before the import's commit or the one from after, never between.
3. Statistics asked while `link persons` runs: event figures stay 200 and unchanged; person figures are
   refused with a 4xx naming the reason until the run commits, then 200 with the run's figures. Never a
   500 or a lock error.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PUENTE, WORK, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
POSTGRES = sys.argv[4] if len(sys.argv) > 4 else None
EVENTS = "/api/v1/stats?measure=events&by=event_type,sex"
PERSONS = "/api/v1/stats?measure=returned_persons&by=sex"


def run(*args, check=True):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"puente {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done


class Store:
    """A fresh store: a SQLite file, or a database on the PostgreSQL server."""

    def __init__(self, name):
        self.keys = os.path.join(WORK, name + ".keys")
        if POSTGRES:
            server = urllib.parse.urlsplit(POSTGRES)
            for sql in [f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"]:
                subprocess.run(["psql", "-q", POSTGRES, "-c", sql], check=True, capture_output=True)
            self.database = urllib.parse.urlunsplit(server._replace(path="/" + name))
            self.name = name
        else:
            self.database = os.path.join(WORK, name + ".sqlite")
            self.name = None

    @property
    def args(self):
        return ["--database", self.database, "--key-file", self.keys]

    def exact(self):
        return run("stats", *self.args, "--measure", "events", "--by", "event_type,sex,month", "--protection",
                   "none", "--purpose", "concurrency test", "--format", "csv").stdout

    def drop(self):
        if self.name:
            subprocess.run(["psql", "-q", POSTGRES, "-c", f"DROP DATABASE IF EXISTS {self.name}"],
                           capture_output=True)


def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def figures(body):
    return sorted((tuple(c["key"]), c["value"]) for c in json.loads(body)["cells"])


class Node:
    def __init__(self, store):
        self.log = open(os.path.join(WORK, "serve.log"), "a")
        self.process = subprocess.Popen(
            [PUENTE, "serve", *store.args, "--port", str(PORT), "--public-statistics", "--rate-limit", "1000000"],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(120):
            try:
                if get("/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        sys.exit("the node did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Asker(threading.Thread):
    """Asks `paths` in a loop until stopped, keeping every answer."""

    def __init__(self, paths):
        super().__init__(daemon=True)
        self.paths, self.answers, self.running = paths, [], True

    def run(self):
        while self.running:
            for path in self.paths:
                self.answers.append((path, *get(path)))

    def stop(self, more=20):
        """Stops once `more` answers came after the call (so some are from after the write)."""
        mark, deadline = len(self.answers), time.monotonic() + 120
        while len(self.answers) < mark + more and time.monotonic() < deadline:
            time.sleep(0.1)
        self.running = False
        self.join(timeout=120)
        return self.answers


def imports_together(returns, movements):
    reference = Store("puente_conc_reference")
    run("ingest", *reference.args, "--profile", "sv-dgme-retornos", returns)
    run("ingest", *reference.args, "--profile", "sv-dgme-movimientos", movements)
    expected = reference.exact()
    reference.drop()

    store = Store("puente_conc_together")
    run("node", "init", *store.args, "--id", "SV-DGME", "--country", "SLV")  # the store exists before both start
    both = [subprocess.Popen([PUENTE, "ingest", *store.args, "--profile", profile, path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for profile, path in [("sv-dgme-retornos", returns), ("sv-dgme-movimientos", movements)]]
    for process in both:
        out, err = process.communicate(timeout=900)
        if process.returncode != 0:
            sys.exit(f"An import run beside another failed ({process.returncode}): {err.strip()[-500:]}")
    if store.exact() != expected:
        sys.exit("Two imports run together do not give the figures of the same imports one after the other.")
    run("audit", "verify", *store.args)
    store.drop()
    print("  two imports at once: both committed, figures equal to the same imports run in turn")


def import_while_serving(returns, movements):
    store = Store("puente_conc_serving")
    run("ingest", *store.args, "--profile", "sv-dgme-retornos", returns)
    node = Node(store)
    try:
        before = figures(get(EVENTS)[1])
        asker = Asker([EVENTS, "/returns"])
        asker.start()
        run("ingest", *store.args, "--profile", "sv-dgme-movimientos", movements)
        answers = asker.stop()
        after = figures(get(EVENTS)[1])
        assert before != after, "the import changed no figure"
        seen = {"before": 0, "after": 0}
        for path, status, body in answers:
            if status != 200:
                sys.exit(f"{path} answered {status} during an import: {body[:300]!r}")
            if path == EVENTS:
                now = figures(body)
                if now not in (before, after):
                    sys.exit("A statistics answer during an import was neither the figures before nor after it.")
                seen["before" if now == before else "after"] += 1
        assert seen["after"] > 0, "no answer came after the import's commit"
        print(f"  an import while serving: {len(answers)} answers, all 200; statistics before the commit "
              f"{seen['before']}, after {seen['after']}, between 0")
    finally:
        node.stop()
    return store


def stats_while_linking(store):
    node = Node(store)
    try:
        events = figures(get(EVENTS)[1])
        status, body = get(PERSONS)
        assert status == 400 and b"link persons" in body, (status, body[:200])
        asker = Asker([EVENTS, PERSONS])
        asker.start()
        run("link", "persons", *store.args)
        answers = asker.stop()
        status, body = get(PERSONS)
        assert status == 200, (status, body[:200])
        persons = figures(body)
        counts = {"refused": 0, "linked": 0}
        for path, status, body in answers:
            if path == EVENTS:
                if status != 200 or figures(body) != events:
                    sys.exit(f"Event figures changed or failed ({status}) while persons were linked.")
            elif status == 400 and b"link persons" in body:
                counts["refused"] += 1
            elif status == 200 and figures(body) == persons:
                counts["linked"] += 1
            else:
                sys.exit(f"A person figure asked during link persons answered {status}: {body[:300]!r}")
        assert counts["linked"] > 0, "no answer came after the link run's commit"
        print(f"  statistics during link persons: {len(answers)} answers; event figures unchanged; person "
              f"figures refused as not linked {counts['refused']} times, then the run's {counts['linked']}")
    finally:
        node.stop()
        store.drop()


def main():
    if os.path.exists(WORK):
        shutil.rmtree(WORK)
    os.makedirs(WORK)
    data = os.path.join(WORK, "data")
    run("generate", "--country", "SV", "--year", "2016", "--scale", "0.08", "--out", data)
    returns = os.path.join(data, "sv-dgme-retornos.csv")
    movements = os.path.join(data, "sv-dgme-movimientos.csv")
    print("PostgreSQL:" if POSTGRES else "SQLite:")
    imports_together(returns, movements)
    stats_while_linking(import_while_serving(returns, movements))


if __name__ == "__main__":
    main()
