import msgspec
import pytest

from wire import (
    CATALOGUE,
    AlertAck,
    Message,
    PayloadError,
    Reading,
    Status,
    decode,
    decode_message,
    encode,
)
from wire.payloads import clock_problem, decode_plausible, plausible_readings

TS = 1_763_856_000_000


def message(*readings: dict[str, object], **envelope: object) -> bytes:
    body = {"schema": 1, "seq": 1, "ts": TS, "readings": list(readings), **envelope}
    return msgspec.json.encode(body)


def temp(**overrides: object) -> dict[str, object]:
    return {"quantity": "climate.temperature", "value": 21.5, "unit": "Cel", **overrides}


def test_a_valid_message_decodes_to_typed_readings() -> None:
    decoded = decode_message(message(temp(sensor="kitchen")))
    assert decoded == Message(
        schema=1,
        seq=1,
        ts=TS,
        readings=[Reading("climate.temperature", 21.5, "Cel", sensor="kitchen")],
    )


@pytest.mark.parametrize(
    ("payload", "where", "reason"),
    [
        (b"{not json", "$", "not valid JSON"),
        (message(temp(), seq=-1), "$.seq", "Expected `int` >= 0"),
        (message(temp(), schema=2), "$.schema", "schema 2 is not supported"),
        (message(temp(), ts=1_763_856_000), "$.ts", ">= 946684800000"),
        (message(), "$.readings", "length >= 1"),
        (message(temp(unit="F")), "$.readings[0].unit", "unit 'F' for climate.temperature"),
        (message(temp(quantity="climate.mood")), "$.readings[0].quantity", "unknown quantity"),
        (message(temp(value="warm")), "$.readings[0].value", "got `str`"),
        (message(temp(value=True)), "$.readings[0].value", "expected a number"),
        (
            message({"quantity": "door.open", "value": 1, "unit": "1"}),
            "$.readings[0].value",
            "expected true or false",
        ),
        (
            message({"quantity": "wifi.clients", "value": 2.5, "unit": "1"}),
            "$.readings[0].value",
            "expected an integer",
        ),
        (message(temp(sensor="AA:BB:CC:DD:EE:FF")), "$.readings[0].sensor", "matching regex"),
        (message(temp(colour="red")), "$.readings[0]", "unknown field `colour`"),
    ],
)
def test_decoding_errors_say_what_and_where(payload: bytes, where: str, reason: str) -> None:
    with pytest.raises(PayloadError) as info:
        decode_message(payload, topic="t/x")
    assert info.value.where == where
    assert reason in info.value.reason
    assert "t/x" in str(info.value)


def test_every_catalogue_quantity_round_trips_with_its_unit() -> None:
    values = {"float": 1.25, "int": 3, "bool": True}
    readings = [Reading(q.name, values[q.type.value], q.unit) for q in CATALOGUE.values()]
    original = Message(schema=1, seq=9, ts=TS, readings=readings)
    assert decode_message(encode(original)) == original


def test_status_rejects_an_unknown_state() -> None:
    with pytest.raises(PayloadError, match=r"\$\.state"):
        decode(b'{"schema":1,"state":"sleeping","ts":%d}' % TS, Status)


def test_an_integer_beyond_64_bits_is_refused_before_it_can_poison_a_batch() -> None:
    payload = (
        b'{"schema":1,"seq":1,"ts":1763856000000,"readings":'
        b'[{"quantity":"wifi.clients","value":18446744073709551616,"unit":"1"}]}'
    )
    with pytest.raises(PayloadError, match="64-bit integer"):
        decode_message(payload)


@pytest.mark.parametrize(
    ("quantity", "value", "unit"),
    [
        ("climate.temperature", 1e308, "Cel"),
        ("climate.temperature", -1e308, "Cel"),
        ("climate.humidity", -5.0, "%"),
        ("climate.humidity", 250.0, "%"),
        ("battery.level", 101.0, "%"),
        ("wifi.clients", -1, "1"),
        ("climate.temperature", int("9" * 401), "Cel"),
    ],
)
def test_a_physically_impossible_value_is_refused_with_its_range(
    quantity: str, value: float, unit: str
) -> None:
    payload = msgspec.json.encode(
        {
            "schema": 1,
            "seq": 1,
            "ts": TS,
            "readings": [{"quantity": quantity, "value": value, "unit": unit}],
        }
    )
    with pytest.raises(PayloadError) as info:
        decode_message(payload)
    assert info.value.where == "$.readings[0].value"
    assert len(info.value.reason) < 200  # a 401-digit number is shortened, not echoed


def test_ids_beyond_64_bits_are_refused() -> None:
    with pytest.raises(PayloadError, match=r"\$\.alert_id"):
        decode(b'{"schema":1,"alert_id":%d,"by":"x","ts":%d}' % (2**63, TS), AlertAck)
    with pytest.raises(PayloadError, match=r"\$\.seq"):
        decode_message(message(temp(), seq=2**63))


def test_a_clock_more_than_five_minutes_ahead_is_named() -> None:
    ahead = decode_message(message(temp(ts=TS + 6 * 60_000)))
    with pytest.raises(PayloadError) as info:
        clock_problem(ahead, TS, topic="t/x")
    assert info.value.where == "$.readings[0].ts" and "6 min ahead" in info.value.reason
    clock_problem(decode_message(message(temp(ts=TS + 4 * 60_000))), TS)  # drift is fine


def test_an_impossible_reading_is_taken_out_and_the_others_kept() -> None:
    payload = message(temp(value=1e308), temp(value=21.5, sensor="bedroom"))
    kept, problems = decode_plausible(payload, topic="t/x")
    assert [r.value for r in kept.readings] == [21.5]
    assert [p.where for p in problems] == ["$.readings[0].value"]
    with pytest.raises(PayloadError, match="outside the possible range"):
        decode_plausible(message(temp(value=-1e308)))  # nothing left to keep


def test_the_edge_keeps_only_what_a_receiver_accepts() -> None:
    readings = [Reading("climate.humidity", 250.0, "%", sensor="bath"),
                Reading("climate.humidity", 55.0, "%", sensor="kitchen")]  # fmt: skip
    kept, problems = plausible_readings(readings)
    assert [r.sensor for r in kept] == ["kitchen"] and "bath" in problems[0]


def test_a_key_given_twice_is_refused_whichever_object_it_is_in() -> None:
    twice = (b'{"schema":1,"seq":1,"ts":%d,"readings":[{"quantity":"climate.temperature",'
             b'"value":19.5,"value":99,"unit":"Cel"}]}' % TS)  # fmt: skip
    with pytest.raises(PayloadError, match="'value' is given twice"):
        decode_message(twice)
    with pytest.raises(PayloadError, match="'state' is given twice"):
        decode(b'{"schema":1,"state":"online","state":"offline","ts":%d}' % TS, Status)
    named = message(temp(sensor="value"))  # a key's name as a value is no duplicate
    assert decode_message(named).readings[0].sensor == "value"
