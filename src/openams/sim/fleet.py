"""Meters that behave like meters: a block of up to 1024 meters, one UTC day at a time.

A :class:`Block` holds what its meters carry from day to day (registers, invocation
counters, the last quarter's energy) and turns a day of the consumption model into a
:class:`DayFrame`: the energy of every quarter-hour after faults, the true and recorded
registers at every quarter-hour boundary, which pushes the meters send and with which
invocation counter. :meth:`Block.pushes` then packs, ciphers and frames the pushes of a span
of that day (the hot path), and :meth:`Block.truth_rows` writes the true interval values.

Everything random is drawn from generators keyed by (seed, block, day): a day gives the same
bytes whichever process makes it and whatever was made before. Times are whole seconds
since the Unix epoch (UTC).
"""

from __future__ import annotations

from binascii import hexlify
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from openams.dlms import (
    ListPacker,
    MeterEvent,
    MeterReading,
    PushSealer,
    build_event_notification,
)

from .faults import FaultPlan, number, window_s
from .grid import Meter, MeteringPoint
from .load import LoadModel
from .scenario import Fault
from .weather import DayWeather

__all__ = ["QUARTER_S", "TRUTH_COLUMNS", "Block", "DayFrame", "PushLine", "truth_header"]

QUARTER_S = 900
DAY_S = 86_400
_QUARTERS = 96
_OSLO = ZoneInfo("Europe/Oslo")
_SEND_DELAY_S = 10  # values frozen at xx:00:00, sent at xx:00:10 plus jitter
# Radio fates of a push.
NORMAL, LOST, DUPLICATED, LATE = 0, 1, 2, 3

_END = b'"}\n'

PushLine = tuple[int, bytes]
"""A push as the file holds it: (arrival, epoch seconds; the JSON line)."""

_PHYSICAL = (
    "power_import_w",
    "power_export_w",
    "reactive_import_var",
    "reactive_export_var",
    "current_l1_a",
    "current_l2_a",
    "current_l3_a",
    "voltage_l1_v",
    "voltage_l2_v",
    "voltage_l3_v",
    "energy_import_wh",
    "energy_export_wh",
    "energy_reactive_import_varh",
    "energy_reactive_export_varh",
)


def iso_z(at_s: int) -> str:
    """``2026-01-01T00:00:10Z`` for an epoch second."""
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class DayFrame:
    """One block's day: arrays of shape (meters, 96 or 97) over the quarter-hours of the day.

    Column ``i`` of a register array is the register at ``day_start_s + 900 * i``.
    """

    day: date
    day_start_s: int
    true_wh: np.ndarray  # (4, n, 97) true registers A+, A-, R+, R- (float Wh/varh)
    history_wh: np.ndarray  # (4, n, 4) the true registers of the last hour of the day before
    recorded_import_wh: np.ndarray  # (n, 97) the import register as the meter records it
    last_energy_wh: np.ndarray  # (4, n, 97) energy of the quarter before each boundary
    sends: np.ndarray  # (n, 96) bool: the meter sends a list push at this boundary
    powered: np.ndarray  # (n, 96) bool: the meter has power at this boundary
    counters: np.ndarray  # (n, 96) int64: invocation counter of that push
    fates: np.ndarray  # (n, 96) int8: NORMAL, LOST, DUPLICATED, LATE
    jitter_s: np.ndarray  # (n, 96) int64: send delay after xx:00:10
    delay_s: np.ndarray  # (n, 96) int64: extra delay of a duplicate or a late push
    noise: np.ndarray  # (n, 96) float: relative noise on instantaneous power
    voltage_v: np.ndarray  # (3, n, 96) phase voltages
    drift_s: np.ndarray  # (n, 96) float: the meter clock's lead over true time
    events: list[tuple[int, int, int]]  # (meter index, event index in plan, counter)


