"""The certificate: an in-toto Statement v1 about a validated copy, in a DSSE envelope
signed with Ed25519 by one or more signers, verifiable offline with their public keys.

Subjects are the canonical hashes of every copied table (rows and the order-free digest of
their normalized values, as the row-level perspective found them on the target) and of the
validation report; the predicate names the spec and its digest, the approvals, every
perspective's result, the counts and the copy's checkpoint digests."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://moonshift.dev/validation-certificate/v1"
KEY_FILE, PUBLIC_FILE = "signing.key", "signing.pub"


class CertificateInvalid(ValueError):
    """A certificate that does not verify: why, in words."""


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: equal documents are equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what each signature signs."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


# -- keys -----------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    """A public key's id: the SHA-256 of its 32 raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256(raw)


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    key_id: str


def generate(folder: Path) -> KeyPair:
    """A new Ed25519 key pair in ``folder``: signing.key (mode 0600) and signing.pub.
    FileExistsError when a signing key is there already (it is never overwritten)."""
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / KEY_FILE, folder / PUBLIC_FILE
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyPair(private, public, key_id(key.public_key()))


def load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


# -- signing and verifying ------------------------------------------------------------------


def sign(statement: dict[str, Any], keys: list[Ed25519PrivateKey]) -> dict[str, Any]:
    """The statement in a DSSE envelope with one signature per key."""
    payload = canonical(statement)
    signed = pae(PAYLOAD_TYPE, payload)
    return {
        "payload": _b64(payload),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [
            {"keyid": key_id(k.public_key()), "sig": _b64(k.sign(signed))} for k in keys
        ],
    }


def verify(envelope: bytes, keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    """The statement of an envelope that every one of ``keys`` signed; CertificateInvalid
    (naming why) when any did not, or anything in it was changed."""
    if not keys:
        raise CertificateInvalid("give at least one public key")
    try:
        found = json.loads(envelope)
    except (UnicodeDecodeError, ValueError):
        raise CertificateInvalid("not a DSSE envelope: it is not JSON") from None
    if not isinstance(found, dict) or set(found) != {"payload", "payloadType", "signatures"}:
        raise CertificateInvalid("not a DSSE envelope: payload, payloadType, signatures")
    if found["payloadType"] != PAYLOAD_TYPE:
        raise CertificateInvalid(f"payloadType is not {PAYLOAD_TYPE}")
    payload = _unb64(found["payload"], "payload")
    signed = pae(PAYLOAD_TYPE, payload)
    signatures = found["signatures"]
    if not isinstance(signatures, list):
        raise CertificateInvalid("signatures is not a list")
    by_key: dict[str, bytes] = {}
    for entry in signatures:
        if not isinstance(entry, dict) or set(entry) != {"keyid", "sig"}:
            raise CertificateInvalid("a signature is not {keyid, sig}")
        by_key[str(entry["keyid"])] = _unb64(entry["sig"], "sig")
    for key in keys:
        wanted = key_id(key)
        if wanted not in by_key:
            raise CertificateInvalid(f"no signature by key {wanted[:16]}")
        try:
            key.verify(by_key[wanted], signed)
        except InvalidSignature:
            raise CertificateInvalid(
                f"the signature by key {wanted[:16]} does not verify"
            ) from None
    return _statement(payload)


def _statement(payload: bytes) -> dict[str, Any]:
    statement = json.loads(payload)
    if payload != canonical(statement):
        raise CertificateInvalid("the payload is not in canonical form")
    if statement.get("_type") != STATEMENT_TYPE:
        raise CertificateInvalid(f"the payload is not an in-toto {STATEMENT_TYPE}")
    return dict(statement)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any, field: str) -> bytes:
    """Strict base64: only the one spelling of the bytes is accepted."""
    try:
        data = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateInvalid(f"{field} is not base64") from None
    if _b64(data) != text:
        raise CertificateInvalid(f"{field} is not in canonical base64")
    return data


# -- the statement --------------------------------------------------------------------------


def subject(name: str, digest: str) -> dict[str, Any]:
    return {"name": name, "digest": {"sha256": digest}}


def statement(subjects: list[dict[str, Any]], predicate: dict[str, Any]) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
