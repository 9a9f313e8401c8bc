#!/usr/bin/env python3
"""The API keeps its published contract: schemathesis (every check, every phase, stateful included) against
a serving node, once anonymously and once as each role, and any finding fails the run.

    run.py PUENTE DATABASE KEY_FILE PORT

DATABASE is a node's store with data (the test script's restored copy: the run writes cases, consents and
partners of random content into it). The node is served with a rate limit high enough for the run, on
PORT. tests/contract/schemathesis.toml says which rules a schema cannot state.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

PUENTE, DATABASE, KEYS, PORT = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
# Accounts as the node's people have them: staff and the partner belong to an organisation of the country.
ROLES = [
    ("contract-admin", "admin", None),
    ("contract-statistician", "statistician", None),
    ("contract-officer", "data_officer", None),
    ("contract-worker", "case_worker", "SV-CAIM"),
    ("contract-supervisor", "supervisor", "SV-CAIM"),
    ("contract-partner", "partner", "SV-INSAFORP"),
    ("contract-analyst", "regional_analyst", None),
    ("contract-auditor", "auditor", None),
    ("SV-NODE-CONTRACT", "node", None),
]
# The same cases on every run, so that a finding in CI can be replayed here (`--seed`).
SEED = "20261205"
EXAMPLES = os.environ.get("PUENTE_CONTRACT_EXAMPLES", "10")


def puente(*args, stdin=None, allow=None):
    done = subprocess.run(
        [PUENTE, *args, "--database", DATABASE, "--key-file", KEYS], input=stdin, capture_output=True, text=True)
    if done.returncode != 0 and not (allow and allow in done.stderr):
        sys.exit(f"puente {' '.join(args[:2])} failed: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def token(username, role, organisation):
    extra = ["--country", "SLV", "--organisation", organisation] if organisation else []
    puente("users", "create", "--username", username, "--role", role, *extra, "--password-stdin",
           stdin=f"contract test {time.time_ns()}\n", allow="username is taken")  # a store run on before
    return puente("tokens", "create", "--user", username, "--label", "contract test")


def run(label, token_value, work):
    # The role's token as the credential of the document's `bearer` scheme, so that schemathesis knows
    # which scheme it fills (and checks that the others are not taken instead).
    config = os.path.join(work, f"schemathesis-{label}.toml")
    with open(os.path.join(HERE, "schemathesis.toml")) as base, open(config, "w") as out:
        out.write(base.read())
        if token_value is not None:
            out.write('\n[auth.openapi.bearer]\nbearer = "${PUENTE_TOKEN}"\n')
    env = dict(os.environ, PUENTE_TOKEN=token_value or "")
    command = [SCHEMATHESIS, "--config-file", config, "run",
               f"http://127.0.0.1:{PORT}/openapi.json", "--checks", "all", "--seed", SEED,
               "--max-examples", EXAMPLES, "--no-color",
               # Logging out revokes the token the run authenticates with.
               "--exclude-path", "/logout"]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    summary = [line for line in done.stdout.splitlines() if " generated," in line]
    tested = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith(("Tested:", "API Links:"))]
    print(f"{label}: {summary[-1].strip() if summary else 'no summary'}; {'; '.join(tested)} "
          f"({time.monotonic() - started:.0f} s)")
    if done.returncode != 0:
        print(done.stdout[-12000:])
        return False
    return True


def main():
    tokens = [(role, token(username, role, organisation)) for username, role, organisation in ROLES]
    server = subprocess.Popen(
        [PUENTE, "serve", "--database", DATABASE, "--key-file", KEYS, "--port", PORT, "--public-statistics",
         "--rate-limit", "1000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ready", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        if server.poll() is not None:
            sys.exit(f"puente serve did not start on port {PORT}")
        work = tempfile.mkdtemp(prefix="puente-contract-")
        passed = [run("anonymous", None, work)] + [run(role, value, work) for role, value in tokens]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if not all(passed):
        sys.exit("The API broke its published contract (above).")


if __name__ == "__main__":
    main()
