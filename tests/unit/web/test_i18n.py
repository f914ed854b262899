"""The portal's two languages: which one a request gets, how the English catalog is read,
that translated texts stay escaped, and that every text of every page has its English.

The completeness test walks the template folder and the web package, so a page or a route
added later is checked too: each text marked with ``_()`` in a template, each ``text("...")``
in Python and each message the routes hand to a page must have an English entry.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import Environment

from openams.services.invoice_content import MONTHS
from openams.services.tariff_files import load_tariff_file
from openams.web import app, console, customer, grants, i18n, login
from openams.web.context import templates
from openams.web.i18n import catalog, gettext_for, language_of

WEB = Path(str(resources.files("openams"))) / "web"
TEMPLATES = WEB / "templates"
LOCALES_EN = WEB / "locales" / "en"
TARIFFS = Path(str(resources.files("openams"))) / "data" / "tariffs"
#: The English files of the pages and routes this test knows every text of.
OWN_FILES = ("common.toml", "customer.toml", "console.toml", "login.toml")
#: The texts the settlement prints on its bill lines (openams.domain.settlement).
BILL_TEXTS = ("Fastledd", "Innmating", "Forbruksavgift", "Enovapåslag", "Strømstøtte")


# --- which language a request gets ------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("en", None, "en"),
        ("nb", "en-GB,en;q=0.9", "nb"),  # the chosen language beats the browser's
        ("xx", "en", "en"),  # an unknown cookie is ignored
        ("", "en-US", "en"),
        (None, None, "nb"),
        (None, "", "nb"),
        (None, "en", "en"),
        (None, "EN-gb", "en"),
        (None, "nb-NO,nb;q=0.9,en;q=0.8", "nb"),
        (None, "no", "nb"),
        (None, "nn-NO", "nb"),
        (None, "de-DE,de;q=0.9,en;q=0.7,nb;q=0.5", "en"),  # the first we speak
        (None, "en;q=0.3, nb;q=0.8", "nb"),  # by weight, not by order
        (None, "nb;q=0.5, en;q=0.5", "nb"),  # equal weights: the earlier
        (None, "en;q=0", "nb"),  # q=0: not English
        (None, "en;q=0, nb;q=0.1", "nb"),
        (None, "en;q=abc, nb;q=0.2", "nb"),  # a weight that is no number counts as 0
        (None, "en;q=nan", "nb"),
        (None, "*", "nb"),
        (None, ";;,,;q=;", "nb"),
        (None, "fr, de, sv", "nb"),
        (None, "x" * 600 + ",en", "nb"),  # only the first 512 characters are read
        (None, "\u00e6\u00f8\u00e5, en", "en"),
    ],
)
def test_the_language_of_a_request(cookie, accept, expected):
    assert language_of(cookie, accept) == expected


# --- the catalog --------------------------------------------------------------------------


def _catalog_from(tmp_path, monkeypatch, files: dict[str, str]):
    folder = tmp_path / "web" / "locales" / "xx"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "resources", SimpleNamespace(files=lambda _package: tmp_path))
    return catalog.__wrapped__("xx")


def test_locale_files_are_read_together_and_other_files_ignored(tmp_path, monkeypatch):
    found = _catalog_from(tmp_path, monkeypatch, {
        "a.toml": '"Ja" = "Yes"\n"Nei" = "No"\n',
        "b.toml": '"Ja" = "Yes"\n"Kanskje" = "Maybe"\n',  # the same translation twice is fine
        "notes.txt": '"Ja" = "Oui"\n',
    })  # fmt: skip
    assert found == {"Ja": "Yes", "Nei": "No", "Kanskje": "Maybe"}


def test_a_text_translated_twice_differently_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="translated twice"):
        _catalog_from(tmp_path, monkeypatch, {"a.toml": '"Ja" = "Yes"\n',
                                              "b.toml": '"Ja" = "Yeah"\n'})  # fmt: skip


def test_a_translation_that_is_not_text_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not translated to a string"):
        _catalog_from(tmp_path, monkeypatch, {"a.toml": '"Ja" = 1\n'})


def test_a_broken_locale_file_is_refused(tmp_path, monkeypatch):
    with pytest.raises(tomllib.TOMLDecodeError):
        _catalog_from(tmp_path, monkeypatch, {"a.toml": '"Ja" = "Yes\n'})


def test_bokmal_is_the_text_itself_and_english_fills_in_values():
    assert catalog("nb") == {}
    assert gettext_for("nb")("Målepunkt %(id)s", id="7") == "Målepunkt 7"
    assert gettext_for("en")("Målepunkt %(id)s", id="7") == "Metering point 7"
    assert gettext_for("en")("Ingen slik tekst") == "Ingen slik tekst"  # shown in bokmål


def test_no_english_file_translates_a_text_twice_differently():
    # catalog() raises when two files disagree: the files of every area load together
    assert catalog.__wrapped__("en")["Oversikt"] == "Overview"


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_message_with_markup_is_shown_as_text(language):
    page = templates(language).get_template("error.html.j2").render(
        message='<script>alert("x")</script>')  # fmt: skip
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


@pytest.mark.parametrize("language", ["nb", "en"])
def test_values_filled_into_a_translated_text_are_escaped(language):
    template = templates(language).from_string('{{ _("Målepunkt %(id)s", id=mp) }}')
    page = template.render(mp="<img src=x onerror=alert(1)>")
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_translation_is_escaped_too(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "catalog", lambda _language: {"Hei": "<b>Hello</b>"})
    page = templates("en").from_string('{{ _("Hei") }}').render()
    assert page == "&lt;b&gt;Hello&lt;/b&gt;"


def test_constant_texts_are_translated_when_compiled_and_read_the_same():
    env = templates("en")
    source = (
        '{{ _("Språk") }}|{{ _("100 %%") }}|{{ _("Språk") | upper }}|'
        '{{ _(message) }}|{{ _("Side %(page)s av %(pages)s", page=1, pages=2) }}'
    )
    assert "Språk" not in env.compile(source, raw=True)  # no call left for the constant
    page = env.from_string(source).render(message="Ikke tillatt.")
    assert page == "Language|100 %|LANGUAGE|Not allowed.|Page 1 of 2"
    assert templates("nb").from_string(source).render(message="x") == (
        "Språk|100 %|SPRÅK|x|Side 1 av 2"
    )


# --- every text has its English -------------------------------------------------------------


def _template_texts() -> dict[str, set[str]]:
    """Every constant text marked for translation in every template, by template."""
    # Jinja's i18n extension alone: the pages' environments translate constant texts as
    # they compile, so their parse has no calls left to find
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    found: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.glob("*.j2")):
        texts = set()
        for _line, _function, message in env.extract_translations(path.read_text("utf-8")):
            parts = message if isinstance(message, tuple) else (message,)
            texts |= {part for part in parts if isinstance(part, str)}
        found[path.name] = texts
    return found


def _python_texts() -> dict[str, set[str]]:
    """Texts of the web package's modules: ``text("...")`` calls (``web.text`` or a
    translating function named ``text``) and constant ``message=`` arguments."""
    found: dict[str, set[str]] = {}
    for path in sorted(WEB.glob("*.py")):
        texts = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            first = node.args[0] if node.args else None
            if name == "text" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                texts.add(first.value)
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "message" and isinstance(value, ast.Constant) and value.value:
                    texts.add(value.value)
        found[path.name] = texts
    return found


def _message_texts() -> set[str]:
    """The messages routes keep in tables and pass to pages, and the texts shown from the
    services' output (month names, bill lines, value statuses)."""
    return {
        *app._MESSAGES.values(),
        "Noe gikk galt.",  # app.py: the message of any other HTTP error
        *customer._PERIOD_MESSAGES.values(),
        customer._BAD_DAY,
        customer._DAY_RANGE,
        *(source for _pattern, source in customer._LINE_TEXTS),
        *console.STATUS_NAMES.values(),
        *console._EDIT_MESSAGES.values(),
        console._AUDIT_FILTER,
        console._QUERY_TOO_LONG,
        *login._REFUSALS.values(),
        *(text for _start, text in grants._REFUSALS),
        grants._REFUSED,
        *MONTHS,
        *BILL_TEXTS,
        *_tariff_texts(),
    }


