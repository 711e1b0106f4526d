"""Notifiers: one module each. A notifier has ``send(event: dict) -> None``."""

from __future__ import annotations

from typing import Any

from tripwire.monitor.notify.log import LogNotifier
from tripwire.monitor.notify.webhook import WebhookNotifier

__all__ = ["LogNotifier", "WebhookNotifier", "from_urls"]


def from_urls(webhooks: list[str] | tuple[str, ...] = (), log: bool = True) -> list[Any]:
    notifiers: list[Any] = [LogNotifier()] if log else []
    notifiers.extend(WebhookNotifier(url) for url in webhooks)
    return notifiers
