"""Remote config and commands: a real agent process, a real broker, IT's Fleet client."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic_iot.children import CliProcess
from civic_iot.services import Mosquitto
from common.mqttlink import MqttConfig
from gateway.fleet import Fleet, FleetError
from tests.edge.agent_process import DEVICE, start_agent, write_config
from tests.support.mqtt import Recorder, publish, wait_for
from wire import CommandRequest, Status, decode, encode, now_ms, topics

pytestmark = pytest.mark.services
DOORS = {
    "collectors": [{"type": "simulated", "interval_s": 0.1, "kinds": ["door"], "event_rate": 1.0}]
}


def fleet(broker: Mosquitto) -> Fleet:
    return Fleet(MqttConfig(host=broker.host, port=broker.port), client_id="it-test")


def wait_online(broker: Mosquitto) -> None:
    with fleet(broker) as it:
        wait_for(
            lambda: (s := it.retained(DEVICE, 0.5).status) is not None and s.state == "online",
            what="agent online",
        )


def test_desired_config_is_applied_without_restart_and_survives_one(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_online(mosquitto)
    events = Recorder(mosquitto, topics.event(DEVICE))
    pid = agent.pid
    with fleet(mosquitto) as it:
        report = it.push_config(DEVICE, DOORS, timeout_s=15)
        assert (report.state, report.version, report.desired) == ("applied", 1, 1)
        wait_for(events.snapshot, what="door events from the new collector")
        assert agent.pid == pid and agent.running
        running = it.command(DEVICE, "get-config", {})
        assert running.result == {"version": 1, "collectors": DOORS["collectors"]}
    assert agent.terminate() == 0
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port), "agent2.log")
    with fleet(mosquitto) as it:
        wait_for(
            lambda: it.command(DEVICE, "get-config", {}).result["version"] == 1, what="v1 kept"
        )
    agent.terminate()
    events.close()


def test_a_bad_desired_config_is_rejected_with_the_reason_and_the_old_one_kept(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_online(mosquitto)
    bad = {"collectors": [{"type": "simulated", "intervall": 5}]}
    with fleet(mosquitto) as it:
        report = it.push_config(DEVICE, bad, version=7, timeout_s=15)
        assert (report.state, report.version, report.desired) == ("rejected", 0, 7)
        assert "desired config version 7: collectors[0].intervall: unknown key" in report.error
        assert it.command(DEVICE, "get-config", {}).result["version"] == 0
        view = it.retained(DEVICE)
        assert view.reported is not None and view.reported.error == report.error
    assert agent.running
    assert "rejected desired config version 7" in agent.log()
    agent.terminate()


def test_an_offline_device_catches_up_when_it_reconnects(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    with (
        fleet(mosquitto) as it,
        pytest.raises(FleetError, match="will pick it up when it connects"),
    ):
        it.push_config(DEVICE, DOORS, version=3, timeout_s=1)
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    with fleet(mosquitto) as it:
        wait_for(
            lambda: (r := it.retained(DEVICE, 0.5).reported) is not None and r.version == 3,
            what="the device to apply version 3 after connecting",
        )
    agent.terminate()


def test_commands_answer_with_the_correlation_data(tmp_path: Path, mosquitto: Mosquitto) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_online(mosquitto)
    with fleet(mosquitto) as it:
        ping = it.command(DEVICE, "ping", {})
        assert ping.ok and ping.result["agent"].startswith("civic-iot-edge/")
        assert ping.result["config_version"] == 0
        collected = it.command(DEVICE, "collect-now", {"collector": "simulated"})
        assert collected.ok and collected.result["readings"] == 3  # one room: t, rh, battery
        unknown = it.command(DEVICE, "self-destruct", {})
        assert not unknown.ok
        assert (
            unknown.error
            == "unknown command 'self-destruct'; known: collect-now, diag, forget-kept, "
            "get-config, logs, ping, resend, restart-agent"
        )
        missing = it.command(DEVICE, "collect-now", {"collector": "radar"})
        assert missing.error == "no collector named 'radar'"
        # The numbers the collect-now above used went out and were acknowledged: the
        # agent sends them again when asked; nonsense is refused with what is wrong.
        resent = it.command(DEVICE, "resend", {"ranges": [[0, 10**6]]})
        assert resent.ok and resent.result["requeued"] >= 1, resent
        backwards = it.command(DEVICE, "resend", {"ranges": [[9, 3]]})
        assert "[9, 3] runs backwards" in backwards.error
        assert "Expected `array`" in it.command(DEVICE, "resend", {"ranges": "all"}).error
    agent.terminate()


def test_only_its_own_command_topic_is_obeyed(tmp_path: Path, mosquitto: Mosquitto) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_online(mosquitto)
    answers = Recorder(mosquitto, topics.all_devices(topics.Kind.COMMAND_RESPONSE))
    request = encode(CommandRequest(schema=1, command="restart-agent", ts=now_ms()))
    publish(mosquitto, topics.command_request("home-a002-hub"), request)
    with fleet(mosquitto) as it:
        assert it.command(DEVICE, "ping", {}).ok  # it is listening, and answered only this
    # The recorder gets its own copy of the answer a moment after the fleet client.
    wait_for(answers.snapshot, what="the recorder's copy of the answer")
    assert [t for t, _, _ in answers.snapshot()] == [topics.command_response(DEVICE)]
    assert agent.running
    answers.close()
    agent.terminate()


def test_restart_agent_restarts_the_process_in_place(tmp_path: Path, mosquitto: Mosquitto) -> None:
    agent = start_agent(tmp_path, write_config(tmp_path, mosquitto.port))
    wait_online(mosquitto)
    statuses = Recorder(mosquitto, topics.status(DEVICE))
    with fleet(mosquitto) as it:
        assert it.command(DEVICE, "restart-agent", {}).result == {"restarting": True}

    def births() -> int:
        return sum(decode(p, Status).state == "online" for _, p, _ in statuses.snapshot())

    wait_for(lambda: births() >= 2, what="a second birth message after the restart")
    assert agent.running and agent.pid == agent.process.pid
    assert "restarting the agent, as a command asked" in agent.log()
    statuses.close()
    agent.terminate()


def test_a_new_config_takes_over_the_pins_the_old_one_held(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """The old collectors are closed before the new ones claim the same GPIO pins; a
    config whose hardware cannot start is rejected and the old one runs again."""
    door = "  - {type: gpio, inputs: [{name: entrance, kind: door, pin: 17}]}"
    stand_ins = tmp_path / "stand-ins.json"
    stand_ins.write_text('{"gpio": true}', encoding="utf-8")
    config = write_config(tmp_path, mosquitto.port, collectors=door)
    agent = CliProcess(
        tmp_path / "agent.log",
        "edge",
        "run",
        "--config",
        str(config),
        "--stand-ins",
        str(stand_ins),
    )
    wait_online(mosquitto)
    same_pins = {
        "collectors": [
            {
                "type": "gpio",
                "interval_s": 5,
                "inputs": [{"name": "front", "kind": "door", "pin": 17}],
            }
        ]
    }
    one_pin_twice = {
        "collectors": [
            {
                "type": "gpio",
                "inputs": [
                    {"name": "front", "kind": "door", "pin": 17},
                    {"name": "back", "kind": "door", "pin": 17},
                ],
            }
        ]
    }
    with fleet(mosquitto) as it:
        report = it.push_config(DEVICE, same_pins, timeout_s=15)
        assert (report.state, report.version) == ("applied", 1)
        report = it.push_config(DEVICE, one_pin_twice, version=2, timeout_s=15)
        assert (report.state, report.version, report.desired) == ("rejected", 1, 2)
        assert "desired config version 2" in report.error and "17" in report.error
        running = it.command(DEVICE, "get-config", {}).result
        assert running["version"] == 1
        state = it.command(DEVICE, "collect-now", {"collector": "gpio"})
        assert state.ok, state
    assert agent.running
    agent.terminate()
