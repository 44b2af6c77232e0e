"""gpiozero's MockFactory with a little life on its pins: doors open and shut, motion
comes and goes, at random moments (a fixed seed makes it repeatable). Pins not named
(call buttons) stay idle: nobody asks for help unless someone presses (``press_later``,
the demo's injected incident)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from gpiozero.pins.mock import MockFactory


def activity_pin_factory(pins: list[int], mean_gap_s: float, seed: int) -> Any:
    factory = MockFactory()
    rng = random.Random(seed)

    def live() -> None:
        while True:  # a daemon thread: it ends with the agent
            time.sleep(rng.expovariate(1 / mean_gap_s))
            pin = factory.pin(rng.choice(pins))
            if pin.state:
                pin.drive_low()
            else:
                pin.drive_high()

    if pins:
        threading.Thread(target=live, name="gpio-activity", daemon=True).start()
    return factory


def press_later(factory: Any, pin: int, after_s: float, hold_s: float) -> None:
    """Hold the (pulled-up, active-low) button on ``pin`` down for ``hold_s``."""

    def press() -> None:
        time.sleep(after_s)
        factory.pin(pin).drive_low()
        time.sleep(hold_s)
        factory.pin(pin).drive_high()

    threading.Thread(target=press, name=f"gpio-press-{pin}", daemon=True).start()
