"""Settling a month through the store, on SQLite and PostgreSQL: the same bill as settling
the values directly, quarter-hours summed per hour, supplies split by a move, runs kept,
and a correction re-settled as the difference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from openams.domain.estate import Customer, MeteringPoint, Transformer
from openams.domain.prices import ExchangeRate, SpotPrice
from openams.domain.settlement import HourValue, Supply, settle
from openams.services.edits import ValueEdit
from openams.services.month_to_date import month_to_date
from openams.services.settlement import SupplyPeriod, settle_month
from openams.services.vee import ValueRow, local_day_bounds
from openams.store import open_store
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.schema import interval_values
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlEditStore
from openams.store.vee import SqlVeeStore
from tests.unit.domain.test_settlement import TARIFF, TAXES

OSLO_MP = "707057500000000101"
TROMSO_MP = "707057500000000102"
CABIN_MP = "707057500000000103"
JAN_START, JAN_END = local_day_bounds(date(2026, 1, 1))[0], local_day_bounds(date(2026, 1, 31))[1]
HOURS = range(JAN_START, JAN_END, 3600)


def _point(mp, customer, kind, postcode, municipality, area):
    return MeteringPoint(
        mp, "T1", customer, kind, "Gate", "1", postcode, municipality, area, 63, 3, "TN"
    )


def _seed(store):
    SqlEstateStore(store).save_estate(
        [Transformer("T1", "F1", "S1", "NO1", "TN", 400)],
        [Customer(c, f"Kunde {c}", "", "") for c in ("C1", "C2", "C3", "C4")],
        [
            _point(OSLO_MP, "C1", "detached_house", "0150", "Oslo", "NO1"),
            _point(TROMSO_MP, "C2", "apartment", "9008", "Tromsø", "NO4"),
            _point(CABIN_MP, "C3", "cabin", "2317", "Hamar", "NO1"),
        ],
        [],
    )
    rows = []
    for h in HOURS:
        status = "estimated" if h == HOURS[100] else "measured"
        rows.append(ValueRow(OSLO_MP, 3600, h, 1500, 0, None, None, status, None, None))
        if h != HOURS[200]:  # the cabin lacks one hour
            rows.append(ValueRow(CABIN_MP, 3600, h, 3000, 0, None, None, "measured", None, None))
        for q in range(4):  # Tromsø has quarter-hour values; one quarter is rejected
            status = "rejected" if (h, q) == (HOURS[300], 2) else "measured"
            rows.append(
                ValueRow(TROMSO_MP, 900, h + 900 * q, 250, 0, None, None, status, None, None)
            )
    SqlVeeStore(store).save_values(rows, now_s=1)
    prices = SqlPriceStore(store)
    prices.save_prices(
        [SpotPrice(zone, h, 3600, Decimal("100")) for zone in ("NO1", "NO4") for h in HOURS],
        "test",
        1,
    )
    prices.save_rates(
        [ExchangeRate(date(2026, 1, d), Decimal("11.5")) for d in range(1, 32)], "test", 1
    )


def test_a_month_settled_through_the_store_matches_settling_its_values(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        settlements, prices = SqlSettlementStore(store), SqlPriceStore(store)
        # The cabin changes hands on 16 January; the new owner chose Norgespris.
        settlements.save_supply(SupplyPeriod(CABIN_MP, date(2020, 1, 1), date(2026, 1, 15), "C3"))
        settlements.save_supply(SupplyPeriod(CABIN_MP, date(2026, 1, 16), None, "C4", True))
        done = []
        report = settle_month(
            settlements, prices, "2026-01", TARIFF, TAXES, now_s=10, batch=2, progress=done.append
        )
        assert report.problems == []
        assert sum(done) == 3
        billed = {(s.metering_point_id, s.customer_id): s for s in report.billed}
        assert set(billed) == {
            (OSLO_MP, "C1"),
            (TROMSO_MP, "C2"),
            (CABIN_MP, "C3"),
            (CABIN_MP, "C4"),
        }

        spot = dict.fromkeys(HOURS, Decimal("1.15"))  # 100 EUR/MWh x 11.5 / 1000
        oslo = [HourValue(h, 1500, 0, h == HOURS[100]) for h in HOURS]
        expected = settle(
            Supply(
                OSLO_MP, "C1", "detached_house", "0150", "Oslo", date(2026, 1, 1), date(2026, 1, 31)
            ),
            oslo,
            spot,
            TARIFF,
            TAXES,
        )
        assert billed[(OSLO_MP, "C1")] == expected
        assert billed[(OSLO_MP, "C1")].estimated_kwh == Decimal("1.5")

        tromso = billed[(TROMSO_MP, "C2")]
        assert tromso.missing_hours == 1  # the hour with a rejected quarter
        assert tromso.energy_kwh == Decimal(743)  # 4 x 250 Wh in each other hour
        assert "vat" not in {line.code for line in tromso.lines}

        old, new = billed[(CABIN_MP, "C3")], billed[(CABIN_MP, "C4")]
        assert (old.first_day, old.last_day) == (date(2026, 1, 1), date(2026, 1, 15))
        assert (new.first_day, new.last_day) == (date(2026, 1, 16), date(2026, 1, 31))
        assert "norgespris" in {line.code for line in new.lines}
        assert "norgespris" not in {line.code for line in old.lines}
        assert old.missing_hours == 1  # HOURS[200] is on 9 January

        # Nothing changed: a second run bills nothing and keeps nothing new.
        again = settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=20)
        assert (again.billed, again.unchanged) == ([], 4)

        # The estimated hour is measured after all, at 9.5 kWh: re-settled as a difference.
        SqlVeeStore(store).save_values(
            [ValueRow(OSLO_MP, 3600, HOURS[100], 9500, 0, None, None, "measured", None, None)],
            now_s=30,
        )
        third = settle_month(
            settlements, prices, "2026-01", TARIFF, TAXES, now_s=40, metering_point_id=OSLO_MP
        )
        (change,) = third.billed
        assert (change.kind, change.version) == ("resettlement", 2)
        assert change.estimated_kwh == 0
        runs = settlements.runs("2026-01", OSLO_MP)
        assert [r.version for r in runs] == [1, 2]
        assert runs[0] == expected
        assert (
            runs[0].total_nok + runs[1].total_nok
            == settle(
                Supply(
                    OSLO_MP,
                    "C1",
                    "detached_house",
                    "0150",
                    "Oslo",
                    date(2026, 1, 1),
                    date(2026, 1, 31),
                ),
                [HourValue(h, 9500 if h == HOURS[100] else 1500) for h in HOURS],
                spot,
                TARIFF,
                TAXES,
            ).total_nok
        )
        assert settlements.runs("2026-01", TROMSO_MP)[0] == tromso
    finally:
        store.close()


def test_month_to_date_gives_the_step_headroom_and_cheapest_hours(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        settlements, prices = SqlSettlementStore(store), SqlPriceStore(store)
        noon_10th = local_day_bounds(date(2026, 1, 10))[0] + 12 * 3600
        seen = month_to_date(settlements, prices, OSLO_MP, TARIFF, TAXES, now_s=noon_10th)
        assert seen is not None
        # Ten days of 1.5 kWh hours: figure 1.5 kW in step 0-2; an hour on a new day may
        # reach 3 x 2 - 1.5 - 1.5 = 3 kW before the average of the top three reaches 2.
        assert seen.settlement.capacity_step == "0-2"
        assert seen.next_step_kw == 2
        assert seen.headroom_kw == Decimal("3.0")
        assert seen.settlement.last_day == date(2026, 1, 10)
        assert len(seen.cheapest_today) == 3
        assert len(seen.cheapest_tomorrow) == 3
        assert (
            month_to_date(settlements, prices, "707057500000009999", TARIFF, TAXES, now_s=noon_10th)
            is None
        )
    finally:
        store.close()


def test_daily_usage_follows_vee_and_edits_and_can_be_rebuilt(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        settlements = SqlSettlementStore(store)
        first, last = date(2026, 1, 1), date(2026, 1, 31)
        usage = settlements.month_arrays([OSLO_MP, TROMSO_MP, CABIN_MP], first, last)
        assert int(usage[OSLO_MP].import_wh.sum()) == 744 * 1500
        assert int(usage[OSLO_MP].estimated.sum()) == 1
        assert int(usage[TROMSO_MP].import_wh[300]) == -1  # a rejected quarter
        assert int(usage[CABIN_MP].import_wh[200]) == -1  # no value at all
        # a manual edit is in the daily usage at once
        SqlEditStore(store).apply_edit(
            ValueEdit(50, "operator", CABIN_MP, 3600, HOURS[200], None, 2500, None, 0,
                      "missing", "estimated", "meter replaced")
        )  # fmt: skip
        usage = settlements.month_arrays([CABIN_MP], first, last)
        assert (int(usage[CABIN_MP].import_wh[200]), bool(usage[CABIN_MP].estimated[200])) == (
            2500, True)  # fmt: skip
        # values written past VEE (here: straight into the table) count after a rebuild
        with store.engine.begin() as connection:
            connection.execute(
                interval_values.update()
                .where(interval_values.c.metering_point_id == OSLO_MP)
                .values(import_wh=2000)
            )
        assert int(settlements.month_arrays([OSLO_MP], first, last)[OSLO_MP].import_wh[0]) == 1500
        assert settlements.refresh_usage(first, last, now_s=60) == 3 * 31
        assert int(settlements.month_arrays([OSLO_MP], first, last)[OSLO_MP].import_wh[0]) == 2000
    finally:
        store.close()


def test_worker_processes_settle_the_same_bills(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        settlements, prices = SqlSettlementStore(store), SqlPriceStore(store)

        def open_stores():
            own = open_store(store_url, migrate=False)
            return SqlSettlementStore(own), SqlPriceStore(own)

        done = []
        report = settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=10, batch=1,
                              workers=2, open_stores=open_stores, progress=done.append)  # fmt: skip
        assert sum(done) == 3
        assert report.problems == []
        stored = settlements.runs("2026-01")
        assert sorted(s.metering_point_id for s in report.billed) == [OSLO_MP, TROMSO_MP,
                                                                      CABIN_MP]  # fmt: skip
        by_mp = {s.metering_point_id: s for s in stored}
        for billed in report.billed:  # the same bill as stored, without the per-day figures
            assert billed.days == ()
            assert billed == by_mp[billed.metering_point_id]
            assert len(by_mp[billed.metering_point_id].days) == 31
        again = settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=20)
        assert (again.billed, again.unchanged) == ([], 3)
    finally:
        store.close()
