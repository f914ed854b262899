"""The cache of hourly prices in NOK: the same answers as without it, one read of the store
for a day asked for again, and new prices as soon as the store's version moves."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from openams.domain.prices import ExchangeRate, SpotPrice
from openams.domain.settlement_grid import hour_grid, month_prices
from openams.services.prices import PriceCache, hourly_prices_nok, month_prices_nok
from openams.services.vee import local_day_bounds

JAN = date(2026, 1, 12)  # a Monday
SPRING = date(2026, 3, 29)  # 23 hours


class MemoryPrices:
    """Prices in a list, counting the reads; ``version`` moves with every saving."""

    def __init__(self, cache: PriceCache | None) -> None:
        self.cache = cache
        self.spot: dict[tuple[str, int, int], SpotPrice] = {}
        self.exchange: dict[tuple[date, str], ExchangeRate] = {}
        self.reads = 0
        self.saved = 0

    def save_prices(self, prices, source, now_s):
        self.spot.update({(p.zone, p.resolution_s, p.start_at_s): p for p in prices})
        self.saved += 1

    def save_rates(self, rates, source, now_s):
        self.exchange.update({(r.day, r.currency): r for r in rates})
        self.saved += 1

    def prices(self, zone, start_s, end_s):
        self.reads += 1
        found = [
            p for p in self.spot.values() if p.zone == zone and start_s <= p.start_at_s < end_s
        ]
        return sorted(found, key=lambda p: (p.start_at_s, p.resolution_s))

    def rates(self, currency, first, last):
        found = [r for (day, cur), r in self.exchange.items()
                 if cur == currency and first <= day <= last]  # fmt: skip
        return sorted(found, key=lambda r: r.day)

    def version(self):
        return self.saved


def _days(zone: str, first: date, count: int, resolution_s: int = 3600) -> list[SpotPrice]:
    out = []
    for n in range(count):
        start_s, end_s = local_day_bounds(first + timedelta(days=n))
        out += [SpotPrice(zone, s, resolution_s, Decimal(f"{n + 1}.{(s // resolution_s) % 97:02d}"))
                for s in range(start_s, end_s, resolution_s)]  # fmt: skip
    return out


def _filled(cache: PriceCache | None) -> MemoryPrices:
    store = MemoryPrices(cache)
    store.save_prices(_days("NO1", JAN, 5) + _days("NO1", JAN + timedelta(days=5), 3, 900),
                      "p", 1)  # fmt: skip
    store.save_prices(_days("NO1", SPRING, 1, 900), "p", 1)
    rates = [ExchangeRate(JAN + timedelta(days=n), Decimal("11.5") + n) for n in (0, 1, 2, 4)]
    store.save_rates(rates, "nb", 1)
    store.save_rates([ExchangeRate(SPRING - timedelta(days=2), Decimal("11.2"))], "nb", 1)
    return store


@pytest.mark.parametrize(
    ("first", "start_hour", "last", "end_hour"),
    [
        (JAN, 0, JAN, 24),  # a day
        (JAN - timedelta(days=1), 0, JAN + timedelta(days=9), 24),  # past both ends
        (JAN + timedelta(days=1), 7, JAN + timedelta(days=6), 13),  # whole hours mid-day
        (JAN + timedelta(days=4), 22, JAN + timedelta(days=5), 2),  # hours into quarter-hours
        (SPRING, 0, SPRING, 23),  # the day of 23 hours
    ],
)
def test_the_cache_answers_what_the_store_does(first, start_hour, last, end_hour):
    start_s = local_day_bounds(first)[0] + start_hour * 3600
    end_s = local_day_bounds(last)[0] + end_hour * 3600
    plain, cached = _filled(None), _filled(PriceCache())
    expected = hourly_prices_nok(plain, "NO1", start_s, end_s)
    assert expected
    assert hourly_prices_nok(cached, "NO1", start_s, end_s) == expected  # worked out
    assert hourly_prices_nok(cached, "NO1", start_s, end_s) == expected  # kept


def test_days_asked_for_again_are_not_read_again():
    store = _filled(PriceCache())
    week = local_day_bounds(JAN)[0], local_day_bounds(JAN + timedelta(days=6))[1]
    hourly_prices_nok(store, "NO1", *week)
    assert store.reads == 1  # the whole week in one read
    hourly_prices_nok(store, "NO1", *week)
    hourly_prices_nok(store, "NO1", *local_day_bounds(JAN + timedelta(days=2)))
    assert store.reads == 1
    hourly_prices_nok(
        store, "NO1", local_day_bounds(JAN)[0], local_day_bounds(JAN + timedelta(days=8))[1]
    )
    assert store.reads == 2  # only the two days not seen before
    hourly_prices_nok(store, "NO2", *week)
    assert store.reads == 3  # another zone


def test_new_prices_and_rates_are_seen_on_the_next_call():
    store = _filled(PriceCache())
    day = local_day_bounds(JAN)
    before = hourly_prices_nok(store, "NO1", *day)
    store.save_prices([SpotPrice("NO1", day[0], 3600, Decimal("999"))], "corrected", 2)
    after = hourly_prices_nok(store, "NO1", *day)
    assert after[0].price_per_mwh == Decimal("999") != before[0].price_per_mwh
    assert after[0].nok_per_kwh == Decimal("999") * Decimal("11.5") / 1000
    store.save_rates([ExchangeRate(JAN, Decimal("10"))], "nb", 2)
    assert hourly_prices_nok(store, "NO1", *day)[0].nok_per_kwh == Decimal("0.999") * 10


def test_tomorrow_is_empty_until_its_prices_come():
    store = _filled(PriceCache())
    tomorrow = JAN + timedelta(days=20)
    assert hourly_prices_nok(store, "NO1", *local_day_bounds(tomorrow)) == []
    store.save_prices(_days("NO1", tomorrow, 1), "day-ahead", 3)
    assert len(hourly_prices_nok(store, "NO1", *local_day_bounds(tomorrow))) == 24


def test_periods_off_the_hour_are_worked_out_each_time():
    store = _filled(PriceCache())
    start_s = local_day_bounds(JAN + timedelta(days=5))[0]
    plain = _filled(None)
    for _ in range(2):
        got = hourly_prices_nok(store, "NO1", start_s, start_s + 5400)
        assert got == hourly_prices_nok(plain, "NO1", start_s, start_s + 5400)
    assert [h.start_at_s for h in got] == [start_s]  # the hour with a quarter missing is left out
    assert store.reads == 2
    assert len(store.cache) == 0


def test_at_most_max_days_are_kept():
    store = _filled(PriceCache(max_days=3))
    hourly_prices_nok(
        store, "NO1", local_day_bounds(JAN)[0], local_day_bounds(JAN + timedelta(days=7))[1]
    )
    assert len(store.cache) == 3
    hourly_prices_nok(store, "NO1", *local_day_bounds(JAN + timedelta(days=7)))
    assert store.reads == 1  # among the three kept: the last days
    hourly_prices_nok(store, "NO1", *local_day_bounds(JAN))
    assert store.reads == 2


def test_month_prices_are_the_same_object_while_the_prices_stand():
    store = _filled(PriceCache())
    last = JAN + timedelta(days=7)
    first_call = month_prices_nok(store, "NO1", JAN, last)
    assert month_prices_nok(store, "NO1", JAN, last) is first_call
    plain = _filled(None)
    start_s, end_s = local_day_bounds(JAN)[0], local_day_bounds(last)[1]
    spot = {h.start_at_s: h.nok_per_kwh for h in hourly_prices_nok(plain, "NO1", start_s, end_s)
            if h.nok_per_kwh is not None}  # fmt: skip
    expected = month_prices(spot, hour_grid(JAN, last))
    assert first_call.spot == expected.spot
    assert first_call.day_average == expected.day_average
    assert month_prices_nok(plain, "NO1", JAN, last).spot == expected.spot
    store.save_rates([ExchangeRate(JAN, Decimal("12"))], "nb", 2)
    again = month_prices_nok(store, "NO1", JAN, last)
    assert again is not first_call
    assert again.spot[0] != first_call.spot[0]


def test_a_cache_needs_room_for_something():
    with pytest.raises(ValueError, match="at least 1"):
        PriceCache(max_days=0)
