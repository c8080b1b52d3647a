"""Confirming members with the members subgraph before recording their points."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from services.points.directory import MembersServiceDirectory
from shared.errors import UpstreamError
from shared.settings import get_settings


async def test_unknown_ids_are_asked_of_members_in_one_call_and_known_accounts_are_not(kit) -> None:  # noqa: ANN001
    known = await kit.member()  # has a points account already
    registered, stranger = uuid.uuid4(), uuid.uuid4()
    seen: list[dict] = []

    def members(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        assert request.headers["authorization"].startswith("Bearer ")
        entities = [{"id": r["id"]} if r["id"] == str(registered) else None for r in body["variables"]["r"]]
        return httpx.Response(200, json={"data": {"_entities": entities}})

    with respx.mock(assert_all_mocked=True) as router:
        router.post(get_settings().url_of("members")).mock(side_effect=members)
        found = await MembersServiceDirectory().existing(kit.db, [known, registered, stranger])
    assert found == {known, registered}
    (call,) = seen
    assert sorted(r["id"] for r in call["variables"]["r"]) == sorted([str(registered), str(stranger)])
    assert all(r["__typename"] == "Member" for r in call["variables"]["r"])


@pytest.mark.parametrize(
    "response",
    [httpx.Response(503, text="down"), httpx.Response(200, json={"errors": [{"message": "boom"}]})],
)
async def test_an_unanswered_lookup_is_an_upstream_error_not_an_unknown_member(kit, response: httpx.Response) -> None:  # noqa: ANN001
    with respx.mock(assert_all_mocked=True) as router:
        router.post(get_settings().url_of("members")).mock(return_value=response)
        with pytest.raises(UpstreamError):
            await MembersServiceDirectory().existing(kit.db, [uuid.uuid4()])
