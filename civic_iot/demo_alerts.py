"""The demo's alerts: the service with a local mail catcher and webhook receiver, and
the incidents that make each audience's alerts fire and resolve.

- caregivers: the call button at a home is held down (a stand-in presses the GPIO pin);
  the family's e-mail carries a link, and the demo acknowledges through it;
- facility staff: the Internet behind a facility's Wi-Fi fails for a few seconds;
- IT: the home the scenario cuts off goes offline and comes back.
"""

from __future__ import annotations

import re
import shutil
import threading
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import msgspec

from civic_iot.catchers import SmtpCatcher, WebhookReceiver
from civic_iot.children import CliProcess
from civic_iot.demo_scenario import say
from civic_iot.services import free_port
from civic_iot.standins.facility import ConnectivityCheck
from civic_iot.standins.line_api import LineStandIn
from civic_iot.standins.twilio_api import TwilioStandIn
from civic_iot.watch import wait_online
from common.mqttlink import MqttConfig
from wire import topics

REPO = Path(__file__).resolve().parents[1]
PANIC_DEVICE, PANIC_PIN, PANIC_AT_S = "home-a004-hub", 22, 3.0
# home-a004's chain starts with its care manager (examples/residents.fictitious.yaml)
PANIC_FIRST_CONTACT = "care-b@example.jp"
DEMO_TWILIO_SID, DEMO_TWILIO_TOKEN = "AC" + "d" * 32, "demo-auth-token"
DEMO_LINE_TOKEN = "demo-line-channel-access-token"  # noqa: S105 - a stand-in's, not a secret
DEMO_LINE_USER = "U" + "a004" * 8
INTERNET_DOWN_AT_S, INTERNET_DOWN_S = 4.0, 6.0


def write_local_config(
    config_dir: Path, alerts_id: str, mqtt: MqttConfig, **settings: object
) -> Path:
    """An alerts config for a run on this machine (demo, tests, benchmark): the example
    city, a copy of the fictitious residents file (mode 0600), the acknowledgement page
    on a free port, no quiet hours; ``settings`` add or replace keys."""
    config_dir.mkdir(parents=True, exist_ok=True)
    residents = config_dir / "residents.yaml"
    shutil.copy(REPO / "examples" / "residents.fictitious.yaml", residents)
    residents.chmod(0o600)
    port = free_port()
    body = {
        "alerts_id": alerts_id,
        "inventory": str(REPO / "firmware-config"),
        "residents": str(residents),
        "mqtt": msgspec.to_builtins(mqtt),
        "base_url": f"http://127.0.0.1:{port}",
        "http_listen": f"127.0.0.1:{port}",
        "quiet_hours": None,
        **settings,
    }
    path = config_dir / "alerts.yaml"
    path.write_text(msgspec.json.encode(body).decode(), encoding="utf-8")
    return path


def _give_line_to_the_panic_contact(residents: Path) -> None:
    """In the demo's copy of the residents file, the first contact of the home whose
    call button is pressed is on LINE too, so the demo shows every channel at once."""
    text = residents.read_text(encoding="utf-8")
    contact = "email: care-b@example.jp,"
    assert contact in text, "the example residents file changed: update the demo"
    residents.write_text(text.replace(contact, f"{contact} line_user_id: {DEMO_LINE_USER},"),
                         encoding="utf-8")  # fmt: skip


def panic_press() -> dict[str, list[dict[str, float]]]:
    """Stand-ins for the panic device: its call button held down once."""
    return {"gpio_presses": [{"pin": PANIC_PIN, "after_s": PANIC_AT_S, "hold_s": 3.5}]}


