#!/usr/bin/env python3
"""A partner's check of a Puente document signature, with nothing of Puente: Python's standard library
and the `cryptography` package. docs/exchange.md describes the format.

    verify_signature.py DOCUMENT.json SIGNATURE.jws PUBLIC_KEY_X TYPE
    verify_signature.py --agreement AGREEMENT.json
    verify_signature.py --registry REGISTRY.json HUB_KEY_X
    verify_signature.py --package PACKAGE.puente SENDER_KEY_X

Exits 0 when SIGNATURE is a valid detached JWS (EdDSA) by PUBLIC_KEY_X (the `x` of the signer's JWK)
over DOCUMENT for a document of kind TYPE; with --agreement, when both parties' signatures in an
agreement file are valid over its terms, each by the key the terms name for that party; with
--registry, when the hub's signature over a member registry is valid by HUB_KEY_X; with --package, when
a package file's manifest is canonical and signed by SENDER_KEY_X, and every payload part has the size
and SHA-256 the manifest gives, with nothing after the last. Otherwise it prints why and exits 1.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def canonical(value):
    """RFC 8785 for documents of whole numbers: members sorted by UTF-16 code units, no whitespace."""
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return "{" + ",".join(canonical(n) + ":" + canonical(value[n]) for n in names) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, float):
        raise ValueError("fractions have no canonical form in these documents")
    return json.dumps(value, ensure_ascii=False)


def main(document_path, signature_path, public_key_x, expected_type):
    with open(document_path, encoding="utf-8") as f:
        document = json.load(f)
    with open(signature_path, encoding="ascii") as f:
        return check(document, f.read(), public_key_x, expected_type)


def check_agreement(path):
    with open(path, encoding="utf-8") as f:
        agreement = json.load(f)
    terms = agreement["terms"]
    for role in ("sender", "receiver"):
        party = terms[role]
        signature = agreement["signatures"].get(party["node"])
        if signature is None:
            return f"{party['node']} has not signed"
        problem = check(terms, signature, party["key"], "puente-agreement+json")
        if problem:
            return f"{party['node']}: {problem}"
    return None


def check_registry(path, hub_key_x):
    with open(path, encoding="utf-8") as f:
        signed = json.load(f)
    return check(signed["registry"], signed["signature"], hub_key_x, "puente-registry+json")


def check_package(path, sender_key_x):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != b"puente-package/1":
        return "not a package: expected the puente-package/1 line, the manifest and its signature"
    manifest_line, signature_line, payload = parts[1], parts[2], parts[3]
    manifest = json.loads(manifest_line.decode("utf-8"))
    if canonical(manifest).encode("utf-8") != manifest_line:
        return "the manifest is not in canonical form"
    problem = check(manifest, signature_line.decode("ascii"), sender_key_x, "puente-package+json")
    if problem:
        return problem
    offset = 0
    for part in manifest["parts"]:
        content = payload[offset:offset + part["bytes"]]
        if len(content) != part["bytes"] or hashlib.sha256(content).hexdigest() != part["sha256"]:
            return f"part {part['name']} differs from the manifest"
        offset += part["bytes"]
    if offset != len(payload):
        return "bytes follow the last part"
    print(f"valid package {manifest['id']}: {manifest['sender']} to {manifest['receiver']}, "
          f"sequence {manifest['sequence']} under {manifest['agreement']}")
    return None


def check(document, compact, public_key_x, expected_type):
    header_part, payload_part, signature_part = compact.strip().split(".")
    if payload_part:
        return "not a detached JWS: the payload part must be empty"
    header = json.loads(b64url_decode(header_part))
    if header.get("alg") != "EdDSA":
        return f"alg is {header.get('alg')!r}, not EdDSA"
    if header.get("typ") != expected_type:
        return f"typ is {header.get('typ')!r}, not {expected_type!r}"
    signing_input = header_part + "." + b64url_encode(canonical(document).encode("utf-8"))
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key_x))
    try:
        key.verify(b64url_decode(signature_part), signing_input.encode("ascii"))
    except InvalidSignature:
        return "the signature does not match the document"
    print(f"valid: {header['typ']} signed by {header['kid']}")
    return None


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--agreement":
        problem = check_agreement(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "--registry":
        problem = check_registry(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--package":
        problem = check_package(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5:
        problem = main(*sys.argv[1:])
    else:
        sys.exit(__doc__)
    if problem:
        print("refused:", problem)
        sys.exit(1)
