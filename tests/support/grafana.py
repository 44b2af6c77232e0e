"""A stand-in for Grafana 11's HTTP API, for the parts `dashboards provision` uses.

Grafana is not in Debian's archive, so no real one can run beside the tests. This
follows Grafana's HTTP API reference (folders, folder permissions, teams, datasources,
dashboards) including what matters for access: a new folder gets Grafana's default
permissions (the creator, every Editor and every Viewer), and setting permissions
replaces them all. It is strict: an unknown path, a missing credential or a malformed
body is refused the way Grafana refuses it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Body = dict[str, Any]
ROLE_RANK = {"Viewer": 1, "Editor": 2, "Admin": 3}
ADMIN_PASSWORD = "s3cret"


class GrafanaStandIn:
    def __init__(
        self, user: str = "admin", password: str = ADMIN_PASSWORD, token: str = ""
    ) -> None:
        self.credentials = {f"Basic {base64.b64encode(f'{user}:{password}'.encode()).decode()}"}
        if token:
            self.credentials.add(f"Bearer {token}")
        self.folders: dict[str, Body] = {}
        self.permissions: dict[str, list[Body]] = {}
        self.teams: dict[int, Body] = {}
        self.datasources: dict[str, Body] = {}
        self.dashboards: dict[str, Body] = {}
        self.requests: list[tuple[str, str]] = []
        self._ids = iter(range(1, 1_000_000))
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        host, port = self._server.server_address[:2]
        auth = f"{user}:{password}@" if user else ""
        return f"http://{auth}{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m != "GET"]

    def can_view(
        self, folder_uid: str, org_role: str, team_names: frozenset[str] | set[str] = frozenset()
    ) -> bool:
        """Whether a user with this organisation role and teams may open the folder."""
        if org_role == "Admin":
            return True
        teams = {t["id"] for t in self.teams.values() if t["name"] in team_names}
        for item in self.permissions.get(folder_uid, []):
            if item.get("teamId") in teams:
                return True
            role = item.get("role")
            if role and ROLE_RANK[org_role] >= ROLE_RANK[role]:
                return True
        return False

    def folder_of(self, dashboard_uid: str) -> str:
        return str(self.dashboards[dashboard_uid]["folderUid"])

    # -- the API ---------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
            for pattern, verb, action in _ROUTES:
                match = re.fullmatch(pattern, path)
                if match and verb == method:
                    return action(self, body, query, *match.groups())
        return 404, {"message": "Not found"}

    def _settings(self, body: Any, query: Any) -> tuple[int, Any]:
        return 200, {"buildInfo": {"version": "11.6.0", "edition": "Open Source"}}

    def _search_teams(self, body: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        name = query.get("name", [None])[0]
        needle = query.get("query", [""])[0]
        found = [t for t in self.teams.values()
                 if (name is not None and t["name"] == name) or (name is None and needle in t["name"])]  # fmt: skip
        return 200, {"totalCount": len(found), "teams": found, "page": 1, "perPage": 1000}

    def _add_team(self, body: Body, query: Any) -> tuple[int, Any]:
        if not body.get("name"):
            return 400, {"message": "Bad request data"}
        if any(t["name"] == body["name"] for t in self.teams.values()):
            return 409, {"message": "Team name taken"}
        team_id = next(self._ids)
        self.teams[team_id] = {"id": team_id, "orgId": 1, "name": body["name"],
                               "email": body.get("email", ""), "memberCount": 0}  # fmt: skip
        return 200, {"message": "Team created", "teamId": team_id}

    def _get_datasource(self, body: Any, query: Any, uid: str) -> tuple[int, Any]:
        source = self.datasources.get(uid)
        if source is None:
            return 404, {"message": "Data source not found"}
        shown = {k: v for k, v in source.items() if k != "secureJsonData"}
        shown["secureJsonFields"] = {k: True for k in source.get("secureJsonData", {})}
        return 200, shown

    def _add_datasource(self, body: Body, query: Any) -> tuple[int, Any]:
        if not body.get("name") or not body.get("type"):
            return 400, {"message": "Required field missing: name and type"}
        if any(s["name"] == body["name"] for s in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        uid = body.get("uid") or f"auto{next(self._ids)}"
        if uid in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        source = {**body, "uid": uid, "id": next(self._ids), "orgId": 1, "readOnly": False}
        self.datasources[uid] = source
        return 200, {"datasource": source, "id": source["id"], "message": "Datasource added",
                     "name": source["name"]}  # fmt: skip

    def _update_datasource(self, body: Body, query: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        old = self.datasources[uid]
        secure = body.get("secureJsonData", old.get("secureJsonData", {}))
        self.datasources[uid] = {**body, "uid": uid, "id": old["id"], "orgId": 1,
                                 "readOnly": False, "secureJsonData": secure}  # fmt: skip
        return 200, {"message": "Datasource updated", "id": old["id"], "name": body.get("name")}

    def _get_folder(self, body: Any, query: Any, uid: str) -> tuple[int, Any]:
        folder = self.folders.get(uid)
        return (
            (200, folder)
            if folder
            else (404, {"message": "folder not found", "status": "not-found"})
        )

    def _add_folder(self, body: Body, query: Any) -> tuple[int, Any]:
        if not body.get("title"):
            return 400, {"message": "folder title cannot be empty"}
        uid = body.get("uid") or f"f{next(self._ids)}"
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        folder = {"id": next(self._ids), "uid": uid, "title": body["title"],
                  "url": f"/dashboards/f/{uid}/", "version": 1}  # fmt: skip
        self.folders[uid] = folder
        # Grafana's defaults for a new folder: its creator, every Editor, every Viewer.
        self.permissions[uid] = [{"userId": 1, "userLogin": "admin", "permission": 4},
                                 {"role": "Editor", "permission": 2},
                                 {"role": "Viewer", "permission": 1}]  # fmt: skip
        return 200, folder

    def _update_folder(self, body: Body, query: Any, uid: str) -> tuple[int, Any]:
        folder = self.folders.get(uid)
        if folder is None:
            return 404, {"message": "folder not found"}
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            return 412, {
                "message": "the folder has been changed by someone else",
                "status": "version-mismatch",
            }
        folder.update(title=body.get("title", folder["title"]), version=folder["version"] + 1)
        return 200, folder

    def _get_permissions(self, body: Any, query: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        shown = []
        for item in self.permissions[uid]:
            team = self.teams.get(item.get("teamId", -1), {})
            shown.append({"folderUid": uid, "userId": item.get("userId", 0),
                          "teamId": item.get("teamId", 0), "team": team.get("name", ""),
                          "role": item.get("role", ""), "permission": item["permission"],
                          "permissionName": {1: "View", 2: "Edit", 4: "Admin"}[item["permission"]],
                          "inherited": False})  # fmt: skip
        return 200, shown

    def _set_permissions(self, body: Body, query: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        items = body.get("items")
        if not isinstance(items, list):
            return 400, {"message": "bad request data: items"}
        for item in items:
            kinds = [k for k in ("userId", "teamId", "role") if item.get(k)]
            if len(kinds) != 1 or item.get("permission") not in (1, 2, 4):
                return 400, {"message": "Permission item must have one of userId, teamId or role"}
            if "teamId" in item and item["teamId"] not in self.teams:
                return 400, {"message": "Team not found"}
        self.permissions[uid] = [dict(i) for i in items]
        return 200, {"message": "Folder permissions updated"}

    def _get_dashboard(self, body: Any, query: Any, uid: str) -> tuple[int, Any]:
        saved = self.dashboards.get(uid)
        if saved is None:
            return 404, {"message": "Dashboard not found"}
        folder = self.folders.get(saved["folderUid"], {})
        meta = {"folderUid": saved["folderUid"], "folderTitle": folder.get("title", "General"),
                "version": saved["dashboard"]["version"]}  # fmt: skip
        return 200, {"dashboard": saved["dashboard"], "meta": meta}

    def _save_dashboard(self, body: Body, query: Any) -> tuple[int, Any]:
        board = body.get("dashboard")
        if not isinstance(board, dict) or not board.get("title"):
            return 400, {"message": "Dashboard title cannot be empty"}
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        uid = board.get("uid") or f"d{next(self._ids)}"
        old = self.dashboards.get(uid)
        if old is not None and not body.get("overwrite"):
            return 412, {
                "message": "A dashboard with the same uid already exists",
                "status": "name-exists",
            }
        version = old["dashboard"]["version"] + 1 if old else 1
        board_id = old["dashboard"]["id"] if old else next(self._ids)
        self.dashboards[uid] = {"folderUid": folder_uid,
                                "dashboard": {**board, "uid": uid, "id": board_id, "version": version}}  # fmt: skip
        return 200, {"id": board_id, "uid": uid, "url": f"/d/{uid}/", "status": "success",
                     "version": version, "slug": uid}  # fmt: skip


_ROUTES = [
    (r"/api/frontend/settings", "GET", GrafanaStandIn._settings),
    (r"/api/teams/search", "GET", GrafanaStandIn._search_teams),
    (r"/api/teams", "POST", GrafanaStandIn._add_team),
    (r"/api/datasources/uid/([^/]+)", "GET", GrafanaStandIn._get_datasource),
    (r"/api/datasources/uid/([^/]+)", "PUT", GrafanaStandIn._update_datasource),
    (r"/api/datasources", "POST", GrafanaStandIn._add_datasource),
    (r"/api/folders/([^/]+)/permissions", "GET", GrafanaStandIn._get_permissions),
    (r"/api/folders/([^/]+)/permissions", "POST", GrafanaStandIn._set_permissions),
    (r"/api/folders/([^/]+)", "GET", GrafanaStandIn._get_folder),
    (r"/api/folders/([^/]+)", "PUT", GrafanaStandIn._update_folder),
    (r"/api/folders", "POST", GrafanaStandIn._add_folder),
    (r"/api/dashboards/uid/([^/]+)", "GET", GrafanaStandIn._get_dashboard),
    (r"/api/dashboards/db", "POST", GrafanaStandIn._save_dashboard),
]


def _handler(grafana: GrafanaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            if self.headers.get("Authorization") not in grafana.credentials:
                self._send(401, {"message": "Unauthorized"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(400, {"message": "bad request data"})
                return
            parts = urlsplit(self.path)
            self._send(*grafana.answer(self.command, parts.path, parse_qs(parts.query), body))

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

    return Handler