class DemoAlerts:
    def __init__(self, state: Path, mqtt: tuple[str, MqttConfig], running: ExitStack) -> None:
        self.smtp = SmtpCatcher(save_to=state / "mail")
        running.callback(self.smtp.close)
        self.webhook = WebhookReceiver()
        running.callback(self.webhook.close)
        # Contacts with a phone get an SMS and a call, through a stand-in of Twilio's API.
        self.phone = TwilioStandIn(DEMO_TWILIO_SID, DEMO_TWILIO_TOKEN)
        running.callback(self.phone.close)
        # Contacts on LINE get a push with a button, through a stand-in of LINE's API.
        self.line = LineStandIn(DEMO_LINE_TOKEN)
        running.callback(self.line.close)
        line_token = state / "config" / "line-token"
        token = state / "config" / "twilio-auth-token"
        token.parent.mkdir(parents=True, exist_ok=True)
        token.write_text(DEMO_TWILIO_TOKEN, encoding="utf-8")
        token.chmod(0o600)
        line_token.write_text(DEMO_LINE_TOKEN, encoding="utf-8")
        line_token.chmod(0o600)
        rules = state / "config" / "alert-rules"
        rules.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(__file__).parent / "demo-alert-rules.yaml", rules / "demo.yaml")
        self.config = write_local_config(
            state / "config",
            *mqtt,
            rule_dirs=[str(rules)],
            state_dir=str(state / "alerts"),
            secret_file=str(state / "alerts" / "ack-secret"),
            email={"url": self.smtp.url()},
            it_channels=[self.webhook.url()],
            phone={
                "account_sid": DEMO_TWILIO_SID,
                "auth_token_file": str(token),
                "from_number": "+815012345678",
                "api_url": self.phone.url,
            },
            line={"token_file": str(line_token), "api_url": self.line.url},
            tick_s=1.0,
            group_wait_s=1.0,
        )
        _give_line_to_the_panic_contact(state / "config" / "residents.yaml")
        self.service = CliProcess(
            state / "logs" / "alerts.log", "alerts", "run", "--config", str(self.config)
        )
        running.callback(self.service.terminate)
        if not wait_online(mqtt[1], topics.service_status(mqtt[0])):
            raise SystemExit(f"the alerts service did not start; see {self.service.log_path}")
        self._stop = threading.Event()
        running.callback(self._stop.set)

    def start_incidents(self, check: ConnectivityCheck) -> None:
        threading.Thread(target=self._internet_outage, args=(check,), daemon=True).start()
        threading.Thread(target=self._acknowledge_panic, daemon=True).start()

    def banner(self) -> list[str]:
        return [
            f"  alerts:                 {self.service.log_path} (civic-iot alerts list "
            f"--config {self.config})",
            f"  alert mail (caught):    {self.smtp.save_to}/*.eml; IT webhook on "
            f"127.0.0.1:{self.webhook.port}",
        ]

    def report(self) -> None:
        print("\nalert notifications delivered:", flush=True)
        for mail in self.smtp.mails:
            print(f"  mail to {', '.join(mail.to)}: {mail.subject}")
        for pushed in self.line.pushed:
            first = pushed.messages[0].get("text", "").splitlines()[0]
            print(f"  LINE to {pushed.to[:9]}…: {first[:80]} (with a button 対応します)")
        for sent in self.phone.sent:
            first_line = sent.body.splitlines()[0] if sent.kind == "sms" else "reads the alert"
            what = "SMS" if sent.kind == "sms" else "call (press 1 to acknowledge)"
            print(f"  {what} to {sent.to}: {first_line[:80]}")
        for body in self.webhook.bodies:
            print(f"  IT webhook: {body.get('title', '')}")
        print(flush=True)

    # -- incidents -----------------------------------------------------------------------

    def _internet_outage(self, check: ConnectivityCheck) -> None:
        if self._stop.wait(INTERNET_DOWN_AT_S):
            return
        say(f"facilities: the Internet behind the public Wi-Fi fails for {INTERNET_DOWN_S:g} s")
        check.outage(INTERNET_DOWN_S)

    def _acknowledge_panic(self) -> None:
        """Act as the first contact: open the link in the e-mail and press the button."""
        while not self._stop.wait(0.5):
            mails = [m for m in self.smtp.to(PANIC_FIRST_CONTACT) if "緊急ボタン" in m.subject]
            link = re.search(r"http://\S+/ack/\d+\?\S+", mails[0].body) if mails else None
            if link is None:
                continue
            say(
                f"{PANIC_DEVICE}: the call button was held; {PANIC_FIRST_CONTACT} got: "
                f"{mails[0].subject}"
            )
            parts = urllib.parse.urlsplit(link[0])
            target = f"{parts.scheme}://{parts.netloc}{parts.path}"
            with urllib.request.urlopen(target, data=parts.query.encode(), timeout=10):  # noqa: S310
                pass
            who = urllib.parse.parse_qs(parts.query)["who"][0]
            say(f"{PANIC_DEVICE}: {who} acknowledged through the link {link[0]}")
            return

    # -- set-up --------------------------------------------------------------------------