def _tariff_texts() -> set[str]:
    """The energy rates' names in the tariffs OpenAMS ships, as bills print them."""
    return {
        rate.text
        for path in sorted(TARIFFS.glob("*.toml"))
        for period in load_tariff_file(path).periods
        for rate in period.energy
    }


def test_the_walk_finds_the_texts_of_pages_and_routes():
    # the test below is only as good as what it finds: a few texts known to be there
    in_templates, in_python = _template_texts(), _python_texts()
    assert {"Oversikt", "Logg ut", "Tilgang", "HAN-port"} <= in_templates["base.html.j2"]
    assert "Stripete oransje" in in_templates["consumption.html.j2"]
    assert "%(n)s treff for «%(query)s»." in in_templates["console_search.html.j2"]
    assert "(sommertid)" in in_python["customer.py"]
    assert "Noe gikk galt. Prøv igjen senere." in in_python["app.py"]
    assert "Energiledd dag (06-22, hverdager)" in _tariff_texts()


def test_every_text_of_every_page_has_its_english():
    english = catalog.__wrapped__("en")
    missing = {}
    for source, texts in {**_template_texts(), **_python_texts(),
                          "messages": _message_texts()}.items():  # fmt: skip
        lacking = sorted(texts - english.keys())
        if lacking:
            missing[source] = lacking
    assert missing == {}, "texts without an English entry in web/locales/en/*.toml"


def test_the_english_texts_keep_the_placeholders_of_the_bokmal():
    for source, text in catalog.__wrapped__("en").items():
        assert sorted(re.findall(r"%\(\w+\)s", text)) == sorted(
            re.findall(r"%\(\w+\)s", source)), source  # fmt: skip
        assert "<" not in text, source  # plain text, no markup


def test_no_entry_of_the_portals_own_files_is_unused():
    used = set().union(*_template_texts().values(), *_python_texts().values(), _message_texts())
    stale = {}
    for name in OWN_FILES:
        entries = tomllib.loads((LOCALES_EN / name).read_text("utf-8"))
        unused = sorted(set(entries) - used)
        if unused:
            stale[name] = unused
    assert stale == {}
