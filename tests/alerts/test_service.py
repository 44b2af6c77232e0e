"""The alerts service as a process: a real broker, a real SMTP server and a real webhook
receiver; acknowledgement through the signed link; state kept across a restart."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.config import load as load_alerts_config
from alerts.rules import DEFAULT_RULES
from civic_iot.catchers import SmtpCatcher, WebhookReceiver
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto
from common.mqttlink import MqttConfig
from tests.alerts.live import start_service
from tests.support.mqtt import Recorder, publish, wait_for
from wire import (
    AlertAck,
    AlertState,
    DeadLetter,
    Message,
    Reading,
    Status,
    decode,
    encode,
    now_ms,
    topics,
)

pytestmark = pytest.mark.services
FAMILY_A001 = "hanako@example.jp"


@pytest.fixture
def smtp() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    yield catcher
    catcher.close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def write_config(
    tmp_path: Path, broker: Mosquitto, smtp: SmtpCatcher, hook: WebhookReceiver
) -> Path:
    return write_local_config(
        tmp_path,
        "alerts-1",
        MqttConfig(host=broker.host, port=broker.port),
        email={"url": smtp.url()},
        it_channels=[hook.url()],
        delivery_attempts=2,
        tick_s=0.3,
    )


def press(device: str, ts: int | None = None) -> bytes:
    reading = Reading("button.long_press", True, "1", sensor="bedside")
    return encode(Message(schema=1, seq=1, ts=ts or now_ms(), readings=[reading]))


def cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "civic_iot", *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_panic_press_reaches_the_family_and_the_link_acknowledges_it(
    tmp_path: Path, mosquitto: Mosquitto, smtp: SmtpCatcher,
    webhook: WebhookReceiver,
) -> None:  # fmt: skip
    config = write_config(tmp_path, mosquitto, smtp, webhook)
    service = start_service(tmp_path, mosquitto, config)
    board = Recorder(mosquitto, topics.service_alert("alerts-1"))
    publish(mosquitto, topics.event("home-a001-hub"), press("home-a001-hub"))
    mail = wait_for(lambda: smtp.to(FAMILY_A001), what="the family's e-mail")[0]
    assert "緊急ボタンが押されました" in mail.subject and "至急" in mail.subject
    assert "網走 一郎さん" in mail.body and "119" in mail.body
    lines = mail.body.splitlines()  # one paragraph no more: each line arrives as a line
    assert lines[0].startswith("見守り宅 A001") and lines[1] == "緊急ボタンが押されました"
    link = re.search(r"http://\S+/ack/\d+\?\S+", mail.body)
    assert link, mail.body
    # The HTML part: the headline large, a button to the page, 119 as a tel: link.
    assert '<strong style="font-size:24px">緊急ボタンが押されました</strong>' in mail.html
    assert re.search(r'<a href="http://\S+/ack/\d+\?[^"]+" style="display:block[^"]*">対応します',
                     mail.html), mail.html  # fmt: skip
    assert '<a href="tel:119">119</a>' in mail.html
    with urllib.request.urlopen(link[0], timeout=10) as page:  # GET only shows it
        shown = page.read().decode()
    assert "<button>対応します</button>" in shown and "まだ誰も対応していません" in shown
    form = urllib.parse.urlsplit(link[0])
    post = f"{form.scheme}://{form.netloc}{form.path}"
    with urllib.request.urlopen(post, data=form.query.encode(), timeout=10) as page:
        taken = page.read().decode()
        assert re.search(r"対応中 — 網走 花子さんが \d\d:\d\d に対応しました", taken), taken
        assert "ケアマネジャー、市の担当者への連絡は止まりました" in taken
        assert "<button>" not in taken
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    with urllib.request.urlopen(link[0], timeout=10) as page:  # over: nothing personal
        again = page.read().decode()
    assert "解消" in again and "網走" not in again and "<button>" not in again
    expired = re.sub(r"exp=\d+", "exp=1000000000", link[0])
    with pytest.raises(urllib.error.HTTPError) as old:
        urllib.request.urlopen(expired, timeout=10)
    assert old.value.code == 403  # the expiry is signed: changing it breaks the link
    listed = cli("alerts", "list", "--config", str(config), "--all")
    assert re.search(r"resolved\s+life-safety\s+panic\s+home-a001\s+.*網走 花子", listed), listed
    forged = link[0].replace("who=", "who=x")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 403
    states = wait_for(lambda: _states(board) if len(_states(board)) >= 2 else None,
                      what="the alert's states for the dashboards")  # fmt: skip
    assert [(s.rule, s.site, s.state) for s in states] == [
        ("panic", "home-a001", "firing"), ("panic", "home-a001", "resolved")
    ]  # fmt: skip
    board.close()
    assert service.terminate() == 0


def _states(recorder: Recorder) -> list[AlertState]:
    return [decode(payload, AlertState) for _, payload, _ in recorder.snapshot()]


def test_a_restart_neither_forgets_nor_notifies_again(
    tmp_path: Path, mosquitto: Mosquitto, smtp: SmtpCatcher,
    webhook: WebhookReceiver,
) -> None:  # fmt: skip
    config = write_config(tmp_path, mosquitto, smtp, webhook)
    service = start_service(tmp_path, mosquitto, config)
    publish(mosquitto, topics.event("home-a001-hub"), press("home-a001-hub"))
    wait_for(lambda: smtp.to(FAMILY_A001), what="the first e-mail")
    assert service.terminate() == 0
    service = start_service(tmp_path, mosquitto, config)
    publish(mosquitto, topics.event("home-a001-hub"), press("home-a001-hub"))  # still open
    listed = cli("alerts", "list", "--config", str(config))
    assert "firing" in listed and "1 alert(s)" in listed
    alert_id = re.search(r"^\s+(\d+)\s+firing", listed, re.MULTILINE)
    assert alert_id
    cli("alerts", "ack", alert_id[1], "--config", str(config), "--by", "IT console")
    assert "0 alert(s)" in cli("alerts", "list", "--config", str(config))
    assert service.terminate() == 0
    assert len(smtp.to(FAMILY_A001)) == 1


def test_a_failed_delivery_and_an_offline_device_reach_it(
    tmp_path: Path, mosquitto: Mosquitto, smtp: SmtpCatcher,
    webhook: WebhookReceiver,
) -> None:  # fmt: skip
    smtp.refuse.add("ben@example.com")
    rules = tmp_path / "rules"
    rules.mkdir()
    # Offline counts from when the news arrives; 0.05 min keeps the test short.
    override = DEFAULT_RULES / "facility.yaml"
    (rules / "fast.yaml").write_text(
        override.read_text(encoding="utf-8").replace("after_min: 10", "after_min: 0.05"),
        encoding="utf-8",
    )
    config = write_local_config(
        tmp_path, "alerts-1", MqttConfig(host=mosquitto.host, port=mosquitto.port),
        email={"url": smtp.url()}, it_channels=[webhook.url()], delivery_attempts=2,
        tick_s=0.3, rule_dirs=[str(rules)],
    )  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    publish(mosquitto, topics.event("home-a003-hub"), press("home-a003-hub"))
    failed = wait_for(
        lambda: [b for b in webhook.bodies if "delivery failed" in b.get("title", "")],
        timeout_s=40,
        what="IT told of the failed e-mail",
    )
    # IT hears who by pseudonymous ID, never a name or an address.
    assert "r-a003/family" in failed[0]["message"] and "mailto" in failed[0]["message"]
    assert all("Okhotsk" not in body.get("message", "") + body.get("title", "")
               for body in webhook.bodies)  # fmt: skip
    store = Path(load_alerts_config(config).state_dir) / "alerts.sqlite3"
    assert store.stat().st_mode & 0o077 == 0
    gone = now_ms() - 3 * 86_400_000  # a last will carries when the agent connected
    status = Status(schema=1, state="offline", ts=gone, agent="civic-iot-edge/0.1.0")
    publish(mosquitto, topics.status("lib-central-wifi1"), encode(status), retain=True)
    offline = wait_for(
        lambda: [b for b in webhook.bodies if "から接続がありません" in b.get("message", "")
                 and "図書館" in b.get("title", "")],
        what="IT told of the offline device",
    )  # fmt: skip
    assert "から接続がありません" in offline[0]["message"], offline[0]["message"]
    listed = cli("alerts", "list", "--config", str(config))
    alert_id = re.search(
        r"^\s+(\d+)\s+firing\s+\S+\s+facility-device-offline", listed, re.MULTILINE
    )
    assert alert_id, listed
    ack = AlertAck(schema=1, alert_id=int(alert_id[1]), by="IT monitor", ts=now_ms())
    publish(mosquitto, topics.service_ack("alerts-1"), encode(ack))
    wait_for(
        lambda: re.search(r"acknowledged .* IT monitor", cli("alerts", "list", "--config",
                                                            str(config))),
        what="the acknowledgement over MQTT",
    )  # fmt: skip
    assert service.terminate() == 0


def test_refused_messages_are_counted_dead_lettered_and_shown_on_metrics_and_healthz(
    tmp_path: Path, mosquitto: Mosquitto, smtp: SmtpCatcher,
    webhook: WebhookReceiver,
) -> None:  # fmt: skip
    config = write_config(tmp_path, mosquitto, smtp, webhook)
    service = start_service(tmp_path, mosquitto, config)
    letters = Recorder(mosquitto, topics.dead_letter("alerts-1"))
    future = Message(schema=1, seq=1, ts=now_ms() + 3_600_000,
                     readings=[Reading("motion.detected", True, "1", sensor="bedroom")])  # fmt: skip
    publish(mosquitto, topics.event("home-a001-hub"), encode(future))
    publish(mosquitto, topics.telemetry("home-a001-hub"), b"\x00" * 50_000)
    publish(mosquitto, topics.event("home-a001-hub"), press("home-a001-hub"))
    wait_for(lambda: smtp.to(FAMILY_A001), what="the press after two refused messages")
    dead = wait_for(lambda: len(letters.snapshot()) >= 2 and letters.snapshot(),
                    what="two dead letters")  # fmt: skip
    reasons = [decode(payload, DeadLetter) for _, payload, _ in dead]
    assert "ahead of the receiver" in reasons[0].reason and reasons[0].where == "$.ts"
    assert len(reasons[1].payload) < 10_000  # a 50 kB payload is not echoed whole
    base = json.loads(config.read_text())["base_url"]
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as answer:
        health = json.loads(answer.read())
    assert health["status"] in ("ok", "degraded") and health["broker_connected"] == 1
    assert health["refused"] >= 2
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
        metrics = answer.read().decode()
    assert re.search(r"^civic_alerts_refused_total [2-9]", metrics, re.MULTILINE), metrics
    letters.close()
    assert service.terminate() == 0
