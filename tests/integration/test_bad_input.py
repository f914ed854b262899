"""Bad input on every form and API parameter, found by walking the application's route table:
wrong types, impossible dates, huge values, control characters and NUL bytes, repeated
parameters and scripts in text fields. Whatever is sent, the answer is a clear message (the
portal's error page or form with a ``.message``, or the API's one error format), never a stack
trace and never the script unescaped, and a refused form stores nothing.

A new route is covered without touching this file: its query, path and form parameters are
read from FastAPI's description of the route (``APIRoute.dependant``), and who may use it is
found by asking it, as each identity, with harmless values. A field is taken as free text when
it accepts a few plain words; only there may a value such as ``-1`` or a script be stored (and
then it must be shown escaped). Control characters, NUL bytes and 100 kB values are stored
nowhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.accounts import create_account, log_in, session_for
from openams.services.api_tokens import SCOPES, grant_token
from openams.services.ports import WrappedMeter
from openams.services.settlement import settle_month
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.api_tokens import SqlTokenStore
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.schema import metadata
from openams.store.settlement import SqlSettlementStore
from openams.web.app import SESSION_COOKIE, create_app
from tests.integration.test_settlement_store import OSLO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

from .conftest import _postgres_database

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 2, 3))[0] + 12 * 3600
#: The log-in form allows 20 tries a minute per address: the clock moves on before each.
LOGIN_PAUSE_S = 61

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
#: What no page may contain: the payloads as markup, not as escaped text.
RAW_MARKUP = (SCRIPT, "<img src=x onerror")
#: Signs of a stack trace or of the code's whereabouts on a page.
TRACE_MARKERS = ("Traceback", 'File "', "Exception", "openams/", "site-packages", '.py", line')

BAD: dict[str, str] = {
    "words": "abc",
    "bad_date": "2026-13-45",
    "overflow": "1e309",
    "not_a_number": "NaN",
    "negative": "-1",
    "huge_number": "1" + "0" * 30,
    "empty": "",
    "huge_text": "x" * 100_000,
    "nul": "a\x00b",
    "control": "a\x01\x1b\x7fb",
    "script": SCRIPT,
    "attribute": ATTRIBUTE,
}
#: The longest value sent in a URL: the test client refuses a URL over 64 KiB (and a server
#: in front of the portal refuses far shorter ones).
HUGE_IN_URL = 60_000
#: A subset for the second database: what a database may treat differently.
BAD_POSTGRES = ("bad_date", "huge_number", "huge_text", "nul", "control", "script")
#: Values a free-text field may keep (shown escaped); anything else must be refused.
TEXT_KINDS = {"words", "bad_date", "overflow", "not_a_number", "negative", "huge_number",
              "empty", "script", "attribute", "repeated", "not_utf8"}  # fmt: skip
#: What a field that takes free text takes: a few plain words.
PLAIN_WORDS = "Tekst med ord"


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter of a route as the client sends it."""

    name: str  # the alias: the name on the wire
    where: str  # query, path or form
    default: str | None
    required: bool


@dataclass(frozen=True, slots=True)
class Route:
    """A method and path of the application with its parameters."""

    method: str
    path: str
    params: tuple[Param, ...]

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    def named(self, where: str) -> list[Param]:
        return [p for p in self.params if p.where == where]


