"""A customer's contact details (``/contact``) and log-in by e-mailed link (``/login/link``).

Routes only parse the form, call :mod:`openams.services.contact` or
:mod:`openams.services.login_links` and render the answer. Links in e-mails point at
``OPENAMS_PUBLIC_URL`` when it is set, else at the address the request came to; behind a
reverse proxy set it, or make sure the proxy passes only the portal's own ``Host``.

Security:
    * ``/contact`` is for customers only and shows only the logged-in customer's details; its
      form posts the session's CSRF token.
    * The log-in link forms (before log-in) post a random token that must equal a cookie set
      with the form. Opening a link only shows a button: a mail scanner that fetches links
      does not use it up.
    * ``/login/link`` answers the same whether an account has the address or not. Each client
      address may ask :data:`LINK_REQUESTS_PER_CLIENT` times in :data:`LINK_REQUESTS_WINDOW_S`.
    * Pages with a token in their address are sent with ``Referrer-Policy: no-referrer`` and
      are not cached.
"""

from __future__ import annotations

import secrets
from typing import Final

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from openams.config import Settings
from openams.errors import MailError
from openams.services.contact import (
    InvalidContact,
    UnknownCustomer,
    change_contact,
    confirm_email,
    contact_details,
)
from openams.services.links import LinkRefused
from openams.services.login_links import link_is_live, log_in_with_link, request_login_link
from openams.services.mail import Mailer, mailer_from_url
from openams.store.accounts import SqlAccountStore
from openams.store.contact import SqlContactStore
from openams.store.login_links import SqlLoginLinkStore
from openams.store.outbox import SqlOutboxStore

from .context import ClientLimit, Web
from .i18n import current

__all__ = ["LINK_REQUESTS_PER_CLIENT", "LINK_REQUESTS_WINDOW_S", "add_routes"]

#: Log-in links a client address may ask for per :data:`LINK_REQUESTS_WINDOW_S`.
LINK_REQUESTS_PER_CLIENT: Final = 10
#: The window of :data:`LINK_REQUESTS_PER_CLIENT`: 15 minutes. [s]
LINK_REQUESTS_WINDOW_S: Final = 900
_LINK_CSRF_COOKIE: Final = "openams_link_csrf"
_NO_STORE: Final = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

_FIELD_MESSAGES: Final = {
    "mobile": "Mobilnummeret må ha 8 siffer og begynne med 4 eller 9 (gjerne med +47 foran).",
    "email": "E-postadressen ser ikke riktig ut. Skriv den som navn@eksempel.no.",
}
_NO_CUSTOMER: Final = "Vi finner ikke kundeforholdet ditt. Kontakt nettselskapet."
_MAIL_FAILED: Final = "Vi fikk ikke sendt e-posten nå. Ingenting er endret. Prøv igjen senere."
_LINK_REFUSED: Final = "Lenken er ugyldig, utløpt eller allerede brukt."
_FORM_EXPIRED: Final = "Skjemaet er for gammelt. Last inn siden og prøv igjen."
_TOO_MANY: Final = "For mange forespørsler. Vent litt og prøv igjen."
_LINK_SENT: Final = (
    "Vi har sendt en lenke til den nye adressen. Den tas i bruk når du har åpnet lenken."
)


