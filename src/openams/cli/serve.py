"""``ams serve``: the head-end on the network, until SIGINT or SIGTERM (docs/headend.md)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click

from openams.config import load_settings
from openams.headend import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_TOPIC_FILTER,
    Headend,
    MqttSettings,
    parse_listen_address,
)
from openams.services.tariff_files import load_tariff_file
from openams.store import open_store
from openams.web import create_app
from openams.web.server import MorePortals, WebServer

from .meters import DB_OPTION
from .settle import TARIFF_OPTION

__all__ = ["STATUS_EVERY_S", "serve_command"]

#: Seconds between two status lines.
STATUS_EVERY_S = 5.0


@click.command("serve")
@DB_OPTION
@click.option(
    "--kek-file",
    default=None,
    help="File with the key-encrypting key (default: $OPENAMS_KEK_FILE or $OPENAMS_KEK).",
)
@click.option(
    "--tcp",
    default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
    show_default=True,
    metavar="HOST:PORT|off",
    help="Listen for IEC 62056-47 wrapper connections; off for none.",
)
@click.option("--mqtt", metavar="URL", help="Subscribe at this broker: mqtt://host:port[/prefix].")
@click.option(
    "--mqtt-topic",
    metavar="FILTER",
    help=f"Topic filter (default: PREFIX/# from the URL, else {DEFAULT_TOPIC_FILTER}).",
)
@click.option("--mqtt-group", metavar="NAME", help="Share the subscription with this group.")
@click.option(
    "--mqtt-client-id",
    metavar="ID",
    help="Fixed MQTT client id of this head-end (default: openams-headend-HOSTNAME).",
)
@click.option(
    "--vee-every",
    type=click.FloatRange(0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Run VEE this often on the days of the pushes received since; 0 for never.",
)
@click.option(
    "--web",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="HOST:PORT|off",
    help="Serve the portal and console here (with a tariff); off for none.",
)
@click.option("--host", default=None, help="The portal's address (instead of --web's host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="The portal's port (instead of --web's port; 0: any free one).")  # fmt: skip
@click.option("--web-processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes serving the portal at its address (one more core each).")  # fmt: skip
@TARIFF_OPTION
def serve_command(
    db: str | None,
    kek_file: str | None,
    tcp: str,
    mqtt: str | None,
    mqtt_topic: str | None,
    mqtt_group: str | None,
    mqtt_client_id: str | None,
    vee_every: float,
    web: str,
    host: str | None,
    port: int | None,
    web_processes: int,
    tariff_file: str | None,
) -> int:
    """Receive pushes over TCP and MQTT and ingest them, until SIGINT or SIGTERM.

    Prints a status line every few seconds. On a signal it stops taking pushes, commits and
    acknowledges what it has, and exits 0; 1 if some pushes could not be committed.
    """
    if tcp.strip().lower() == "off" and not mqtt:
        raise click.UsageError("nothing to serve: --tcp is off and there is no --mqtt")
    try:
        listen = None if tcp.strip().lower() == "off" else parse_listen_address(tcp)
        subscribe = (
            MqttSettings(mqtt, topic_filter=mqtt_topic, group=mqtt_group,
                         client_id=mqtt_client_id)
            if mqtt else None
        )  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        web_at = None if web.strip().lower() == "off" else parse_listen_address(web)
    except ValueError as exc:
        raise click.UsageError(f"--web: {exc}") from None
    if web_at is None and (host is not None or port is not None):
        raise click.UsageError("--host and --port name the portal's address; --web is off")
    if web_at is not None:
        web_at = (host if host is not None else web_at[0],
                  port if port is not None else web_at[1])  # fmt: skip
    settings = load_settings(db=db, kek_file=kek_file)
    vault = settings.vault()
    portal, more, portal_host = None, None, ""
    if web_at is not None and tariff_file is not None:
        portal_host = web_at[0]
        tariff = load_tariff_file(tariff_file)
        portal = WebServer(create_app(settings, tariff=tariff), *web_at,
                           reuse_port=web_processes > 1)  # fmt: skip
    elif web_at is not None:
        click.echo("portal off: name the tariff with --tariff or $OPENAMS_TARIFF")
    store = open_store(settings.db_url)
    try:
        headend = Headend(store, vault, tcp=listen, mqtt=subscribe,
                          vee_every_s=vee_every or None)  # fmt: skip
        stop = threading.Event()
        previous = _on_signals(stop)
        try:
            headend.start()
            if portal is not None:
                address = portal.start()
                if web_processes > 1:
                    bound_port = int(address.rsplit(":", 1)[1])
                    more = MorePortals(settings, tariff, portal_host, bound_port,
                                       web_processes - 1)  # fmt: skip
                    more.start()
                click.echo(f"portal at {address}/ ({web_processes} processes)"
                           if web_processes > 1 else f"portal at {address}/")  # fmt: skip
            if headend.tcp is not None:
                click.echo(f"listening on {headend.tcp.address} (IEC 62056-47 wrapper)")
            if subscribe is not None:
                click.echo(f"subscribed to {subscribe.subscription} at {subscribe.target} "
                           f"as {subscribe.client_id}")  # fmt: skip
            while not stop.wait(STATUS_EVERY_S) and headend.failure is None:
                click.echo(headend.stats().line())
            final = headend.stop()
        finally:
            headend.stop()
            if more is not None:
                more.stop()
            if portal is not None:
                portal.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    finally:
        store.close()
    click.echo(f"stopped; {final.line()}")
    if headend.failure is not None:
        click.echo(f"ams: internal error in the writer: {headend.failure}", err=True)
        return 3
    return 1 if final.waiting else 0


def _on_signals(stop: threading.Event) -> dict[signal.Signals, Any]:
    """Let SIGINT and SIGTERM set ``stop``; the handlers they had, to put back."""

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    return previous
