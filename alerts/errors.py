"""Errors of the alerts service; each names the rule, alert or channel it is about."""

from __future__ import annotations


class AlertsError(Exception):
    """Base of the alerts service's errors."""


class DeliveryError(AlertsError):
    """A notification a channel did not take; ``retry_after_s`` when it said when."""

    def __init__(self, channel: str, reason: str, retry_after_s: float | None = None) -> None:
        self.channel = channel
        self.reason = reason
        self.retry_after_s = retry_after_s
        super().__init__(f"delivery through {channel} failed: {reason}")


class AckError(AlertsError):
    """An acknowledgement that cannot be taken: unknown alert or bad signature."""
