"""Hold + capture throughput: through the points service layer, and the same transactions written
directly with asyncpg (the physical reference), in the same run, on the same database.

Workloads: many members (each pair on a random member of many: members proceed in parallel) and
one hot member (every pair on one member: they serialise on its row lock). A "pair" is a hold of
N points and its full capture with settlement, each its own transaction with its idempotency key,
exactly as the redemptions service would call them.

The direct version issues the same statements in the same order (idempotency key, member lock,
lot selection, ledger transaction with its hash, postings, hold, allocations, lot and balance
updates, stored answer), so the ratio measures what SQLAlchemy and the service's code cost. The
"Core only" column is the service with its driver statements switched off
(ABG_POINTS_DRIVER_STATEMENTS=false): every statement through SQLAlchemy Core, for comparison.
Bounded: about 100 s with the defaults.

    .venv/bin/python bench/points_hold_capture.py [--seconds 5] [--rounds 3] [--members 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from points_setup import bench_database, run, seed_members

from services.points.access import SYSTEM
from services.points.config import reset_points_settings_cache
from services.points.ledger import accounts
from services.points.ledger.chain import Leg, transaction_hash
from services.points.partners.service import set_programme
from services.points.spending.service import capture_hold, hold_points
from shared.auth import Principal, PrincipalKind
from shared.database import Database
from shared.database.urls import to_libpq_url
from shared.idempotency import fingerprint
from shared.ids import new_id

POINTS = 20
VALUE = 200
CALLER = "service:redemptions"
PRINCIPAL = Principal(PrincipalKind.SERVICE, "redemptions")  # CALLER, as the service layer takes it

Pair = Callable[[uuid.UUID], Awaitable[None]]


# --- through the service layer --------------------------------------------------------------------


def service_pair(db: Database, beneficiary: uuid.UUID) -> Pair:
    async def pair(member: uuid.UUID) -> None:
        hold = await hold_points(
            db, PRINCIPAL, member_id=member, points=POINTS, ttl_seconds=600, reference="bench", idempotency_key=uuid.uuid4().hex
        )
        await capture_hold(
            db, PRINCIPAL, hold_id=hold.id, points=POINTS, beneficiary_partner_id=beneficiary, value_minor=VALUE, currency="CNY",
            idempotency_key=uuid.uuid4().hex,
        )

    return pair


def driver_statements(on: bool) -> None:
    """Switches the service's driver statements (see shared/database/statements.py) for what follows."""
    os.environ["ABG_POINTS_DRIVER_STATEMENTS"] = "true" if on else "false"
    reset_points_settings_cache()


# --- the same transactions with asyncpg ------------------------------------------------------------