def add_routes(app: FastAPI, web: Web, settings: Settings, mailer: Mailer | None = None) -> None:
    """Register ``/contact``, ``/contact/confirm/{token}``, ``/login/link`` and
    ``/login/link/{token}``.

    Args:
        app: The application.
        web: Its shared parts.
        settings: For the mail server (``smtp_url``) and the portal's address (``public_url``).
        mailer: Sends the e-mail; default: the mail server of ``settings``, else the outbox.

    Raises:
        InputError: The mail server's URL is malformed.
    """
    mail = mailer
    if mail is None:
        mail = mailer_from_url(settings.smtp_url, lambda: SqlOutboxStore(web.store), web.clock)
    link_requests = ClientLimit(LINK_REQUESTS_PER_CLIENT, LINK_REQUESTS_WINDOW_S)

    def base_url(request: Request) -> str:
        return settings.public_url or str(request.base_url)

    def contact_page(request: Request, *, status: int = 200, message: str = "",
                     errors: dict[str, str] | None = None,
                     typed: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
        session = web.require(request, "customer")
        try:
            details = contact_details(SqlContactStore(web.store), session.account.customer_id
                                      or "", now_s=web.now_s())  # fmt: skip
        except UnknownCustomer:
            details, message, status = None, _NO_CUSTOMER, 404
        values = typed or ({"mobile": details.mobile, "email": details.email} if details else {})
        return web.page("contact.html.j2", status, session=session, nav="contact",
                        details=details, message=message, errors=errors or {},
                        values=values, failed=status >= 400)  # fmt: skip

    @app.get("/contact", response_class=HTMLResponse, include_in_schema=False)
    def contact(request: Request) -> Response:
        return contact_page(request)

    @app.post("/contact", response_class=HTMLResponse, include_in_schema=False)
    def change(
        request: Request,
        csrf: str = Form(default="", max_length=128),
        mobile: str = Form(default="", max_length=1000),
        email: str = Form(default="", max_length=1000),
    ) -> Response:
        session = web.require(request, "customer")
        web.check_csrf(session, csrf)
        typed = {"mobile": mobile, "email": email}
        try:
            changed = change_contact(
                SqlContactStore(web.store), mail, session.account.customer_id or "",
                mobile=mobile, email=email, base_url=base_url(request), language=current(),
                now_s=web.now_s(),
            )  # fmt: skip
        except InvalidContact as exc:
            errors = {name: _FIELD_MESSAGES[name] for name in exc.fields if name in _FIELD_MESSAGES}
            return contact_page(request, status=400, errors=errors, typed=typed)
        except UnknownCustomer:
            return contact_page(request)
        except MailError:
            return contact_page(request, status=503, message=_MAIL_FAILED, typed=typed)
        if changed.confirmation_sent_to is not None:
            message = _LINK_SENT
        elif changed.mobile_changed:
            message = "Mobilnummeret er lagret."
        else:
            message = "Ingenting er endret."
        return contact_page(request, message=message)

    @app.get("/contact/confirm/{token}", response_class=HTMLResponse, include_in_schema=False)
    def confirm(request: Request, token: str) -> Response:
        try:
            confirm_email(SqlContactStore(web.store), token, now_s=web.now_s())
            status, message = 200, "E-postadressen er bekreftet og tatt i bruk."
        except LinkRefused:
            status, message = 404, _LINK_REFUSED
        response = web.page("contact.html.j2", status, session=web.session(request),
                            nav="contact", confirmed=status == 200, message=message)  # fmt: skip
        response.headers.update(_NO_STORE)
        return response

    def link_page(step: str, *, status: int = 200, message: str = "", token: str = ""
                  ) -> HTMLResponse:  # fmt: skip
        csrf = secrets.token_urlsafe(24)
        response = web.page("login_link.html.j2", status, step=step, csrf=csrf, token=token,
                            message=message)  # fmt: skip
        response.headers.update(_NO_STORE)
        return web.form_page(response, _LINK_CSRF_COOKIE, csrf)

    def form_ok(request: Request, csrf: str) -> bool:
        return web.form_matches(request, _LINK_CSRF_COOKIE, csrf)

    @app.get("/login/link", response_class=HTMLResponse, include_in_schema=False)
    def link_form() -> Response:
        return link_page("ask")

    @app.post("/login/link", response_class=HTMLResponse, include_in_schema=False)
    def send_link(
        request: Request,
        email: str = Form(default="", max_length=1000),
        csrf: str = Form(default="", max_length=128),
    ) -> Response:
        if not form_ok(request, csrf):
            return link_page("ask", status=403, message=_FORM_EXPIRED)
        if not link_requests.allow(request, web.clock()):
            return link_page("ask", status=429, message=_TOO_MANY)
        request_login_link(SqlAccountStore(web.store), SqlLoginLinkStore(web.store), mail, email,
                           base_url=base_url(request), language=current(),
                           now_s=web.now_s())  # fmt: skip
        return link_page("sent")

    @app.get("/login/link/{token}", response_class=HTMLResponse, include_in_schema=False)
    def link_opened(token: str) -> Response:
        if not link_is_live(SqlLoginLinkStore(web.store), token, now_s=web.now_s()):
            return link_page("refused", status=404, message=_LINK_REFUSED)
        return link_page("confirm", token=token)

    @app.post("/login/link/{token}", include_in_schema=False)
    def use_link(request: Request, token: str, csrf: str = Form(default="", max_length=128)
                 ) -> Response:  # fmt: skip
        if not form_ok(request, csrf):
            return link_page("confirm", status=403, message=_FORM_EXPIRED, token=token)
        try:
            session = log_in_with_link(SqlAccountStore(web.store), SqlLoginLinkStore(web.store),
                                       token, now_s=web.now_s())  # fmt: skip
        except LinkRefused:
            return link_page("refused", status=404, message=_LINK_REFUSED)
        response = web.start_session(request, web.redirect("/"), session)
        response.delete_cookie(_LINK_CSRF_COOKIE)
        return response
