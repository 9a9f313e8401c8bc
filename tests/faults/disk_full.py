#!/usr/bin/env python3
"""The disk filling up in the middle of an import, on a real file system: a store on a small tmpfs, an
import that needs more room than is left.

    disk_full.py PUENTE WORK_DIR [POSTGRES_URL]

SQLite: the store's file on the tmpfs. PostgreSQL (with a server URL; the server on this machine, run
by the `postgres` account): a database whose tablespace is on the tmpfs, the server's write-ahead log
staying on its own disk, as when the volume holding a node's tables fills up.

Checks: the import fails with a sentence saying the disk is full (never a bare SQLite code or SQLSTATE);
a read on the full disk says the same; once there is room again, the store holds exactly what it held
before (the batch counted nothing, the audit trail verifies), and running the import again gives exactly
what an uninterrupted import gives. Needs root (or password-less sudo) to mount the file system.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

PUENTE, WORK = sys.argv[1], sys.argv[2]
POSTGRES = sys.argv[3] if len(sys.argv) > 3 else None
DATA = os.path.join(WORK, "data")
SMALL = os.path.join(WORK, "small")
FULL = "disk holding the SQLite database is full"
PG_FULL = "disk holding the PostgreSQL database is full"
SUFFIXES = ["", "-wal", "-shm", ".keys", ".keys.audit-head"]


def run(*args, check=True):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"puente {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done


def store_args(store):
    if store.startswith("postgres"):
        name = urllib.parse.urlsplit(store).path.strip("/")
        return ["--database", store, "--key-file", os.path.join(WORK, name + ".keys")]
    return ["--database", store, "--key-file", store + ".keys"]


def copy_store(source, target):
    for suffix in SUFFIXES:
        if os.path.exists(source + suffix):
            shutil.copyfile(source + suffix, target + suffix)
            os.chmod(target + suffix, 0o600)


def size(store):
    return sum(os.path.getsize(store + s) for s in SUFFIXES if os.path.exists(store + s))


def figures(store):
    """Exact counts by type, sex and month, and the audit trail whole."""
    out = run("stats", *store_args(store), "--measure", "events", "--by", "event_type,sex,month",
              "--protection", "none", "--purpose", "fault test", "--format", "csv").stdout
    run("audit", "verify", *store_args(store))
    return out


def mount(size_bytes, remount=False, owner=None, at=SMALL):
    options = f"size={size_bytes}" + (",remount" if remount else "")
    if owner:
        options += f",uid={owner.pw_uid},gid={owner.pw_gid},mode=0700"
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", at]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"Cannot mount a small file system for the test (needs root): {done.stderr.strip()}")


def unmount(at=SMALL):
    command = ["umount", at] if os.geteuid() == 0 else ["sudo", "-n", "umount", at]
    subprocess.run(command, capture_output=True)


def psql(sql, database="postgres"):
    url = urllib.parse.urlsplit(POSTGRES)._replace(path="/" + database)
    done = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", urllib.parse.urlunsplit(url), "-c", sql],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def copy_keys(source, target):
    for suffix in [".keys", ".keys.audit-head"]:
        if os.path.exists(os.path.join(WORK, source + suffix)):
            shutil.copyfile(os.path.join(WORK, source + suffix), os.path.join(WORK, target + suffix))
            os.chmod(os.path.join(WORK, target + suffix), 0o600)


def pg_store(database):
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(POSTGRES)._replace(path="/" + database))


def pg_size(database):
    return int(psql(f"SELECT pg_database_size('{database}')"))


def check_full_disk(store, room, movements, before, expected, full, grow):
    """The import on the full disk, a read there, then room again: figures before, then uninterrupted."""
    failed = run("ingest", *store_args(store), "--profile", "sv-dgme-movimientos", movements, check=False)
    if failed.returncode == 0:
        sys.exit(f"The import fitted in {room >> 20} MiB: the test needs a smaller file system.")
    if full not in failed.stderr or "SQLite error" in failed.stderr or "SQLSTATE" in failed.stderr:
        sys.exit(f"The import on a full disk did not say so clearly: {failed.stderr.strip()[-400:]}")
    # On PostgreSQL a new connection may itself fail here: a backend that must rebuild its relation cache
    # file cannot write it on the full tablespace and ends the connection (FATAL). The read must still
    # name the full disk, not call the server unreachable.
    read = run("stats", *store_args(store), "--measure", "events", "--by", "sex", "--protection", "none",
               "--purpose", "fault test", "--format", "csv", check=False)
    if read.returncode == 0:
        print("  (an audited read still found room on the full disk)")
    elif full not in read.stderr:
        sys.exit(f"A read on the full disk did not say so clearly: {read.stderr.strip()[-400:]}")

    grow()
    if figures(store) != before:
        sys.exit("After the disk filled up, the store's figures differ from before the import.")
    run("ingest", *store_args(store), "--profile", "sv-dgme-movimientos", movements)
    if figures(store) != expected:
        sys.exit("The import run again after the disk filled up does not give the uninterrupted figures.")


def postgres(returns, movements):
    """A database whose tablespace fills up; the server's own disk (its WAL) has room."""
    owner = pwd.getpwnam("postgres")
    for name in ["puente_full_base", "puente_full_reference", "puente_full"]:
        psql(f"DROP DATABASE IF EXISTS {name}")
    psql("DROP TABLESPACE IF EXISTS puente_small")
    psql("CREATE DATABASE puente_full_base")
    base = pg_store("puente_full_base")
    run("ingest", *store_args(base), "--profile", "sv-dgme-retornos", returns)
    before = figures(base)
    psql("CREATE DATABASE puente_full_reference TEMPLATE puente_full_base")
    copy_keys("puente_full_base", "puente_full_reference")
    reference = pg_store("puente_full_reference")
    run("ingest", *store_args(reference), "--profile", "sv-dgme-movimientos", movements)
    expected = figures(reference)
    # A third of what the import adds: the reference also holds the import's dead rows, whose amount varies.
    room = pg_size("puente_full_base") + (pg_size("puente_full_reference") - pg_size("puente_full_base")) // 3
    room = (room + (1 << 20) - 1) >> 20 << 20
    psql("DROP DATABASE puente_full_reference")

    # The server's account must reach the tablespace: not under WORK, which may be private to this user.
    small = tempfile.mkdtemp(prefix="puente-pg-full-")
    os.chmod(small, 0o755)
    mount(room, owner=owner, at=small)
    try:
        psql(f"CREATE TABLESPACE puente_small LOCATION '{small}'")
        psql("CREATE DATABASE puente_full TEMPLATE puente_full_base TABLESPACE puente_small")
        copy_keys("puente_full_base", "puente_full")
        check_full_disk(pg_store("puente_full"), room, movements, before, expected, PG_FULL,
                        lambda: mount(room * 4, remount=True, owner=owner, at=small))
        print(f"PostgreSQL's tables filling their disk during an import ({room >> 20} MiB tablespace): a clear "
              "error, nothing counted, the audit trail whole, and the same import run again gave the "
              "uninterrupted figures.")
    finally:
        for name in ["puente_full", "puente_full_base"]:
            psql(f"DROP DATABASE IF EXISTS {name}")
        psql("DROP TABLESPACE IF EXISTS puente_small")
        unmount(at=small)
        os.rmdir(small)


