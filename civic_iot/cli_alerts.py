"""`civic-iot alerts`: run the alerts service, list alerts, acknowledge one."""

from __future__ import annotations

import argparse
import logging
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from civic_iot.terminal import table
from civic_iot.words import word
from common.labels import SEVERITY_LABELS
from common.yamlconf import ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = commands.add_parser("alerts", help="watch-over and facility alerts").add_subparsers()
    run = alerts.add_parser("run", help="run the alerts service until SIGTERM or Ctrl-C")
    run.add_argument("--config", type=Path, required=True)
    run.set_defaults(handler=_run)
    listing = alerts.add_parser("list", help="open alerts (all with --all)")
    listing.add_argument("--config", type=Path, required=True)
    listing.add_argument("--all", action="store_true")
    listing.set_defaults(handler=_list)
    ack = alerts.add_parser("ack", help="acknowledge an alert (stops its escalation)")
    ack.add_argument("alert_id", type=int)
    ack.add_argument("--config", type=Path, required=True)
    ack.add_argument("--by", required=True, help="who takes care of it")
    ack.set_defaults(handler=_ack)
    away = alerts.add_parser("away", help="a resident is away: no inactivity alerts until then")
    away.add_argument("site")
    away.add_argument("--config", type=Path, required=True)
    when = away.add_mutually_exclusive_group(required=True)
    when.add_argument("--until", help="local time, 'YYYY-MM-DD HH:MM'")
    when.add_argument("--clear", action="store_true", help="the resident is back")
    away.add_argument("--note", default="")
    away.set_defaults(handler=_away)
    silence = alerts.add_parser("silence", help="no notifications for a site/rule for a while")
    silence.add_argument("--config", type=Path, required=True)
    silence.add_argument("--site", default="", help="all sites when left out")
    silence.add_argument("--rule", default="", help="all rules when left out")
    silence.add_argument("--from", dest="start", help="local time, default now")
    silence.add_argument("--until", required=True, help="local time, 'YYYY-MM-DD HH:MM'")
    silence.add_argument("--reason", required=True)
    silence.add_argument("--by", required=True)
    silence.set_defaults(handler=_silence)
    replay = alerts.add_parser(
        "replay",
        help="run a recorded stream through the rules on virtual time; write what would "
        "have been delivered (sends nothing, needs no broker)",
    )
    replay.add_argument("--config", type=Path, required=True, help="an alerts run config")
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="STREAM.jsonl")
    source.add_argument("--influx-config", type=Path,
                        help="a gateway config: rebuild the stream from InfluxDB")  # fmt: skip
    replay.add_argument("--site", help="with --influx-config: the site to replay")
    replay.add_argument("--from", dest="start", help="with --influx-config: first day (local)")
    replay.add_argument("--to", dest="end", help="with --influx-config: last day (local)")
    replay.add_argument("--out", type=Path, required=True, help="NOTIFICATIONS.jsonl")
    replay.add_argument("--state-dir", type=Path, help="keep the state here (default: temporary)")
    replay.add_argument("--tick-s", type=float, default=60.0, help="virtual tick (default 60)")
    replay.set_defaults(handler=_replay)
    rules = alerts.add_parser("rules", help="validate and list the rules in force")
    rules.add_argument("--config", type=Path, required=True)
    rules.set_defaults(handler=_rules)


def _run(args: argparse.Namespace) -> int:
    from alerts import config
    from alerts.service import AlertsService
    from common.city.inventory import load_inventory
    from common.city.residents import load_residents
    from common.signals import stop_on_signals

    alerts_config = config.load(args.config)
    inventory = load_inventory(Path(alerts_config.inventory))
    directory = load_residents(Path(alerts_config.residents), inventory)
    for warning in directory.warnings:
        logging.getLogger("civic_iot.alerts").warning("%s", warning)
    AlertsService(alerts_config, inventory, directory).run(stop_on_signals())
    return 0


def _replay(args: argparse.Namespace) -> int:
    from alerts.replay import replay_to_file

    stream = args.input or _stream_from_influx(args)
    result = replay_to_file(args.config, stream, args.out, args.state_dir, args.tick_s)
    for line in result.table:
        print(line)
    print(
        f"\n{result.inputs} inputs, {len(result.delivered)} notifications -> {args.out}"
        f" ({result.refused} messages refused, {result.errors} failed)"
    )
    return 0


def _stream_from_influx(args: argparse.Namespace) -> Path:
    """STREAM.jsonl beside --out, rebuilt from the site's stored readings."""
    from datetime import date, timedelta

    from alerts.history import local_day_ms, write_stream
    from common.city.inventory import load_inventory
    from gateway import config
    from gateway.writers.v1 import V1Writer

    if not (args.site and args.start and args.end):
        raise ConfigError("--influx-config", "also needs --site, --from and --to")
    gateway = config.load(args.influx_config)
    if gateway.influx.dialect != "v1":
        raise ConfigError(str(args.influx_config), "replay reads with InfluxQL: influx.dialect v1")
    inventory = load_inventory(Path(gateway.inventory))
    site = inventory.sites.get(args.site)
    if site is None:
        raise ConfigError(args.site, f"no such site in {gateway.inventory}")
    try:
        end_day = (date.fromisoformat(args.end) + timedelta(days=1)).isoformat()
        span = (local_day_ms(args.start, site.timezone), local_day_ms(end_day, site.timezone))
    except ValueError as exc:
        raise ConfigError(f"{args.start}..{args.end}", f"expected YYYY-MM-DD: {exc}") from None
    database = gateway.influx.databases.of(site.zone)
    reader = V1Writer(gateway.influx.url, username=gateway.influx.username,
                      password=config.read_secret(gateway.influx.password_file))  # fmt: skip
    out: Path = args.out
    stream = out.with_name(out.stem + ".stream.jsonl")
    try:
        count = write_stream(reader.query, database, site.id, span, stream)
    finally:
        reader.close()
    print(f"{stream}: {count} messages of {site.id} from {database}, {args.start}..{args.end}")
    return stream


