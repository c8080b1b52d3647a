"""The tier review (grace, one level at a time, idempotence) and the tier policy."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from shared.database import Database
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.timeutil import add_months, utcnow

from services.members.access import SYSTEM
from services.members.profiles import service as profiles
from services.members.tiers import service as tiers
from services.members.tiers.answers import PolicyChange
from tests.members.conftest import OPERATOR, POINTS, SUPPORT, as_member, fetch, history, purchase, register


async def tier_of(database: Database, member_id: uuid.UUID) -> tuple[str, object]:
    (row,) = await fetch(database, "SELECT tier, below_threshold_since FROM members.members WHERE id = $1", member_id)
    return row["tier"], row["below_threshold_since"]


async def silver_member(database: Database, spend_months_ago: int = 11, phone: str = "+8613800131362") -> uuid.UUID:
    """A member who reached SILVER with growth `spend_months_ago` months ago."""
    now = utcnow()
    me = await register(database, phone=phone, email=None, joined_at=add_months(now, -24))
    await purchase(database, me.id, 2500, at=add_months(now, -spend_months_ago))
    assert (await tier_of(database, me.id))[0] == "SILVER"
    return me.id


async def test_a_member_still_within_the_threshold_is_left_alone(database: Database) -> None:
    me = await silver_member(database)
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=utcnow())
    assert (summary.reviewed, summary.marked, summary.downgraded) == (1, 0, 0)
    assert await tier_of(database, me) == ("SILVER", None)


async def test_below_threshold_is_marked_then_downgraded_one_level_after_the_grace(database: Database) -> None:
    me = await silver_member(database)
    start = add_months(utcnow(), 2)  # the purchase has left the 12-month window by then
    first = await tiers.run_tier_review(database, SYSTEM, as_of=start)
    assert (first.marked, first.downgraded) == (1, 0)
    assert await tier_of(database, me) == ("SILVER", start)  # grace starts: still SILVER
    again = await tiers.run_tier_review(database, SYSTEM, as_of=start)  # idempotent
    assert (again.marked, again.downgraded) == (0, 0)
    within = await tiers.run_tier_review(database, SYSTEM, as_of=start + timedelta(days=29, hours=23))
    assert within.downgraded == 0 and (await tier_of(database, me))[0] == "SILVER"
    after = start + timedelta(days=30)
    done = await tiers.run_tier_review(database, SYSTEM, as_of=after)
    assert done.downgraded == 1
    assert await tier_of(database, me) == ("BASIC", None)  # BASIC's threshold is 0: nothing to mark
    assert (await tiers.run_tier_review(database, SYSTEM, as_of=after)).downgraded == 0  # idempotent
    changes = await history(database, me)
    assert [(c.from_tier, c.to_tier, c.reason, c.occurred_at) for c in changes[:1]] == [("SILVER", "BASIC", "DOWNGRADE", after)]
    rows = await fetch(database, "SELECT payload FROM members.outbox_events WHERE type = 'members.TierChanged' ORDER BY id")
    last = json.loads(rows[-1]["payload"])
    assert (last["fromTier"], last["toTier"], last["reason"], last["sequence"]) == ("SILVER", "BASIC", "DOWNGRADE", 2)


async def test_a_downgrade_is_one_level_at_a_time(database: Database) -> None:
    now = utcnow()
    me = await register(database, email=None, joined_at=add_months(now, -30))
    await purchase(database, me.id, 12_000, at=add_months(now, -11))
    assert (await tier_of(database, me.id))[0] == "DIAMOND"
    t1 = add_months(now, 2)
    await tiers.run_tier_review(database, SYSTEM, as_of=t1)
    t2 = t1 + timedelta(days=30)
    await tiers.run_tier_review(database, SYSTEM, as_of=t2)
    assert await tier_of(database, me.id) == ("GOLD", t2)  # one level, and still below GOLD: marked again
    await tiers.run_tier_review(database, SYSTEM, as_of=t2 + timedelta(days=10))
    assert (await tier_of(database, me.id))[0] == "GOLD"  # GOLD's own grace has not run out
    t3 = t2 + timedelta(days=30)
    await tiers.run_tier_review(database, SYSTEM, as_of=t3)
    assert await tier_of(database, me.id) == ("SILVER", t3)


async def past_silver_member(database: Database, marked_days_ago: int = 15) -> uuid.UUID:
    """A member who made SILVER over a year ago and whom a review `marked_days_ago` found below it
    (a timeline entirely in the past, as production sees it)."""
    now = utcnow()
    me = await register(database, email=None, joined_at=add_months(now, -24))
    spent = add_months(now, -12) - timedelta(days=45)
    await purchase(database, me.id, 2500, at=spent)  # outside the window today: no upgrade now
    assert (await tier_of(database, me.id))[0] == "BASIC"
    assert (await tiers.run_tier_review(database, SYSTEM, as_of=spent + timedelta(days=1))).upgraded == 1
    marked = now - timedelta(days=marked_days_ago)
    assert (await tiers.run_tier_review(database, SYSTEM, as_of=marked)).marked == 1
    assert await tier_of(database, me.id) == ("SILVER", marked)
    return me.id


async def test_growth_during_the_grace_clears_the_mark(database: Database) -> None:
    me = await past_silver_member(database)
    await purchase(database, me, 1000)
    assert (await tier_of(database, me))[1] is not None  # not enough yet
    await purchase(database, me, 1000)  # 2000 in the window: back on SILVER's line
    assert await tier_of(database, me) == ("SILVER", None)
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=utcnow())
    assert (summary.downgraded, summary.marked) == (0, 0)


async def test_a_review_clears_the_mark_of_a_member_back_above(database: Database) -> None:
    me = await past_silver_member(database)
    await purchase(database, me, 1500, at=utcnow() - timedelta(days=5))
    await tiers.update_policy(
        database, OPERATOR, PolicyChange(tiers=[("BASIC", 0), ("SILVER", 1000), ("GOLD", 5000), ("DIAMOND", 10000)])
    )
    assert (await tier_of(database, me))[1] is not None  # a policy change alone moves nobody
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=utcnow())
    assert (summary.cleared, summary.downgraded) == (1, 0)
    assert await tier_of(database, me) == ("SILVER", None)


async def test_the_grace_runs_out_on_a_past_timeline(database: Database) -> None:
    me = await past_silver_member(database, marked_days_ago=31)
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=utcnow())
    assert summary.downgraded == 1 and (await tier_of(database, me))[0] == "BASIC"


async def test_the_review_upgrades_members_a_new_policy_qualifies(database: Database) -> None:
    now = utcnow()
    me = await register(database, email=None, joined_at=add_months(now, -5))
    await purchase(database, me.id, 1500, at=now - timedelta(days=3))
    await tiers.update_policy(database, OPERATOR, PolicyChange(tiers=[("BASIC", 0), ("SILVER", 1000), ("GOLD", 5000), ("DIAMOND", 10000)]))
    assert (await tier_of(database, me.id))[0] == "BASIC"  # policies do not rewrite tiers by themselves
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=now)
    assert summary.upgraded == 1 and (await tier_of(database, me.id))[0] == "SILVER"
    (change,) = await history(database, me.id, 1)
    assert (change.reason, change.policy_version) == ("UPGRADE", 2)


async def test_a_zero_day_grace_still_needs_a_second_review(database: Database) -> None:
    me = await silver_member(database)
    await tiers.update_policy(database, OPERATOR, PolicyChange(grace_days=0))
    start = add_months(utcnow(), 2)
    await tiers.run_tier_review(database, SYSTEM, as_of=start)
    await tiers.run_tier_review(database, SYSTEM, as_of=start)  # the same instant again: no double action
    assert (await tier_of(database, me))[0] == "SILVER"
    await tiers.run_tier_review(database, SYSTEM, as_of=start + timedelta(seconds=1))
    assert (await tier_of(database, me))[0] == "BASIC"


async def test_a_review_does_not_undo_what_happened_after_its_instant(database: Database) -> None:
    me = await silver_member(database)  # upgraded just now
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=utcnow() - timedelta(days=1))
    assert summary.reviewed == 0 and await tier_of(database, me) == ("SILVER", None)


async def test_erased_members_are_not_reviewed(database: Database) -> None:
    me = await silver_member(database)
    await profiles.erase_member(database, OPERATOR, me)
    summary = await tiers.run_tier_review(database, SYSTEM, as_of=add_months(utcnow(), 3))
    assert summary.reviewed == 0


async def test_many_members_in_batches_and_concurrent_reviews_act_once(database: Database) -> None:
    ids = [await silver_member(database, phone=f"+86139000{i:05d}") for i in range(7)]
    start = add_months(utcnow(), 2)
    summaries = await asyncio.gather(
        tiers.run_tier_review(database, SYSTEM, as_of=start, batch_size=3),
        tiers.run_tier_review(database, SYSTEM, as_of=start, batch_size=2),
    )
    assert sum(s.marked for s in summaries) == 7
    after = start + timedelta(days=30)
    summaries = await asyncio.gather(*(tiers.run_tier_review(database, SYSTEM, as_of=after, batch_size=3) for _ in range(3)))
    assert sum(s.downgraded for s in summaries) == 7
    assert {(await tier_of(database, i))[0] for i in ids} == {"BASIC"}
    downgrades = await fetch(database, "SELECT count(*) AS n FROM members.tier_changes WHERE reason = 'DOWNGRADE'")
    assert downgrades[0]["n"] == 7


async def test_the_operator_review_is_for_operators_and_not_for_the_future(database: Database) -> None:
    for actor in (SUPPORT, POINTS, as_member(uuid.uuid4())):
        with pytest.raises(Forbidden):
            await tiers.review_tiers(database, actor)
    with pytest.raises(InvalidInput):
        await tiers.review_tiers(database, OPERATOR, as_of=utcnow() + timedelta(days=1))
    summary = await tiers.review_tiers(database, OPERATOR)
    assert summary.reviewed == 0
    runs = await fetch(database, "SELECT triggered_by, finished_at FROM members.tier_review_runs")
    assert [r["triggered_by"] for r in runs] == ["staff:ops-1"] and runs[0]["finished_at"] is not None


# --- the policy ----------------------------------------------------------------------------------


async def test_the_policy_is_versioned_and_audited(database: Database) -> None:
    assert (await tiers.current_policy(database, OPERATOR)).version == 1
    changed = await tiers.update_policy(
        database, OPERATOR, PolicyChange(grace_days=45, note="longer grace for the holidays")
    )
    assert (changed.version, changed.grace_days, changed.created_by) == (2, 45, "staff:ops-1")
    assert [t.code for t in changed.tiers] == ["BASIC", "SILVER", "GOLD", "DIAMOND"]  # left as it was
    same = await tiers.update_policy(database, OPERATOR, PolicyChange(grace_days=45))
    assert same.version == 2  # no change, no version
    history = await tiers.policy_history(database, OPERATOR)
    assert [(p.version, p.grace_days) for p in history] == [(2, 45), (1, 30)]
    assert history[0].note == "longer grace for the holidays"


async def test_only_operators_change_or_audit_the_policy(database: Database) -> None:
    for actor in (SUPPORT, POINTS, as_member(uuid.uuid4())):
        with pytest.raises(Forbidden):
            await tiers.update_policy(database, actor, PolicyChange(grace_days=1))
        with pytest.raises(Forbidden):
            await tiers.policy_history(database, actor)
    assert (await tiers.current_policy(database, OPERATOR)).version == 1


@pytest.mark.parametrize(
    "change",
    [
        PolicyChange(tiers=[("BASIC", 0)]),
        PolicyChange(tiers=[("BASIC", 0), ("SILVER", 0)]),
        PolicyChange(grace_days=-1),
        PolicyChange(window_months=0),
        PolicyChange(note="n" * 501),
    ],
)
async def test_bad_policies_are_refused(database: Database, change: PolicyChange) -> None:
    with pytest.raises(InvalidInput):
        await tiers.update_policy(database, OPERATOR, change)
    assert (await tiers.current_policy(database, OPERATOR)).version == 1


async def test_tiers_members_hold_cannot_be_removed(database: Database) -> None:
    me = await register(database)
    await purchase(database, me.id, 6000)
    with pytest.raises(Conflict) as caught:
        await tiers.update_policy(database, OPERATOR, PolicyChange(tiers=[("BASIC", 0), ("SILVER", 2000), ("PLATINUM", 8000)]))
    assert caught.value.extensions["tiers"] == ["GOLD"]
    renamed = await tiers.update_policy(
        database, OPERATOR,
        PolicyChange(tiers=[("BASIC", 0), ("SILVER", 2000), ("GOLD", 5000), ("PLATINUM", 8000), ("DIAMOND", 12000)]),
    )
    assert [t.code for t in renamed.tiers] == ["BASIC", "SILVER", "GOLD", "PLATINUM", "DIAMOND"]


async def test_concurrent_policy_changes_get_consecutive_versions(database: Database) -> None:
    policies = await asyncio.gather(
        *(tiers.update_policy(database, OPERATOR, PolicyChange(review_growth=10 + i)) for i in range(6))
    )
    assert sorted(p.version for p in policies) == [2, 3, 4, 5, 6, 7]
    assert [p.version for p in await tiers.policy_history(database, OPERATOR)] == [7, 6, 5, 4, 3, 2, 1]