class Block:
    """Up to 1024 meters of the fleet, advanced one UTC day at a time.

    Args:
        index: The block's number (keys its random streams).
        meters: Its meters, in grid order.
        points: Their metering points, in the same order.
        seed: The run's seed.
        start_s: The run's first push, epoch seconds.
        end_s: The run's last push, epoch seconds.
        interval_s: Push interval for every meter (900 or 3600), or ``None`` for each
            meter's own.
        framing: How the pushes are framed (``hdlc`` or ``wrapper``).
        plan: The run's faults.
        radio: (loss, duplicate, late) rates, late delay range in hours, jitter in seconds.
    """

    def __init__(
        self,
        index: int,
        meters: Sequence[Meter],
        points: Sequence[MeteringPoint],
        *,
        seed: int,
        start_s: int,
        end_s: int,
        interval_s: int | None,
        framing: str,
        plan: FaultPlan,
        radio: tuple[float, float, float, tuple[float, float], float],
    ) -> None:
        self.index = index
        # Rows are ordered by (make, phases, interval) so that each group is a slice.
        order = sorted(
            range(len(meters)),
            key=lambda i: (meters[i].style, meters[i].phases,
                           interval_s or meters[i].push_interval_s),
        )  # fmt: skip
        self.meters = [meters[i] for i in order]
        self.points = [points[i] for i in order]
        self.n = n = len(self.meters)
        self.seed = seed
        self.start_s = start_s
        self.end_s = end_s
        self.plan = plan
        self.radio = radio
        self.model = LoadModel(self.points, seed, index)
        rng = np.random.default_rng([seed, index, 1])
        intervals = [interval_s or m.push_interval_s for m in self.meters]
        self.step = np.array([i // QUARTER_S for i in intervals], dtype=np.int64)
        self.phases = np.array([m.phases for m in self.meters], dtype=np.int64)
        # Registers when the run starts: meters have been in service for a while.
        years = rng.uniform(0.2, 8.0, n)
        annual_wh = np.array([_ANNUAL_WH.get(p.customer_type, 15e6) for p in self.points])
        prosumer = np.array([p.customer_type == "prosumer_solar" for p in self.points])
        start = np.empty((4, n))
        start[0] = np.floor(years * annual_wh * rng.uniform(0.7, 1.3, n))
        start[1] = np.where(prosumer, np.floor(years * rng.uniform(1e6, 5e6, n)), 0.0)
        start[2] = np.floor(start[0] * rng.uniform(0.05, 0.3, n))
        start[3] = np.floor(start[0] * rng.uniform(0.0, 0.05, n))
        self.initial_wh = start.copy()
        self.state_wh = start  # true registers at the start of the next day
        self.tail_wh = np.repeat(start[:, :, None], 4, axis=2)  # the last hour's boundaries
        self.recorded_delta_wh = np.zeros(n)  # recorded import register minus true
        self.last_energy_wh = np.zeros((4, n))
        self.counter = rng.integers(1_000, 5_000_000, n).astype(np.int64)
        # each phase's share of the current; all on L1 for a single-phase meter
        share = rng.dirichlet((8.0, 8.0, 8.0), n).T
        self.share = np.where(self.phases[None, :] == 1, np.array([[1.0], [0.0], [0.0]]), share)
        self.next_day: date | None = None
        self.sent = np.zeros(n, dtype=np.int64)
        self._packers: list[ListPacker] = []
        self._sealers: list[PushSealer] = []
        self._framing = framing
        self._line_head = [f'", "meter_id": "{m.meter_id}", "hex": "'.encode() for m in self.meters]
        self._truth_head = [f"{p.metering_point_id},{m.meter_id},".encode() for m, p in
                            zip(self.meters, self.points, strict=True)]  # fmt: skip
        self.groups = _groups(self.meters, self.step)
        self._with_faults = [m for m, meter in enumerate(self.meters)
                             if meter.meter_id in plan.by_meter]  # fmt: skip
        self.stats: Counter[str] = Counter()
        self.incidents: list[bytes] = []

    # --- per-meter encoders, made when first needed ------------------------------------

    def prepare(self) -> None:
        """Compile the meters' list packers and sealers now rather than at the first push."""
        if not self._packers:
            self._encoders()

    def _encoders(self) -> None:
        templates: dict[tuple[str, int], ListPacker] = {}
        clock = datetime(2026, 1, 1, tzinfo=_OSLO)
        for meter in self.meters:
            key = (meter.style, meter.phases)
            template = templates.get(key)
            if template is None:
                prototype = MeterReading(meter.meter_id, meter.meter_type, clock, meter.phases)
                template = templates[key] = ListPacker(meter.style, 3, prototype)
                self._packers.append(template)
            else:
                self._packers.append(template.for_meter(meter.meter_id, meter.meter_type))
            self._sealers.append(
                PushSealer(
                    meter.style,
                    self._framing,
                    system_title=meter.system_title,
                    ek=meter.ek,
                    ak=meter.ak,
                )
            )

    # --- a day -------------------------------------------------------------------------

    def advance(self, day: date, weather: DayWeather, *, full: bool = True) -> DayFrame | None:
        """The frame of ``day`` (the day after the last one advanced, or any first day).

        With ``full=False`` only what carries over to the next day is computed (registers,
        counters): a process that leaves a day's pushes to another still passes through it.
        """
        if self.next_day is not None and day != self.next_day:
            raise ValueError(f"block {self.index} is at {self.next_day}, not {day}")
        n = self.n
        d0 = _day_start_s(day)
        rng = np.random.default_rng([self.seed, self.index, day.toordinal(), 2])
        load = self.model.day(day, weather)
        energy = np.stack(
            (load.import_wh, load.export_wh, load.reactive_import_varh,
             load.reactive_export_varh)
        )  # fmt: skip
        q_start = d0 + QUARTER_S * np.arange(_QUARTERS, dtype=np.int64)
        inside = (q_start >= self.start_s) & (q_start < self.end_s)
        energy *= inside
        boundary = d0 + QUARTER_S * np.arange(_QUARTERS, dtype=np.int64)  # push instants
        on_slot = (np.arange(_QUARTERS)[None, :] % self.step[:, None]) == 0
        sends = on_slot & ((boundary >= self.start_s) & (boundary <= self.end_s))[None, :]
        powered = np.ones((n, _QUARTERS), dtype=bool)
        recorded_loss = np.zeros((n, _QUARTERS))
        jumps = np.zeros((n, _QUARTERS + 1))
        if full:
            voltage = rng.standard_normal((3, n, _QUARTERS), dtype=np.float32)
            voltage *= 2.5
            voltage += 230.0
            np.clip(voltage, 216.0, 244.0, out=voltage)
        drift = np.zeros((n, _QUARTERS))
        jitter_rng = np.random.default_rng([self.seed, self.index, day.toordinal(), 5])
        jitter = jitter_rng.integers(0, int(self.radio[4]) + 1, (n, _QUARTERS))
        faulty: dict[int, list[tuple[int, Fault]]] = {}
        for m in self._with_faults:
            touching = self.plan.touching(self.meters[m].meter_id, d0 - DAY_S, d0 + DAY_S)
            if touching:
                faulty[m] = touching
        for m, touching in faulty.items():
            for _fault_id, fault in touching:
                begin, stop = window_s(fault)
                stop_s = stop if stop is not None else self.end_s + DAY_S
                share = _overlap(q_start, begin, stop_s)
                at_boundary = (boundary >= begin) & (boundary < stop_s)
                kind = fault.spec.kind
                if kind == "outage":
                    energy[:, m, :] *= 1.0 - share
                    sends[m] &= ~at_boundary
                    powered[m] &= ~at_boundary
                elif kind == "silent":
                    sends[m] &= ~at_boundary
                elif kind == "stuck_register":
                    recorded_loss[m] += energy[0, m] * share
                elif kind == "jumping_register":
                    jump = number(fault.spec, "jump_wh")
                    if d0 <= begin < d0 + DAY_S:
                        jumps[m, (begin - d0) // QUARTER_S + 1 :] += jump
                elif kind == "clock_drift":
                    rate = number(fault.spec, "drift_s_per_day")
                    drift[m] = np.where(at_boundary, rate * (boundary - begin) / DAY_S, 0.0)
                elif kind == "voltage" and full:
                    level = number(fault.spec, "voltage_v")
                    level_now = level + rng.normal(0.0, 0.4, 3)[:, None]
                    voltage[:, m, :] = np.where(at_boundary, level_now, voltage[:, m, :])
        # when each list push leaves the meter (its clock may be off)
        send_at = boundary[None, :] + _SEND_DELAY_S + jitter - np.round(drift).astype(np.int64)
        counters, end_counter, events = self._counters(faulty, d0, send_at, sends)
        if not full:
            total = energy.sum(axis=2)
            last_hour = np.cumsum(energy[:, :, :-5:-1], axis=2)[:, :, ::-1]  # from 92..95 on
            self.state_wh = self.state_wh + total
            self.tail_wh = self.state_wh[:, :, None] - last_hour
            self.recorded_delta_wh = (
                self.recorded_delta_wh - recorded_loss.sum(axis=1) + jumps[:, -1]
            )
            self._carry(day, energy, sends, end_counter)
            return None
        true_wh = np.empty((4, n, _QUARTERS + 1))
        np.cumsum(energy, axis=2, out=true_wh[:, :, 1:])
        true_wh[:, :, 0] = 0.0
        true_wh += self.state_wh[:, :, None]
        recorded = (
            true_wh[0]
            + self.recorded_delta_wh[:, None]
            - np.concatenate((np.zeros((n, 1)), np.cumsum(recorded_loss, axis=1)), axis=1)
            + jumps
        )
        last_energy = np.empty((4, n, _QUARTERS + 1))
        last_energy[:, :, 0] = self.last_energy_wh
        last_energy[:, :, 1:] = energy
        loss, duplicate, late, late_h, _ = self.radio
        draw = rng.random((n, _QUARTERS))
        fates = np.full((n, _QUARTERS), NORMAL, dtype=np.int8)
        fates[draw < loss + duplicate + late] = LATE
        fates[draw < loss + duplicate] = DUPLICATED
        fates[draw < loss] = LOST
        delay = np.where(
            fates == LATE,
            (rng.uniform(late_h[0], late_h[1], (n, _QUARTERS)) * 3600).astype(np.int64),
            rng.integers(1, 300, (n, _QUARTERS)),
        )
        frame = DayFrame(
            day=day,
            day_start_s=d0,
            true_wh=true_wh,
            history_wh=self.tail_wh,
            recorded_import_wh=recorded,
            last_energy_wh=last_energy,
            sends=sends,
            powered=powered,
            counters=counters,
            fates=fates,
            jitter_s=jitter,
            delay_s=delay,
            noise=rng.standard_normal((n, _QUARTERS), dtype=np.float32) * 0.08 + 1.0,
            voltage_v=voltage,
            drift_s=drift,
            events=events,
        )
        self.state_wh = true_wh[:, :, -1].copy()
        self.tail_wh = true_wh[:, :, -5:-1].copy()
        self.recorded_delta_wh = recorded[:, -1] - true_wh[0, :, -1]
        self._carry(day, energy, sends, end_counter)
        return frame

    def _carry(
        self, day: date, energy: np.ndarray, sends: np.ndarray, end_counter: np.ndarray
    ) -> None:
        self.sent += sends.sum(axis=1)
        self.counter = end_counter
        self.last_energy_wh = energy[:, :, -1].copy()
        self.next_day = day + timedelta(days=1)

    def _counters(
        self,
        faulty: dict[int, list[tuple[int, Fault]]],
        d0: int,
        send_at: np.ndarray,
        sends: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Invocation counters: list pushes and events share one counter per meter.

        The counter follows the order in which the meter sends: an event raised between a
        boundary and the moment that boundary's push leaves goes first.
        """
        counters = self.counter[:, None] + np.cumsum(sends, axis=1) - sends
        events = []
        end_counter = self.counter + sends.sum(axis=1)
        for m in faulty:
            meter_id = self.meters[m].meter_id
            day_events = [
                (k, e) for k, e in enumerate(self.plan.events.get(meter_id, ()))
                if d0 <= e.at_s < d0 + DAY_S and self.start_s <= e.at_s <= self.end_s
                and not self._silent_at(meter_id, e.at_s)
            ]  # fmt: skip
            if not day_events:
                continue
            times = np.array([e.at_s for _, e in day_events])
            counters[m] += np.searchsorted(times, send_at[m], side="right")
            for rank, (k, event) in enumerate(day_events):
                before = int(np.sum(sends[m] & (send_at[m] < event.at_s)))
                events.append((m, k, int(self.counter[m]) + before + rank))
            end_counter[m] += len(day_events)
        return counters, end_counter, events

    def _silent_at(self, meter_id: str, at_s: int) -> bool:
        for _, fault in self.plan.touching(meter_id, at_s, at_s + 1):
            if fault.spec.kind == "silent":
                return True
        return False

    # --- pushes ------------------------------------------------------------------------

    def physical(self, frame: DayFrame, rows: slice, cols: slice) -> np.ndarray:
        """The 14 values of MeterReading (``_PHYSICAL`` order) at those boundaries.

        Returns an array of shape (14, rows, cols).
        """
        noise = frame.noise[rows, cols]
        last_energy = frame.last_energy_wh[:, rows, cols]
        power = last_energy * (4.0 * noise)  # W from Wh per 15 min
        drift = frame.drift_s[rows, cols]
        registers = frame.true_wh[:, rows, cols].copy()
        if drift.any():  # the meter reads its registers when its own clock says xx:00:00
            registers = _registers_at(frame.true_wh[:, rows, :], cols, drift)
        registers[0] += frame.recorded_import_wh[rows, cols] - frame.true_wh[0, rows, cols]
        voltage = frame.voltage_v[:, rows, cols]
        share = self.share[:, rows, None]  # (3, r, 1)
        out = np.empty((14, *noise.shape))
        out[0:4] = power
        out[4:7] = (power[0] + power[1]) * share / voltage
        out[7:10] = voltage
        out[10:14] = np.floor(np.maximum(registers, 0.0))
        return out

    def pushes(self, frame: DayFrame, first_s: int, last_s: int) -> list[PushLine]:
        """The pushes of boundaries in ``[first_s, last_s)`` of ``frame``'s day, as sent.

        Duplicates, late pushes and replays come out with their own (later) arrival time.
        What did not arrive normally is noted in :attr:`incidents` and counted in
        :attr:`stats`.
        """
        if not self._packers:
            self._encoders()
        d0 = frame.day_start_s
        out: list[PushLine] = []
        first_col = max(0, -(-(first_s - d0) // QUARTER_S))
        last_col = min(_QUARTERS, -(-(last_s - d0) // QUARTER_S))
        by_meter = self.plan.by_meter
        heads: dict[int, bytes] = {}
        for (_style, _phases, step), rows in self.groups.items():
            first = -(-first_col // step) * step
            if first >= last_col:
                continue
            cols = slice(first, last_col, step)
            sends = frame.sends[rows, cols]
            if not sends.any():
                continue
            self.stats["list_pushes"] += int(sends.sum())
            wire = self._wire(frame, rows, cols)
            times = list(range(d0 + QUARTER_S * first, d0 + QUARTER_S * last_col, QUARTER_S * step))
            clock_of = self._packers[rows.start].clock_bytes
            clocks = [clock_of(_local(t)) for t in times]
            at_array = (
                np.array(times)[None, :] + _SEND_DELAY_S + frame.jitter_s[rows, cols]
                - np.round(frame.drift_s[rows, cols]).astype(np.int64)
            )  # fmt: skip
            for arrival in np.unique(at_array).tolist():
                if arrival not in heads:
                    heads[arrival] = _HEADS.get(arrival) or _head(arrival)
            at = at_array.tolist()
            sends_l = sends.tolist()
            counters_l = frame.counters[rows, cols].tolist()
            plain = (~(sends & (frame.fates[rows, cols] != NORMAL)).any(axis=1)).tolist()
            for r, m in enumerate(range(rows.start, rows.stop)):
                if plain[r] and self.meters[m].meter_id not in by_meter:
                    pack = self._packers[m].pack_wire
                    seal = self._sealers[m].seal
                    head = self._line_head[m]
                    out += [  # the hot loop: most pushes
                        (arrival, b"".join(
                            (heads[arrival], head, hexlify(seal(pack(clock, numbers), counter)),
                             _END)))
                        for arrival, clock, numbers, counter, send in zip(
                            at[r], clocks, wire[r], counters_l[r], sends_l[r], strict=True
                        )
                        if send
                    ]  # fmt: skip
                    continue
                for j, send in enumerate(sends_l[r]):
                    if send:
                        apdu = self._packers[m].pack_wire(clocks[j], wire[r][j])
                        self._deliver(frame, m, first + j * step, apdu, counters_l[r][j],
                                      at[r][j], times[j], out)  # fmt: skip
        out.extend(self._event_pushes(frame, first_s, last_s))
        return out

    def _deliver(
        self,
        frame: DayFrame,
        m: int,
        col: int,
        apdu: bytes,
        counter: int,
        arrival: int,
        clock_s: int,
        out: list[PushLine],
    ) -> None:
        """One push that meets a fault or the radio's whims on its way."""
        if self.meters[m].meter_id in self.plan.by_meter:
            frames = self._special(m, apdu, counter, arrival, clock_s)
        else:
            frames = [(arrival, self._sealers[m].seal(apdu, counter))]
        fate = int(frame.fates[m, col])
        delay = int(frame.delay_s[m, col])
        if fate == LOST:
            self.stats["lost"] += 1
            self._incident(m, clock_s, "lost", None)
            return
        for when, sealed in frames:
            line = b"".join((self._line_head[m], hexlify(sealed), _END))
            when += delay if fate == LATE else 0
            out.append((when, b'{"at": "' + iso_z(when).encode() + line))
            if fate == DUPLICATED:
                out.append((when + delay, b'{"at": "' + iso_z(when + delay).encode() + line))
        if fate == DUPLICATED:
            self.stats["duplicated"] += 1
            self._incident(m, clock_s, "duplicated", frames[0][0] + delay)
        elif fate == LATE:
            self.stats["late"] += 1
            self._incident(m, clock_s, "late", frames[0][0] + delay)

    def _incident(self, m: int, clock_s: int, what: str, arrival_s: int | None) -> None:
        arrival = iso_z(arrival_s) if arrival_s is not None else ""
        self.incidents.append(
            f"{self.meters[m].meter_id},{iso_z(clock_s)},{what},{arrival}\n".encode()
        )

    def _wire(self, frame: DayFrame, rows: slice, cols: slice) -> list[list[list[int]]]:
        """Wire numbers per (row, col), in the packer's field order."""
        values = self.physical(frame, rows, cols)
        fields = self._packers[rows.start].wire_fields
        index = {name: i for i, name in enumerate(_PHYSICAL)}
        columns = []
        for f in fields:
            v = values[index[f.name]]
            if f.divisor != 1:
                w = np.rint(v * f.divisor)
            elif f.multiplier != 1:
                w = np.floor_divide(v, f.multiplier)
            else:
                w = np.rint(v)
            columns.append(np.clip(w, f.low, f.high).astype(np.int64))
        return np.stack(columns, axis=-1).tolist()  # type: ignore[no-any-return]

    def _special(
        self, m: int, apdu: bytes, counter: int, arrival: int, at_s: int, *, replays: bool = True
    ) -> list[tuple[int, bytes]]:
        """A push of a meter with faults (at its boundary ``at_s``): wrong key, damaged
        ciphertext, replays."""
        meter = self.meters[m]
        sealer = self._sealers[m]
        out = []
        touching = self.plan.touching(meter.meter_id, at_s, at_s + 1)
        for fault_id, fault in touching:
            kind = fault.spec.kind
            if kind == "wrong_key":
                sealer = _wrong_sealer(meter, self._framing, self.seed)
                self.stats["wrong_key"] += 1
                self._incident(m, at_s, "wrong_key", arrival)
            elif kind == "corrupt":
                rate = number(fault.spec, "rate")
                if _chance(self.seed, fault_id, counter) < rate:
                    self.stats["corrupted"] += 1
                    self._incident(m, at_s, "corrupted", arrival)
                    return [(arrival, _damaged(meter, self._framing, sealer, apdu, counter))]
        sealed = sealer.seal(apdu, counter)
        out.append((arrival, sealed))
        for fault_id in self.plan.by_meter.get(meter.meter_id, ()) if replays else ():
            fault = self.plan.faults[fault_id]
            if fault.spec.kind != "replay":
                continue
            begin, _ = window_s(fault)
            count = int(number(fault.spec, "count"))
            interval_s = int(self.step[m]) * QUARTER_S
            if begin - count * interval_s <= at_s < begin:
                replay_at = begin + count - (begin - at_s) // interval_s
                out.append((replay_at, sealed))
                self.stats["replayed"] += 1
                self._incident(m, at_s, "replayed", replay_at)
        return out

    def _event_pushes(self, frame: DayFrame, first_s: int, last_s: int) -> list[PushLine]:
        out = []
        for m, k, counter in frame.events:
            meter = self.meters[m]
            event = self.plan.events[meter.meter_id][k]
            if not first_s <= event.at_s < last_s:
                continue
            self.stats["events"] += 1
            if event.lost:
                self.stats["events_lost"] += 1
                self._incident(m, event.at_s, f"lost {event.name}", None)
                continue
            apdu = build_event_notification(
                meter.style, MeterEvent(meter.meter_id, _local(event.at_s), event.name)
            ).to_bytes()
            for arrival, sealed in self._special(m, apdu, counter, event.at_s + 1, event.at_s,
                                                 replays=False):  # fmt: skip
                out.append(
                    (arrival, b'{"at": "' + iso_z(arrival).encode() + self._line_head[m]
                     + hexlify(sealed) + _END)
                )  # fmt: skip
        return out

    # --- truth -------------------------------------------------------------------------

    def truth_rows(self, frame: DayFrame, first_s: int, last_s: int) -> bytes:
        """CSV rows of the true interval values ending in ``[first_s, last_s)``."""
        d0 = frame.day_start_s
        parts = []
        full = np.concatenate((frame.history_wh, frame.true_wh), axis=2)  # index + 4
        whole = np.floor(full).astype(np.int64)
        for (_style, _phases, step), rows in self.groups.items():
            cols = np.arange(_QUARTERS)
            cols = cols[(cols % step == 0) & (d0 + QUARTER_S * cols >= first_s)
                        & (d0 + QUARTER_S * cols < last_s)]  # fmt: skip
            ends = d0 + QUARTER_S * cols
            keep = (ends - step * QUARTER_S >= self.start_s) & (ends <= self.end_s)
            cols, ends = cols[keep], ends[keep]
            if cols.size == 0:
                continue
            values = whole[:, rows][:, :, cols + 4] - whole[:, rows][:, :, cols + 4 - step]
            members = range(rows.start, rows.stop)
            starts = [iso_z(int(t) - int(step) * QUARTER_S).encode() for t in ends]
            table = values.transpose(1, 2, 0).tolist()
            for r, m in enumerate(members):
                head = self._truth_head[m]
                for j, (a, b, c, d) in enumerate(table[r]):
                    parts.append(b"%s%s,%d,%d,%d,%d,%d\n" % (
                        head, starts[j], step * QUARTER_S, a, b, c, d))  # fmt: skip
        return b"".join(parts)


_ANNUAL_WH = {
    "detached_house": 20e6,
    "apartment": 7e6,
    "cabin": 4e6,
    "farm": 40e6,
    "small_business": 60e6,
    "prosumer_solar": 16e6,
}


def _groups(meters: Sequence[Meter], step: np.ndarray) -> dict[tuple[str, int, int], slice]:
    """Rows per (make, phases, quarters per interval); the rows are sorted so, each a slice."""
    groups: dict[tuple[str, int, int], slice] = {}
    for m, meter in enumerate(meters):
        key = (meter.style, meter.phases, int(step[m]))
        rows = groups.get(key)
        groups[key] = slice(m, m + 1) if rows is None else slice(rows.start, m + 1)
    return groups


_HEADS: dict[int, bytes] = {}


def _head(at_s: int) -> bytes:
    """The start of a JSON line sent at ``at_s``, kept: a fleet sends in the same seconds."""
    if len(_HEADS) > 200_000:
        _HEADS.clear()
    head = _HEADS[at_s] = b'{"at": "' + iso_z(at_s).encode()
    return head


def _day_start_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _local(at_s: int) -> datetime:
    return datetime.fromtimestamp(at_s, _OSLO)


def _registers_at(true_wh: np.ndarray, cols: slice, drift_s: np.ndarray) -> np.ndarray:
    """The true registers ``drift_s`` before each boundary of ``cols``, interpolated.

    ``true_wh`` holds the day's 97 boundaries; a time outside the day is taken at its edge.
    """
    boundaries = np.arange(true_wh.shape[2])[cols][None, :] - drift_s / QUARTER_S
    position = np.clip(boundaries, 0.0, true_wh.shape[2] - 1.0)
    low = np.minimum(np.floor(position).astype(np.int64), true_wh.shape[2] - 2)
    share = position - low
    before = np.take_along_axis(
        true_wh, np.broadcast_to(low, true_wh.shape[:2] + low.shape[1:]), axis=2
    )
    after = np.take_along_axis(true_wh, np.broadcast_to(low + 1, before.shape), axis=2)
    return before + (after - before) * share  # type: ignore[no-any-return]


def _overlap(q_start: np.ndarray, begin: int, stop: int) -> np.ndarray:
    """The share of each quarter-hour inside ``[begin, stop)``."""
    low = np.maximum(q_start, begin)
    high = np.minimum(q_start + QUARTER_S, stop)
    return np.clip(high - low, 0, QUARTER_S) / QUARTER_S  # type: ignore[no-any-return]


def _chance(seed: int, fault_id: int, counter: int) -> float:
    return float(np.random.default_rng([seed, fault_id, counter, 3]).random())


def _wrong_sealer(meter: Meter, framing: str, seed: int) -> PushSealer:
    rng = np.random.default_rng([seed, int.from_bytes(meter.system_title, "big") % 2**63, 4])
    return PushSealer(
        meter.style,
        framing,
        system_title=meter.system_title,
        ek=rng.bytes(16),
        ak=rng.bytes(16),
    )


def _damaged(meter: Meter, framing: str, sealer: PushSealer, apdu: bytes, counter: int) -> bytes:
    """The push with one ciphertext byte flipped, framed with valid checksums."""
    ciphered = PushSealer(
        meter.style, "apdu", system_title=meter.system_title, ek=sealer.ek, ak=sealer.ak
    ).seal(apdu, counter)
    middle = len(ciphered) // 2
    damaged = ciphered[:middle] + bytes((ciphered[middle] ^ 0x5A,)) + ciphered[middle + 1 :]
    return PushSealer(meter.style, framing).seal(damaged)


#: The ground-truth files of a run and their columns (docs/sim-run.md explains each).
TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "intervals.csv": ("metering_point_id", "meter_id", "start", "interval_s", "import_wh",
                      "export_wh", "reactive_import_varh", "reactive_export_varh"),
    "incidents.csv": ("meter_id", "clock", "incident", "arrival"),
    "faults.csv": ("fault_id", "kind", "level", "target", "start", "end", "meters", "params",
                   "origin"),
    "fault_meters.csv": ("fault_id", "meter_id", "metering_point_id", "transformer_id"),
    "events.csv": ("at", "meter_id", "metering_point_id", "transformer_id", "event",
                   "fault_id", "sent", "lost"),
    "meters.csv": ("meter_id", "metering_point_id", "interval_s", "start", "end",
                   "import_wh_start", "export_wh_start", "reactive_import_varh_start",
                   "reactive_export_varh_start", "invocation_counter_start"),
}  # fmt: skip


def truth_header(name: str) -> bytes:
    """The CSV header line of truth file ``name``."""
    return (",".join(TRUTH_COLUMNS[name]) + "\n").encode()
