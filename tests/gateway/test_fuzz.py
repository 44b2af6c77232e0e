"""Fuzzing the decode path: no topic or payload crashes the gateway or stops ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.city.inventory import load_inventory
from gateway.config import GatewayConfig
from gateway.ingest import Ingest
from gateway.writers.v1 import V1Writer
from wire import CATALOGUE, PayloadError, decode_message, encode, now_ms, topics
from wire.payloads import Message, Reading

KNOWN = "home-a001-hub"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
reading_like = st.fixed_dictionaries(
    {
        "quantity": st.sampled_from(sorted(CATALOGUE)) | st.text(max_size=12),
        "value": json_values,
        "unit": st.sampled_from(sorted({q.unit for q in CATALOGUE.values()})) | st.text(max_size=4),
    },
    optional={"sensor": st.text(max_size=70), "ts": st.integers()},
)
message_like = st.fixed_dictionaries(
    {
        "schema": st.integers(-2, 3),
        "seq": st.integers(-5, 2**64),
        "ts": st.integers(0, 2**63) | st.just(now_ms()),
        "readings": st.lists(reading_like, max_size=5),
    },
    optional={"extra": json_values},
)
payloads = st.binary(max_size=200) | message_like.map(msgspec.json.encode)
device_topics = st.sampled_from(
    [
        topics.telemetry(KNOWN),
        topics.event(KNOWN),
        topics.health(KNOWN),
        topics.status(KNOWN),
        topics.config_reported(KNOWN),
        topics.config_desired(KNOWN),
        topics.telemetry("stranger-9"),
    ]
)
any_topic = device_topics | st.text(max_size=40)


@pytest.fixture(scope="module")
def ingest(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Any:
    state = tmp_path_factory.mktemp("fuzz")
    config = GatewayConfig(gateway_id="gw-fuzz", state_dir=str(state), http_listen=None)
    inventory = load_inventory(repo_root / "firmware-config")
    gateway = Ingest(config, inventory, V1Writer("http://127.0.0.1:9"))
    yield gateway
    gateway.registry.close()
    gateway.durable.spool.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads)
def test_the_decoder_raises_nothing_but_payload_errors(payload: bytes) -> None:
    try:
        message = decode_message(payload, topic=topics.telemetry(KNOWN))
    except PayloadError as error:
        assert error.reason
    else:
        assert message.readings


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(topic=any_topic, payload=payloads)
def test_no_message_stops_the_gateway_and_a_good_one_still_gets_in(
    ingest: Any, topic: str, payload: bytes
) -> None:
    messages = ingest.stats.messages
    ingest.handle(topic, payload)
    assert ingest.stats.messages == messages + 1  # taken and counted, whatever it was
    before, letters = ingest.batch.size, ingest.stats.dead_letters
    good = Message(1, 1, now_ms(), [Reading("climate.temperature", 20.5, "Cel", "kitchen")])
    ingest.handle(topics.telemetry(KNOWN), encode(good))
    assert ingest.batch.size == before + 1
    assert ingest.stats.dead_letters == letters  # the good one is not refused
    ingest.batch.take()