def _flat(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _flat(sub)


def _routes(app: Any) -> list[Route]:
    """Every GET and POST of the application, with its query, path and form parameters."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        params = []
        for dependant in _flat(route.dependant):
            for where, fields in (("query", dependant.query_params),
                                  ("path", dependant.path_params),
                                  ("form", dependant.body_params)):  # fmt: skip
                for f in fields:
                    default = f.field_info.default
                    params.append(Param(f.alias, where, default if isinstance(default, str)
                                        else None, f.field_info.is_required()))  # fmt: skip
        for method in sorted(route.methods & {"GET", "POST"}):
            found.append(Route(method, route.path, tuple(params)))
    return found


@dataclass
class Identity:
    """Who sends a request: nobody, an account with a session cookie, or an API token."""

    name: str
    client: TestClient
    email: str | None = None
    bearer: str | None = None
    token: str = ""
    csrf: str = ""


@dataclass
class World:
    """The application over a seeded store, its clock, its identities and the test's view of
    the store."""

    app: Any
    url: str
    engine: sa.Engine
    accounts: SqlAccountStore
    clock: list[int]
    identities: list[Identity]
    benign: dict[str, str]
    bad: dict[str, str]
    free_text: set[tuple[str, str]] = field(default_factory=set)
    #: The store as the last form left it, while nothing else has been sent since.
    last: dict[str, tuple[int, str]] | None = None


def _seed_world(url: str) -> tuple[int, str, str]:
    """The settlement tests' estate with a meter at the Oslo point (so its values can be
    edited), accounts of each role, API tokens and a settled month."""
    store = open_store(url)
    try:
        _seed(store)
        meter = WrappedMeter("MTR-OSLO-1", OSLO_MP, "Aidon", "6534", 3, b"AID\x00\x00\x00\x00\x01",
                             bytes(24), bytes(24), "k1", 3600)  # fmt: skip
        SqlEstateStore(store).save_estate([], [], [], [meter])
        accounts = SqlAccountStore(store)
        kari = create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
        admin = create_account(accounts, "admin@example.no", PASSWORD, "administrator", None,
                               now_s=1)  # fmt: skip
        tokens = SqlTokenStore(store)
        mine, _ = grant_token(tokens, kari, "Min leverandør", set(SCOPES), 30, now_s=NOW_S - 5)
        staff, _ = grant_token(tokens, admin, "Driftssentral", set(SCOPES), 30, now_s=NOW_S - 5)
        # a grant the walk may revoke, apart from the one it reads the API with
        _, spare = grant_token(tokens, kari, "Reserve", {"values:read"}, 30, now_s=NOW_S - 5)
        settle_month(SqlSettlementStore(store), SqlPriceStore(store), "2026-01", TARIFF, TAXES,
                     now_s=NOW_S)  # fmt: skip
    finally:
        store.close()
    return spare.token_id, mine, staff


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(request, tmp_path_factory) -> Iterator[World]:
    if request.param == "sqlite":
        databases = iter([f"sqlite:///{tmp_path_factory.mktemp('bad') / 'openams.db'}"])
        bad = BAD
    else:
        databases = _postgres_database()
        bad = {kind: BAD[kind] for kind in BAD_POSTGRES}
    url = next(databases)
    spare_token_id, mine, staff = _seed_world(url)
    clock = [NOW_S]
    app = create_app(Settings(db_url=url), tariff=TARIFF, taxes=TAXES, clock=lambda: clock[0])
    benign = {
        "mp": OSLO_MP, "metering_point_id": OSLO_MP, "from": "2026-01-05", "to": "2026-01-06",
        "resolution": "hour", "q": "Oslo", "edited": "1", "customer": "C1", "month": "2026-01",
        "version": "1", "zone": "NO1", "limit": "10", "offset": "0", "code": "en", "page": "1",
        "email": "ingen@example.no", "password": "ikke passordet", "label": "Strømstyring AS",
        "days": "30", "scope": "values:read", "start": "2026-01-05T10:00", "import_kwh": "1,5",
        "export_kwh": "", "reason": "Feil avlest", "token_id": str(spare_token_id),
        "action": "refused",
    }  # fmt: skip
    store = open_store(url)
    # The application's store is opened by its lifespan, once; the identities' clients share
    # it without running the lifespan again.
    with TestClient(app) as lifespan:
        assert lifespan.get("/login").status_code == 200
        clients = [TestClient(app, follow_redirects=False) for _ in range(6)]
        identities = [
            Identity("anonymous", clients[0]),
            Identity("customer", clients[1], email="c1@example.no"),
            Identity("operator", clients[2], email="drift@example.no"),
            Identity("administrator", clients[3], email="admin@example.no"),
            Identity("customer's token", clients[4], bearer=mine),
            Identity("staff token", clients[5], bearer=staff),
        ]
        engine = sa.create_engine(url)
        try:
            yield World(app, url, engine, SqlAccountStore(store), clock, identities, benign, bad)
        finally:
            engine.dispose()
            for client in clients:
                client.close()
            store.close()
    for _ in databases:  # drops the PostgreSQL database
        pass


# -- the store, before and after ------------------------------------------------------------

#: Tables compared by their number of rows only: a session's own bookkeeping (when it was
#: last used, say) may change on any request; a session made or ended still shows.
COUNTED_ONLY = {"web_sessions"}
#: Tables that a read legitimately writes, left out of the comparisons: the console logs
#: every search, every metering point opened and every list of customers' requests shown
#: (a refused form shows the list again, and that showing is logged too).
WRITTEN_BY_READS = {"access_log"}


def _snapshot(world: World) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows."""
    found = {}
    with world.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in WRITTEN_BY_READS:
                continue
            rows = connection.execute(sa.select(table)).all()
            digest = ""
            if table.name not in COUNTED_ONLY:
                text = "\n".join(sorted(repr(tuple(row)) for row in rows))
                digest = hashlib.sha256(text.encode()).hexdigest()
            found[table.name] = (len(rows), digest)
    return found


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


