#!/usr/bin/env python3
"""`kill -9` in the middle of each long write, on real stores: afterwards the store opens and is
consistent, nothing half-written counts, and running the command again gives exactly what one
uninterrupted run gives.

    kill9.py PUENTE WORK_DIR [POSTGRES_SERVER_URL]

For SQLite (and PostgreSQL when a server URL is given, e.g. postgres://postgres@127.0.0.1:54329/postgres),
from one loaded store, for each write path (an import, `link persons`, `keys rotate`, `retention`, and
`exchange import` of a package another node signed under an agreement):
a reference copy runs the command to the end; other copies are killed with SIGKILL at several moments
of the reference's duration (after the time the process takes to start and open the store), then run
the command again; their figures (exact, unprotected) must equal
the reference's, and so must the packages received and the figures they published. A kill that came after the command had finished is not counted; each path needs at
least two real kills. Prints one line per path with the kills made and the reference's duration.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import signal
import subprocess
import sys
import time
import urllib.parse

PUENTE, WORK = sys.argv[1], sys.argv[2]
PG_SERVER = sys.argv[3] if len(sys.argv) > 3 else None
DATA = os.path.join(WORK, "data")
FRACTIONS = [0.1, 0.25, 0.4, 0.55, 0.7]


def run(*args, check=True):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"puente {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout


class SQLiteStores:
    name = "SQLite"

    def __init__(self):
        self.base = os.path.join(WORK, "base.sqlite")

    def args(self, store):
        return ["--database", store, "--key-file", store + ".keys"]

    def base_args(self):
        return self.args(self.base)

    def copy(self, label):
        """A copy of the base store (the file, its WAL and its keys), as a new store."""
        target = os.path.join(WORK, label + ".sqlite")
        for suffix in ["", "-wal", "-shm", ".keys", ".keys.audit-head"]:
            if os.path.exists(target + suffix):
                os.remove(target + suffix)
            if os.path.exists(self.base + suffix):
                shutil.copyfile(self.base + suffix, target + suffix)
                os.chmod(target + suffix, 0o600)
        return target

    def observations(self, store):
        with sqlite3.connect(store) as db:
            return db.execute(OBSERVATIONS).fetchall()

    def discard(self, store):
        """Removes a store made by copy(): each trial's store is a full copy, and the disk may be small."""
        for suffix in ["", "-wal", "-shm", ".keys", ".keys.audit-head"]:
            if os.path.exists(store + suffix):
                os.remove(store + suffix)


class PostgresStores:
    name = "PostgreSQL"

    def __init__(self, server):
        self.server = urllib.parse.urlsplit(server)
        self.keys = os.path.join(WORK, "pg-base.keys")
        self.base = self.url("puente_fault_base")
        self.psql(f"DROP DATABASE IF EXISTS puente_fault_base")
        self.psql(f"CREATE DATABASE puente_fault_base")

    def url(self, database):
        return urllib.parse.urlunsplit(self.server._replace(path="/" + database))

    def psql(self, sql):
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", urllib.parse.urlunsplit(self.server), "-c", sql],
            check=True, capture_output=True)

    def args(self, store):
        database = urllib.parse.urlsplit(store).path.lstrip("/")
        return ["--database", store, "--key-file", os.path.join(WORK, database + ".keys")]

    def base_args(self):
        return ["--database", self.base, "--key-file", self.keys]

    def copy(self, label):
        database = "puente_fault_" + label.replace("-", "_")
        self.psql(f"DROP DATABASE IF EXISTS {database}")
        self.psql(f"CREATE DATABASE {database} TEMPLATE puente_fault_base")
        keys = os.path.join(WORK, database + ".keys")
        for suffix in ["", ".audit-head"]:
            if os.path.exists(self.keys + suffix):
                shutil.copyfile(self.keys + suffix, keys + suffix)
                os.chmod(keys + suffix, 0o600)
        return self.url(database)

    def observations(self, store):
        out = subprocess.run(["psql", "-At", "-F", "|", store, "-c", OBSERVATIONS],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(line.split("|")) for line in out.splitlines()]

    def discard(self, store):
        database = urllib.parse.urlsplit(store).path.lstrip("/")
        self.psql(f"DROP DATABASE IF EXISTS {database}")
        for suffix in ["", ".audit-head"]:
            if os.path.exists(os.path.join(WORK, database + ".keys" + suffix)):
                os.remove(os.path.join(WORK, database + ".keys" + suffix))


# What a received package published: every observation but the moment it was written.
OBSERVATIONS = ("SELECT sender, agreement, dataflow, series_key, period, value, obs_status, conf_status, package_id, "
                "deleted FROM exchange_observation ORDER BY sender, agreement, dataflow, series_key, period")


def figures(stores, store):
    """What must not change: exact counts of events and persons, and the audit trail whole."""
    args = stores.args(store)
    exact = ["--protection", "none", "--purpose", "fault test", "--format", "csv"]
    out = run("stats", *args, "--measure", "events", "--by", "event_type,sex,month", *exact)
    out += run("stats", *args, "--measure", "returned_persons", "--by", "sex,age_group", *exact, check=False)
    run("audit", "verify", *args)
    out += run("exchange", "list", *args)
    rows = stores.observations(store)
    return out + f"{len(rows)} observations, sha256 {hashlib.sha256(repr(rows).encode()).hexdigest()}\n"


