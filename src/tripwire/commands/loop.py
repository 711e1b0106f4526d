"""`tripwire loop --config tripwire.toml`: retrain, gate, promote, roll back."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click


@click.command("loop")
@click.option(
    "--config",
    "config_path",
    default="tripwire.toml",
    show_default=True,
    help="The loop's configuration (see docs/lifecycle.md).",
)
@click.option("--db", default=None, help="Override [service] db of the configuration.")
@click.option("--artifacts", default=None, envvar="TRIPWIRE_ARTIFACTS", help="Artifact folder.")
@click.option(
    "--every",
    type=click.FloatRange(min=1),
    default=None,
    help="Keep running, one pass every SECONDS (default: one pass, then exit).",
)
@click.option("--no-audit", is_flag=True, help="Do not audit candidates (faster; less safe).")
@click.option("--json", "as_json", is_flag=True, help="Print each pass as one JSON line.")
def loop(
    config_path: str,
    db: str | None,
    artifacts: str | None,
    every: float | None,
    no_audit: bool,
    as_json: bool,
) -> None:
    """Watch the champion; on a trigger retrain, audit, gate, promote or reject; roll back.

    Each pass reads the logged predictions and feedback of [model] name from the monitor's
    database, and writes every decision to the registry's trail (`tripwire registry history`).
    """
    from tripwire.data import read_table
    from tripwire.errors import TripwireError
    from tripwire.lifecycle.config import load_config
    from tripwire.lifecycle.loop import run_once
    from tripwire.lifecycle.registry import Registry
    from tripwire.lifecycle.source import MonitorSource
    from tripwire.monitor.store import Store

    try:
        config = load_config(config_path)
        base = Path(config_path).resolve().parent
        # The user's training module usually sits beside tripwire.toml.
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        url = db or config.db
        store = Store(url).migrate()
        registry = Registry(url, artifacts=artifacts)
        registry.set_serving(
            config.name,
            shadow=config.serving.shadow,
            canary_share=config.serving.canary_share,
            actor="loop",
        )
        original = None
        if config.train:
            train_path = Path(config.train)
            if not train_path.is_absolute():
                train_path = base / train_path
            original = read_table(str(train_path))
        source = MonitorSource(store)
        echo = (lambda s: None) if as_json else (lambda s: click.echo(f"{config.name}: {s}"))
        while True:
            result = run_once(
                config,
                registry,
                source,
                original=original,
                audit_candidate=not no_audit,
                echo=echo,
            )
            if as_json:
                click.echo(json.dumps(result.to_dict(), default=str))
            elif result.actions:
                click.echo(f"{config.name}: {'; '.join(result.actions)}")
            if every is None:
                return
            time.sleep(every)
    except TripwireError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("stopped")


COMMANDS = [loop]
