"""LINE Messaging API push through LINE's SDK, against a local stand-in that checks
requests as LINE documents them: the message with its lines and a button to the
acknowledgement page; one retry key per notification, so nothing arrives twice."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.config import LineConfig
from alerts.errors import DeliveryError
from alerts.line import LineChannel
from alerts.store import Notification
from civic_iot.catchers import SmtpCatcher
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto
from civic_iot.standins.line_api import LineStandIn
from common.mqttlink import MqttConfig
from tests.alerts.live import press_call_button, start_service
from tests.support.mqtt import wait_for

TOKEN = "line-channel-access-token"
HANAKO = "U0123456789abcdef0123456789abcdef"  # the example family's LINE user ID


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    stand_in = LineStandIn(TOKEN)
    yield stand_in
    stand_in.close()


def line_config(tmp_path: Path, line: LineStandIn) -> LineConfig:
    token = tmp_path / "line-token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    token.chmod(0o600)
    return LineConfig(token_file=str(token), api_url=line.url)


def note(body: str, dedup: str = "dedup-1") -> Notification:
    return Notification(
        0, dedup, 1, "網走 花子", "ja", "line", f"line://{HANAKO}", "[至急・緊急] 見守り宅 A001",
        body, "pending", 0, 0, "", None, "firing", "life-safety", "r-a001/family", "panic",
        "home-a001",
    )  # fmt: skip


def test_a_retry_after_an_accepted_push_is_not_delivered_twice(
    tmp_path: Path, line: LineStandIn
) -> None:
    channel = LineChannel(line_config(tmp_path, line))
    message = note(
        "見守り宅 A001\n緊急ボタンが押されました\nhttp://127.0.0.1:1/ack/1?who=x&exp=1&sig=a"
    )
    channel.deliver(message)
    channel.deliver(message)  # the answer was lost: the same notification again
    assert len(line.to(HANAKO)) == 1 and line.retried  # LINE said 409: already accepted
    assert uuid.UUID(line.to(HANAKO)[0].retry_key)
    line.fail_next(1)
    with pytest.raises(DeliveryError, match="LINE 500"):
        channel.deliver(note("別の通知", "dedup-2"))
    wrong = LineConfig(token_file=line_config(tmp_path, line).token_file, api_url=line.url)
    (tmp_path / "line-token").write_text("wrong", encoding="utf-8")
    with pytest.raises(DeliveryError, match="LINE 401"):
        LineChannel(wrong).deliver(note("別の通知", "dedup-3"))


@pytest.mark.services
def test_a_press_reaches_the_family_on_line_with_a_button(
    tmp_path: Path, mosquitto: Mosquitto, line: LineStandIn
) -> None:
    smtp = SmtpCatcher()
    settings = line_config(tmp_path, line)
    config = write_local_config(
        tmp_path, "alerts-1", MqttConfig(host=mosquitto.host, port=mosquitto.port),
        email={"url": smtp.url()}, tick_s=0.3,
        line={"token_file": settings.token_file, "api_url": settings.api_url},
    )  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    try:
        line.fail_next(1)  # LINE is down for the first attempt
        press_call_button(mosquitto)
        pushed = wait_for(lambda: line.to(HANAKO), timeout_s=40, what="the LINE push")[0]
        text, buttons = pushed.messages
        assert text["type"] == "text" and "緊急ボタンが押されました" in text["text"]
        assert "\n" in text["text"] and "/ack/" not in text["text"]  # lines; the link is the button
        action = buttons["template"]["actions"][0]
        assert action["label"] == "対応します" and re.search(r"/ack/\d+\?", action["uri"])
        assert line.refused == []
        assert len(line.to(HANAKO)) == 1
    finally:
        assert service.terminate() == 0, service.log()
        smtp.close()
