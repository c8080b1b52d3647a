import tracemalloc
from collections.abc import AsyncIterator, Iterable

import pytest

from services.benefits.codes.upload import CodeUpload, LineError, LineProblem, UploadBatch, _DigestSet
from shared.errors import InvalidInput, PayloadTooLarge

SAMPLE = [
    "\ufeffFIRST-001",  # a byte order mark before the first line is ignored
    "  padded-002\t",  # surrounding whitespace is trimmed
    "",
    "   ",
    "x" * 64,  # exactly the limit
    "y" * 65,
    "inner space",
    "tab\tinside",
    "bell\x07",
    "caf\u00e9",
    "padded-002",  # a duplicate: the first occurrence wins
    "Padded-002",  # another code: case is kept
    "~!{}[]<>?/\\|'\"`",
    "LAST",  # no line ending after it
]


async def as_lines(lines: Iterable[str], ending: str = "\n") -> AsyncIterator[str]:
    for line in lines:
        yield line + ending


async def as_chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def parse(source, **options) -> tuple[list[UploadBatch], CodeUpload]:
    upload = CodeUpload(**options)
    return [batch async for batch in upload.batches(source)], upload


def codes_of(batches: list[UploadBatch]) -> list[str]:
    return [code for batch in batches for code in batch.codes]


def errors_of(batches: list[UploadBatch]) -> list[LineError]:
    return [error for batch in batches for error in batch.errors]


EXPECTED_CODES = ["FIRST-001", "padded-002", "x" * 64, "Padded-002", "~!{}[]<>?/\\|'\"`", "LAST"]
EXPECTED_ERRORS = [
    (6, LineProblem.TOO_LONG, None),
    (7, LineProblem.BAD_CHARACTER, 6),
    (8, LineProblem.BAD_CHARACTER, 4),
    (9, LineProblem.BAD_CHARACTER, 5),
    (10, LineProblem.BAD_CHARACTER, 4),
    (11, LineProblem.DUPLICATE, None),
]


async def test_each_line_is_accepted_or_reported_with_its_number_and_reason() -> None:
    batches, upload = await parse(as_lines(SAMPLE))
    assert codes_of(batches) == EXPECTED_CODES
    assert [(e.line, e.reason, e.column) for e in errors_of(batches)] == EXPECTED_ERRORS
    counts = upload.counts
    assert (counts.lines, counts.accepted, counts.empty) == (14, 6, 2)
    assert (counts.too_long, counts.bad_character, counts.duplicate, counts.refused) == (1, 4, 1, 6)
    messages = {e.line: e.message for e in errors_of(batches)}
    assert messages[6] == "line 6 holds 65 characters; a code has at most 64"
    assert messages[7] == "line 7 has a space or tab inside the code at column 6"
    assert messages[9] == "line 9 has a control character at column 5"
    assert messages[10] == "line 10 has a non-ASCII character at column 4"
    assert messages[11] == "line 11 repeats a code of an earlier line"
    # the reason codes are part of the API
    assert [r.value for r in LineProblem] == ["TOO_LONG", "BAD_CHARACTER", "DUPLICATE"]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
async def test_byte_chunks_cut_anywhere_give_the_same_answer(ending: str) -> None:
    data = ending.join(SAMPLE).encode("utf-8")
    for size in [1, 2, 3, 5, 7, 64, len(data)]:
        batches, upload = await parse(as_chunks(data, size))
        assert codes_of(batches) == EXPECTED_CODES, size
        assert [(e.line, e.reason, e.column) for e in errors_of(batches)] == EXPECTED_ERRORS, size
        assert upload.counts.lines == 14


async def test_a_huge_line_is_refused_without_being_kept_whole() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield b"OK-1\n"
        for _ in range(1000):  # 10 MB without a line ending
            yield b"z" * 10_000
        yield b"\nOK-2\n" + b" " * 2000 + b"OK-3" + b" " * 10  # padding past 1 KiB is too long as well

    tracemalloc.start()
    try:
        batches, upload = await parse(source())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes_of(batches) == ["OK-1", "OK-2"]
    assert [(e.line, e.reason) for e in errors_of(batches)] == [(2, LineProblem.TOO_LONG), (4, LineProblem.TOO_LONG)]
    assert errors_of(batches)[0].message == "line 2 is over 1024 bytes"
    assert peak < 512 * 1024


def line_of(i: int) -> str:
    return f"PARTNER-{i:09d}-{(i * 2654435761) % 1_000_003:07d}"


