"""`civic-iot dashboards provision --grafana URL`: folders, datasources, dashboards,
teams and folder permissions through Grafana's HTTP API (grafana-client).

Each audience has a team and each folder lists exactly the teams that may open it, so
the defaults Grafana gives a new folder (every Viewer and Editor of the organisation)
are replaced: caregivers see 見守り and nothing else, and no one but caregivers and the
organisation's admins sees 見守り. Running it again changes nothing that is already
right; a dashboard is saved only when it differs, so its history stays readable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.errors import GrafanaError
from dashboards.generate import dashboards_json, datasources

VIEW = 1
TEAMS = {"caregivers": "civic-caregivers", "facility": "civic-facility-staff", "it": "civic-it"}
# folder -> (uid, audiences that may view it)
FOLDERS = {
    "見守り": ("civic-watch-over-folder", ("caregivers",)),
    "施設Wi-Fi": ("civic-facility-folder", ("facility", "it")),
    "機器管理": ("civic-fleet-folder", ("it",)),
}
_VOLATILE = ("id", "version")  # Grafana's bookkeeping, not part of what we provision


@dataclass(frozen=True)
class InfluxAccess:
    url: str
    user: str = ""
    password: str = ""


class GrafanaProvisioner:
    def __init__(self, api: GrafanaApi, grafana: str, say: Callable[[str], None]) -> None:
        # grafana-client has no annotations on its element methods.
        self.api: Any = api
        self.grafana, self.say = grafana, say

    @classmethod
    def connect(cls, url: str, token: str | None, say: Callable[[str], None]) -> GrafanaProvisioner:
        api = GrafanaApi.from_url(url, credential=token, timeout=30.0)
        shown = url.rsplit("@", maxsplit=1)[-1]  # never print a password given in the URL
        provisioner = cls(api, shown, say)
        with provisioner._asking("reading its version"):
            build = api.health.check() or {}
        say(f"Grafana {shown}: version {build.get('version', '?')}")
        return provisioner

    def provision(self, influx: InfluxAccess) -> None:
        teams = {audience: self._team(name) for audience, name in TEAMS.items()}
        for source in datasources(influx.url):
            self._datasource(source, influx)
        for folder, (uid, audiences) in FOLDERS.items():
            self._folder(uid, folder)
            self._permissions(uid, folder, [teams[a] for a in audiences])
        for relative, text in dashboards_json().items():
            folder = relative.split("/")[0]
            self._dashboard(json.loads(text), FOLDERS[folder][0])

    # -- each kind of thing --------------------------------------------------------------

    def _team(self, name: str) -> int:
        with self._asking(f"looking up team {name!r}"):
            found = [t for t in self.api.teams.get_team_by_name(name) if t["name"] == name]
        if found:
            return int(found[0]["id"])
        with self._asking(f"creating team {name!r}"):
            created = self.api.teams.add_team({"name": name})
        self.say(f"team {name}: created (add its members in Grafana or through your SSO)")
        return int(created["teamId"])

    def _datasource(self, source: dict[str, Any], influx: InfluxAccess) -> None:
        # "editable" belongs to provisioning files; the API has no such field.
        wanted = {key: value for key, value in source.items() if key != "editable"}
        if influx.user:
            wanted["user"] = influx.user
            wanted["secureJsonData"] = {"password": influx.password}
        uid = wanted["uid"]
        existing = self._get(
            f"datasource {uid}", lambda: self.api.datasource.get_datasource_by_uid(uid)
        )
        if existing is None:
            with self._asking(f"creating datasource {uid}"):
                self.api.datasource.create_datasource(wanted)
            self.say(f"datasource {uid}: created")
        elif _differs(existing, wanted) or "secureJsonData" in wanted:
            with self._asking(f"updating datasource {uid}"):
                self.api.datasource.update_datasource_by_uid(uid, {**wanted, "id": existing["id"]})
            self.say(f"datasource {uid}: updated")

    def _folder(self, uid: str, title: str) -> None:
        existing = self._get(f"folder {uid}", lambda: self.api.folder.get_folder(uid))
        if existing is None:
            with self._asking(f"creating folder {title} ({uid})"):
                self.api.folder.create_folder(title, uid=uid)
            self.say(f"folder {title}: created")
        elif existing.get("title") != title:
            with self._asking(f"renaming folder {uid} to {title}"):
                self.api.folder.update_folder(uid, title=title, overwrite=True)
            self.say(f"folder {title}: renamed from {existing.get('title')!r}")

    def _permissions(self, uid: str, title: str, team_ids: list[int]) -> None:
        wanted = sorted((team, VIEW) for team in team_ids)
        with self._asking(f"reading the permissions of folder {title}"):
            current = self.api.folder.get_folder_permissions(uid)
        # Admins always have access (Grafana may list that); anything else counts: a
        # user, a team or a role we did not put there is removed.
        have = sorted((int(i.get("teamId") or 0), int(i["permission"])) for i in current
                      if not i.get("inherited") and i.get("role") != "Admin")  # fmt: skip
        if have == wanted:
            return
        items = [{"teamId": team, "permission": level} for team, level in wanted]
        with self._asking(f"setting the permissions of folder {title}"):
            self.api.folder.update_folder_permissions(uid, {"items": items})
        names = ", ".join(n for a, n in TEAMS.items() if a in FOLDERS[title][1])
        self.say(f"folder {title}: only {names} (and organisation admins) may view it")

    def _dashboard(self, dashboard: dict[str, Any], folder_uid: str) -> None:
        uid = dashboard["uid"]
        existing = self._get(f"dashboard {uid}", lambda: self.api.dashboard.get_dashboard(uid))
        if existing is not None:
            same_folder = existing.get("meta", {}).get("folderUid") == folder_uid
            if same_folder and _kept(existing["dashboard"]) == _kept(dashboard):
                return
        body = {"dashboard": dashboard, "folderUid": folder_uid, "overwrite": True,
                "message": "civic-iot dashboards provision"}  # fmt: skip
        with self._asking(f"saving dashboard {uid}"):
            saved = self.api.dashboard.update_dashboard(body)
        self.say(f"dashboard {dashboard['title']}: saved, version {saved.get('version')}")

    # -- talking to Grafana --------------------------------------------------------------

    def _get(self, what: str, call: Callable[[], Any]) -> Any:
        """The object, or None when Grafana says it does not exist."""
        try:
            return call()
        except GrafanaClientError as exc:
            if exc.status_code == 404:
                return None
            raise self._error(f"reading {what}", exc) from exc
        except (GrafanaException, OSError) as exc:
            raise self._error(f"reading {what}", exc) from exc

    @contextmanager
    def _asking(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (GrafanaException, OSError) as exc:  # niquests' connection errors are OSErrors
            raise self._error(doing, exc) from exc

    def _error(self, doing: str, exc: GrafanaException | OSError) -> GrafanaError:
        if isinstance(exc, GrafanaException):
            return GrafanaError(self.grafana, doing, exc.message, exc.status_code or 0)
        return GrafanaError(self.grafana, doing, f"cannot connect ({_reason(exc)})")


def _differs(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether Grafana's copy differs in what we set (a password cannot be read back)."""
    return any(
        existing.get(key) != value for key, value in wanted.items() if key != "secureJsonData"
    )


def _kept(board: dict[str, Any]) -> dict[str, Any]:
    """A dashboard without Grafana's bookkeeping (id, version)."""
    return {key: value for key, value in board.items() if key not in _VOLATILE}


def _reason(exc: OSError) -> str:
    """The innermost cause, without the connection pool's wrapping."""
    text = str(exc)
    found = re.search(r"\[Errno \d+\] ([^'\")]+)", text)
    return found[1] if found else text
