"""Contacts with only a phone are texted and called (Twilio's API, a local stand-in that
checks requests as Twilio documents them); pressing 1 on the call acknowledges; the
residents check says when a step of a chain reaches nobody."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from civic_iot.catchers import SmtpCatcher, WebhookReceiver
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto
from civic_iot.standins.twilio_api import TwilioStandIn
from common.mqttlink import MqttConfig
from tests.alerts.live import HANAKO as FAMILY_CONTACT
from tests.alerts.live import press_call_button, residents_with, start_service
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services
SID, TOKEN = "AC" + "5" * 32, "twilio-auth-token"
HANAKO = "+81152000009"  # 網走 花子, the family: a phone and nothing else
CARE_MANAGER = "care-a@example.jp"


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn(SID, TOKEN)
    yield stand_in
    stand_in.close()


def phone_only_family(directory: Path) -> Path:
    return residents_with(directory / "phone-only.yaml", FAMILY_CONTACT,
                          f'name: 網走 花子, phone: "{HANAKO}"')  # fmt: skip


def phone_settings(tmp_path: Path, twilio: TwilioStandIn) -> dict[str, object]:
    token = tmp_path / "twilio-token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    token.chmod(0o600)
    return {"account_sid": SID, "auth_token_file": str(token), "from_number": "+815012345678",
            "api_url": twilio.url}  # fmt: skip


def test_a_family_with_only_a_phone_is_texted_and_called_and_pressing_1_acknowledges(
    tmp_path: Path, mosquitto: Mosquitto, twilio: TwilioStandIn
) -> None:
    smtp, hook = SmtpCatcher(), WebhookReceiver()
    config = write_local_config(
        tmp_path, "alerts-1", MqttConfig(host=mosquitto.host, port=mosquitto.port),
        email={"url": smtp.url()}, it_channels=[hook.url()], tick_s=0.3,
        residents=str(phone_only_family(tmp_path)), phone=phone_settings(tmp_path, twilio),
    )  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    try:
        press_call_button(mosquitto)
        text = wait_for(lambda: twilio.texts(HANAKO), what="the SMS to the family")[0]
        assert "緊急ボタンが押されました" in text.body and "網走 一郎さん" in text.body
        assert "\n" in text.body and "/ack/" in text.body  # lines kept, the link to tap
        call = wait_for(lambda: twilio.calls(HANAKO), what="the call to the family")[0]
        assert 'language="ja-JP"' in call.body and "緊急ボタンが押されました" in call.body
        assert "1 を押してください" in call.body and "http" not in call.body.split("<Gather")[0]
        assert "ありがとうございます" in twilio.press(call, "1")
        listed = subprocess.run(
            [sys.executable, "-m", "civic_iot", "alerts", "list", "--config", str(config), "--all"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "網走 花子" in listed and "resolved" in listed, listed
        assert not smtp.to(CARE_MANAGER)  # acknowledged: the next step is never called
        assert twilio.refused == []
    finally:
        assert service.terminate() == 0, service.log()
        smtp.close()
        hook.close()


def test_another_key_acknowledges_nothing(
    tmp_path: Path, mosquitto: Mosquitto, twilio: TwilioStandIn
) -> None:
    config = write_local_config(
        tmp_path, "alerts-1", MqttConfig(host=mosquitto.host, port=mosquitto.port), tick_s=0.3,
        residents=str(phone_only_family(tmp_path)), phone=phone_settings(tmp_path, twilio),
    )  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    try:
        press_call_button(mosquitto)
        call = wait_for(lambda: twilio.calls(HANAKO), what="the call")[0]
        assert "記録されませんでした" in twilio.press(call, "2")
        listed = subprocess.run(
            [sys.executable, "-m", "civic_iot", "alerts", "list", "--config", str(config)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "firing" in listed, listed
    finally:
        assert service.terminate() == 0, service.log()


def test_residents_check_fails_when_a_step_reaches_nobody_on_the_citys_channels(
    tmp_path: Path, twilio: TwilioStandIn
) -> None:
    residents = phone_only_family(tmp_path)
    mail_only = write_local_config(tmp_path / "mail-only", "alerts-1", MqttConfig(),
                                   email={"url": "mailto://127.0.0.1:25"})  # fmt: skip
    with_phone = write_local_config(tmp_path / "phone", "alerts-1", MqttConfig(),
                                    email={"url": "mailto://127.0.0.1:25"},
                                    phone=phone_settings(tmp_path, twilio))  # fmt: skip

    def check(config: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "civic_iot", "residents", "check", "--file", str(residents),
             "--alerts-config", str(config)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    refused = check(mail_only)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert ("home-a001 step 0 (family) reaches nobody: its contacts have only phone; "
            "the city's channels: email") in refused.stderr  # fmt: skip
    assert HANAKO not in refused.stderr and "網走" not in refused.stderr
    accepted = check(with_phone)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.rstrip().endswith("OK")
