"""The three dashboards, as code: 見守り for caregivers, 施設Wi-Fi for facility staff,
機器管理 for IT. `civic-iot dashboards generate` writes them to dashboards/generated/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import stat, statetimeline, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from common.labels import SEVERITY_LABELS
from dashboards.influxql import InfluxQL, Zone, datasource, tag_variable

SITE = '"site" =~ /^$site$/'
DEVICE = '"device" =~ /^$device$/'
Panel = timeseries.Panel | stat.Panel | statetimeline.Panel | table.Panel


def _series(select: str, measurement: str, key: str, *, per_sensor: bool = False) -> str:
    """`select` per Grafana interval, one series per `key` tag (site or device, filtered by
    its template variable) and, if asked, per sensor."""
    tags = f'"{key}", "sensor"' if per_sensor else f'"{key}"'
    return (
        f'SELECT {select} FROM "{measurement}" WHERE "{key}" =~ /^${key}$/ AND $timeFilter '
        f"GROUP BY time($__interval), {tags} fill(none)"
    )


@dataclass(frozen=True)
class Board:
    folder: str
    uid: str
    title: str
    zone: Zone


class _Grid:
    """Places panels left to right, 24 columns wide."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0

    def next(self, width: int, height: int) -> model.GridPos:
        if self.x + width > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        position = model.GridPos(h=height, w=width, x=self.x, y=self.y)
        self.x += width
        self.row_height = max(self.row_height, height)
        return position


Steps = tuple[tuple[float | None, str], ...]  # (from this value up, colour); None: below all
# Where a value means something: colours a clerk reads at a glance.
NEUTRAL: Steps = ((None, "blue"),)  # a count or a load with no good or bad in itself
ROOM_TEMPERATURE: Steps = ((None, "red"), (10, "orange"), (16, "green"), (28, "orange"),
                           (31, "red"))  # fmt: skip
HUMIDITY: Steps = ((None, "orange"), (30, "green"), (70, "orange"))
LATENCY_MS: Steps = ((None, "green"), (100, "yellow"), (300, "red"))
LOSS_PERCENT: Steps = ((None, "green"), (1, "yellow"), (5, "red"))
BUSY_PERCENT: Steps = ((None, "green"), (50, "yellow"), (80, "red"))
ANY_IS_BAD: Steps = ((None, "green"), (1, "red"))
ANY_IS_NOTABLE: Steps = ((None, "green"), (1, "yellow"))
SOC_TEMPERATURE: Steps = ((None, "green"), (70, "yellow"), (80, "red"))
DISK_PERCENT: Steps = ((None, "green"), (80, "yellow"), (90, "red"))
BACKLOG: Steps = ((None, "green"), (1_000, "yellow"), (10_000, "red"))
LAG_MS: Steps = ((None, "green"), (10_000, "yellow"), (60_000, "red"))
BATTERY_PERCENT: Steps = ((None, "red"), (20, "yellow"), (40, "green"))


# Legend names from the series' tags (Grafana's field labels), not "climate.mean {…}".
BY_SITE = "${__field.labels.site}"
BY_ROOM = "${__field.labels.site} ${__field.labels.sensor}"
BY_SITE_AND_FIELD = "${__field.labels.site} ${__field.name}"
BY_DEVICE = "${__field.labels.device}"
BY_DEVICE_AND_FIELD = "${__field.labels.device} ${__field.name}"


def _limits(steps: Steps) -> dash.ThresholdsConfig:
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=colour) for value, colour in steps])
    )


def _ts(
    title: str, zone: Zone, unit: str, *queries: str, steps: Steps, legend: str
) -> timeseries.Panel:
    """A time series with its unit, its colours (drawn as lines where they mean
    something) and legend names from the series' tags (``legend``, e.g. site and room)."""
    meaningful = steps is not NEUTRAL
    style = (
        common.GraphThresholdsStyleMode.LINE if meaningful else common.GraphThresholdsStyleMode.OFF
    )
    panel = (
        timeseries.Panel()
        .title(title)
        .datasource(datasource(zone))
        .unit(unit)
        .thresholds(_limits(steps))
        .thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(style))
        .display_name(legend)
    )
    for index, query in enumerate(queries):
        panel = panel.with_target(InfluxQL(query, zone, chr(ord("A") + index)))
    return panel


def _stat(
    title: str, zone: Zone, query: str, unit: str = "short", *, steps: Steps = NEUTRAL
) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .datasource(datasource(zone))
        .unit(unit)
        .thresholds(_limits(steps))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .with_target(InfluxQL(query, zone))
    )


