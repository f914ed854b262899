"""Prices in the store, on SQLite and PostgreSQL: exact decimals, replacement, and the hourly
price in NOK/kWh at the right day's exchange rate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from openams.domain.prices import ExchangeRate, SpotPrice
from openams.services.prices import hourly_prices_nok, import_prices, month_prices_nok
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.prices import SqlPriceStore

FRI = date(2026, 1, 9)
SAT = date(2026, 1, 10)


def _day(zone, day, resolution_s, price):
    start_s, end_s = local_day_bounds(day)
    return [SpotPrice(zone, s, resolution_s, Decimal(price)) for s in
            range(start_s, end_s, resolution_s)]  # fmt: skip


def test_prices_round_trip_exactly_and_a_new_file_replaces(store_url):
    store = open_store(store_url)
    try:
        prices = SqlPriceStore(store)
        prices.save_prices(_day("NO1", FRI, 900, "-0.01") + _day("NO2", FRI, 3600, "123.456"),
                           "a.xml", 1)  # fmt: skip
        start_s, end_s = local_day_bounds(FRI)
        got = prices.prices("NO1", start_s, end_s)
        assert len(got) == 96
        assert {p.price_per_mwh for p in got} == {Decimal("-0.01")}
        prices.save_prices(_day("NO2", FRI, 3600, "99.9"), "corrected.xml", 2)
        assert {p.price_per_mwh for p in prices.prices("NO2", start_s, end_s)} == {Decimal("99.9")}
        assert prices.prices("NO3", start_s, end_s) == []
    finally:
        store.close()


def test_hourly_nok_uses_the_days_rate_or_the_last_one_before(store_url):
    store = open_store(store_url)
    try:
        prices = SqlPriceStore(store)
        prices.save_prices(_day("NO5", FRI, 900, "80") + _day("NO5", SAT, 3600, "50"), "p", 1)
        prices.save_rates([ExchangeRate(FRI, Decimal("11.7215"))], "nb.csv", 1)
        hours = hourly_prices_nok(prices, "NO5", local_day_bounds(FRI)[0],
                                  local_day_bounds(SAT)[1])  # fmt: skip
        assert len(hours) == 48  # 96 quarter-hours became 24 hours, then Saturday's 24
        friday, saturday = hours[0], hours[30]
        assert friday.nok_per_kwh == Decimal("80") * Decimal("11.7215") / 1000
        assert friday.rate_day == FRI
        assert saturday.price_per_mwh == Decimal(50)
        assert saturday.rate_day == FRI  # no rate on Saturdays: Friday's
        assert saturday.nok_per_kwh == Decimal("0.586075")
    finally:
        store.close()


def test_no_rate_within_a_week_gives_no_nok_price(store_url):
    store = open_store(store_url)
    try:
        prices = SqlPriceStore(store)
        prices.save_prices(_day("NO1", SAT, 3600, "50"), "p", 1)
        prices.save_rates([ExchangeRate(date(2026, 1, 2), Decimal(11))], "nb.csv", 1)
        hours = hourly_prices_nok(prices, "NO1", *local_day_bounds(SAT))
        assert [h.nok_per_kwh for h in hours] == [None] * 24
    finally:
        store.close()


def test_a_daylight_saving_day_has_23_hours(store_url):
    store = open_store(store_url)
    try:
        prices = SqlPriceStore(store)
        day = date(2026, 3, 29)
        prices.save_prices(_day("NO4", day, 900, "10"), "p", 1)
        assert len(_day("NO4", day, 900, "10")) == 92
        hours = hourly_prices_nok(prices, "NO4", *local_day_bounds(day))
        assert len(hours) == 23
        assert all(h.nok_per_kwh is None and h.price_per_mwh == 10 for h in hours)
    finally:
        store.close()


def _rate(day, rate):
    """A Norges Bank CSV with the EUR/NOK rate of ``day``."""
    header = ("FREQ;Frequency;BASE_CUR;Base Currency;QUOTE_CUR;Quote Currency;TENOR;Tenor;"
              "DECIMALS;CALCULATED;UNIT_MULT;Unit Multiplier;COLLECTION;Collection Indicator;"
              "TIME_PERIOD;OBS_VALUE")  # fmt: skip
    row = ("B;Business;EUR;Euro;NOK;Norwegian krone;SP;Spot;4;false;0;Units;C;"
           f"ECB concertation time 14:15 CET;{day.isoformat()};{rate}")  # fmt: skip
    return f"{header}\n{row}\n".encode()


def _nordpool(day, price):
    """A Nord Pool CSV of NO1's hours of ``day`` at ``price`` EUR/MWh."""
    start_s, end_s = local_day_bounds(day)
    rows = [
        f"{datetime.fromtimestamp(s, UTC):%Y-%m-%dT%H:%M:%SZ};"
        f"{datetime.fromtimestamp(s + 3600, UTC):%Y-%m-%dT%H:%M:%SZ};{price}"
        for s in range(start_s, end_s, 3600)
    ]
    return "\n".join(["delivery_start;delivery_end;NO1 (EUR)", *rows]).encode()


def test_an_import_is_seen_on_the_next_call_here_and_by_another_process(store_url):
    web, importer = open_store(store_url), open_store(store_url)  # as two processes do
    try:
        seen = SqlPriceStore(web)
        day = local_day_bounds(FRI)
        import_prices([("np.csv", _nordpool(FRI, "40")), ("nb.csv", _rate(FRI, "11"))], seen,
                      now_s=1)  # fmt: skip
        assert {h.nok_per_kwh for h in hourly_prices_nok(seen, "NO1", *day)} == {Decimal("0.44")}
        month = month_prices_nok(seen, "NO1", FRI, FRI)
        assert month_prices_nok(seen, "NO1", FRI, FRI) is month  # kept
        # a corrected file, imported in the same second by the other process
        import_prices([("np.csv", _nordpool(FRI, "50"))], SqlPriceStore(importer), now_s=1)
        assert {h.nok_per_kwh for h in hourly_prices_nok(seen, "NO1", *day)} == {Decimal("0.55")}
        assert month_prices_nok(seen, "NO1", FRI, FRI).spot[0] == Decimal("0.55")
        # and a new rate, imported here
        import_prices([("nb.csv", _rate(FRI, "10"))], seen, now_s=2)
        assert {h.nok_per_kwh for h in hourly_prices_nok(seen, "NO1", *day)} == {Decimal("0.5")}
    finally:
        web.close()
        importer.close()


def test_the_version_rises_with_every_saving_and_only_then(store_url):
    store = open_store(store_url)
    try:
        prices = SqlPriceStore(store)
        start = prices.version()
        prices.prices("NO1", 0, 2**40)
        assert prices.version() == start
        prices.save_prices(_day("NO1", FRI, 3600, "1"), "a", 1)
        prices.save_rates([ExchangeRate(FRI, Decimal("11"))], "b", 1)
        assert prices.version() == start + 2
    finally:
        store.close()
