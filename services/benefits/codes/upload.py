"""Taking in a partner's upload of voucher codes: one code a line, streamed, in bounded memory.

Partners upload pools of up to hundreds of thousands of codes, and a pool is worth money, so the
upload must neither sit whole in memory nor lose track of a bad line. The parser reads an async
stream (whole lines as `str`, or raw `bytes` chunks cut anywhere), and yields `UploadBatch`es of at
most `batch_size` accepted codes together with the errors of the lines read since the last batch,
so the service can store each batch as it comes.

A code is whatever the partner issued: visible ASCII (`!` to `~`), 1 to 64 characters once the
line's surrounding whitespace is trimmed, kept exactly as written (case included). Whitespace
*inside* a code is refused: a till cannot tell it from a separator, and write-off strips it.
Each refused line is reported with its number and a stable reason:

- `TOO_LONG`: over `max_length` after trimming, or a raw line over 1 KiB (not kept whole);
- `BAD_CHARACTER`: a character outside visible ASCII (the column of the first one is given);
- `DUPLICATE`: the same code as an earlier line of this upload (the first occurrence is kept).

Empty lines are skipped and only counted; a UTF-8 byte order mark before the first line is ignored.

Duplicates are found without keeping the codes: each accepted code is reduced to a 64-bit BLAKE2b
digest keyed with a random key of this upload (so nobody can craft colliding codes), and digests
live in one flat open-addressing table of 8-byte slots kept at most half full: 16 to 32 bytes per
distinct code, 2 MiB for 100,000 codes (3 MiB for a moment while the table doubles). Two different
codes share a digest with probability about n² / 2⁶⁵: 3 in 10¹⁰ for 100,000 codes. At
`max_codes` (a million by default, 16 MiB of table) the upload is refused as too large.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from array import array
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

from shared.errors import InvalidInput, PayloadTooLarge

__all__ = ["CodeUpload", "LineError", "LineProblem", "UploadBatch", "UploadCounts"]

MAX_CODE_LENGTH = 64
_RAW_LINE_CAP = 1024  # bytes of an unfinished line kept while streaming; longer lines are too long
_TERMINATOR = re.compile(rb"\r\n?|\n")
_NOT_VISIBLE = re.compile(r"[^\x21-\x7e]")
_WHITESPACE = " \t\r\n\v\f"
_BOM = "\ufeff"


class LineProblem(StrEnum):
    TOO_LONG = "TOO_LONG"
    BAD_CHARACTER = "BAD_CHARACTER"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True, slots=True)
class LineError:
    line: int  # 1-based, counting empty lines
    reason: LineProblem
    message: str
    column: int | None = None  # 1-based, in the line as uploaded (BAD_CHARACTER only)


@dataclass(frozen=True, slots=True)
class UploadBatch:
    codes: tuple[str, ...]  # accepted codes, in upload order
    errors: tuple[LineError, ...]  # refused lines read since the previous batch
    # The line of each code in `codes` (1-based), so a later refusal (a code already in the pool)
    # can be reported by line too.
    lines: tuple[int, ...] = ()


@dataclass(slots=True)
class UploadCounts:
    lines: int = 0
    accepted: int = 0
    empty: int = 0
    too_long: int = 0
    bad_character: int = 0
    duplicate: int = 0

    @property
    def refused(self) -> int:
        return self.too_long + self.bad_character + self.duplicate


class _DigestSet:
    """Distinct non-zero 64-bit integers in one flat array (0 marks a free slot)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._slots = array("Q", [0]) * capacity
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _find(self, value: int) -> tuple[int, bool]:
        """The slot holding `value`, or the free slot where it would go; and whether it is there."""
        slots = self._slots
        mask = len(slots) - 1
        i = value & mask  # the digest is keyed and uniform, so its low bits spread well
        while (current := slots[i]) != 0:
            if current == value:
                return i, True
            i = (i + 1) & mask
        return i, False

    def __contains__(self, value: int) -> bool:
        return self._find(value or 1)[1]

    def add(self, value: int) -> bool:
        """Add `value`; False when it was already there."""
        value = value or 1  # keep 0 for "free"; merging two of 2⁶⁴ digests costs nothing
        i, present = self._find(value)
        if present:
            return False
        self._slots[i] = value
        self._count += 1
        if self._count * 2 > len(self._slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old, self._slots = self._slots, array("Q", [0]) * (len(self._slots) * 2)
        slots, mask = self._slots, len(self._slots) - 1
        for value in old:
            if value:
                i = value & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = value


class _TooLong:
    """A streamed line longer than `_RAW_LINE_CAP` bytes: its text was not kept."""


_TOO_LONG = _TooLong()


async def _split_chunks(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes | _TooLong]:
    """Lines of a byte stream cut anywhere, ended by LF, CRLF or CR, each at most the cap."""
    tail, overflow, skip_lf = b"", False, False
    async for chunk in chunks:
        if not chunk:
            continue
        if skip_lf and chunk.startswith(b"\n"):  # the LF of a CRLF split across two chunks
            chunk = chunk[1:]
        skip_lf = chunk.endswith(b"\r")
        start = 0
        for match in _TERMINATOR.finditer(chunk):
            piece = chunk[start : match.start()]
            too_long = overflow or len(tail) + len(piece) > _RAW_LINE_CAP
            yield _TOO_LONG if too_long else tail + piece
            tail, overflow, start = b"", False, match.end()
        rest = chunk[start:]
        if not overflow and len(tail) + len(rest) > _RAW_LINE_CAP:
            tail, overflow = b"", True
        elif not overflow:
            tail += rest
    if overflow:
        yield _TOO_LONG
    elif tail:
        yield tail


async def _lines(source: AsyncIterable[str] | AsyncIterable[bytes]) -> AsyncIterator[str | bytes | _TooLong]:
    """Lines from either kind of source: `str` items are whole lines, `bytes` items are chunks."""
    iterator: AsyncIterator[str | bytes] = aiter(source)
    first = await anext(iterator, None)
    if first is None:
        return
    if isinstance(first, bytes | bytearray | memoryview):
        async for piece in _split_chunks(_chunks(first, iterator)):
            yield piece
        return
    if not isinstance(first, str):
        raise TypeError(f"an upload yields str lines or bytes chunks, not {type(first).__name__}")
    yield first.removesuffix("\n").removesuffix("\r")
    async for line in iterator:
        if not isinstance(line, str):
            raise TypeError("an upload mixes text lines and byte chunks")
        yield line.removesuffix("\n").removesuffix("\r")


async def _chunks(first: bytes, rest: AsyncIterator[str | bytes]) -> AsyncIterator[bytes]:
    yield bytes(first)
    async for item in rest:
        if not isinstance(item, bytes | bytearray | memoryview):
            raise TypeError("an upload mixes text lines and byte chunks")
        yield bytes(item)


def _first_non_ascii(raw: str | bytes) -> int:
    """Offset of the first non-ASCII character (before it all is ASCII, so bytes = characters)."""
    if isinstance(raw, str):
        return next(i for i, char in enumerate(raw) if char > "\x7f")
    return next(i for i, byte in enumerate(raw) if byte > 0x7F)


class CodeUpload:
    """One upload being parsed: iterate `batches(source)`, then read `counts`."""

    def __init__(
        self, *, batch_size: int = 1000, max_length: int = MAX_CODE_LENGTH, max_codes: int = 1_000_000
    ) -> None:
        if batch_size < 1:
            raise InvalidInput("batch_size must be at least 1", field="batch_size")
        if not 1 <= max_length <= MAX_CODE_LENGTH:
            raise InvalidInput(f"max_length must be 1 to {MAX_CODE_LENGTH}", field="max_length")
        if max_codes < 1:
            raise InvalidInput("max_codes must be at least 1", field="max_codes")
        self.batch_size, self.max_length, self.max_codes = batch_size, max_length, max_codes
        self.counts = UploadCounts()
        self._key = secrets.token_bytes(32)
        self._seen = _DigestSet()

    async def batches(self, source: AsyncIterable[str] | AsyncIterable[bytes]) -> AsyncIterator[UploadBatch]:
        codes: list[str] = []
        errors: list[LineError] = []
        numbers: list[int] = []
        async for raw in _lines(source):
            self.counts.lines += 1
            outcome = self._take(raw, self.counts.lines)
            if isinstance(outcome, LineError):
                errors.append(outcome)
            elif outcome is not None:
                codes.append(outcome)
                numbers.append(self.counts.lines)
            # errors are flushed too, so a file of bad lines cannot pile them up either
            if len(codes) >= self.batch_size or len(errors) >= self.batch_size:
                yield UploadBatch(tuple(codes), tuple(errors), tuple(numbers))
                codes, errors, numbers = [], [], []
        if codes or errors:
            yield UploadBatch(tuple(codes), tuple(errors), tuple(numbers))

    def _take(self, raw: str | bytes | _TooLong, number: int) -> str | LineError | None:
        """The accepted code of one line, its error, or None for an empty line."""
        if isinstance(raw, _TooLong):
            return self._refuse(number, LineProblem.TOO_LONG, f"line {number} is over {_RAW_LINE_CAP} bytes")
        if number == 1:
            raw = raw.removeprefix(_BOM.encode()) if isinstance(raw, bytes) else raw.removeprefix(_BOM)
        if not raw.isascii():
            column = _first_non_ascii(raw) + 1
            return self._refuse(number, LineProblem.BAD_CHARACTER,
                                f"line {number} has a non-ASCII character at column {column}", column)
        line = raw.decode("ascii") if isinstance(raw, bytes) else raw
        code = line.strip(_WHITESPACE)
        if not code:
            self.counts.empty += 1
            return None
        if len(code) > self.max_length:
            return self._refuse(number, LineProblem.TOO_LONG,
                                f"line {number} holds {len(code)} characters; a code has at most {self.max_length}")
        if bad := _NOT_VISIBLE.search(code):
            column = len(line) - len(line.lstrip(_WHITESPACE)) + bad.start() + 1
            what = "a space or tab inside the code" if bad.group() in _WHITESPACE else "a control character"
            return self._refuse(number, LineProblem.BAD_CHARACTER, f"line {number} has {what} at column {column}",
                                column)
        encoded = code.encode("ascii")
        digest = int.from_bytes(hashlib.blake2b(encoded, key=self._key, digest_size=8).digest(), "little")
        if len(self._seen) >= self.max_codes and digest not in self._seen:
            raise PayloadTooLarge(f"an upload may hold at most {self.max_codes} codes", limit=self.max_codes,
                                  line=number)
        if not self._seen.add(digest):
            return self._refuse(number, LineProblem.DUPLICATE, f"line {number} repeats a code of an earlier line")
        self.counts.accepted += 1
        return code

    def _refuse(self, number: int, reason: LineProblem, message: str, column: int | None = None) -> LineError:
        field = {LineProblem.TOO_LONG: "too_long", LineProblem.BAD_CHARACTER: "bad_character",
                 LineProblem.DUPLICATE: "duplicate"}[reason]
        setattr(self.counts, field, getattr(self.counts, field) + 1)
        return LineError(number, reason, message, column)