def _yes_no(
    yes: tuple[str, str], no: tuple[str, str]
) -> tuple[model.SpecialValueMap, model.SpecialValueMap]:
    """Booleans in words and colours: (text, colour) for true and for false."""
    return model.SpecialValueMap(model.DashboardSpecialValueMapOptions(
        match=model.SpecialValueMatch.TRUE,
        result=model.ValueMappingResult(text=yes[0], color=yes[1], index=0),
    )), model.SpecialValueMap(model.DashboardSpecialValueMapOptions(
        match=model.SpecialValueMatch.FALSE,
        result=model.ValueMappingResult(text=no[0], color=no[1], index=1),
    ))  # fmt: skip


UP = _yes_no(("正常", "green"), ("停止", "red"))


def _states(
    title: str, zone: Zone, query: str, words: tuple[model.SpecialValueMap, ...] = UP
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(datasource(zone))
        .with_target(InfluxQL(query, zone))
        .mappings(list(words))
    )


def _table(title: str, zone: Zone, query: str) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .datasource(datasource(zone))
        .with_target(InfluxQL(query, zone, table=True))
    )


_FROM_NOW = model.DynamicConfigValue(id_val="unit", value="dateTimeFromNow")


QUIET_TOO_LONG_H = 12
# InfluxQL stamps an aggregate without GROUP BY time with the start of its range, so
# this query's time is "now - 12 h": the threshold between a home in green and in red.
# When no home moved in 12 h it returns nothing and the static threshold (far in the
# future) leaves every home red, which is then right.
_QUIET_SINCE = f'SELECT count("detected") FROM "motion" WHERE time > now() - {QUIET_TOO_LONG_H}h'
_FAR_FUTURE_MS = 32_503_680_000_000  # year 3000


def _last_movement(zone: Zone) -> table.Panel:
    """Every home's last movement, the longest ago first, shown as "3 hours ago"; red
    when more than 12 hours ago."""
    red_until = model.DynamicConfigValue(
        id_val="thresholds", value=_limits(((None, "red"), (_FAR_FUTURE_MS, "green"))).build()
    )
    coloured = model.DynamicConfigValue(
        id_val="custom.cellOptions", value={"type": "color-background", "mode": "basic"}
    )
    quiet_since = model.DataTransformerConfig(
        id_val="configFromData",
        options={
            "configRefId": "B",
            "mappings": [{"fieldName": "Time", "handlerKey": "threshold1"}],
            "applyTo": {"id": "byName", "options": "Time"},
        },
    )
    return (
        _table("最後に動きがあった時刻", zone,
               f'SELECT last("detected") AS "動き" FROM "motion" WHERE {SITE} GROUP BY "site"')
        .with_target(InfluxQL(_QUIET_SINCE, zone, "B", table=True))
        .with_transformation(quiet_since)
        .sort_by([common_builders.TableSortByFieldState().display_name("Time").desc(False)])
        .override_by_name("Time", [_FROM_NOW, red_until, coloured])
    )  # fmt: skip


_ALERT_STATES = {"firing": ("対応待ち", "red"), "acknowledged": ("対応中", "orange")}
_SEVERITY_COLOURS = {"info": "blue", "warning": "yellow", "urgent": "orange", "life-safety": "red"}


def open_alerts_query() -> str:
    """The alerts whose last state is open (the gateway stores each change; see
    alerts/board.py). An open alert is refreshed hourly, so 30 days hold every one."""
    latest = (
        'SELECT last("title") AS "内容", last("state") AS "状態", last("open") AS "open", '
        'last("opened_ms") AS "発生" FROM "alert" '
        f'WHERE {SITE} AND time > now() - 30d GROUP BY "site", "alert", "severity"'
    )
    columns = '"発生", "内容", "状態"'
    return f'SELECT {columns} FROM ({latest}) WHERE "open" = 1 GROUP BY "site", "severity"'


def _open_alerts(zone: Zone) -> table.Panel:
    query = open_alerts_query()
    labels = {**{state: (text, colour) for state, (text, colour) in _ALERT_STATES.items()},
              **{sev: (SEVERITY_LABELS["ja"][sev], colour)
                 for sev, colour in _SEVERITY_COLOURS.items()}}  # fmt: skip
    mapping = model.ValueMap(
        {value: model.ValueMappingResult(text=text, color=colour, index=index)
         for index, (value, (text, colour)) in enumerate(labels.items())}
    )  # fmt: skip
    return (
        _table("対応が必要な通知", zone, query)
        .mappings([mapping])
        .override_by_name(
            "発生", [model.DynamicConfigValue(id_val="unit", value="dateTimeAsLocal")]
        )
        .override_by_name("time", [model.DynamicConfigValue(id_val="custom.hidden", value=True)])
        .no_value("未解決の通知はありません")
    )