def package_for(stores):
    """Makes the base store a receiving node (HB-SICA) and returns a package the sender node (SV-DGME, a
    store of its own with the same returns) signed for it under an agreement both accepted."""
    sender = ["--database", os.path.join(WORK, "sender.sqlite")]
    if not os.path.exists(os.path.join(WORK, "sender.sqlite")):
        run("ingest", *sender, "--profile", "sv-dgme-retornos", os.path.join(DATA, "sv-dgme-retornos.csv"))
        run("node", "init", *sender, "--id", "SV-DGME", "--country", "SLV")
    run("node", "init", *stores.base_args(), "--id", "HB-SICA", "--country", "SLV")
    key = json.loads(run("node", "show", *stores.base_args(), "--format", "json"))["jwk"]["x"]
    name = "K9-" + stores.name.upper()
    agreement = os.path.join(WORK, name + ".json")
    # Fine dimensions, so that the package is large enough to be killed while it is received.
    run("agreement", "draft", *sender, "--id", name, "--receiver", "HB-SICA", "--receiver-country", "SLV",
        "--receiver-key", key, "--purpose", "regional_statistics", "--measures", "returns",
        "--dimensions", "sex,age_group,municipality,returning_from,month", "--finest-geography", "municipality",
        "--finest-period", "month", "--valid-from", "2016-01-01", "--valid-to", "2030-12-31",
        "--retention-days", "1825", "--out", agreement)
    for args in (sender, stores.base_args()):
        run("agreement", "sign", *args, agreement)
    for args in (sender, stores.base_args()):
        run("agreement", "accept", *args, agreement)
    package = os.path.join(WORK, name + ".puente")
    run("exchange", "export", *sender, "--agreement", name, "--year", "2016", "--out", package)
    return package


# Each write path: how to run it, what to prepare first, and what else must hold afterwards.
def paths(package):
    movements = os.path.join(DATA, "sv-dgme-movimientos.csv")

    def rotated(stores, store):
        again = run("keys", "rotate", *stores.args(store))
        assert "Re-sealed 0 rows" in again, f"a second rotation still found rows to re-seal: {again.strip()}"
        run("link", "persons", "--full", *stores.args(store))  # every name opens under the new key

    def retained(stores, store):
        again = run("retention", *stores.args(store), "--personal-data-years", "1", "--rejects-days", "1")
        assert "erased from 0 events" in again, f"a second retention run still found data: {again.strip()}"

    # (name, preparation, command, check): commands as (subcommand words, options after the store's).
    return [
        ("import", None, (["ingest"], ["--profile", "sv-dgme-movimientos", movements]), None),
        ("link persons", None, (["link", "persons"], ["--full"]), None),
        ("keys rotate", (["keys", "add"], []), (["keys", "rotate"], ["--batch-size", "500"]), rotated),
        # Over the movements too, so that it runs long enough to be killed in the middle.
        ("retention", (["ingest"], ["--profile", "sv-dgme-movimientos", movements]),
         (["retention"], ["--personal-data-years", "1", "--rejects-days", "1"]), retained),
        # The figures check compares the packages received and the observations they published.
        ("package import", None, (["exchange", "import"], [package]), None),
    ]


def command_line(command, stores, store):
    words, options = command
    return [*words, *stores.args(store), *options]


def trial(stores, label, prepare, command, delay):
    store = stores.copy(label)
    if prepare:
        run(*command_line(prepare, stores, store))
    process = subprocess.Popen(
        [PUENTE, *command_line(command, stores, store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    killed = process.wait() == -signal.SIGKILL
    return store, killed


def main():
    os.makedirs(WORK, exist_ok=True)
    run("generate", "--country", "SV", "--year", "2016", "--scale", "0.15", "--out", DATA)
    kinds = [SQLiteStores()] + ([PostgresStores(PG_SERVER)] if PG_SERVER else [])
    for stores in kinds:
        run("ingest", *stores.base_args(), "--profile", "sv-dgme-retornos",
            os.path.join(DATA, "sv-dgme-retornos.csv"))
        package = package_for(stores)
        for name, prepare, command, after in paths(package):
            slug = name.replace(" ", "-")
            reference = stores.copy(slug + "-reference")
            if prepare:
                run(*command_line(prepare, stores, reference))
            # The kills fall within the write itself, after the process has started and opened the store.
            started = time.monotonic()
            run("keys", "status", *stores.args(reference))
            opening = time.monotonic() - started
            started = time.monotonic()
            run(*command_line(command, stores, reference))
            duration = time.monotonic() - started
            expected = figures(stores, reference)
            kills = 0
            for i, fraction in enumerate(FRACTIONS):
                delay = opening + fraction * max(duration - opening, 0.05)
                store, killed = trial(stores, f"{slug}-{i}", prepare, command, delay)
                # The store opens and counts nothing half-written, killed or not; the command run again
                # ends exactly where the uninterrupted run ended.
                run(*command_line(command, stores, store))
                got = figures(stores, store)
                if got != expected:
                    sys.exit(f"{stores.name}, {name} killed at {fraction:.0%}: the figures differ from an uninterrupted run")
                if after:
                    after(stores, store)
                kills += killed
                stores.discard(store)
            stores.discard(reference)
            if kills < 2:
                sys.exit(f"{stores.name}, {name}: only {kills} of the kills came before the command ended")
            print(f"{stores.name}: {name} killed {kills} times (reference {duration:.1f} s); "
                  "each store opened, and running again gave the uninterrupted figures")


if __name__ == "__main__":
    main()
