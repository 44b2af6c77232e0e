import shutil
import subprocess
import sys
from pathlib import Path

from civic_iot.demo_alerts import write_local_config
from common.mqttlink import MqttConfig
from gateway import config


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civic_iot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_config_mistake_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("device_id: d1\nmqtt:\n  prot: 1883\n", encoding="utf-8")
    result = run("edge", "run", "--config", str(path))
    assert result.returncode == 2
    assert f"{path}:3: mqtt.prot: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_accepts_the_example(repo_root: Path) -> None:
    result = run("edge", "check-config", str(repo_root / "edge" / "examples" / "agent.yaml"))
    assert result.returncode == 0, result.stderr
    assert "OK: device home-a001-hub" in result.stdout


def test_inventory_check_lists_the_example_city() -> None:
    result = run("inventory", "check")
    assert result.returncode == 0, result.stderr
    assert "網走市立図書館" in result.stdout
    assert "7 sites, 9 devices: OK" in result.stdout


def test_collect_prints_readings_without_a_broker(repo_root: Path) -> None:
    result = run("edge", "collect", "--config", str(repo_root / "edge" / "examples" / "agent.yaml"))
    assert result.returncode == 0, result.stderr
    assert '"quantity":"system.uptime"' in result.stdout
    assert '"quantity":"climate.temperature"' in result.stdout


def test_the_documented_gateway_example_loads(repo_root: Path) -> None:
    loaded = config.load(repo_root / "gateway" / "examples" / "gateway.yaml")
    assert loaded.influx.databases.watch_over == "civic_watch"
    assert Path(loaded.inventory) == (repo_root / "firmware-config").resolve()


def test_the_bootstrap_puts_civic_iot_on_path_for_pasted_commands() -> None:
    places = [Path("/usr/local/bin/civic-iot"), Path("~/.local/bin/civic-iot").expanduser()]
    shim = next((str(p) for p in places if p.exists()), None) or shutil.which("civic-iot")
    assert shim, "scripts/bootstrap installs a civic-iot shim"
    result = subprocess.run([shim, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("civic-iot ")


def test_japanese_output_has_no_english_words_a_clerk_would_trip_on(tmp_path: Path) -> None:
    alerts = write_local_config(tmp_path, "alerts-1", MqttConfig())
    outputs = [
        run("--lang", "ja", "inventory", "check").stdout,
        run("--lang", "ja", "alerts", "rules", "--config", str(alerts)).stdout,
        run("--lang", "ja", "alerts", "list", "--config", str(alerts)).stdout,
        run("--lang", "ja", "edge", "check-config",
            str(Path(__file__).parents[1] / "edge" / "examples" / "agent.yaml")).stdout,
    ]  # fmt: skip
    english = ("OK", " sites", " devices", "rules in force", "alert(s)", "STATE", "SEVERITY",
               "every ", "collectors:", "FIRED")  # fmt: skip
    for output in outputs:
        assert not [word for word in english if word in output], output
    assert "拠点" in outputs[0] and "件のルールが有効" in outputs[1] and "件の通知" in outputs[2]
    assert "秒ごと" in outputs[3]


def _english_helps() -> list[str]:
    """Every help text and description the command line is written with."""
    from civic_iot.cli import _parser  # noqa: PLC0415
    from civic_iot.localparser import help_actions, help_parsers  # noqa: PLC0415

    texts = []
    for parser in help_parsers(_parser()):
        texts += [parser.description] if parser.description else []
        texts += [a.help for a in help_actions(parser) if a.help and a.help != "==SUPPRESS=="]
    return texts


def test_every_help_text_has_its_japanese() -> None:
    from civic_iot.words_help import HELP_JA  # noqa: PLC0415

    missing = sorted({text for text in _english_helps() if text not in HELP_JA})
    assert missing == [], "help texts without Japanese (civic_iot/words_help.py)"


def test_help_and_usage_mistakes_in_japanese_when_asked() -> None:
    helped = run("--lang", "ja", "alerts", "silence", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("使い方: civic-iot alerts silence")
    assert "オプション:" in helped.stdout and "現地時刻" in helped.stdout
    assert "options:" not in helped.stdout and "local time" not in helped.stdout
    mistake = run("--lang=ja", "alerts", "ack", "17")
    assert mistake.returncode == 2
    assert "エラー: 次の引数が必要です: --config, --by" in mistake.stderr
    english = run("--lang", "en", "alerts", "ack", "17")
    assert "error: the following arguments are required: --config, --by" in english.stderr


def test_a_config_mistake_in_japanese_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("device_id: d1\nmqtt:\n  prot: 1883\n", encoding="utf-8")
    result = run("--lang", "ja", "edge", "run", "--config", str(path))
    assert result.returncode == 2
    assert f"設定の誤り: {path} 3 行目: mqtt.prot: 知らないキーです" in result.stderr
    path.write_text("device_id: 7\n", encoding="utf-8")
    result = run("--lang", "ja", "edge", "run", "--config", str(path))
    assert f"{path} 1 行目: device_id: str が必要ですが、int でした" in result.stderr
    result = run("--lang", "ja", "edge", "run", "--config", str(tmp_path / "none.yaml"))
    assert f"{tmp_path / 'none.yaml'}: ファイルがありません" in result.stderr