# -- sending --------------------------------------------------------------------------------


def _ensure_session(world: World, who: Identity) -> None:
    """Log the account in (through the service: the form's per-address limit stays out of
    the way) unless its session is still live; a walk through ``/logout`` ends it."""
    if who.email is None:
        return
    if session_for(world.accounts, who.token, now_s=world.clock[0] + 600) is not None:
        return
    session = log_in(world.accounts, who.email, PASSWORD, now_s=world.clock[0])
    who.token, who.csrf = session.token, session.csrf
    who.client.cookies.set(SESSION_COOKIE, session.token)


def _form_csrf(world: World, who: Identity, route: Route) -> str:
    """The CSRF value a form of ``route`` would carry for ``who``."""
    if who.email is not None:
        return who.csrf
    # before log-in: the value of the form page (its cookie is set with it)
    for path in (route.path, "/login"):
        if "{" in path:
            continue
        page = who.client.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code == 200 and found:
            return found.group(1)
    return ""


def _benign(world: World, param: Param) -> str:
    if param.name in world.benign:
        return world.benign[param.name]
    return param.default if param.default is not None else "1"


def _send(
    world: World,
    who: Identity,
    route: Route,
    values: dict[str, list[str]],
    *,
    raw: dict[str, str] | None = None,
    json_body: bool = False,
) -> Any:
    """``route`` with harmless values but for ``values`` (a list per name: repeated), and
    ``raw`` (already percent-encoded, sent as is)."""
    _ensure_session(world, who)
    world.last = None
    raw = raw or {}
    given: dict[str, list[str]] = {}
    for param in route.params:
        if param.name in values:
            given[param.name] = values[param.name]
        elif param.name == "csrf":
            given[param.name] = [_form_csrf(world, who, route)]
        else:
            given[param.name] = [_benign(world, param)]
    path = route.path
    for param in route.named("path"):
        text = raw.get(param.name) or quote(given[param.name][-1], safe="")
        path = path.replace(f"{{{param.name}}}", text)
    query = _encoded(route, "query", given, raw)
    url = f"{path}?{query}" if query else path
    headers = {"Authorization": f"Bearer {who.bearer}"} if who.bearer else {}
    if route.method == "GET":
        return who.client.get(url, headers=headers)
    if route.path.startswith("/login"):
        world.clock[0] += LOGIN_PAUSE_S
    if json_body:
        body = json.dumps({p.name: given[p.name][-1] for p in route.named("form")})
        headers["Content-Type"] = "application/json"
    else:
        body = _encoded(route, "form", given, raw)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return who.client.post(url, content=body.encode(), headers=headers)


def _encoded(route: Route, where: str, given: dict[str, list[str]], raw: dict[str, str]) -> str:
    """The query or form parameters of a route, percent-encoded; those in ``raw`` as given."""
    parts = []
    for param in route.named(where):
        if param.name in raw:
            parts.append(f"{quote(param.name)}={raw[param.name]}")
        else:
            parts.extend(urlencode({param.name: value}) for value in given[param.name])
    return "&".join(parts)


# -- what every answer must be --------------------------------------------------------------


