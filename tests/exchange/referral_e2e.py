#!/usr/bin/env python3
"""A referral across two nodes, end to end, with each node a real `puente serve` on loopback.

    referral_e2e.py PUENTE SV_DATABASE WORK_DIR PORT

SV_DATABASE is El Salvador's node with cases loaded and an identity (SV-DGME). This script makes a
Guatemalan node (GT-IGM) in WORK_DIR, has both sign a referral agreement, refers an open Salvadoran
case to a Guatemalan organisation registered on the Guatemalan node, and pushes the package there. The
partner's account reads the referral and moves it on over the API; its node pushes each status back;
the Salvadoran node's referral ends completed with the partner's reason.

On the way, the package is checked as a partner would, with Python's `cryptography` alone: its signature
(tests/exchange/verify_signature.py) and its encrypted part, opened by an implementation of HPKE (RFC
9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) written here from the RFC,
with the Guatemalan node's key derived from its key file as docs/exchange.md says.
"""
import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_signature  # noqa: E402

PUENTE, SV_DB, WORK, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
GT_DB = os.path.join(WORK, "gt.sqlite")
SV_PORT, GT_PORT = PORT, PORT + 1


def puente(*args, stdin=None):
    done = subprocess.run([PUENTE, *args], input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"puente {args[0]} {args[1] if len(args) > 1 else ''} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def node_keys(database):
    shown = json.loads(puente("node", "show", "--database", database, "--format", "json"))
    return shown["jwk"]["x"], shown["encryptionJwk"]["x"]


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# RFC 9180, base mode, for one suite: KEM 0x0020, KDF 0x0001, AEAD 0x0003.
def labeled_extract(suite_id, salt, label, ikm):
    h = hmac.HMAC(salt or bytes(32), hashes.SHA256())
    h.update(b"HPKE-v1" + suite_id + label + ikm)
    return h.finalize()


def labeled_expand(suite_id, prk, label, info, length):
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    out, block, counter = b"", b"", 1
    while len(out) < length:
        h = hmac.HMAC(prk, hashes.SHA256())
        h.update(block + labeled_info + bytes([counter]))
        block = h.finalize()
        out += block
        counter += 1
    return out[:length]


def hpke_open(private_key, enc, info, aad, ciphertext):
    kem_id = b"KEM" + (0x0020).to_bytes(2, "big")
    suite_id = b"HPKE" + (0x0020).to_bytes(2, "big") + (0x0001).to_bytes(2, "big") + (0x0003).to_bytes(2, "big")
    # DHKEM(X25519, HKDF-SHA256) Decap.
    dh = private_key.exchange(X25519PublicKey.from_public_bytes(enc))
    pk_rm = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    eae_prk = labeled_extract(kem_id, b"", b"eae_prk", dh)
    shared_secret = labeled_expand(kem_id, eae_prk, b"shared_secret", enc + pk_rm, 32)
    # Key schedule, mode_base (0), no PSK.
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    context = bytes([0]) + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", b"")
    key = labeled_expand(suite_id, secret, b"key", context, 32)
    base_nonce = labeled_expand(suite_id, secret, b"base_nonce", context, 12)
    return ChaCha20Poly1305(key).decrypt(base_nonce, ciphertext, aad)  # sequence 0: the base nonce


def encryption_key(key_file):
    """The node's X25519 key: HKDF-SHA256 of its signing key's seed (docs/exchange.md)."""
    with open(key_file, encoding="utf-8") as f:
        seed = next(base64.b64decode(line.split()[2]) for line in f if line.startswith("signing "))
    derived = HKDF(hashes.SHA256(), 32, b"puente", b"node encryption key x25519 v1").derive(seed)
    return X25519PrivateKey.from_private_bytes(derived)


def call(method, port, path, token, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path} answered {error.code}: {error.read()[:300]!r}")


def serve(database, port, log):
    process = subprocess.Popen(
        [PUENTE, "serve", "--database", database, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2)
            return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"puente serve on {port} stopped")
            time.sleep(0.5)
    sys.exit(f"puente serve on {port} did not get ready")


def main():
    os.makedirs(WORK, exist_ok=True)
    puente("node", "init", "--database", GT_DB, "--id", "GT-IGM", "--country", "GTM")
    sv_x, _ = node_keys(SV_DB)
    gt_x, gt_enc = node_keys(GT_DB)
    agreement = os.path.join(WORK, "SV-GT-REF.agreement.json")
    puente("agreement", "draft", "--database", SV_DB, "--id", "SV-GT-REF", "--receiver", "GT-IGM",
           "--receiver-country", "GTM", "--receiver-key", gt_x, "--receiver-encryption-key", gt_enc,
           "--purpose", "referral", "--referral-fields", "given_names,phone", "--valid-from", "2026-01-01",
           "--valid-to", "2030-12-31", "--retention-days", "365", "--out", agreement)
    for database in (SV_DB, GT_DB):
        puente("agreement", "sign", "--database", database, agreement)
    problem = verify_signature.check_agreement(agreement)
    if problem:
        sys.exit(f"the referral agreement's signatures do not verify: {problem}")
    for database in (SV_DB, GT_DB):
        puente("agreement", "accept", "--database", database, agreement)
    puente("partners", "add", "--database", SV_DB, "--id", "GT-ONG", "--name", "ONG de reinserción",
           "--service", "vocational_training", "--node", "GT-IGM")
    puente("partners", "add", "--database", GT_DB, "--id", "GT-ONG", "--name", "ONG de reinserción",
           "--service", "vocational_training")
    # Each node's account for the other (it delivers packages), and the partner's account.
    puente("users", "create", "--database", GT_DB, "--username", "SV-DGME", "--role", "node", "--no-password")
    puente("users", "create", "--database", SV_DB, "--username", "GT-IGM", "--role", "node", "--no-password")
    puente("users", "create", "--database", GT_DB, "--username", "gabriela", "--role", "partner",
           "--organisation", "GT-ONG", "--no-password")
    tokens = {}
    for name, database, user in (("sv-at-gt", GT_DB, "SV-DGME"), ("gt-at-sv", SV_DB, "GT-IGM"),
                                 ("partner", GT_DB, "gabriela")):
        tokens[name] = puente("tokens", "create", "--database", database, "--user", user, "--label", "e2e")
        with open(os.path.join(WORK, name + ".token"), "w", encoding="ascii") as f:
            f.write(tokens[name])

    cases = json.loads(puente("cases", "list", "--database", SV_DB, "--format", "json"))
    case = next(c["id"] for c in cases if c["status"] != "closed")
    referral = puente("referrals", "create", "--database", SV_DB, "--case", str(case), "--partner", "GT-ONG",
                      "--service", "vocational_training", "--field", "given_names", "--field", "phone",
                      "--override", "prueba de extremo a extremo")
    referral_id = int(referral.split()[1])

    # The package as it waits in El Salvador's queue, checked and opened as the partner would.
    with sqlite3.connect(SV_DB) as db:
        file = db.execute(
            "SELECT file FROM exchange_sent WHERE agreement = 'SV-GT-REF' AND delivered_at IS NULL").fetchone()[0]
    path = os.path.join(WORK, "referral.puente")
    with open(path, "w", encoding="utf-8") as f:
        f.write(file)
    problem = verify_signature.check_package(path, sv_x)
    if problem:
        sys.exit(f"the referral package does not verify: {problem}")
    lines = file.split("\n")
    manifest = json.loads(lines[1])
    enc, ciphertext = (b64url_decode(line) for line in lines[3:5])
    message = json.loads(hpke_open(encryption_key(GT_DB + ".keys"), enc, b"puente-referral/1",
                                   manifest["id"].encode(), ciphertext))
    assert message["kind"] == "request" and message["referral"] == referral_id, message
    assert sorted(message["values"]) == ["given_names"] or sorted(message["values"]) == ["given_names", "phone"]
    assert message["basis"] == "override" and manifest["dataflow"] == "PUENTE:REFERRAL(1.0)"
    for value in message["values"].values():
        assert value not in file, "a referred value in clear in the package"

    with open(os.path.join(WORK, "sv-serve.log"), "w") as sv_log, \
            open(os.path.join(WORK, "gt-serve.log"), "w") as gt_log:
        servers = [serve(SV_DB, SV_PORT, sv_log), serve(GT_DB, GT_PORT, gt_log)]
        try:
            # El Salvador's queue may hold packages for other nodes (the hub's): only Guatemala's go there.
            out = puente("exchange", "push", "--database", SV_DB, "--to", f"http://127.0.0.1:{GT_PORT}",
                         "--receiver", "GT-IGM", "--token-file", os.path.join(WORK, "sv-at-gt.token"))
            print(out)
            status, inbox = call("GET", GT_PORT, "/api/v1/incoming-referrals", tokens["partner"])
            assert len(inbox) == 1 and inbox[0]["originID"] == referral_id and not inbox[0].get("values"), inbox
            incoming = inbox[0]["id"]
            status, shown = call("GET", GT_PORT, f"/api/v1/incoming-referrals/{incoming}", tokens["partner"])
            assert shown["values"] == message["values"], "the partner sees other values than were sent"
            call("POST", GT_PORT, f"/api/v1/incoming-referrals/{incoming}/status", tokens["partner"],
                 {"to": "accepted"})
            status, done = call("POST", GT_PORT, f"/api/v1/incoming-referrals/{incoming}/status", tokens["partner"],
                                {"to": "completed", "reason": "delivered"})
            assert done["status"] == "completed" and not done.get("values"), done
            print(puente("exchange", "push", "--database", GT_DB, "--to", f"http://127.0.0.1:{SV_PORT}",
                         "--receiver", "SV-DGME", "--token-file", os.path.join(WORK, "gt-at-sv.token")))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    referrals = json.loads(puente("referrals", "list", "--database", SV_DB, "--case", str(case), "--format", "json"))
    final = next(r for r in referrals if r["id"] == referral_id)
    assert final["status"] == "completed" and final["reason"] == "delivered", final
    assert "accepted" in final["reached"], final
    print(f"Referral {referral_id} went to GT-IGM encrypted, was accepted and completed there, and came back "
          "completed (delivered); its package verified and opened with cryptography alone.")


if __name__ == "__main__":
    main()
