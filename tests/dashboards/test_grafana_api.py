"""`civic-iot dashboards provision --grafana`: folders, datasources, dashboards, teams and
folder permissions through grafana-client, against a stand-in of Grafana's HTTP API
(tests/support/grafana.py; Grafana itself is not in Debian)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from civic_iot.cli import main
from tests.support.grafana import ADMIN_PASSWORD, GrafanaStandIn


@pytest.fixture
def grafana() -> Iterator[GrafanaStandIn]:
    server = GrafanaStandIn(token="glsa_test")
    yield server
    server.close()


def provision(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["dashboards", "provision", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_caregivers_see_only_watch_over_and_nobody_else_sees_it(
    grafana: GrafanaStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = provision(capsys, "--grafana", grafana.url(),
                               "--influx-url", "http://influx.city.example:8086")  # fmt: skip
    assert code == 0, err
    assert ADMIN_PASSWORD not in out
    titles = {f["title"] for f in grafana.folders.values()}
    assert titles == {"見守り", "施設Wi-Fi", "機器管理"}
    watch = next(uid for uid, f in grafana.folders.items() if f["title"] == "見守り")
    facility = next(uid for uid, f in grafana.folders.items() if f["title"] == "施設Wi-Fi")
    fleet = next(uid for uid, f in grafana.folders.items() if f["title"] == "機器管理")
    assert grafana.folder_of("civic-watch-over") == watch
    assert grafana.folder_of("civic-facility-wifi") == facility
    assert grafana.folder_of("civic-fleet") == fleet

    caregiver = ("Viewer", {"civic-caregivers"})
    visible = {uid: grafana.can_view(uid, *caregiver) for uid in (watch, facility, fleet)}
    assert visible == {watch: True, facility: False, fleet: False}
    staff = ("Viewer", {"civic-facility-staff"})
    assert [grafana.can_view(u, *staff) for u in (watch, facility, fleet)] == [False, True, False]
    it = ("Editor", {"civic-it"})
    assert [grafana.can_view(u, *it) for u in (watch, facility, fleet)] == [False, True, True]
    for role in ("Viewer", "Editor"):  # Grafana's defaults are gone
        assert not any(grafana.can_view(u, role) for u in (watch, facility, fleet))
    assert grafana.can_view(watch, "Admin")

    sources = {uid: s for uid, s in grafana.datasources.items()}
    assert sorted(sources) == ["civic-facility", "civic-ops", "civic-watch"]
    assert sources["civic-watch"]["jsonData"]["dbName"] == "civic_watch"
    assert sources["civic-watch"]["url"] == "http://influx.city.example:8086"
    panel_sources = {t["datasource"]["uid"]
                     for p in grafana.dashboards["civic-watch-over"]["dashboard"]["panels"]
                     for t in p["targets"]}  # fmt: skip
    assert panel_sources == {"civic-watch"}, "caregivers' dashboard reads the watch zone only"


def test_running_it_again_changes_nothing_and_repairs_what_was_changed_by_hand(
    grafana: GrafanaStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert provision(capsys, "--grafana", grafana.url())[0] == 0
    first_writes = len(grafana.writes())
    code, out, _ = provision(capsys, "--grafana", grafana.url())
    assert code == 0
    assert len(grafana.writes()) == first_writes, grafana.writes()[first_writes:]
    assert grafana.dashboards["civic-watch-over"]["dashboard"]["version"] == 1

    watch = next(uid for uid, f in grafana.folders.items() if f["title"] == "見守り")
    grafana.permissions[watch].append({"role": "Viewer", "permission": 1})  # someone widened it
    grafana.folders[watch]["title"] = "tmp"
    grafana.dashboards["civic-watch-over"]["dashboard"]["title"] = "edited in the UI"
    code, out, _ = provision(capsys, "--grafana", grafana.url())
    assert code == 0
    assert not grafana.can_view(watch, "Viewer")
    assert grafana.folders[watch]["title"] == "見守り"
    assert grafana.dashboards["civic-watch-over"]["dashboard"]["version"] == 2
    assert "見守り（ご家族・ケアマネジャー向け）: saved, version 2" in out


def test_a_token_from_a_file_and_influxdb_credentials_for_the_datasources(
    grafana: GrafanaStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "token").write_text("glsa_test\n", encoding="utf-8")
    (tmp_path / "influx-password").write_text("reader-pw\n", encoding="utf-8")
    code, out, err = provision(
        capsys, "--grafana", grafana.url(user=""), "--token-file", str(tmp_path / "token"),
        "--influx-user", "grafana", "--influx-password-file", str(tmp_path / "influx-password"),
    )  # fmt: skip
    assert code == 0, err
    source = grafana.datasources["civic-watch"]
    assert source["user"] == "grafana" and source["secureJsonData"] == {"password": "reader-pw"}
    assert "reader-pw" not in out + err


def test_refusals_and_an_unreachable_grafana_are_told_plainly(
    grafana: GrafanaStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = provision(capsys, "--grafana", grafana.url(password="wrong"))
    assert code == 1
    assert "HTTP 401" in err and "Traceback" not in err and "wrong" not in err
    assert grafana.folders == {}

    code, _, err = provision(capsys, "--grafana", "http://127.0.0.1:9", "--token-file",
                             str(tmp_path / "missing"))  # fmt: skip
    assert code == 1 and "missing" in err

    code, _, err = provision(capsys, "--grafana", "http://admin:x@127.0.0.1:9")
    assert code == 1
    assert err.startswith("civic-iot: Grafana 127.0.0.1:9: reading its version:"), err
