"""Doors, motion and call buttons with gpiozero's MockFactory injected (the hardware
boundary), and a panic button through a real agent and broker."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from civic_iot.services import Mosquitto
from common.mqttlink import MqttConfig
from edge.agent import Agent
from edge.collectors.gpio.collector import GpioCollector
from edge.collectors.gpio.config import GpioConfig, GpioInput
from edge.config import AgentConfig
from tests.support.clock import FakeClock
from tests.support.mqtt import Recorder, wait_for
from wire import decode_message, now_ms, topics


def collector(
    factory: MockFactory, *inputs: GpioInput, clock: FakeClock | None = None
) -> GpioCollector:
    config = GpioConfig(type="gpio", inputs=list(inputs))
    return GpioCollector(config, "home-a001-hub", factory, clock or FakeClock())


def events(gpio: GpioCollector) -> list[tuple[str, str, object]]:
    return [(r.quantity, r.sensor, r.value) for r in gpio.collect(0) if r.ts is not None]


def test_a_door_opens_and_closes_with_edge_timestamps() -> None:
    factory = MockFactory()
    gpio = collector(factory, GpioInput(name="entrance", kind="door", pin=17, debounce_s=0.0))
    gpio.collect(0)  # the first snapshot
    pin = factory.pin(17)
    before = now_ms()
    pin.drive_low()  # the reed switch closes: door shut
    pin.drive_high()  # and opens again
    readings = gpio.collect(0)
    assert [(r.quantity, r.value) for r in readings] == [("door.open", False), ("door.open", True)]
    assert all(r.ts is not None and r.ts >= before for r in readings)


def test_contact_bounce_gives_one_event_and_the_settled_state() -> None:
    factory, clock = MockFactory(), FakeClock()
    gpio = collector(
        factory, GpioInput(name="entrance", kind="door", pin=17, debounce_s=0.2), clock=clock
    )
    gpio.collect(0)
    pin = factory.pin(17)
    for _ in range(5):  # a bouncing contact, ending closed
        pin.drive_low()
        pin.drive_high()
    pin.drive_low()
    clock.advance(0.35)
    # The first edge is reported at once (door shut), the bounce is not; when the
    # contact settles the state equals the last report, so nothing more is sent.
    assert events(gpio) == [("door.open", "entrance", False)]
    assert [r.value for r in gpio.states()] == [False]


def test_motion_sensor() -> None:
    factory = MockFactory()
    gpio = collector(
        factory, GpioInput(name="living-room", kind="motion", pin=4, pull_up=False, debounce_s=0)
    )
    gpio.collect(0)
    factory.pin(4).drive_high()
    assert events(gpio) == [("motion.detected", "living-room", True)]


def test_a_short_press_and_a_long_press_for_help() -> None:
    factory, clock = MockFactory(), FakeClock()
    gpio = collector(
        factory, GpioInput(name="call", kind="button", pin=27, long_press_s=0.2), clock=clock
    )
    pin = factory.pin(27)
    pin.drive_low()
    clock.advance(0.05)
    pin.drive_high()
    assert events(gpio) == [("button.pressed", "call", True)]
    clock.advance(1)  # the short press's timer runs out: it was not held
    assert events(gpio) == []
    pin.drive_low()
    clock.advance(0.35)
    assert events(gpio) == [("button.long_press", "call", True)]  # before it is let go
    pin.drive_high()
    assert events(gpio) == []


@pytest.mark.services
def test_a_panic_button_reaches_the_broker_at_once(tmp_path: Path, mosquitto: Mosquitto) -> None:
    factory = MockFactory()
    panic = GpioInput(name="call", kind="button", pin=27, long_press_s=0.2)
    gpio = GpioCollector(GpioConfig(type="gpio", inputs=[panic]), "home-a001-hub", factory)
    config = AgentConfig(
        device_id="home-a001-hub",
        mqtt=MqttConfig(host=mosquitto.host, port=mosquitto.port),
        state_dir=str(tmp_path / "state"),
    )
    recorder = Recorder(mosquitto, topics.event("home-a001-hub"))
    status = Recorder(mosquitto, topics.status("home-a001-hub"), client_id="status")
    agent = Agent(config, [gpio])
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: any(b'"online"' in p for _, p, _ in status.snapshot()),
                 what="the agent online")  # fmt: skip
        factory.pin(27).drive_low()
        # Within seconds although the collector is polled every 300 s: the event woke
        # the agent. (Its latency is a benchmark figure: bench/bench_agent.py.)
        wait_for(recorder.snapshot, timeout_s=5, what="the panic event")
        message = decode_message(recorder.snapshot()[0][1])
        assert [(r.quantity, r.value) for r in message.readings] == [("button.long_press", True)]
    finally:
        stop.set()
        agent.wake()
        thread.join(10)
        recorder.close()
        status.close()
