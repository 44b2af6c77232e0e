"""Run a real agent process for a test, with its own state directory."""

from __future__ import annotations

from pathlib import Path

from civic_iot.children import CliProcess

DEVICE = "home-a001-hub"


def write_config(tmp: Path, port: int, extra: str = "", collectors: str = "") -> Path:
    path = tmp / "agent.yaml"
    path.write_text(
        f"""device_id: {DEVICE}
state_dir: state
health_interval_s: 1
reconnect_max_s: 1
mqtt: {{host: 127.0.0.1, port: {port}, keepalive_s: 5}}
{extra}
collectors:
{collectors or '''  - {type: simulated, interval_s: 0.05, kinds: [climate], rooms: [kitchen]}'''}
""",
        encoding="utf-8",
    )
    return path


def busy_collectors(rooms: int = 4) -> str:
    """Collectors that store about 20 messages per second each."""
    return "".join(
        f"  - {{type: simulated, name: room{n}, interval_s: 0.05, kinds: [climate], rooms: [r{n}]}}\n"
        for n in range(rooms)
    )


def start_agent(tmp: Path, config: Path, log_name: str = "agent.log") -> CliProcess:
    return CliProcess(tmp / log_name, "edge", "run", "--config", str(config))
