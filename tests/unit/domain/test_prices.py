"""Spot prices: the hourly price of quarter-hour prices, and what a price may be."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.prices import SpotPrice, hourly_prices

H = 1_759_273_200  # 2025-10-01T00:00:00+02:00 (22:00Z the day before), the first 15-minute day


def test_an_hour_of_quarters_is_their_plain_average():
    quarters = [SpotPrice("NO1", H + 900 * i, 900, Decimal(p)) for i, p in
                enumerate(["80.10", "75.00", "-3.20", "100.01"])]  # fmt: skip
    (hour,) = hourly_prices(quarters)
    assert hour == SpotPrice("NO1", H, 3600, Decimal("62.9775"))  # 251.91 / 4, not rounded


def test_hourly_prices_pass_through_and_an_incomplete_hour_gets_none():
    prices = [
        SpotPrice("NO2", H - 3600, 3600, Decimal("55.5")),
        *(SpotPrice("NO2", H + 900 * i, 900, Decimal(10)) for i in range(3)),  # one missing
        *(SpotPrice("NO1", H + 900 * i, 900, Decimal(i)) for i in range(4)),
    ]
    assert hourly_prices(prices) == [
        SpotPrice("NO1", H, 3600, Decimal("1.5")),
        SpotPrice("NO2", H - 3600, 3600, Decimal("55.5")),
    ]


def test_two_prices_for_one_unit_are_refused():
    price = SpotPrice("NO5", H, 900, Decimal(1))
    with pytest.raises(ValueError, match="two prices for NO5"):
        hourly_prices([price, price])


def test_currencies_are_not_mixed_in_an_hour():
    prices = [SpotPrice("NO3", H + 900 * i, 900, Decimal(1), "EUR" if i else "NOK")
              for i in range(4)]  # fmt: skip
    with pytest.raises(ValueError, match="different currencies"):
        hourly_prices(prices)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("SE3", H, 3600, Decimal(1)), "unknown bidding zone"),
        (("NO1", H, 1800, Decimal(1)), "3600 or 900"),
        (("NO1", H + 900, 3600, Decimal(1)), "boundary"),
    ],
)
def test_a_price_outside_the_market_is_refused(args, message):
    with pytest.raises(ValueError, match=message):
        SpotPrice(*args)


def test_a_float_price_is_refused():
    with pytest.raises(TypeError, match="Decimal"):
        SpotPrice("NO1", H, 3600, 1.5)  # type: ignore[arg-type]


@given(st.lists(st.decimals(min_value=-500, max_value=5000, places=2), min_size=4, max_size=4))
def test_the_hourly_price_lies_between_its_quarters_and_keeps_their_sum(values):
    quarters = [SpotPrice("NO4", H + 900 * i, 900, v) for i, v in enumerate(values)]
    (hour,) = hourly_prices(reversed(quarters))  # order of arrival does not matter
    assert min(values) <= hour.price_per_mwh <= max(values)
    assert hour.price_per_mwh * 4 == sum(values)
