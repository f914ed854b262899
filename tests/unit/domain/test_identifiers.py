from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import openams.domain as domain
import openams.sim.identities as sim_identities
from openams.domain import gsrn_check_digit, is_valid_gsrn, is_valid_system_title

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


def _textbook_check_digit(digits: str) -> int:
    """GS1 General Specifications 7.9.1, step by step: weights 3, 1, 3, ... from the right."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        total += int(digit) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("70705750000000001", 8),  # the simulator's first metering point
        ("00000000000000000", 0),
        ("70705751234567890", 6),  # 3 * 44 + 32 = 164
        ("99999999999999999", 5),  # 3 * 81 + 72 = 315
    ],
)
def test_check_digits_of_worked_examples(body, check):
    assert gsrn_check_digit(body) == check
    assert is_valid_gsrn(body + str(check))


@given(digits17)
def test_check_digit_agrees_with_the_textbook_computation(body):
    assert gsrn_check_digit(body) == _textbook_check_digit(body)


@given(digits17, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=9))
def test_a_made_gsrn_is_valid_and_any_one_changed_digit_makes_it_invalid(body, position, step):
    gsrn = body + str(gsrn_check_digit(body))
    assert is_valid_gsrn(gsrn)
    changed_digit = str((int(gsrn[position]) + step) % 10)
    changed = gsrn[:position] + changed_digit + gsrn[position + 1 :]
    assert changed != gsrn
    assert not is_valid_gsrn(changed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "70705750000000001",  # 17 digits
        "7070575000000000180",  # 19 digits
        "70705750000000001x",
        " 707057500000000018",
        "70705750000000001 8",
        "٧٠٧٠٥٧٥٠٠٠٠٠٠٠٠٠١٨",  # Arabic-Indic digits: isdigit() but not a GSRN
        "²" * 18,
    ],
)
def test_malformed_gsrns_are_invalid(text):
    assert not is_valid_gsrn(text)


@pytest.mark.parametrize("digits", ["123", "7070575000000000", "707057500000000018", "²" * 17])
def test_check_digit_refuses_anything_but_17_ascii_digits(digits):
    with pytest.raises(ValueError, match="17 digits"):
        gsrn_check_digit(digits)


@pytest.mark.parametrize(
    ("title", "valid"),
    [
        (b"KFM\x10\x00\x00\x00\x01", True),
        (bytes(8), True),
        (b"", False),
        (b"KFM\x10\x00\x00\x01", False),
        (b"KFM\x10\x00\x00\x00\x00\x01", False),
    ],
)
def test_system_titles_are_eight_bytes(title, valid):
    assert is_valid_system_title(title) is valid


def test_the_simulator_uses_the_domain_gsrn_rules():
    assert sim_identities.gsrn_check_digit is gsrn_check_digit
    assert sim_identities.is_valid_gsrn is is_valid_gsrn
    assert sim_identities.make_gsrn(1) == "707057500000000018"


def test_package_exports_the_identifiers_and_estate_records():
    assert domain.__all__ == sorted(domain.__all__)
    assert {
        "Customer",
        "MeterRecord",
        "MeteringPoint",
        "RowError",
        "Transformer",
        "gsrn_check_digit",
        "is_valid_gsrn",
        "is_valid_system_title",
    } <= set(domain.__all__)
    for name in domain.__all__:
        assert getattr(domain, name) is not None
