"""Incident changes POSTed as JSON to a webhook (Slack-compatible: a ``text`` field)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("tripwire.monitor")


class WebhookNotifier:
    """POST ``{"text": ..., "event": {...}}`` to ``url``; retried, never raises.

    Slack incoming webhooks show ``text``; other receivers read the full incident in ``event``.
    """

    def __init__(self, url: str, *, timeout: float = 5.0, retries: int = 2) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries

    def payload(self, event: Mapping[str, Any]) -> dict[str, Any]:
        text = (
            f"[tripwire] {event['severity']} incident {event['event']}: model {event['model']}, "
            f"{event['rule']}: {event['title']} (since window {event['first_window']})"
        )
        return {"text": text, "event": dict(event)}

    def send(self, event: Mapping[str, Any]) -> None:
        import httpx

        body = json.dumps(self.payload(event), default=str)
        for attempt in range(self.retries + 1):
            try:
                resp = httpx.post(
                    self.url,
                    content=body,
                    headers={"Content-Type": "application/json"},
                    timeout=self.timeout,
                )
                if resp.status_code < 500:
                    if resp.status_code >= 400:
                        log.warning("webhook %s refused the alert: %s", self.url, resp.status_code)
                    return
            except httpx.HTTPError as exc:
                log.warning("webhook %s unreachable (%s)", self.url, exc)
            time.sleep(0.5 * (attempt + 1))

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.url!r})"