STATE = (
    "member_id, tier, tier_sequence, birthday_month, available, pending, held, debt, lifetime_earned, lifetime_spent,"
    " lifetime_expired, chain_length, chain_head"
)
LOT = (
    "id, member_id, issuer_partner_id, cost_per_point_minor, currency, amount, remaining, earned_at, vests_at, expires_at,"
    " vested_at, expired_at, source, purchase_id, origin_lot_id, created_tx_id, created_at"
)
SQL = {
    "key": "INSERT INTO points.idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key",
    "answer": "UPDATE points.idempotency_keys SET response = $3::jsonb WHERE scope = $1 AND key = $2",
    "lock": f"SELECT {STATE} FROM points.member_accounts WHERE member_id = $1 FOR UPDATE",
    "lock_of_hold": f"SELECT {STATE} FROM points.member_accounts WHERE member_id = (SELECT member_id FROM points.holds WHERE id = $1) FOR UPDATE",
    "lots": f"SELECT {LOT} FROM (SELECT {LOT}, sum(remaining) OVER (ORDER BY expires_at, id) AS running FROM points.lots"
    " WHERE member_id = $1 AND expired_at IS NULL AND vested_at IS NOT NULL AND remaining > 0 AND expires_at > $2) s"
    " WHERE running - remaining < $3 ORDER BY expires_at, id",
    "partner": "SELECT id, name, currency, earning_enabled, earn_points, earn_per_minor, return_window_days, expiry_months,"
    " cost_per_point_minor FROM points.partners WHERE id = ANY($1::uuid[])",
    "hold": "SELECT h.id, h.member_id, h.amount, h.captured, h.released, h.refunded, h.status, h.reference, h.expires_at,"
    " h.created_at, a.lot_id, a.amount AS a_amount, a.captured AS a_captured, l.issuer_partner_id, l.expires_at AS l_expires_at"
    " FROM points.holds h JOIN points.hold_allocations a ON a.hold_id = h.id JOIN points.lots l ON l.id = a.lot_id"
    " WHERE h.id = $1 ORDER BY l.expires_at, l.id",
    "tx": "INSERT INTO points.ledger_transactions (id, member_id, sequence, kind, actor, reference, detail, created_at, prev_hash, hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)",
    "postings": "INSERT INTO points.postings (transaction_id, account, amount, lot_id) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)",
    "new_hold": "INSERT INTO points.holds (id, member_id, amount, captured, released, refunded, status, reference, expires_at,"
    " created_by, created_at) VALUES ($1, $2, $3, 0, 0, 0, 'ACTIVE', $4, $5, $6, $7)",
    "allocation": "INSERT INTO points.hold_allocations (hold_id, lot_id, amount, captured, refunded, settled_minor, refunded_minor)"
    " VALUES ($1, $2, $3, 0, 0, 0, 0)",
    "lot": "UPDATE points.lots SET remaining = $2 WHERE id = $1",
    "balances": "UPDATE points.member_accounts SET available = $2, held = $3, pending = $4, debt = $5, chain_length = $6,"
    " chain_head = $7, updated_at = $8 WHERE member_id = $1",
    "spent": "UPDATE points.member_accounts SET available = $2, held = $3, pending = $4, debt = $5, chain_length = $6,"
    " chain_head = $7, lifetime_spent = $8, updated_at = $9 WHERE member_id = $1",
    "settlement": "INSERT INTO points.settlements (transaction_id, hold_id, lot_id, issuer_partner_id, beneficiary_partner_id,"
    " points, amount_minor, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    "captured": "UPDATE points.holds SET status = 'CAPTURED', captured = $2, released = $3, closed_at = $4,"
    " beneficiary_partner_id = $5, settlement_value_minor = $6, settlement_currency = $7 WHERE id = $1",
    "alloc_captured": "UPDATE points.hold_allocations SET captured = $3, settled_minor = $4 WHERE hold_id = $1 AND lot_id = $2",
}


def _post(state: asyncpg.Record | dict, kind: str, legs: list[Leg], detail: dict, reference: str, now: datetime) -> tuple[uuid.UUID, int, str]:
    tx_id, sequence = new_id(), state["chain_length"] + 1
    digest = transaction_hash(
        state["chain_head"], id=tx_id, member_id=state["member_id"], sequence=sequence, kind=kind, actor=CALLER,
        reference=reference, detail=detail, created_at=now, legs=legs,
    )
    return tx_id, sequence, digest


