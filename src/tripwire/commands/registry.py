"""`tripwire registry add|promote|list|history` and `tripwire rollback`."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_DB = "sqlite:///tripwire.db"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no user name on this system
        return "cli"


def _registry(db: str, artifacts: str | None) -> Any:
    from tripwire.lifecycle.registry import Registry

    return Registry(db, artifacts=artifacts)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


db_option = click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    envvar="TRIPWIRE_DB",
    help="The monitor's store (SQLAlchemy URL); the registry lives in the same database.",
)
artifacts_option = click.option(
    "--artifacts",
    default=None,
    envvar="TRIPWIRE_ARTIFACTS",
    help="Artifact folder (default: beside a SQLite file, else ./tripwire-artifacts).",
)


@click.group()
def registry() -> None:
    """Model versions, the champion and challenger aliases, and their history."""


@registry.command("add")
@click.argument("name")
@click.argument("model_path", metavar="MODEL")
@click.option(
    "--train", default=None, help="Training data (CSV/Parquet): schema, fingerprint, audit."
)
@click.option("--target", default=None, help="Target column of --train.")
@click.option("--test", default=None, help="Held-out data to measure the version's metrics on.")
@click.option("--alias", type=click.Choice(["champion", "challenger"]), default=None)
@click.option("--no-audit", is_flag=True, help="Do not audit --train (faster; nothing recorded).")
@click.option("--force", is_flag=True, help="Make it champion even with critical audit findings.")
@click.option("--note", default=None, help="Free text kept with the version.")
@click.option(
    "--mlflow-uri",
    default=None,
    envvar="MLFLOW_TRACKING_URI",
    help="MLflow tracking URI, when MODEL is an MLflow URI (models:/NAME@ALIAS, models:/NAME/3).",
)
@db_option
@artifacts_option
def add(
    name: str,
    model_path: str,
    train: str | None,
    target: str | None,
    test: str | None,
    alias: str | None,
    no_audit: bool,
    force: bool,
    note: str | None,
    mlflow_uri: str | None,
    db: str,
    artifacts: str | None,
) -> None:
    """Register MODEL as a new version of NAME.

    MODEL is a joblib or skops file of a fitted estimator, or, with MLflow installed, an MLflow
    model URI (models:/NAME@champion, models:/NAME/3, runs:/RUN/model).
    """
    from tripwire.errors import TripwireError
    from tripwire.lifecycle.evaluate import describe_version

    try:
        if (train is None) != (target is None):
            _fail("--train and --target go together: give both or neither.")
        from tripwire.lifecycle.mlflow_bridge import is_mlflow_uri, pull

        if is_mlflow_uri(model_path):
            import tempfile

            import joblib

            uri = model_path
            pulled = pull(uri, mlflow_uri)
            model_path = str(Path(tempfile.mkdtemp(prefix="tripwire-mlflow-")) / "model.joblib")
            joblib.dump(pulled, model_path)
            note = note or f"pulled from MLflow {uri}"
        info = describe_version(
            model_path, train=train, target=target, test=test, run_audit=not no_audit
        )
        critical = (info.audit_summary or {}).get("critical", [])
        if alias == "champion" and critical and not force:
            titles = "; ".join(c["title"] for c in critical[:3])
            _fail(
                f"the audit of --train found {len(critical)} critical finding(s) ({titles}). "
                "Fix them, or pass --force to make this version champion anyway."
            )
        reg = _registry(db, artifacts)
        mv = reg.add(
            name,
            model_path,
            actor=_actor(),
            train=info.train,
            target=target,
            task=info.task,
            metrics=info.metrics,
            audit=info.audit,
            alias=alias,
            note=note,
        )
    except TripwireError as exc:
        _fail(str(exc))
        return
    tag = f" as {alias}" if alias else ""
    click.echo(f"registered {name} v{mv.version}{tag} (sha256 {mv.sha256[:12]}...)")
    if info.metrics:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in info.metrics.items() if isinstance(v, float))
        click.echo(f"  metrics on --test: {shown}")
    if info.audit_summary:
        click.echo(f"  audit of --train: {info.audit_summary['counts']}")


@registry.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--reason", default="promoted by hand", show_default=True)
@db_option
@artifacts_option
def promote(name: str, version: str, reason: str, db: str, artifacts: str | None) -> None:
    """Make VERSION (a number or 'challenger') the champion of NAME. Takes effect at once."""
    from tripwire.errors import TripwireError

    try:
        reg = _registry(db, artifacts)
        before = reg.aliases(name).get("champion")
        mv = reg.promote(name, version, actor=_actor(), reason=reason)
    except TripwireError as exc:
        _fail(str(exc))
        return
    click.echo(f"{name}: champion v{before} -> v{mv.version}")


@registry.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@artifacts_option
def list_(name: str | None, as_json: bool, db: str, artifacts: str | None) -> None:
    """Versions of NAME with their aliases and metrics (all models when NAME is omitted)."""
    from tripwire.errors import TripwireError

    try:
        reg = _registry(db, artifacts)
        names = [name] if name else reg.models()
        data = {
            n: {"aliases": reg.aliases(n), "versions": [v.to_dict() for v in reg.versions(n)]}
            for n in names
        }
        if name and not data[name]["versions"]:
            reg.get(name, 1)  # raises the helpful "no model named" error
    except TripwireError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(data[name] if name else data, indent=2))
        return
    for n, d in data.items():
        click.echo(n)
        for v in d["versions"]:
            tags = f" [{', '.join(v['aliases'])}]" if v["aliases"] else ""
            metrics = v.get("metrics") or {}
            shown = ", ".join(f"{k} {x:.4g}" for k, x in metrics.items() if isinstance(x, float))
            click.echo(
                f"  v{v['version']}{tags}  {v['created_at'][:19]}  {v['created_by']}  {shown}"
            )


@registry.command("history")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@artifacts_option
def history(name: str, as_json: bool, db: str, artifacts: str | None) -> None:
    """The audit trail of NAME: every registration, promotion, rollback and loop decision."""
    reg = _registry(db, artifacts)
    events = [e.to_dict() for e in reg.trail(name)]
    if as_json:
        click.echo(json.dumps(events, indent=2))
        return
    for e in events:
        move = (
            f"v{e['from_version']} -> v{e['version']}" if e["from_version"] else f"v{e['version']}"
        )
        alias = f" {e['alias']}" if e["alias"] else ""
        why = f": {e['reason']}" if e["reason"] else ""
        click.echo(f"{e['at'][:19]}  {e['action']:<12}{alias} {move}  by {e['actor']}{why}")


@click.command()
@click.argument("name")
@click.option("--reason", default="rolled back by hand", show_default=True)
@db_option
@artifacts_option
def rollback(name: str, reason: str, db: str, artifacts: str | None) -> None:
    """Put the previous champion of NAME back. Takes effect at once, no restart."""
    from tripwire.errors import TripwireError

    try:
        reg = _registry(db, artifacts)
        before = reg.aliases(name).get("champion")
        mv = reg.rollback(name, actor=_actor(), reason=reason)
    except TripwireError as exc:
        _fail(str(exc))
        return
    click.echo(f"{name}: champion v{before} -> v{mv.version} (rollback)")


@registry.command("export")
@click.argument("name")
@click.argument("version")
@click.option(
    "--mlflow-uri",
    default=None,
    envvar="MLFLOW_TRACKING_URI",
    help="MLflow tracking URI (default: MLflow's own default, or MLFLOW_TRACKING_URI).",
)
@click.option("--as", "registered_name", default=None, help="Name in MLflow (default: NAME).")
@db_option
@artifacts_option
def export(
    name: str,
    version: str,
    mlflow_uri: str | None,
    registered_name: str | None,
    db: str,
    artifacts: str | None,
) -> None:
    """Register VERSION of NAME (a number, 'champion' or 'challenger') in an MLflow registry."""
    from tripwire.errors import TripwireError
    from tripwire.lifecycle.mlflow_bridge import push

    try:
        out = push(_registry(db, artifacts), name, version, mlflow_uri, registered_name)
    except TripwireError as exc:
        _fail(str(exc))
        return
    aliases = f" with alias {', '.join(out['aliases'])}" if out["aliases"] else ""
    click.echo(f"{name} v{version}: registered in MLflow as {out['uri']}{aliases}")


COMMANDS = [registry, rollback]
