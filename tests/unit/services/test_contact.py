"""Contact details: the mobile number's formats, the e-mail check, and a change of address that
waits for its link (over in-memory fakes of the store and the mailer)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.errors import InputError, MailError
from openams.services.contact import (
    CONFIRM_FOR_S,
    ContactDetails,
    InvalidContact,
    UnknownCustomer,
    change_contact,
    check_email,
    confirm_email,
    normalise_mobile,
)
from openams.services.links import LinkRefused

# ---- the mobile number -------------------------------------------------------------------

numbers = st.tuples(st.sampled_from("49"), st.text("0123456789", min_size=7, max_size=7)).map(
    "".join
)


@st.composite
def spelled(draw, number):
    """``number`` written as people write it: a prefix or none, spaces anywhere."""
    prefix = draw(st.sampled_from(["", "+47", "0047"]))
    out = ""
    for char in prefix + number:
        out += " " * draw(st.integers(0, 2)) + char
    return out + " " * draw(st.integers(0, 2))


@given(data=st.data(), number=numbers)
def test_every_spelling_of_a_mobile_number_gives_the_same_value(data, number):
    first = data.draw(spelled(number))
    second = data.draw(spelled(number))
    assert normalise_mobile(first) == normalise_mobile(second) == f"+47{number}"


@pytest.mark.parametrize(
    ("text", "stored"),
    [("91234567", "+4791234567"), ("+47 912 34 567", "+4791234567"),
     ("0047 41 23 45 67", "+4741234567"), ("  4 1 2 3 4 5 6 7 ", "+4741234567"),
     ("+47\u00a0912\u00a034\u00a0567", "+4791234567")],
)  # fmt: skip
def test_mobile_numbers_as_written(text, stored):
    assert normalise_mobile(text) == stored


@given(
    first=st.sampled_from("01235678"),
    rest=st.text("0123456789", min_size=7, max_size=7),
    prefix=st.sampled_from(["", "+47", "0047"]),
)
def test_a_number_not_beginning_with_4_or_9_is_refused_naming_the_field(first, rest, prefix):
    with pytest.raises(InputError, match="mobile") as refused:
        normalise_mobile(prefix + first + rest)
    assert refused.value.source == "mobile"


@given(number=numbers, cut=st.integers(-3, 3).filter(bool))
def test_a_number_of_another_length_is_refused(number, cut):
    text = number[:cut] if cut < 0 else number + "1" * cut
    with pytest.raises(InputError, match="mobile"):
        normalise_mobile(text)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "+46 91234567", "47 91234567", "912-34-567", "9123456a", "+4791234567\n",
     "٩١٢٣٤٥٦٧", "+47 " + " " * 80 + "91234567", "(+47) 91234567", "+ 47 91234567x"],
)  # fmt: skip
def test_malformed_mobile_numbers_are_refused(text):
    with pytest.raises(InputError) as refused:
        normalise_mobile(text)
    assert refused.value.source == "mobile"
    assert "mobile" in str(refused.value)


# ---- the e-mail address ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [("kari@example.no", "kari@example.no"), (" Kari.Nordmann@Example.NO ",
     "kari.nordmann@example.no"), ("o'neil+strom@post.sub.example.com",
     "o'neil+strom@post.sub.example.com"), ("per@blåbær.no", "per@blåbær.no"),
     ("a@xn--blbr-roai.no", "a@xn--blbr-roai.no")],
)  # fmt: skip
def test_usable_addresses(text, stored):
    assert check_email(text) == stored


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("kari", "exactly one @"), ("kari@@example.no", "exactly one @"),
     ("a@b@example.no", "exactly one @"), ("kari at example.no", "spaces"),
     ("kari @example.no", "spaces"), ("kari@exa\x00mple.no", "control"),
     ("kari@example", "needs a dot"), ("kari@.example.no", "malformed"),
     ("kari@example..no", "malformed"), ("kari@-example.no", "letters, digits"),
     ("kari@exam_ple.no", "letters, digits"), ("kari@example.n", "top-level"),
     ("kari@10.0.0.1", "top-level"), ("@example.no", "before @"),
     (".kari@example.no", "misplaced dot"), ("ka..ri@example.no", "misplaced dot"),
     ("ka(ri)@example.no", "unusual characters"), ("a" * 65 + "@example.no", "too long"),
     ("k@" + "a" * 250 + ".no", "254"), ("<script>@example.no", "unusual characters")],
)  # fmt: skip
def test_unusable_addresses_are_refused_naming_the_field(text, reason):
    with pytest.raises(InputError, match=reason) as refused:
        check_email(text)
    assert refused.value.source == "email"
    assert str(refused.value).startswith("email: ")


@given(st.emails())
def test_addresses_of_the_usual_shape_pass(address):
    local, _, domain = address.rpartition("@")
    shape = re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)*", local.lower()) and len(address) <= 254
    if shape and all(len(label) < 64 for label in domain.split(".")):
        assert check_email(address) == address.lower()


# ---- changing them -----------------------------------------------------------------------


class FakeContactStore:
    def __init__(self):
        self.details = {"C1": ["+4791234567", "kari@example.no"], "C2": ["", "kari at example"]}
        self.pending = {}  # token hash -> [customer, email, expires, used]

    def contact(self, customer_id, now_s):
        if customer_id not in self.details:
            return None
        mobile, email = self.details[customer_id]
        live = [(e, x) for c, e, x, used in self.pending.values()
                if c == customer_id and not used and x > now_s]  # fmt: skip
        return ContactDetails(customer_id, mobile, email, *(live[-1] if live else (None, None)))

    def set_mobile(self, customer_id, mobile):
        self.details[customer_id][0] = mobile

    def add_email_confirmation(self, token_hash, customer_id, email, now_s, expires_at_s):
        self.drop_email_confirmations(customer_id)
        self.pending[token_hash] = [customer_id, email, expires_at_s, False]

    def drop_email_confirmations(self, customer_id):
        for key in [k for k, v in self.pending.items() if v[0] == customer_id and not v[3]]:
            del self.pending[key]

    def confirm_email(self, token_hash, now_s):
        found = self.pending.get(token_hash)
        if found is None or found[3] or found[2] <= now_s:
            return None
        found[3] = True
        self.details[found[0]][1] = found[1]
        return found[1]


class Outbox:
    def __init__(self, fail=False):
        self.sent = []
        self.fail = fail

    def send(self, message):
        if self.fail:
            raise MailError("could not send e-mail through mail.example.no:25: refused")
        self.sent.append(message)


def _change(store, mailer, mobile, email, customer="C1", language="nb", now_s=1000):
    return change_contact(store, mailer, customer, mobile=mobile, email=email,
                          base_url="https://min.example.no/", language=language,
                          now_s=now_s)  # fmt: skip


def _token(message):
    return re.search(r"https://min\.example\.no/contact/confirm/([A-Za-z0-9_-]+)",
                     message.text).group(1)  # fmt: skip


def test_a_new_address_is_used_only_once_its_link_is_opened():
    store, mail = FakeContactStore(), Outbox()
    change = _change(store, mail, "+4791234567", "Ny@Example.no")
    assert (change.mobile_changed, change.confirmation_sent_to) == (False, "ny@example.no")
    [message] = mail.sent
    assert message.to == "ny@example.no"
    assert message.subject == "Bekreft ny e-postadresse"
    assert "24 timer" in message.text
    details = store.contact("C1", 1000)
    assert (details.email, details.pending_email) == ("kari@example.no", "ny@example.no")
    assert _token(message) not in str(store.pending)  # only the hash is kept
    assert confirm_email(store, _token(message), now_s=2000) == "ny@example.no"
    assert store.contact("C1", 2000).email == "ny@example.no"
    assert store.contact("C1", 2000).pending_email is None
    with pytest.raises(LinkRefused):  # once only
        confirm_email(store, _token(message), now_s=2001)


def test_a_link_expires_and_a_newer_change_replaces_an_older_one():
    store, mail = FakeContactStore(), Outbox()
    _change(store, mail, "", "first@example.no")
    _change(store, mail, "", "second@example.no", now_s=1001)
    first, second = mail.sent
    with pytest.raises(LinkRefused):
        confirm_email(store, _token(first), now_s=1002)
    with pytest.raises(LinkRefused):
        confirm_email(store, _token(second), now_s=1001 + CONFIRM_FOR_S)
    assert store.contact("C1", 1002).email == "kari@example.no"
    with pytest.raises(LinkRefused):
        confirm_email(store, "not a token!", now_s=1002)


def test_the_mobile_number_is_stored_at_once_normalised():
    store, mail = FakeContactStore(), Outbox()
    change = _change(store, mail, "0047 415 55 555", "kari@example.no")
    assert (change.mobile_changed, change.confirmation_sent_to) == (True, None)
    assert store.details["C1"] == ["+4741555555", "kari@example.no"]
    assert not mail.sent
    assert not _change(store, mail, "415 55 555", " kari@example.no").mobile_changed


def test_bad_input_stores_and_sends_nothing_and_names_each_field():
    store, mail = FakeContactStore(), Outbox()
    with pytest.raises(InvalidContact) as refused:
        _change(store, mail, "12345678", "new@example")
    assert refused.value.fields == ("mobile", "email")
    with pytest.raises(InvalidContact) as refused:
        _change(store, mail, "41555555", "not an address")
    assert refused.value.fields == ("email",)
    assert store.details["C1"] == ["+4791234567", "kari@example.no"]
    assert not store.pending
    assert not mail.sent


def test_a_malformed_old_address_does_not_block_changing_the_mobile_number():
    store, mail = FakeContactStore(), Outbox()
    change = _change(store, mail, "99 88 77 66", "kari at example", customer="C2")
    assert change.mobile_changed
    assert store.details["C2"] == ["+4799887766", "kari at example"]


def test_when_the_mail_cannot_be_sent_nothing_is_kept():
    store = FakeContactStore()
    with pytest.raises(MailError):
        _change(store, Outbox(fail=True), "41555555", "ny@example.no")
    assert store.details["C1"] == ["+4791234567", "kari@example.no"]
    assert store.contact("C1", 1000).pending_email is None


def test_the_message_is_in_english_for_english_readers():
    mail = Outbox()
    _change(FakeContactStore(), mail, "", "ny@example.no", language="en")
    assert mail.sent[0].subject == "Confirm your new e-mail address"
    assert "24 hours" in mail.sent[0].text


def test_a_customer_without_a_record_is_told_so():
    with pytest.raises(UnknownCustomer):
        _change(FakeContactStore(), Outbox(), "", "a@example.no", customer="C9")
