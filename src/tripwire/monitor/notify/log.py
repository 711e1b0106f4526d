"""Incident changes written to the ``tripwire.monitor.alerts`` logger."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any


class LogNotifier:
    """Logs one line per incident change (warning for open, info otherwise)."""

    def __init__(self, logger: str = "tripwire.monitor.alerts") -> None:
        self.logger = logger

    def send(self, event: Mapping[str, Any]) -> None:
        level = logging.WARNING if event["event"] in ("opened", "reopened") else logging.INFO
        logging.getLogger(self.logger).log(
            level,
            "incident %s: %s / %s: %s %s",
            event["event"],
            event["model"],
            event["rule"],
            event["title"],
            json.dumps({"first_window": event["first_window"], "status": event["status"]}),
        )
