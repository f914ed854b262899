"""The demonstration: a small fleet's pushes, built as the meters send them, then decoded.

The demo builds pushes for a handful of synthetic meters of each manufacturer (Aidon, Kaifa,
Kamstrup; one- and three-phase): the HAN lists 1 and 2 in plain HDLC as the customer's port
sends them, and the hourly List 3 ciphered with each meter's own keys (security suite 0,
security control 0x30) in HDLC, the TCP wrapper, M-Bus or as a raw APDU, as a head-end
receives them. Three pushes are broken on purpose (a corrupted checksum, a tampered
ciphertext, a meter without a key) to show that they are refused with a clear reason.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openams.dlms import Ciphering, MeterReading, build_notification, encode_push

__all__ = ["DemoMeter", "DemoSample", "DemoSummary", "build_demo_sample", "summarize"]

_MODELS = {
    # style: (meter id prefix, system title FLAG prefix, three-phase type, one-phase type)
    "aidon": ("735999289", b"ADN", "6534", "6515"),
    "kaifa": ("697063140", b"KFM", "MA304H3E", "MA105H2E"),
    "kamstrup": ("570656700", b"KAM", "6841121BN243101040", "6841131BN243101040"),
}
_FRAMINGS = ("hdlc", "hdlc", "wrapper", "apdu", "mbus")


@dataclass(frozen=True, slots=True)
class DemoMeter:
    """One synthetic meter.

    Attributes:
        style: ``aidon``, ``kaifa`` or ``kamstrup``.
        meter_id: Its identifier as its lists carry it.
        meter_type: Its type designation.
        phases: 1 or 3.
        system_title: Its system title (FLAG prefix and serial). [8 bytes]
        ek: Its block cipher key. [16 bytes]
        ak: Its authentication key. [16 bytes]
    """

    style: str
    meter_id: str
    meter_type: str
    phases: int
    system_title: bytes
    ek: bytes
    ak: bytes


@dataclass(slots=True)
class DemoSample:
    """The demo's input: hex lines (with comments), the keys CSV, and the meters."""

    lines: list[str] = field(default_factory=list)
    keys_csv: str = ""
    meters: list[DemoMeter] = field(default_factory=list)


def _meters(rng: random.Random, per_style: int) -> list[DemoMeter]:
    meters = []
    for style, (prefix, flag, type3, type1) in _MODELS.items():
        for i in range(per_style):
            phases = 1 if i % 3 == 2 else 3
            serial = rng.randrange(10_000_000)
            meters.append(
                DemoMeter(
                    style,
                    f"{prefix}{serial:07d}",
                    type3 if phases == 3 else type1,
                    phases,
                    flag + bytes((0x10,)) + serial.to_bytes(4, "big"),
                    rng.randbytes(16),
                    rng.randbytes(16),
                )
            )
    return meters


def _reading(rng: random.Random, meter: DemoMeter, clock: datetime, hour: int) -> MeterReading:
    power_w = rng.randrange(200, 9000)
    base_wh = 5_000_000 + rng.randrange(40_000_000)
    volts = [round(rng.uniform(226.0, 241.0), 1) for _ in range(3)]
    amps = [round(power_w / 3 / v, 1) for v in volts]
    return MeterReading(
        meter.meter_id,
        meter.meter_type,
        clock,
        meter.phases,
        power_import_w=power_w,
        power_export_w=0,
        reactive_import_var=rng.randrange(0, 400),
        reactive_export_var=rng.randrange(0, 600),
        current_l1_a=amps[0],
        current_l2_a=amps[1],
        current_l3_a=amps[2],
        voltage_l1_v=volts[0],
        voltage_l2_v=volts[1],
        voltage_l3_v=volts[2],
        energy_import_wh=base_wh + hour * power_w,
        energy_export_wh=0,
        energy_reactive_import_varh=rng.randrange(100_000),
        energy_reactive_export_varh=rng.randrange(1_000_000),
    )


def build_demo_sample(
    *, seed: int = 1, per_style: int = 3, hours: int = 3, tz: str = "Europe/Oslo"
) -> DemoSample:
    """Build the demo's pushes and keys (deterministic for a seed)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic demo data, keys included
    zone = ZoneInfo(tz)
    start = datetime(2026, 1, 5, 0, 0, tzinfo=zone)
    sample = DemoSample(meters=_meters(rng, per_style))
    rows = ["system_title,ek,ak"]
    rows += [f"{m.system_title.hex()},{m.ek.hex()},{m.ak.hex()}" for m in sample.meters]
    sample.keys_csv = "\n".join(rows) + "\n"
    counter = 1000
    for index, meter in enumerate(sample.meters):
        reading = _reading(rng, meter, start + timedelta(seconds=10), 0)
        for list_number in (1, 2):
            push = encode_push(
                build_notification(meter.style, list_number, reading), style=meter.style
            )
            sample.lines.append(f"# {meter.style} {meter.meter_id}: HAN List {list_number}, plain")
            sample.lines.append(push.hex())
        for hour in range(hours):
            clock = start + timedelta(hours=hour + 1)
            counter += 1
            framing = _FRAMINGS[(index + hour) % len(_FRAMINGS)]
            push = encode_push(
                build_notification(meter.style, 3, _reading(rng, meter, clock, hour)),
                framing=framing,
                style=meter.style,
                ciphering=Ciphering(meter.system_title, counter, meter.ek, meter.ak),
            )
            sample.lines.append(
                f"# {meter.style} {meter.meter_id}: List 3 at {clock:%H:%M}, ciphered, {framing}"
            )
            sample.lines.append(push.hex())
    _add_broken(sample, rng, start)
    return sample


def _add_broken(sample: DemoSample, rng: random.Random, start: datetime) -> None:
    meter = sample.meters[0]
    reading = _reading(rng, meter, start, 0)
    notification = build_notification(meter.style, 3, reading)
    corrupted = bytearray(encode_push(notification, style=meter.style))
    corrupted[40] ^= 0x01
    sample.lines.append("# broken on purpose: one bit flipped on the line (bad checksum)")
    sample.lines.append(corrupted.hex())
    ciphered = bytearray(
        encode_push(
            notification,
            framing="apdu",
            ciphering=Ciphering(meter.system_title, 99_999, meter.ek, meter.ak),
        )
    )
    ciphered[60] ^= 0x80
    sample.lines.append("# broken on purpose: ciphertext tampered with (authentication fails)")
    sample.lines.append(ciphered.hex())
    stranger = Ciphering(b"KFM\x10\x99\x99\x99\x99", 1, bytes(16), bytes(16))
    sample.lines.append("# broken on purpose: a meter whose keys are not registered")
    sample.lines.append(encode_push(notification, framing="apdu", ciphering=stranger).hex())


@dataclass(slots=True)
class DemoSummary:
    """Counts over the demo's decode results."""

    pushes: int = 0
    decoded: int = 0
    ciphered: int = 0
    by_manufacturer: Counter[str] = field(default_factory=Counter)
    by_framing: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def summarize(results: list[dict[str, Any]]) -> DemoSummary:
    """Count decoded pushes by manufacturer and framing, and errors by code."""
    summary = DemoSummary()
    for result in results:
        summary.pushes += 1
        if not result["ok"]:
            summary.errors[result["error"]["code"]] += 1
            continue
        summary.decoded += 1
        if result["security"] != "none":
            summary.ciphered += 1
        summary.by_manufacturer[result["manufacturer"] or "unknown"] += 1
        summary.by_framing[result["framing"]] += 1
    return summary