async def test_a_100000_line_upload_comes_in_full_batches() -> None:
    # 100,000 lines: every 50th repeats the line before it, every 1,000th is empty
    async def source() -> AsyncIterator[str]:
        for i in range(100_000):
            if i % 1000 == 999:
                yield "\n"
            elif i % 50 == 49:
                yield line_of(i - 1) + "\n"
            else:
                yield line_of(i) + "\n"

    upload = CodeUpload(batch_size=1000)
    sizes, errors, seen = [], [], set()
    async for batch in upload.batches(source()):
        sizes.append(len(batch.codes))
        errors.extend(batch.errors)
        seen.update(batch.codes)
    counts = upload.counts
    assert (counts.lines, counts.empty, counts.duplicate) == (100_000, 100, 1_900)
    assert counts.accepted == len(seen) == 98_000
    assert sizes == [1000] * 98
    assert all(e.reason is LineProblem.DUPLICATE and e.line % 50 == 0 for e in errors) and len(errors) == 1_900


async def test_parsing_100000_codes_stays_within_a_few_mebibytes() -> None:
    # What the parser keeps: the digest table (8-byte slots, at most half full: 262,144 slots =
    # 2 MiB for 100,000 codes, plus the old 1 MiB table while it doubles), one batch of 1,000
    # codes (~80 KB) and one 64 KiB chunk being split. 4 MiB leaves room for the rest; keeping the
    # 100,000 codes themselves (as a set of str) would take about 12 MiB.
    async def source() -> AsyncIterator[bytes]:
        chunk = bytearray()
        for i in range(100_000):
            chunk += line_of(i).encode() + b"\r\n"
            if len(chunk) >= 65_536:
                yield bytes(chunk)
                chunk.clear()
        yield bytes(chunk)

    upload = CodeUpload(batch_size=1000)
    batches = 0
    tracemalloc.start()
    try:
        async for batch in upload.batches(source()):
            batches += 1
            assert len(batch.codes) == 1000 and not batch.errors
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert batches == 100 and upload.counts.accepted == 100_000
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.2f} MiB"


async def test_errors_are_flushed_in_batches_too() -> None:
    batches, upload = await parse(as_lines(["bad code"] * 25 + ["good"]), batch_size=10)
    assert [(len(b.codes), len(b.errors)) for b in batches] == [(0, 10), (0, 10), (1, 5)]
    assert upload.counts.bad_character == 25


async def test_too_many_codes_refuse_the_upload_but_duplicates_past_the_limit_do_not() -> None:
    batches, upload = await parse(as_lines(["A", "B", "A", "B"]), max_codes=2)
    assert codes_of(batches) == ["A", "B"] and upload.counts.duplicate == 2
    with pytest.raises(PayloadTooLarge, match="at most 2 codes") as refused:
        await parse(as_lines(["A", "B", "C"]), max_codes=2)
    assert refused.value.extensions == {"limit": 2, "line": 3}


async def test_an_empty_upload_yields_nothing() -> None:
    batches, upload = await parse(as_lines([]))
    assert batches == [] and upload.counts.lines == 0
    batches, upload = await parse(as_chunks(b"\n\n  \r\n", 2))
    assert batches == [] and (upload.counts.lines, upload.counts.empty) == (3, 3)


async def test_sources_must_be_all_text_or_all_bytes() -> None:
    async def mixed() -> AsyncIterator[object]:
        yield "A\n"
        yield b"B\n"

    async def mixed_bytes_first() -> AsyncIterator[object]:
        yield b"A\n"
        yield "B\n"

    async def numbers() -> AsyncIterator[object]:
        yield 1

    for source in (mixed(), mixed_bytes_first()):
        with pytest.raises(TypeError, match="mixes text lines and byte chunks"):
            await parse(source)
    with pytest.raises(TypeError, match="not int"):
        await parse(numbers())


def test_options_are_checked() -> None:
    for options in ({"batch_size": 0}, {"max_length": 65}, {"max_length": 0}, {"max_codes": 0}):
        with pytest.raises(InvalidInput):
            CodeUpload(**options)


def test_the_digest_set_keeps_every_value_through_growth() -> None:
    digests = _DigestSet(capacity=4)
    values = [(i * 0x9E3779B97F4A7C15) % 2**64 for i in range(1, 5000)]
    assert all(digests.add(v) for v in values)
    assert len(digests) == len(values) and all(v in digests for v in values)
    assert not any(digests.add(v) for v in values)
    assert digests.add(0) and not digests.add(1)  # 0 marks a free slot, so it is stored as 1