def _message(html: str) -> str:
    """The text of the page's ``.message`` elements."""
    found = re.findall(r'class="message"[^>]*>(.*?)</', html, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", "", text).strip() for text in found).strip()


def _check_answer(response: Any, route: Route, label: str) -> None:
    status = response.status_code
    assert status < 500, f"{label}: {status}"
    kind = response.headers.get("content-type", "")
    if not kind.startswith(("text/", "application/json")):
        return  # a PDF: no text to show a trace in
    text = response.text
    for marker in TRACE_MARKERS:
        assert marker not in text, f"{label}: {marker!r} in the answer"
    if route.api:
        assert kind.startswith("application/json"), f"{label}: {kind}"
        if status >= 400:
            body = response.json()
            assert set(body) == {"error"}, f"{label}: {body}"
            assert set(body["error"]) == {"code", "message"}, f"{label}: {body}"
            assert all(isinstance(v, str) and v for v in body["error"].values()), label
        return
    if status >= 400:
        # FastAPI's own JSON must not reach a page: the portal answers with its error page
        assert kind.startswith("text/html"), f"{label}: {status} {kind}"
        assert _message(text), f"{label}: {status} without a message"
    if kind.startswith("text/html"):
        for markup in RAW_MARKUP:
            assert markup not in text, f"{label}: {markup!r} unescaped"


# -- who may use a route, and which of its fields take free text ----------------------------


def _post(world: World, who: Identity, route: Route, values: dict[str, list[str]],
          **options: Any) -> tuple[Any, list[str]]:  # fmt: skip
    """Send a form; the answer and the tables it changed."""
    _ensure_session(world, who)
    before = world.last or _snapshot(world)
    response = _send(world, who, route, values, **options)
    world.last = _snapshot(world)
    return response, _changed(before, world.last)


def _candidates(world: World, route: Route) -> list[Identity]:
    return [w for w in world.identities if (w.bearer is not None) == route.api]


def _refused(response: Any) -> bool:
    """Whether the answer says "not you" rather than anything about the input."""
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def _users(world: World, route: Route) -> list[Identity]:
    """The identities a route serves when sent harmless values. A route that serves everyone
    (or seems to serve no one: ``/logout`` sends everyone to the log-in page) is walked as
    nobody and as a customer."""
    candidates = _candidates(world, route)
    allowed = [w for w in candidates if not _refused(_send(world, w, route, {}))]
    if allowed and len(allowed) < len(candidates):
        return allowed
    return [w for w in candidates if w.name in ("anonymous", "customer")] or candidates


def _fields(route: Route) -> list[Param]:
    return [p for p in route.params if p.where in ("query", "path", "form")]


# -- the walks ------------------------------------------------------------------------------


def _cases(world: World, route: Route) -> Iterator[tuple[str, str | None, dict, dict]]:
    """(kind, field, values, raw) of every bad request to a route."""
    for param in _fields(route):
        for kind, value in world.bad.items():
            if param.where != "form":
                value = value[:HUGE_IN_URL]
            if value != _benign(world, param):  # an optional field left empty is no error
                yield kind, param.name, {param.name: [value]}, {}
        if param.where != "path":
            yield "repeated", param.name, {param.name: [_benign(world, param), "abc"]}, {}
        yield "not_utf8", param.name, {}, {param.name: "%FF%FEa%C3"}
    every = [p.name for p in _fields(route) if p.where != "path"]
    if every:
        yield "script everywhere", None, {n: [SCRIPT] for n in every}, {}
        yield "repeated 1000 times", None, {n: ["abc"] * 1000 for n in every}, {}


def test_the_walk_reaches_every_kind_of_form_and_parameter(world):
    routes = _routes(world.app)
    forms = [r for r in routes if r.method == "POST" and r.named("form")]
    assert {"/login", "/access", "/console/mp/{metering_point_id}/edit"} <= {r.path for r in forms}
    assert any(r.api and r.named("query") and r.named("path") for r in routes)
    assert any(not r.api and r.method == "GET" and r.named("query") for r in routes)
    edit = next(r for r in forms if r.path.endswith("/edit"))
    assert [w.name for w in _users(world, edit)] == ["operator", "administrator"]
    access = next(r for r in forms if r.path == "/access")
    assert [w.name for w in _users(world, access)] == ["customer"]


@pytest.mark.slow
def test_bad_input_in_every_form_gets_a_message_and_stores_nothing(world):
    for route in _routes(world.app):
        if route.method != "POST":
            continue
        users = _users(world, route)
        # a field takes free text when plain words in it, with harmless values besides, are
        # stored (the probe may store; it is not bad input)
        for param in route.named("form"):
            for who in users:
                if _post(world, who, route, {param.name: [PLAIN_WORDS]})[1]:
                    world.free_text.add((route.path, param.name))
        for who in users:
            for kind, name, values, raw in _cases(world, route):
                label = f"{who.name}: POST {route.path} {name}={kind}"
                response, changed = _post(world, who, route, values, raw=raw)
                _check_answer(response, route, label)
                if not changed:
                    continue
                assert response.status_code < 400, f"{label}: refused, yet stored {changed}"
                # an optional field left empty takes its default, like one not sent
                if kind == "empty" and any(p.name == name and not p.required
                                           for p in route.params):  # fmt: skip
                    continue
                assert kind in TEXT_KINDS, f"{label}: stored in {changed}"
                assert (route.path, name) in world.free_text, f"{label}: stored in {changed}"
                if response.status_code == 303:  # where the kept text is shown
                    shown = who.client.get(response.headers["location"])
                    world.last = None
                    _check_answer(shown, route, f"{label}, then GET")
            # a body that is not a form at all
            response, changed = _post(world, who, route, {}, json_body=True)
            label = f"{who.name}: POST {route.path} as JSON"
            _check_answer(response, route, label)
            assert response.status_code < 400 or not changed, label
    # the free-text fields were reached, so the walk did store what it may
    assert ("/console/mp/{metering_point_id}/edit", "reason") in world.free_text


@pytest.mark.slow
def test_bad_input_in_every_query_and_path_parameter_gets_a_clear_answer(world):
    before = _snapshot(world)
    for route in _routes(world.app):
        if route.method != "GET" or not _fields(route):
            continue
        for who in _users(world, route):
            for kind, name, values, raw in _cases(world, route):
                response = _send(world, who, route, values, raw=raw)
                _check_answer(response, route, f"{who.name}: GET {route.path} {name}={kind}")
    assert not _changed(before, _snapshot(world))


def test_no_page_shows_a_script_the_forms_kept(world):
    """Every page shows as text the scripts kept in free-text fields (by the walk of the
    forms, and by the edit here, whose reason the metering point's page lists)."""
    edit = next(r for r in _routes(world.app) if r.path.endswith("/edit"))
    operator = next(w for w in world.identities if w.name == "operator")
    response, changed = _post(world, operator, edit, {"reason": [SCRIPT + ATTRIBUTE]})
    assert response.status_code == 303
    assert "value_edits" in changed
    shown = []
    for route in _routes(world.app):
        if route.method != "GET":
            continue
        for who in _users(world, route):
            response = _send(world, who, route, {})
            _check_answer(response, route, f"{who.name}: GET {route.path}")
            shown.append(response.text)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in text for text in shown)


