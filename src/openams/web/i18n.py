"""The portal's languages: Norwegian bokmål (``nb``, the default) and English (``en``).

Texts are written in bokmål in the templates and the route modules, marked for translation
with ``_()`` (Jinja2's ``i18n`` extension); a message a route hands to a template is shown
with ``{{ _(message) }}``. The English texts are in ``web/locales/en/*.toml``, one file per
area, each a table of ``"bokmål text" = "English text"``; a text missing there is shown in
bokmål (the tests check that none is missing).

The language of a request is the ``openams_lang`` cookie (set by ``/language/{code}``), else
the first of the browser's ``Accept-Language`` that the portal speaks, else bokmål. It is
kept in a context variable for the request (:class:`LanguageMiddleware`), so that pages and
error pages need not pass it around.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LANG_COOKIE",
    "LanguageMiddleware",
    "catalog",
    "current",
    "gettext_for",
    "language_of",
]

#: The languages the portal speaks, with their names as a speaker of each writes them.
LANGUAGES: Mapping[str, str] = {"nb": "Norsk", "en": "English"}
DEFAULT = "nb"
LANG_COOKIE = "openams_lang"
#: Accept-Language tags taken as bokmål: Norwegian in general and nynorsk readers.
_NORWEGIAN = {"nb", "no", "nn"}

_current: ContextVar[str] = ContextVar("openams_language", default=DEFAULT)


def current() -> str:
    """The language of the request being served."""
    return _current.get()


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The translations of the bokmål texts into ``language`` (none for bokmål itself).

    Raises:
        ValueError: two locale files translate the same text differently.
    """
    if language == DEFAULT:
        return {}
    folder = resources.files("openams") / "web" / "locales" / language
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for source, text in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if not isinstance(text, str):
                raise ValueError(f"{entry.name}: {source!r} is not translated to a string")
            if found.get(source, text) != text:
                raise ValueError(f"{entry.name}: {source!r} is translated twice, differently")
            found[source] = text
    return found


def gettext_for(language: str) -> Callable[..., str]:
    """``_()`` for ``language``: the translation of a bokmål text, ``%(name)s`` filled in.

    A text without a translation is given in bokmål.
    """
    texts = catalog(language)

    def gettext(message: str, **values: Any) -> str:
        text = texts.get(message, message)
        return text % values if values else text

    return gettext


def language_of(cookie: str | None, accept_language: str | None) -> str:
    """The language to answer in: the cookie's, else the one we speak that the browser
    prefers most (its ``q`` weight; the earlier of equal weights; ``q=0`` is "not this")."""
    if cookie is not None and cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:512].split(",")):
        tag, *parameters = part.split(";")
        primary = tag.strip().lower().split("-")[0]
        language = "nb" if primary in _NORWEGIAN else primary
        if language not in LANGUAGES:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = min(float(value), 1.0)
                except ValueError:
                    weight = 0.0
        if weight > 0:  # also false for nan
            ranked.append((-weight, index, language))
    return min(ranked)[2] if ranked else DEFAULT


class LanguageMiddleware:
    """Sets the language of each HTTP request (a plain ASGI middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie, accept = None, None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                for item in value.decode("latin-1").split(";"):
                    key, _, text = item.strip().partition("=")
                    if key == LANG_COOKIE:
                        cookie = text
            elif name == b"accept-language":
                accept = value.decode("latin-1")
        token = _current.set(language_of(cookie, accept))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
