import uuid

from shared.ids import new_id


def test_new_id_is_a_stdlib_uuid_of_version_7() -> None:
    value = new_id()
    assert type(value) is uuid.UUID
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_ids_made_in_a_tight_loop_are_unique_and_increasing() -> None:
    ids = [new_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    # Sorting by the text form (what a cursor or a log shows) gives the same order.
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)


def test_id_starts_with_the_current_unix_millisecond_timestamp() -> None:
    import time

    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after