@pytest.mark.parametrize(
    ("header", "code"),
    [("Bearer " + SCRIPT, "unauthorized"), ("Bearer " + "x" * 100_000, "unauthorized"),
     ("Basic " + SCRIPT, "unauthorized"), ("Bearer", "unauthorized")],
)  # fmt: skip
def test_a_bad_api_token_gets_the_error_format(world, header, code):
    client = world.identities[0].client
    response = client.get("/api/v1/metering-points", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": code, "message": "a live bearer token is needed"}}


@pytest.mark.parametrize(
    ("label", "says"),
    [("x" * 300, ("En verdi i skjemaet eller adressen er for lang. Ingenting er endret.",
                  "A value in the form or the address is too long. Nothing was changed.")),
     ("Strøm\x00AS", ("Et felt inneholder kontrolltegn, som ikke er tillatt. Ingenting er endret.",
                      "A field holds control characters, which are not allowed. Nothing was "
                      "changed."))],
)  # fmt: skip
def test_a_value_fastapi_refuses_gets_the_portals_page_not_fastapis_json(world, label, says):
    customer = next(w for w in world.identities if w.name == "customer")
    _ensure_session(world, customer)
    before = _snapshot(world)
    form = {"csrf": customer.csrf, "label": label, "days": "30", "scope": "values:read"}
    response = customer.client.post("/access", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert _message(response.text) in says  # in the language the client last chose
    assert not _changed(before, _snapshot(world))


def test_a_control_character_in_an_api_parameter_gets_the_error_format(world):
    client = world.identities[4].client
    response = client.get(
        "/api/v1/prices",
        params={"zone": "NO1", "from": "2026-01-05\x00"},
        headers={"Authorization": f"Bearer {world.identities[4].bearer}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_parameter"
