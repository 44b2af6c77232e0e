"""The golden files pin the wire format: field names, order, defaults left out."""

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import wire
from wire import payloads

GOLDEN = Path(wire.__file__).parent / "golden"
TS = 1_763_856_000_000
AGENT = "civic-iot-edge/0.1.0"

CASES: dict[str, msgspec.Struct] = {
    "message-telemetry.json": wire.Message(
        schema=1,
        seq=1042,
        ts=TS,
        readings=[
            wire.Reading("climate.temperature", 19.5, "Cel", sensor="living-room"),
            wire.Reading("climate.humidity", 41.0, "%", sensor="living-room"),
            wire.Reading("wifi.clients", 12, "1"),
            wire.Reading("energy.energy", 15234.25, "kW.h", sensor="main-meter", ts=TS - 5000),
        ],
    ),
    "message-event.json": wire.Message(
        schema=1,
        seq=1043,
        ts=TS + 12345,
        readings=[wire.Reading("door.open", True, "1", sensor="entrance")],
    ),
    "status-online.json": wire.Status(schema=1, state="online", ts=TS, agent=AGENT),
    "status-offline-will.json": wire.Status(
        schema=1, state="offline", ts=TS, agent=AGENT, reason="connection-lost"
    ),
    "config-desired.json": wire.ConfigDesired(
        schema=1, version=7, config={"collectors": [{"type": "system", "interval_s": 60}]}
    ),
    "config-reported-rejected.json": wire.ConfigReported(
        schema=1,
        version=6,
        state="rejected",
        ts=TS,
        error="desired config version 7: collectors[0].intervall: unknown key",
        desired=7,
    ),
    "command-request.json": wire.CommandRequest(
        schema=1, command="collect-now", ts=TS, args={"collector": "system"}
    ),
    "command-response.json": wire.CommandResponse(
        schema=1, ok=True, ts=TS + 150, result={"readings": 7}
    ),
    "dead-letter.json": wire.DeadLetter(
        schema=1,
        topic=wire.topics.telemetry("home-a001-hub"),
        reason="unit 'F' for climate.temperature, expected 'Cel'",
        where="$.readings[0].unit",
        received_ts=TS,
        payload='{"schema":1}',
    ),
    "alert-ack.json": wire.AlertAck(schema=1, alert_id=42, by="知床 ケア", ts=TS),
    "alert-state-firing.json": wire.AlertState(
        schema=1,
        alert_id=42,
        rule="panic",
        title="呼び出しボタンが押されました",
        site="home-a001",
        severity="life-safety",
        state="firing",
        opened_ts=TS,
        ts=TS + 200,
        device="home-a001-hub",
    ),
    "service-event-unknown-device.json": wire.ServiceEvent(
        schema=1,
        kind="unknown-device",
        ts=TS,
        device="home-z999-hub",
        detail="not listed in firmware-config; its readings are not stored",
    ),
}


def ordered(data: bytes) -> Any:
    return json.loads(data, object_pairs_hook=list)


@pytest.mark.parametrize("name", sorted(CASES))
def test_encoding_matches_the_golden_file(name: str) -> None:
    golden = (GOLDEN / name).read_bytes()
    assert ordered(wire.encode(CASES[name])) == ordered(golden)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_file_decodes_to_the_model(name: str) -> None:
    model = CASES[name]
    assert payloads.decode((GOLDEN / name).read_bytes(), type(model)) == model  # type: ignore[type-var]


def test_every_golden_file_has_a_case() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(CASES)