def _list(args: argparse.Namespace) -> int:
    from alerts import config, schedule
    from alerts.store import Store

    alerts_config = config.load(args.config)
    store = Store(Path(alerts_config.state_dir) / "alerts.sqlite3")
    rows = store.alerts(open_only=not args.all)
    lang = args.lang
    severities = SEVERITY_LABELS[lang] if lang == "ja" else {}
    # The ID right-aligned in five columns, as scripts that read this list expect.
    headers = [f"{word(lang, 'id'):>5}"]
    headers += [word(lang, k) for k in ("state", "severity", "rule", "site", "fired", "by")]
    print(table(
        headers,
        [[str(row.id), word(lang, row.state), severities.get(row.severity, row.severity),
          row.rule_id, row.site,
          schedule.local(row.fired_at, "Asia/Tokyo").strftime("%Y-%m-%d %H:%M"), row.acked_by]
         for row in rows], right=1,
    ))  # fmt: skip
    print(f"\n{word(lang, 'alerts', count=len(rows))}")
    store.close()
    return 0


def _ack(args: argparse.Namespace) -> int:
    """Through the running service's acknowledgement endpoint, so one process owns state."""
    from alerts import config
    from alerts.routing import Signer
    from wire import now_ms

    alerts_config = config.load(args.config)
    signer = Signer(Path(alerts_config.secret_file), alerts_config.base_url)
    expires = now_ms() // 1000 + 300
    signature = signer.signature(args.alert_id, args.by, expires)
    body = urllib.parse.urlencode({"who": args.by, "exp": expires, "sig": signature})
    url = f"http://{alerts_config.http_listen}/ack/{args.alert_id}"
    try:
        with urllib.request.urlopen(url, data=body.encode(), timeout=15) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise ConfigError(url, f"the alerts service answered HTTP {exc.code}") from None
    except OSError as exc:
        raise ConfigError(url, f"the alerts service is not reachable: {exc}") from None
    print(word(args.lang, "acked", alert=args.alert_id, by=args.by))
    return 0


def _rules(args: argparse.Namespace) -> int:
    from alerts import config
    from alerts.rules import DEFAULT_RULES, load_rules

    alerts_config = config.load(args.config)
    rules = load_rules([DEFAULT_RULES, *(Path(d) for d in alerts_config.rule_dirs)])
    lang = args.lang
    print(table(
        [word(lang, "rule"), word(lang, "kind"), word(lang, "severity"), word(lang, "audience"),
         ""],
        [[rule.id, type(rule).__name__, rule.severity, rule.audience,
          rule.title.ja if lang == "ja" else rule.title.en] for rule in rules.values()],
    ))  # fmt: skip
    print(f"\n{word(lang, 'rules', count=len(rules))}")
    return 0


def _local_ms(text: str, zone: str) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise ConfigError(text, f"expected a local time 'YYYY-MM-DD HH:MM' ({zone})") from None
    return int(moment.timestamp() * 1000)


def _away(args: argparse.Namespace) -> int:
    from alerts import config
    from alerts.store import Store
    from common.city.inventory import load_inventory

    alerts_config = config.load(args.config)
    inventory = load_inventory(Path(alerts_config.inventory))
    if args.site not in inventory.sites:
        raise ConfigError(args.site, f"no such site in {alerts_config.inventory}")
    until = None if args.clear else _local_ms(args.until, inventory.city.timezone)
    store = Store(Path(alerts_config.state_dir) / "alerts.sqlite3")
    store.set_away(args.site, until, args.note)
    store.close()
    print(f"{args.site}: " + ("back home" if until is None else f"away until {args.until}"))
    return 0


def _silence(args: argparse.Namespace) -> int:
    from alerts import config
    from alerts.store import Store
    from common.city.inventory import load_inventory
    from wire import now_ms

    alerts_config = config.load(args.config)
    zone = load_inventory(Path(alerts_config.inventory)).city.timezone
    start = _local_ms(args.start, zone) if args.start else now_ms()
    span = (start, _local_ms(args.until, zone))
    store = Store(Path(alerts_config.state_dir) / "alerts.sqlite3")
    silence_id = store.add_silence(args.site, args.rule, span, reason=args.reason, by=args.by)
    store.close()
    print(
        f"silence {silence_id}: {args.site or 'all sites'}, {args.rule or 'all rules'} "
        f"until {args.until} (life-safety alerts still go out)"
    )
    return 0