def main():
    os.makedirs(WORK, exist_ok=True)
    run("generate", "--country", "SV", "--year", "2016", "--scale", "0.15", "--out", DATA)
    returns = os.path.join(DATA, "sv-dgme-retornos.csv")
    movements = os.path.join(DATA, "sv-dgme-movimientos.csv")
    sqlite(returns, movements)
    if POSTGRES:
        postgres(returns, movements)


def sqlite(returns, movements):
    base = os.path.join(WORK, "base.sqlite")
    run("ingest", *store_args(base), "--profile", "sv-dgme-retornos", returns)
    before = figures(base)
    reference = os.path.join(WORK, "reference.sqlite")
    copy_store(base, reference)
    run("ingest", *store_args(reference), "--profile", "sv-dgme-movimientos", movements)
    expected = figures(reference)

    # Room for the store and half of what the import adds.
    room = size(base) + (size(reference) - size(base)) // 2
    room = (room + (1 << 20) - 1) >> 20 << 20
    os.makedirs(SMALL, exist_ok=True)
    mount(room)
    try:
        store = os.path.join(SMALL, "store.sqlite")
        copy_store(base, store)
        check_full_disk(store, room, movements, before, expected, FULL, lambda: mount(room * 4, remount=True))
        print(f"Disk full during an import ({room >> 20} MiB file system): a clear error, nothing counted, "
              "the audit trail whole, and the same import run again gave the uninterrupted figures.")
    finally:
        unmount()


if __name__ == "__main__":
    main()
