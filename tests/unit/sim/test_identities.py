from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.sim import gsrn_check_digit, is_valid_gsrn, make_gsrn
from openams.sim.identities import mobile_number


def test_gsrn_check_digit_of_a_worked_example():
    # GS1 mod 10, weights 3,1,3,... from the right: 70705750000000001 -> 8
    assert gsrn_check_digit("70705750000000001") == 8
    assert make_gsrn(1) == "707057500000000018"


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_every_made_gsrn_is_valid_and_one_changed_digit_is_not(serial):
    gsrn = make_gsrn(serial)
    assert len(gsrn) == 18
    assert gsrn.startswith("707057500")
    assert is_valid_gsrn(gsrn)
    for position in range(18):
        changed = gsrn[:position] + str((int(gsrn[position]) + 1) % 10) + gsrn[position + 1 :]
        assert not is_valid_gsrn(changed)


@pytest.mark.parametrize(
    "text", ["", "70705750000000001", "7070575000000000181", "70705750000000001x"]
)
def test_malformed_gsrn_is_invalid(text):
    assert not is_valid_gsrn(text)


def test_gsrn_arguments_are_checked():
    with pytest.raises(ValueError, match="17 digits"):
        gsrn_check_digit("123")
    with pytest.raises(ValueError, match="does not fit"):
        make_gsrn(10**9)


def test_mobile_numbers_are_norwegian_mobiles():
    rng = random.Random(3)
    for _ in range(200):
        number = mobile_number(rng)
        assert number[:3] == "+47"
        assert len(number) == 11
        assert number[3] in "49"
