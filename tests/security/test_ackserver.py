"""The acknowledgement page's link rules, on an injected clock."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from alerts.ackpage import PageAlert
from alerts.ackserver import AckRequest, AckServer
from alerts.clock import VirtualClock
from alerts.routing import Signer

DAY_MS = 86_400_000


def test_a_link_works_for_its_validity_and_then_shows_nothing(tmp_path: Path) -> None:
    clock = VirtualClock(1_800_000_000_000)
    seen: list[AckRequest] = []

    def answer(request: AckRequest) -> None:
        seen.append(request)
        request.found, request.open = True, True
        request.page = PageAlert(
            "緊急ボタンが押されました", "見守り宅 A001", 1_800_000_000_000, "Asia/Tokyo"
        )
        request.done.set()

    server = AckServer("127.0.0.1", 0, Signer(tmp_path / "s", "http://x", 7), answer, clock=clock)
    server.start()
    try:
        signer = Signer(tmp_path / "s", f"http://127.0.0.1:{server.port}", 7)
        link = signer.link(5, "花子", clock.now_ms())
        with urllib.request.urlopen(link, timeout=10) as page:
            assert "見守り宅 A001" in page.read().decode() and page.status == 200
        clock.advance_to(clock.now_ms() + 7 * DAY_MS + 1000)
        with pytest.raises(urllib.error.HTTPError) as expired:
            urllib.request.urlopen(link, timeout=10)
        assert expired.value.code == 410
        assert "見守り宅" not in expired.value.read().decode()
        assert len(seen) == 1  # the expired request never reached the service
    finally:
        server.close()


def test_the_one_who_took_it_is_offered_to_close_it_with_a_reason(tmp_path: Path) -> None:
    clock = VirtualClock(1_800_000_000_000)
    seen: list[AckRequest] = []

    def answer(request: AckRequest) -> None:
        seen.append(request)
        request.found, request.closable = True, not request.close
        state = "resolved" if request.close else "acknowledged"
        request.page = PageAlert("室温が低い状態です", "見守り宅 A001", 1_800_000_000_000,
                                 "Asia/Tokyo", state=state, acked_by="網走 花子",
                                 closed_reason=request.close)  # fmt: skip
        request.done.set()

    server = AckServer("127.0.0.1", 0, Signer(tmp_path / "s", "http://x", 7), answer, clock=clock)
    server.start()
    try:
        signer = Signer(tmp_path / "s", f"http://127.0.0.1:{server.port}", 7)
        link = signer.link(5, "網走 花子", clock.now_ms())
        with urllib.request.urlopen(link, timeout=10) as page:
            shown = page.read().decode()
        assert "解決しました</button>" in shown and "誤報でした</button>" in shown
        assert 'name="close" value="false-alarm"' in shown
        parts = urllib.parse.urlsplit(link)
        form = urllib.parse.urlencode({**dict(urllib.parse.parse_qsl(parts.query)),
                                       "close": "false-alarm"}).encode()  # fmt: skip
        target = f"{parts.scheme}://{parts.netloc}{parts.path}"
        with urllib.request.urlopen(target, data=form, timeout=10) as page:
            closed = page.read().decode()
        assert seen[-1].close == "false-alarm" and not seen[-1].look_only
        assert "閉じました（誤報でした）" in closed and "<button" not in closed
    finally:
        server.close()
