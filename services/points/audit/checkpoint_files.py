"""Checkpoint files: every member's chain head at one instant, signed, outside the database.

A file holds the leaves (member, head sequence, head hash) sorted by member, their Merkle root,
the checkpoint's number and the hash of the previous checkpoint, signed with an Ed25519 key the
database never sees. Numbers run 1, 2, 3, … and each file names its predecessor's hash, so the
files form a chain of their own: a removed or replaced file shows as a gap or a broken link.

Files are written once (temp file, fsync, hard link to the final name, which fails if the name is
taken, fsync of the directory) and never rewritten; the directory is meant to be append-only
(its own volume, `chattr +a`, or shipped off the host), since it is what a database
administrator must not be able to change.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = 1
GENESIS = "0" * 64  # the "previous" of checkpoint 1
_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")


@dataclass(frozen=True, slots=True)
class Leaf:
    member_id: uuid.UUID
    sequence: int
    hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    number: int
    taken_at: datetime
    previous: str
    root: str
    leaves: tuple[Leaf, ...]
    signature: str = ""

    def payload(self) -> bytes:
        """The canonical bytes that are signed (and hashed for the next checkpoint's `previous`)."""
        return orjson.dumps(
            {
                "format": FORMAT,
                "number": self.number,
                "taken_at": self.taken_at,
                "previous": self.previous,
                "root": self.root,
                "leaves": [[str(leaf.member_id), leaf.sequence, leaf.hash] for leaf in self.leaves],
            },
            option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z,
        )

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.payload()).hexdigest()


def merkle_root(leaves: Sequence[Leaf]) -> str:
    """Root over the leaves in member order; leaf and node hashes are domain-separated, an odd
    node is carried up unchanged, no leaves hash to SHA-256 of nothing."""
    level = [hashlib.sha256(b"\x00" + f"{leaf.member_id}:{leaf.sequence}:{leaf.hash}".encode()).digest() for leaf in leaves]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        pairs = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


def private_key(encoded: str) -> Ed25519PrivateKey:
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 32:
        raise ValueError("a checkpoint key is base64 of 32 bytes (an Ed25519 private key)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> Checkpoint:
    signature = base64.b64encode(key.sign(checkpoint.payload())).decode()
    return Checkpoint(checkpoint.number, checkpoint.taken_at, checkpoint.previous, checkpoint.root, checkpoint.leaves, signature)


def signature_holds(checkpoint: Checkpoint, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


def file_name(number: int) -> str:
    return f"checkpoint-{number:012d}.json"


def write(directory: Path, checkpoint: Checkpoint) -> Path:
    """Writes the file once; FileExistsError if that number is already taken (another process)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file_name(checkpoint.number)
    document = orjson.loads(checkpoint.payload())
    document["signature"] = checkpoint.signature
    temp = directory / f".{target.name}.{uuid.uuid4().hex}.tmp"
    with open(temp, "xb") as f:
        f.write(orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(temp, target)  # unlike rename, never replaces an existing checkpoint
    finally:
        temp.unlink()
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return target


def numbers(directory: Path) -> list[int]:
    """The checkpoint numbers present, in order."""
    if not directory.is_dir():
        return []
    return sorted(int(m.group(1)) for name in os.listdir(directory) if (m := _NAME.match(name)))


def read(directory: Path, number: int) -> Checkpoint:
    """One checkpoint; ValueError if the file is not a well-formed checkpoint."""
    try:
        document = orjson.loads((directory / file_name(number)).read_bytes())
        if document["format"] != FORMAT:
            raise ValueError(f"unknown format {document['format']}")
        return Checkpoint(
            number=int(document["number"]),
            taken_at=datetime.fromisoformat(document["taken_at"]),
            previous=str(document["previous"]),
            root=str(document["root"]),
            leaves=tuple(Leaf(uuid.UUID(m), int(s), str(h)) for m, s, h in document["leaves"]),
            signature=str(document["signature"]),
        )
    except (KeyError, TypeError, orjson.JSONDecodeError) as e:
        raise ValueError(f"malformed: {e}") from e


def read_all(directory: Path) -> Iterator[tuple[int, Checkpoint | None, str | None]]:
    """(number, checkpoint, None) per file in order, or (number, None, why) if it cannot be read."""
    for number in numbers(directory):
        try:
            yield number, read(directory, number), None
        except (OSError, ValueError) as e:
            yield number, None, str(e)
