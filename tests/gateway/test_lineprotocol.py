"""Our hand-written line protocol must equal influxdb-client's for every input."""

from hypothesis import given
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from gateway.lineprotocol import line

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: "\\" not in s)
values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@given(
    # A measurement starting with '#' is a comment line; ours come from the catalogue.
    measurement=names.filter(lambda s: not s.startswith("#")),
    tags=st.dictionaries(names, names, max_size=3),
    fields=st.dictionaries(names, values, min_size=1, max_size=4),
    ts=st.integers(min_value=0, max_value=4_102_444_800_000),
)
def test_matches_influxdb_client_point(
    measurement: str, tags: dict[str, str], fields: dict[str, object], ts: int
) -> None:
    point = Point(measurement).time(ts, WritePrecision.MS)
    for key, value in tags.items():
        point = point.tag(key, value)
    for key, value in fields.items():
        point = point.field(key, value)
    assert line(measurement, tags, fields, ts) == point.to_line_protocol()  # type: ignore[arg-type]


def test_escaping_and_types() -> None:
    text = line(
        "room climate",
        {"site": "a,b=c", "sensor": "", "device": "d 1"},
        {"temperature": 21.5, "count": 3, "open": True, "humidity": 40.0},
        1_763_856_000_000,
    )
    assert text == (
        r"room\ climate,device=d\ 1,site=a\,b\=c count=3i,humidity=40,open=true,temperature=21.5 "
        "1763856000000"
    )
