"""The pure rules of recharges: the idempotency key a reservation sends, and account bounds."""

from __future__ import annotations

import re

import pytest

from shared.errors import InvalidInput

from services.benefits.delivery.contract import check_key
from services.benefits.delivery.rules import check_account, recharge_key


@pytest.mark.parametrize("key", ["rdm-0190f6c2", "a", "x" * 120, "a:b.c_d~e-f"])
def test_a_key_of_the_contracts_characters_is_sent_readable(key: str) -> None:
    assert recharge_key(key) == f"abg.r.{key}" == recharge_key(key)
    assert check_key(recharge_key(key))


@pytest.mark.parametrize("key", ["x" * 121, "x" * 200, "with space", "ünïcode", "slash/key", "abg.r.x" + "?" ])
def test_any_other_key_is_sent_as_its_hash(key: str) -> None:
    sent = recharge_key(key)
    assert re.fullmatch(r"abg\.h\.[0-9a-f]{64}", sent) and sent == recharge_key(key)
    assert check_key(sent) and sent != recharge_key(key + "!")


def test_the_two_forms_never_meet() -> None:
    hashed = recharge_key("not plain!")
    assert recharge_key(hashed) != hashed  # a reservation keyed like a hash is sent under `abg.r.`


@pytest.mark.parametrize("account", ["demo-alice", "alice@example.com", "手机 138 0000 0000", "a", "x" * 100])
def test_accounts_within_bounds(account: str) -> None:
    assert check_account(account) == account


@pytest.mark.parametrize("account", ["", "   ", "x" * 101, "new\nline", "nul\x00", None, 7, b"bytes"])
def test_accounts_out_of_bounds(account: object) -> None:
    with pytest.raises(InvalidInput) as error:
        check_account(account)
    assert error.value.extensions["field"] == "account"
