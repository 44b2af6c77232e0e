"""Doors, motion and call buttons on the Pi's GPIO pins (gpiozero).

Every change is an event timestamped at the edge when it happens, not when it is
sent. Doors (reed switches) and motion sensors are debounced in software; a button
held for ``long_press_s`` means "help" (``button.long_press``), a short press is
``button.pressed``. Events do not wait for the next poll: the collector wakes the
agent, which stores and sends them at once (events go ahead of any backlog).

The pin factory is injected: gpiozero's default on a Raspberry Pi, a ``MockFactory``
in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gpiozero import Button, DigitalInputDevice

from edge.clock import SYSTEM_CLOCK, Clock
from edge.collectors.base import Stateless
from edge.collectors.gpio.config import GpioConfig, GpioInput
from wire import Reading, now_ms


class GpioCollector(Stateless):
    def __init__(
        self,
        config: GpioConfig,
        device_id: str,
        pin_factory: Any = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.name = config.name
        self.interval_s = config.interval_s
        self._lock = threading.Lock()
        self._pending: list[Reading] = []
        self._last_change: dict[str, float] = {}
        self._reported: dict[str, bool] = {}
        self._settling: set[str] = set()
        # Edges arrive on gpiozero's threads and settle on the clock's timers.
        self._debounce = threading.Lock()
        self._presses: dict[str, int] = {}  # button -> the current press's number
        self._held: set[str] = set()  # buttons whose current press became a long one
        self._next_snapshot = 0.0
        self._waker: Callable[[], None] | None = None
        self._devices: list[tuple[GpioInput, Any]] = []
        try:
            for spec in config.inputs:
                self._devices.append((spec, self._attach(spec, pin_factory)))
        except Exception:
            self.close()  # give back the pins already claimed
            raise

    def set_waker(self, waker: Callable[[], None]) -> None:
        """The agent's hook: call it when an event is waiting."""
        self._waker = waker

    def collect(self, now_ms_: int) -> list[Reading]:
        with self._lock:
            events, self._pending = self._pending, []
        if self._clock.monotonic() >= self._next_snapshot:
            self._next_snapshot = self._clock.monotonic() + self.interval_s
            events += self.states()
        return events

    def states(self) -> list[Reading]:
        """The current state of every door and motion sensor (a periodic snapshot)."""
        readings = []
        with self._debounce:
            for spec, device in self._devices:
                if spec.kind != "button":
                    state = self._reported[spec.name] = self._state(spec, device)
                    readings.append(Reading(_quantity(spec), state, "1", sensor=spec.name))
        return readings

    def close(self) -> None:
        for _, device in self._devices:
            device.close()

    def _attach(self, spec: GpioInput, factory: Any) -> Any:
        if spec.kind == "button":
            button = Button(spec.pin, pull_up=spec.pull_up, pin_factory=factory)
            button.when_pressed = lambda: self._pressed(spec)
            button.when_released = lambda: self._released(spec)
            return button
        device = DigitalInputDevice(spec.pin, pull_up=spec.pull_up, pin_factory=factory)
        device.when_activated = lambda: self._changed(spec, device)
        device.when_deactivated = lambda: self._changed(spec, device)
        return device

    def _pressed(self, spec: GpioInput) -> None:
        """A press starts; held for ``long_press_s`` it is a call for help."""
        with self._debounce:
            press = self._presses[spec.name] = self._presses.get(spec.name, 0) + 1
            self._held.discard(spec.name)
        self._clock.call_later(spec.long_press_s, lambda: self._still_held(spec, press))

    def _still_held(self, spec: GpioInput, press: int) -> None:
        with self._debounce:
            if self._presses.get(spec.name) != press:  # released (and maybe pressed again)
                return
            self._held.add(spec.name)
        self._emit(Reading("button.long_press", True, "1", sensor=spec.name, ts=now_ms()))

    def _released(self, spec: GpioInput) -> None:
        with self._debounce:
            self._presses[spec.name] = self._presses.get(spec.name, 0) + 1  # ends the press
            long = spec.name in self._held
            self._held.discard(spec.name)
        if not long:
            self._emit(Reading("button.pressed", True, "1", sensor=spec.name, ts=now_ms()))

    def _changed(self, spec: GpioInput, device: Any) -> None:
        """An edge: report at once, then look again when the contact has settled."""
        with self._debounce:
            moment = self._clock.monotonic()
            settles_in = spec.debounce_s - (moment - self._last_change.get(spec.name, -1e9))
            if settles_in > 0:
                if spec.name not in self._settling:  # bouncing: decide when it settles
                    self._settling.add(spec.name)
                    self._clock.call_later(settles_in, lambda: self._settled(spec, device))
                return
            self._last_change[spec.name] = moment
        self._report(spec, device)

    def _settled(self, spec: GpioInput, device: Any) -> None:
        with self._debounce:
            self._settling.discard(spec.name)
            self._last_change[spec.name] = self._clock.monotonic()
        self._report(spec, device)

    def _report(self, spec: GpioInput, device: Any) -> None:
        with self._debounce:  # check and set at once: one event per change, not two
            state = self._state(spec, device)
            if self._reported.get(spec.name) == state:
                return
            self._reported[spec.name] = state
        self._emit(Reading(_quantity(spec), state, "1", sensor=spec.name, ts=now_ms()))

    def _state(self, spec: GpioInput, device: Any) -> bool:
        active = bool(device.is_active)
        if spec.kind == "door":
            return active if spec.door_open_when_active else not active
        return active

    def _emit(self, reading: Reading) -> None:
        with self._lock:
            self._pending.append(reading)
        if self._waker is not None:
            self._waker()


def _quantity(spec: GpioInput) -> str:
    return {"door": "door.open", "motion": "motion.detected"}.get(spec.kind, "button.pressed")
