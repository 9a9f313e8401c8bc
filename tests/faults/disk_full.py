#!/usr/bin/env python3
"""The disk filling up in the middle of an import, on a real file system: a SQLite store on a small
tmpfs, an import that needs more room than is left.

    disk_full.py PUENTE WORK_DIR

Checks: the import fails with a sentence saying the disk is full (never a bare SQLite code); a read
on the full disk says the same; once there is room again, the store holds exactly what it held before
(the batch counted nothing, the audit trail verifies), and running the import again gives exactly what
an uninterrupted import gives. Needs root (or password-less sudo) to mount the file system.
(PostgreSQL's own disk is the server's: a full one reaches Puente as a refused statement.)
"""
import os
import shutil
import subprocess
import sys

PUENTE, WORK = sys.argv[1], sys.argv[2]
DATA = os.path.join(WORK, "data")
SMALL = os.path.join(WORK, "small")
FULL = "disk holding the SQLite database is full"
SUFFIXES = ["", "-wal", "-shm", ".keys", ".keys.audit-head"]


def run(*args, check=True):
    done = subprocess.run([PUENTE, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"puente {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done


def store_args(store):
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


def mount(size_bytes, remount=False):
    options = f"size={size_bytes}" + (",remount" if remount else "")
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", SMALL]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"Cannot mount a small file system for the test (needs root): {done.stderr.strip()}")


def main():
    os.makedirs(WORK, exist_ok=True)
    run("generate", "--country", "SV", "--year", "2016", "--scale", "0.15", "--out", DATA)
    returns = os.path.join(DATA, "sv-dgme-retornos.csv")
    movements = os.path.join(DATA, "sv-dgme-movimientos.csv")
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
        failed = run("ingest", *store_args(store), "--profile", "sv-dgme-movimientos", movements, check=False)
        if failed.returncode == 0:
            sys.exit(f"The import fitted in {room >> 20} MiB: the test needs a smaller file system.")
        if FULL not in failed.stderr or "SQLite error" in failed.stderr:
            sys.exit(f"The import on a full disk did not say so clearly: {failed.stderr.strip()[-400:]}")
        read = run("stats", *store_args(store), "--measure", "events", "--by", "sex", "--protection", "none",
                   "--purpose", "fault test", "--format", "csv", check=False)
        if read.returncode == 0:
            print("  (an audited read still found room on the full disk)")
        elif FULL not in read.stderr:
            sys.exit(f"A read on the full disk did not say so clearly: {read.stderr.strip()[-400:]}")

        mount(room * 4, remount=True)
        if figures(store) != before:
            sys.exit("After the disk filled up, the store's figures differ from before the import.")
        run("ingest", *store_args(store), "--profile", "sv-dgme-movimientos", movements)
        if figures(store) != expected:
            sys.exit("The import run again after the disk filled up does not give the uninterrupted figures.")
        print(f"Disk full during an import ({room >> 20} MiB file system): a clear error, nothing counted, "
              "the audit trail whole, and the same import run again gave the uninterrupted figures.")
    finally:
        command = ["umount", SMALL] if os.geteuid() == 0 else ["sudo", "-n", "umount", SMALL]
        subprocess.run(command, capture_output=True)


if __name__ == "__main__":
    main()