def direct_pair(pool: asyncpg.Pool, beneficiary: uuid.UUID) -> Pair:
    async def hold(member: uuid.UUID) -> uuid.UUID:
        key = uuid.uuid4().hex
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            print_ = fingerprint({"member": str(member), "points": POINTS, "ttl": 600, "reference": "bench"})
            assert await conn.fetchval(SQL["key"], f"hold:{CALLER}", key, print_)
            state = await conn.fetchrow(SQL["lock"], member)
            if state["available"] < POINTS:
                raise RuntimeError("insufficient points")
            lots = await conn.fetch(SQL["lots"], member, now, POINTS)
            lot = lots[0]  # the benchmark's members have one lot each
            hold_id = new_id()
            legs = [Leg(accounts.member(member, "available"), -POINTS, lot["id"]), Leg(accounts.member(member, "held"), POINTS, lot["id"])]
            detail = {"hold": str(hold_id)}
            tx_id, sequence, digest = _post(state, "HOLD", legs, detail, "bench", now)
            await conn.execute(SQL["tx"], tx_id, member, sequence, "HOLD", CALLER, "bench", orjson.dumps(detail).decode(), now, state["chain_head"], digest)
            await conn.execute(SQL["postings"], *(v for leg in legs for v in (tx_id, leg.account, leg.amount, leg.lot_id)))
            expires = now + timedelta(seconds=600)
            await conn.execute(SQL["new_hold"], hold_id, member, POINTS, "bench", expires, CALLER, now)
            await conn.execute(SQL["allocation"], hold_id, lot["id"], POINTS)
            await conn.execute(SQL["lot"], lot["id"], lot["remaining"] - POINTS)
            await conn.execute(
                SQL["balances"], member, state["available"] - POINTS, state["held"] + POINTS, state["pending"], state["debt"], sequence, digest, now
            )
            answer = {"id": str(hold_id), "member_id": str(member), "amount": POINTS, "captured": 0, "released": 0, "refunded": 0,
                      "status": "ACTIVE", "reference": "bench", "expires_at": expires.isoformat(), "created_at": now.isoformat()}
            await conn.execute(SQL["answer"], f"hold:{CALLER}", key, orjson.dumps(answer).decode())
        return hold_id

    async def capture(hold_id: uuid.UUID) -> None:
        key = uuid.uuid4().hex
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            print_ = fingerprint({"hold": str(hold_id), "points": POINTS, "beneficiary": str(beneficiary), "value": VALUE, "currency": "CNY"})
            assert await conn.fetchval(SQL["key"], f"capture:{CALLER}", key, print_)
            partner = await conn.fetchrow(SQL["partner"], [beneficiary])
            assert partner["currency"] == "CNY"
            state = await conn.fetchrow(SQL["lock_of_hold"], hold_id)
            rows = await conn.fetch(SQL["hold"], hold_id)
            first = rows[0]
            if first["status"] != "ACTIVE" or first["expires_at"] <= now:
                raise RuntimeError("hold not active")
            member, lot_id, issuer = state["member_id"], first["lot_id"], first["issuer_partner_id"]
            legs = [Leg(accounts.member(member, "held"), -POINTS, lot_id), Leg(accounts.redeemed(issuer, beneficiary), POINTS, lot_id)]
            detail = {"hold": str(hold_id), "beneficiary": str(beneficiary), "value": VALUE, "currency": "CNY"}
            tx_id, sequence, digest = _post(state, "CAPTURE", legs, detail, "bench", now)
            await conn.execute(SQL["tx"], tx_id, member, sequence, "CAPTURE", CALLER, "bench", orjson.dumps(detail).decode(), now, state["chain_head"], digest)
            await conn.execute(SQL["postings"], *(v for leg in legs for v in (tx_id, leg.account, leg.amount, leg.lot_id)))
            await conn.execute(SQL["settlement"], tx_id, hold_id, lot_id, issuer, beneficiary, POINTS, VALUE, "CNY", now)
            await conn.execute(SQL["captured"], hold_id, POINTS, 0, now, beneficiary, VALUE, "CNY")
            await conn.execute(SQL["alloc_captured"], hold_id, lot_id, POINTS, VALUE)
            await conn.execute(
                SQL["spent"], member, state["available"], state["held"] - POINTS, state["pending"], state["debt"], sequence, digest,
                state["lifetime_spent"] + POINTS, now,
            )
            answer = {"hold": {"id": str(hold_id), "status": "CAPTURED", "captured": POINTS}, "transaction_id": str(tx_id),
                      "settlements": [{"lot_id": str(lot_id), "issuer_partner_id": str(issuer), "points": POINTS, "amount_minor": VALUE}]}
            await conn.execute(SQL["answer"], f"capture:{CALLER}", key, orjson.dumps(answer).decode())

    async def pair(member: uuid.UUID) -> None:
        await capture(await hold(member))

    return pair


