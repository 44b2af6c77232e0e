import pytest

from wire import Kind, TopicError, topics


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_round_trips_through_build_and_parse(kind: Kind) -> None:
    built = topics.device_topic("home-a001-hub", kind)
    parsed = topics.parse(built)
    assert parsed.device_id == "home-a001-hub"
    assert parsed.kind is kind
    assert str(parsed) == built


def test_device_topics_share_one_subtree_per_device() -> None:
    subtree = topics.device_subtree("lib-ap-1").removesuffix("#")
    for kind in Kind:
        assert topics.device_topic("lib-ap-1", kind).startswith(subtree)


@pytest.mark.parametrize(
    "device_id", ["", "UPPER", "with/slash", "plus+", "hash#", "-lead", "trail-", "a" * 65, "aa:bb"]
)
def test_device_ids_outside_the_allowed_alphabet_are_refused(device_id: str) -> None:
    with pytest.raises(TopicError, match="device ID"):
        topics.telemetry(device_id)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("other/v1/dev/telemetry", "expected it to start with"),
        (topics.ROOT + "/dev", "expected civic/v1/<device-id>/<kind>"),
        (topics.ROOT + "/dev/weather", "unknown kind 'weather'"),
        (topics.ROOT + "/Dev/telemetry", "device ID 'Dev' is not valid"),
    ],
)
def test_parse_names_the_topic_and_what_was_expected(topic: str, expected: str) -> None:
    with pytest.raises(TopicError) as info:
        topics.parse(topic)
    assert repr(topic) in str(info.value)
    assert expected in str(info.value)


def test_wildcard_and_shared_filters() -> None:
    assert topics.all_devices(Kind.TELEMETRY) == topics.ROOT + "/+/telemetry"
    assert topics.shared("ingest", topics.all_devices(Kind.EVENT)) == (
        "$share/ingest/" + topics.ROOT + "/+/event"
    )
    with pytest.raises(TopicError):
        topics.shared("bad/group", topics.all_devices(Kind.EVENT))


def test_service_topics_cannot_collide_with_a_device() -> None:
    with pytest.raises(TopicError):
        topics.parse(topics.dead_letter("gateway-1"))


def test_service_topics_are_recognised_and_nothing_else_is() -> None:
    alert = topics.parse_service(topics.service_alert("alerts-1"))
    assert alert == ("alerts-1", topics.ServiceKind.ALERT)
    assert topics.all_service_alerts() == topics.ROOT + "/_svc/+/alert"
    assert topics.parse_service(topics.service_event("gw-1")) == ("gw-1", topics.ServiceKind.EVENT)
    assert topics.parse_service(topics.ROOT + "/alert/alert") is None
    assert topics.parse_service(topics.ROOT + "/_svc/a/b/alert") is None
    assert topics.parse_service(topics.ROOT + "/_svc/a/nonsense") is None
    assert topics.parse_service(topics.telemetry("alerts-1")) is None