def watch_over() -> tuple[Board, list[tuple[Panel, int, int]]]:
    zone: Zone = "watch"
    board = Board("見守り", "civic-watch-over", "見守り（ご家族・ケアマネジャー向け）", zone)
    return board, [
        (_open_alerts(zone), 24, 6),
        # Not limited to the dashboard's time range: a home with no movement for a day is
        # the one that matters, so it must not drop off the table.
        (_last_movement(zone), 8, 8),
        (_ts("室温", zone, "celsius",
             _series('mean("temperature")', "climate", "site", per_sensor=True),
             steps=ROOM_TEMPERATURE, legend=BY_ROOM), 16, 8),
        (_ts("動きの回数（1時間ごと）", zone, "short",
             f'SELECT count("detected") FROM "motion" WHERE {SITE} AND $timeFilter '
             'GROUP BY time(1h), "site" fill(0)', steps=NEUTRAL, legend=BY_SITE), 12, 8),
        (_states("ドアの開閉", zone,
                 _series('last("open")', "door", "site", per_sensor=True),
                 _yes_no(("開", "blue"), ("閉", "green"))), 12, 8),
        (_stat("緊急ボタン（期間内の回数）", zone,
               f'SELECT count("long_press") FROM "button" WHERE {SITE} AND $timeFilter '
               'GROUP BY "site"', steps=ANY_IS_BAD), 6, 6),
        (_ts("湿度", zone, "percent",
             _series('mean("humidity")', "climate", "site", per_sensor=True),
             steps=HUMIDITY, legend=BY_ROOM), 10, 6),
        (_table("センサーの電池", zone,
                f'SELECT last("level") AS "残量 %" FROM "battery" WHERE {SITE} AND $timeFilter '
                'GROUP BY "site", "sensor"'), 8, 6),
    ]  # fmt: skip


def facility_wifi() -> tuple[Board, list[tuple[Panel, int, int]]]:
    zone: Zone = "facility"
    board = Board("施設Wi-Fi", "civic-facility-wifi", "公衆Wi-Fi（施設向け）", zone)
    return board, [
        (_open_alerts(zone), 24, 5),
        (_states("アクセスポイントとインターネット", zone,
                 _series('last("ap_up") AS "AP", last("internet_ok") AS "インターネット"',
                         "wifi", "site")), 24, 6),
        (_ts("接続数", zone, "short",
             _series('max("clients")', "wifi", "site"), steps=NEUTRAL, legend=BY_SITE), 12, 8),
        (_ts("応答時間（遅延・DNS・Web）", zone, "ms",
             _series('mean("latency") AS "遅延", mean("dns_time") AS "DNS", '
                     'mean("http_time") AS "Web"', "wifi", "site"),
             steps=LATENCY_MS, legend=BY_SITE_AND_FIELD), 12, 8),
        (_ts("パケットロス", zone, "percent",
             _series('mean("loss")', "wifi", "site"), steps=LOSS_PERCENT, legend=BY_SITE), 8, 8),
        (_ts("チャネル使用率", zone, "percent",
             _series('mean("channel_busy")', "wifi", "site"),
             steps=BUSY_PERCENT, legend=BY_SITE), 8, 8),
        (_ts("1日の利用者数", zone, "short",
             f'SELECT max("unique_clients_today") FROM "wifi" WHERE {SITE} AND $timeFilter '
             "GROUP BY time(1d), \"site\" fill(none) tz('Asia/Tokyo')",
             steps=NEUTRAL, legend=BY_SITE), 8, 8),
        (_stat("不審なアクセスポイント", zone,
               f'SELECT last("rogue_aps") FROM "wifi" WHERE {SITE} AND $timeFilter '
               'GROUP BY "site"', steps=ANY_IS_BAD), 8, 6),
        (_ts("電力", zone, "watt",
             _series('mean("power")', "energy", "site", per_sensor=True),
             steps=NEUTRAL, legend=BY_ROOM), 16, 6),
    ]  # fmt: skip


