"""Words more than one role shows people (the alerts' messages, the dashboards),
Japanese first, English too, kept once."""

from __future__ import annotations

from typing import Literal

Lang = Literal["ja", "en"]

# Alert severities (wire.AlertState.severity) as people read them.
SEVERITY_LABELS = {
    "ja": {"info": "お知らせ", "warning": "注意", "urgent": "緊急", "life-safety": "至急・緊急"},
    "en": {"info": "Info", "warning": "Warning", "urgent": "URGENT", "life-safety": "EMERGENCY"},
}