# --- driving -----------------------------------------------------------------------------------------


async def drive(pair: Pair, members: list[uuid.UUID], *, concurrency: int, seconds: float) -> float:
    """Pairs per second with `concurrency` callers for `seconds`."""
    done = 0
    stop = time.perf_counter() + seconds
    started = time.perf_counter()

    async def caller(seed: int) -> None:
        nonlocal done
        chooser = random.Random(seed)
        while time.perf_counter() < stop:
            await pair(chooser.choice(members))
            done += 1

    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    return done / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per side and workload")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    async with bench_database("bench_hold_capture") as url:
        db = Database(url, pool_size=args.concurrency, max_overflow=0)
        issuer = await set_programme(db, SYSTEM, partner_id=uuid.uuid4(), currency="CNY", return_window_days=0, cost_per_point_minor=1)
        beneficiary = await set_programme(db, SYSTEM, partner_id=uuid.uuid4(), currency="CNY")
        # Enough points for every pair the run could make.
        many = await seed_members(db, issuer.id, args.members, points_each=POINTS * 2000)
        hot = await seed_members(db, issuer.id, 1, points_each=POINTS * 10**6)
        pool = await asyncpg.create_pool(to_libpq_url(url), min_size=args.concurrency, max_size=args.concurrency)
        try:
            # side -> (pair, whether the service runs its hot statements on the driver)
            sides = {
                "service": (service_pair(db, beneficiary.id), True),
                "service, Core only": (service_pair(db, beneficiary.id), False),
                "direct asyncpg": (direct_pair(pool, beneficiary.id), True),
            }
            for pair, driver in sides.values():  # warm up: connections, prepared statements, caches
                driver_statements(driver)
                await drive(pair, many, concurrency=args.concurrency, seconds=1.0)
            # Rounds alternate which side goes first, so background load on a shared machine
            # falls on both; the figures are medians over the rounds.
            figures: dict[str, dict[str, list[float]]] = {}
            for workload, members in (("many members", many), ("one hot member", hot)):
                runs = figures[workload] = {name: [] for name in sides}
                for round_ in range(args.rounds):
                    order = list(sides) if round_ % 2 == 0 else list(reversed(list(sides)))
                    for name in order:
                        pair, driver = sides[name]
                        driver_statements(driver)
                        runs[name].append(await drive(pair, members, concurrency=args.concurrency, seconds=args.seconds))
        finally:
            await pool.close()
            await db.dispose()

    print(
        f"\nhold+capture pairs per second ({args.concurrency} concurrent callers, {args.members} members, "
        f"median of {args.rounds} rounds of {args.seconds:.0f} s; two transactions per pair)"
    )
    print(f"{'workload':<16}{'service':>9}{'Core only':>11}{'asyncpg':>9}{'service/asyncpg':>17}{'Core only/asyncpg':>19}")
    for workload, runs in figures.items():
        medians = {name: statistics.median(values) for name, values in runs.items()}
        ratio = statistics.median(a / b for a, b in zip(runs["service"], runs["direct asyncpg"]))
        core_ratio = statistics.median(a / b for a, b in zip(runs["service, Core only"], runs["direct asyncpg"]))
        print(
            f"{workload:<16}{medians['service']:>9.0f}{medians['service, Core only']:>11.0f}{medians['direct asyncpg']:>9.0f}"
            f"{ratio:>17.0%}{core_ratio:>19.0%}"
        )
    print("ratios: median over rounds of service / direct measured back to back")


if __name__ == "__main__":
    run(main)
