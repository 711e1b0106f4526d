"""Subcommands beyond `audit` and `demo`, one module each.

Every module here defines ``COMMANDS``: a list of click commands that :mod:`tripwire.cli`
adds to the `tripwire` group. Modules must import heavy dependencies inside the command
functions, so `tripwire --help` stays fast and works without the optional extras.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def discover() -> list[Any]:
    commands: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        commands.extend(getattr(module, "COMMANDS", []))
    return commands