def fleet() -> tuple[Board, list[tuple[Panel, int, int]]]:
    zone: Zone = "ops"
    board = Board("機器管理", "civic-fleet", "機器管理（IT向け）", zone)
    return board, [
        (_stat("稼働中の機器", zone,
               'SELECT last("devices_online") AS "稼働", last("devices_silent") AS "無応答", '
               'last("devices_offline") AS "停止", last("devices_unknown") AS "未登録" '
               'FROM "gateway" WHERE $timeFilter'), 12, 5),
        (_stat("デッドレター（期間内）", zone,
               'SELECT max("dead_letters") - min("dead_letters") FROM "gateway" '
               'WHERE $timeFilter', steps=ANY_IS_NOTABLE), 6, 5),
        (_stat("スプール中の点数", zone,
               'SELECT last("spool_points") FROM "gateway" WHERE $timeFilter',
               steps=ANY_IS_NOTABLE), 6, 5),
        (_table("エージェントと設定の版", zone,
                'SELECT last("config_version") AS "設定の版", last("uptime") AS "稼働秒", '
                f'last("reconnects") AS "再接続" FROM "agent" WHERE {DEVICE} AND $timeFilter '
                'GROUP BY "device"'), 12, 8),
        (_ts("アウトボックス（未送信メッセージ）", zone, "short",
             _series('max("outbox_depth")', "agent", "device"),
             steps=BACKLOG, legend=BY_DEVICE), 12, 8),
        (_ts("CPU温度", zone, "celsius",
             _series('max("cpu_temperature")', "system", "device"),
             steps=SOC_TEMPERATURE, legend=BY_DEVICE), 8, 8),
        (_ts("ディスク使用率", zone, "percent",
             _series('max("disk_used_percent")', "system", "device"),
             steps=DISK_PERCENT, legend=BY_DEVICE), 8, 8),
        (_states("時刻同期", zone,
                 _series('last("clock_synced")', "system", "device"),
                 _yes_no(("同期", "green"), ("未同期", "red"))), 4, 8),
        (_states("電圧低下", zone,
                 _series('last("under_voltage")', "system", "device"),
                 _yes_no(("低下", "red"), ("正常", "green"))), 4, 8),
        (_ts("連番の欠け・重複", zone, "short",
             _series('last("seq_missing") AS "欠け", sum("seq_duplicates") AS "重複"',
                     "ingest", "device"), steps=ANY_IS_BAD, legend=BY_DEVICE_AND_FIELD), 12, 8),
        (_ts("到着までの遅延", zone, "ms",
             _series('max("lag_max_ms")', "ingest", "device"),
             steps=LAG_MS, legend=BY_DEVICE), 12, 8),
        (_table("設定の未適用（指定の版と稼働中の版）", zone,
                'SELECT last("agent") AS "エージェント", last("config_desired") AS "指定の版", '
                'last("config_reported") AS "稼働中の版", last("config_drift") AS "未適用" '
                f'FROM "ingest" WHERE {DEVICE} AND $timeFilter GROUP BY "device"'), 24, 8),
    ]  # fmt: skip


Layout = list[tuple[Panel, int, int]]  # panel, width, height


def named_sites_variable(site_names: dict[str, str]) -> dash.CustomVariable:
    """The site picker as "name : ID" pairs (Grafana shows the name, queries the ID)."""
    pairs = ",".join(
        f"{name.replace(',', '、')} : {site}"
        for site, name in sorted(site_names.items(), key=lambda item: item[1])
    )
    return dash.CustomVariable("site").label("拠点").values(pairs).multi(True).include_all(True)


BOARDS: tuple[Callable[[], tuple[Board, Layout]], ...] = (watch_over, facility_wifi, fleet)


def build(
    factory: Callable[[], tuple[Board, Layout]],
    site_names: dict[str, dict[str, str]] | None = None,
) -> tuple[Board, model.Dashboard]:
    """The dashboard; with ``site_names`` (per zone, ID -> name) its site picker shows
    names and passes IDs, else it lists the IDs found in InfluxDB."""
    board, panels = factory()
    names = (site_names or {}).get(board.zone)
    variable: dash.QueryVariable | dash.CustomVariable
    if board.zone == "ops":
        variable = tag_variable("device", "機器", "system", board.zone)
    elif names:
        variable = named_sites_variable(names)
    else:
        variable = tag_variable(
            "site", "拠点", "climate" if board.zone == "watch" else "wifi", board.zone
        )
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .tags(["civic-iot", board.folder])
        .timezone("Asia/Tokyo")
        .time("now-24h", "now")
        .refresh("1m")
        .editable()
        .with_variable(variable)
    )
    grid = _Grid()
    for panel, width, height in panels:
        builder = builder.with_panel(panel.grid_pos(grid.next(width, height)))
    return board, builder.build()
