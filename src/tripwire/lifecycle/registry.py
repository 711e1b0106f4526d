"""The model registry: versions, aliases and an audit trail in the monitor's store.

A version is an artifact file (copied into the artifact directory, its SHA-256 recorded), the
input schema it expects, a fingerprint of its training data, its metrics and its audit report.
Aliases (``champion``, ``challenger``) point at versions; every change of an alias and every
decision of the loop is appended to the trail with who or what did it, when, why and the
evidence. Nothing in the trail is ever updated or deleted.

The tables live in the same database as the monitor (SQLite file or PostgreSQL), so a
``tripwire serve`` process sees an alias change made by ``tripwire registry promote`` in
another process on its next request.

Examples
--------
>>> import tempfile, pathlib
>>> from sklearn.dummy import DummyClassifier
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> reg = Registry(f"sqlite:///{tmp / 'tw.db'}", artifacts=tmp / "artifacts")
>>> model = DummyClassifier().fit([[0], [1]], [0, 1])
>>> v1 = reg.add("churn", model, actor="doctest", alias="champion")
>>> v2 = reg.add("churn", model, actor="doctest")
>>> reg.promote("churn", v2.version, actor="doctest", reason="better").version
2
>>> reg.rollback("churn", actor="doctest", reason="live drop").version
1
>>> [e.action for e in reg.trail("churn")]
['register', 'alias', 'register', 'promote', 'rollback']
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tripwire.errors import InputError, UsageError
from tripwire.lifecycle import artifacts as art
from tripwire.lifecycle.tables import tables

ALIASES = ("champion", "challenger")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    # SQLite returns naive datetimes; everything stored is UTC.
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=dt.timezone.utc)
    return t


@dataclass(frozen=True)
class ModelVersion:
    model_name: str
    version: int
    created_at: dt.datetime
    created_by: str
    artifact_path: str
    artifact_format: str
    sha256: str
    size_bytes: int
    task: str | None = None
    target: str | None = None
    input_schema: dict[str, str] | None = None
    train_fingerprint: str | None = None
    train_rows: int | None = None
    metrics: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None
    note: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def to_dict(self, with_audit: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        d["aliases"] = list(self.aliases)
        if not with_audit:
            d["audit"] = _audit_summary(self.audit)
        return d


@dataclass(frozen=True)
class TrailEvent:
    at: dt.datetime
    model_name: str
    action: str
    actor: str
    alias: str | None
    version: int | None
    from_version: int | None
    reason: str | None
    evidence: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d


def _audit_summary(audit: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not audit:
        return None
    findings = audit.get("findings", [])
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.get("severity", "info")] = counts.get(f.get("severity", "info"), 0) + 1
    worst = [
        {"check": f.get("check"), "severity": f.get("severity"), "title": f.get("title")}
        for f in findings
        if f.get("severity") == "critical"
    ][:5]
    return {"counts": counts, "critical": worst}


def default_artifact_dir(db_url: str) -> Path:
    """Artifacts live beside a SQLite file, else in ./tripwire-artifacts (or $TRIPWIRE_ARTIFACTS)."""
    env = os.environ.get("TRIPWIRE_ARTIFACTS")
    if env:
        return Path(env)
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url[len("sqlite:///") :]).resolve().parent / "tripwire-artifacts"
    return Path("tripwire-artifacts").resolve()


class Registry:
    """Model versions, aliases and the trail, stored in the database at ``db``.

    ``db`` is a SQLAlchemy URL or an Engine. Tables are created if missing (the monitor's
    migrations create them too; both are idempotent).
    """

    def __init__(self, db: Any, artifacts: str | Path | None = None) -> None:
        import sqlalchemy as sa

        if isinstance(db, str):
            from tripwire.lifecycle.db import engine_for

            self.engine = engine_for(db)
            url = db
        else:
            self.engine = db
            url = str(db.url)
        self.artifacts = Path(artifacts) if artifacts else default_artifact_dir(url)
        md, self._versions, self._aliases, self._trail = tables()
        self._md = md
        md.create_all(self.engine, checkfirst=True)
        self._sa = sa
        self._loaded: dict[tuple[str, int], Any] = {}

    # -- reading --------------------------------------------------------------------------
    def _row_to_version(self, row: Any, aliases: tuple[str, ...] = ()) -> ModelVersion:
        m = row._mapping
        return ModelVersion(
            model_name=m["model_name"],
            version=int(m["version"]),
            created_at=_aware(m["created_at"]) or _now(),
            created_by=m["created_by"],
            artifact_path=m["artifact_path"],
            artifact_format=m["artifact_format"],
            sha256=m["sha256"],
            size_bytes=int(m["size_bytes"]),
            task=m["task"],
            target=m["target"],
            input_schema=m["input_schema"],
            train_fingerprint=m["train_fingerprint"],
            train_rows=m["train_rows"],
            metrics=m["metrics"],
            audit=m["audit"],
            note=m["note"],
            aliases=aliases,
        )

    def aliases(self, name: str) -> dict[str, int]:
        sa = self._sa
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(self._aliases.c.alias, self._aliases.c.version).where(
                    self._aliases.c.model_name == name
                )
            ).all()
        return {r.alias: int(r.version) for r in rows}

    def versions(self, name: str) -> list[ModelVersion]:
        sa = self._sa
        aliases = self.aliases(name)
        by_version: dict[int, list[str]] = {}
        for a, v in aliases.items():
            by_version.setdefault(v, []).append(a)
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(self._versions)
                .where(self._versions.c.model_name == name)
                .order_by(self._versions.c.version)
            ).all()
        return [
            self._row_to_version(r, tuple(sorted(by_version.get(int(r.version), [])))) for r in rows
        ]

    def models(self) -> list[str]:
        sa = self._sa
        with self.engine.connect() as c:
            rows = c.execute(sa.select(self._versions.c.model_name).distinct()).all()
        return sorted(r[0] for r in rows)

    def get(self, name: str, version: int | str) -> ModelVersion:
        """A version by number or by alias name."""
        if isinstance(version, str) and not version.isdigit():
            resolved = self.aliases(name).get(version)
            if resolved is None:
                raise UsageError(
                    f"model {name!r} has no {version!r} alias. "
                    f"Set one with: tripwire registry promote {name} VERSION"
                )
            version = resolved
        for v in self.versions(name):
            if v.version == int(version):
                return v
        known = [v.version for v in self.versions(name)]
        if not known:
            raise UsageError(
                f"no model named {name!r} in the registry. "
                f"Add one with: tripwire registry add {name} MODEL.joblib"
            )
        raise UsageError(f"model {name!r} has no version {version}; versions: {known}")

    def trail(self, name: str | None = None) -> list[TrailEvent]:
        sa = self._sa
        q = sa.select(self._trail).order_by(self._trail.c.id)
        if name is not None:
            q = q.where(self._trail.c.model_name == name)
        with self.engine.connect() as c:
            rows = c.execute(q).all()
        return [
            TrailEvent(
                at=_aware(r.at) or _now(),
                model_name=r.model_name,
                action=r.action,
                actor=r.actor,
                alias=r.alias,
                version=r.version,
                from_version=r.from_version,
                reason=r.reason,
                evidence=r.evidence,
            )
            for r in rows
        ]

    def load(self, name: str, version: int | str = "champion") -> tuple[ModelVersion, Any]:
        """The version and its fitted model; the artifact's hash is checked before loading."""
        mv = self.get(name, version)
        key = (name, mv.version)
        if key not in self._loaded:
            self._loaded[key] = art.load_artifact(mv.artifact_path, mv.sha256)
        return mv, self._loaded[key]

    def serving(self, name: str) -> dict[str, Any]:
        """How ``tripwire serve`` runs the challenger of ``name``: shadow and canary share.

        Defaults (nothing set): the challenger runs in shadow, no canary traffic.
        """
        sa = self._sa
        t = self._md.tables["tw_registry_serving"]
        with self.engine.connect() as c:
            row = c.execute(sa.select(t).where(t.c.model_name == name)).first()
        if row is None:
            return {"shadow": True, "canary_share": 0.0}
        return {"shadow": bool(row.shadow), "canary_share": float(row.canary_share)}

    def set_serving(
        self, name: str, *, shadow: bool, canary_share: float, actor: str
    ) -> dict[str, Any]:
        """Set how the challenger is served (recorded in the trail when it changes)."""
        if not 0.0 <= canary_share <= 0.5:
            raise UsageError(
                f"canary_share must be between 0 and 0.5 (a share of traffic); got {canary_share}."
            )
        before = self.serving(name)
        after = {"shadow": bool(shadow), "canary_share": float(canary_share)}
        if before == after:
            return after
        t = self._md.tables["tw_registry_serving"]
        with self.engine.begin() as c:
            c.execute(t.delete().where(t.c.model_name == name))
            c.execute(t.insert().values(model_name=name, updated_at=_now(), **after))
            self.record(name, "serving", actor=actor, reason=f"challenger serving {after}", conn=c)
        return after

    # -- writing --------------------------------------------------------------------------
    def record(
        self,
        name: str,
        action: str,
        *,
        actor: str,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        version: int | None = None,
        from_version: int | None = None,
        alias: str | None = None,
        conn: Any = None,
    ) -> None:
        """Append an event to the trail (a decision, a trigger, a rejection...)."""
        values = {
            "at": _now(),
            "model_name": name,
            "action": action,
            "actor": actor,
            "alias": alias,
            "version": version,
            "from_version": from_version,
            "reason": reason,
            "evidence": _jsonable(evidence) if evidence is not None else None,
        }
        if conn is not None:
            conn.execute(self._trail.insert().values(**values))
            return
        with self.engine.begin() as c:
            c.execute(self._trail.insert().values(**values))

    def add(
        self,
        name: str,
        model: Any,
        *,
        actor: str,
        train: pd.DataFrame | None = None,
        target: str | None = None,
        task: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        audit: Mapping[str, Any] | None = None,
        alias: str | None = None,
        fmt: str = "joblib",
        note: str | None = None,
    ) -> ModelVersion:
        """Register a fitted model object or a model file as the next version of ``name``."""
        if not name or len(name) > 200 or "/" in name:
            raise UsageError(f"invalid model name {name!r}: use 1-200 characters without '/'.")
        if alias is not None and alias not in ALIASES:
            raise UsageError(f"unknown alias {alias!r}; use one of {list(ALIASES)}.")
        if train is not None and target is not None and target not in train.columns:
            raise InputError(
                f"target column {target!r} is not in the training data; "
                f"columns are {list(train.columns)[:20]}."
            )
        sa = self._sa
        with self.engine.begin() as c:
            current = c.execute(
                sa.select(sa.func.max(self._versions.c.version)).where(
                    self._versions.c.model_name == name
                )
            ).scalar()
            version = int(current or 0) + 1
            if isinstance(model, (str, Path)):
                artifact = art.store_artifact(model, self.artifacts, name, version)
            else:
                artifact = art.save_model(model, self.artifacts, name, version, fmt=fmt)
            schema = art.input_schema(train, target) if train is not None else None
            values = {
                "model_name": name,
                "version": version,
                "created_at": _now(),
                "created_by": actor,
                "artifact_path": artifact.path,
                "artifact_format": artifact.format,
                "sha256": artifact.sha256,
                "size_bytes": artifact.size,
                "task": task,
                "target": target,
                "input_schema": schema,
                "train_fingerprint": art.data_fingerprint(train) if train is not None else None,
                "train_rows": int(len(train)) if train is not None else None,
                "metrics": _jsonable(metrics) if metrics else None,
                "audit": _jsonable(audit) if audit else None,
                "note": note,
            }
            try:
                c.execute(self._versions.insert().values(**values))
            except sa.exc.IntegrityError:  # pragma: no cover - two writers at once
                Path(artifact.path).unlink(missing_ok=True)
                raise UsageError(
                    f"another process registered {name} v{version} at the same moment; retry."
                ) from None
            self.record(
                name,
                "register",
                actor=actor,
                version=version,
                reason=note,
                evidence={"sha256": artifact.sha256, "train_rows": values["train_rows"]},
                conn=c,
            )
            if alias is not None:
                self._set_alias(c, name, alias, version, actor, "alias", "set at registration")
        return self.get(name, version)

    def _set_alias(
        self,
        conn: Any,
        name: str,
        alias: str,
        version: int,
        actor: str,
        action: str,
        reason: str | None,
        evidence: Mapping[str, Any] | None = None,
    ) -> int | None:
        sa = self._sa
        t = self._aliases
        prev = conn.execute(
            sa.select(t.c.version).where(t.c.model_name == name, t.c.alias == alias)
        ).scalar()
        if prev is None:
            conn.execute(
                t.insert().values(model_name=name, alias=alias, version=version, updated_at=_now())
            )
        else:
            conn.execute(
                t.update()
                .where(t.c.model_name == name, t.c.alias == alias)
                .values(version=version, updated_at=_now())
            )
        self.record(
            name,
            action,
            actor=actor,
            alias=alias,
            version=version,
            from_version=int(prev) if prev is not None else None,
            reason=reason,
            evidence=evidence,
            conn=conn,
        )
        return int(prev) if prev is not None else None

    def set_alias(
        self, name: str, alias: str, version: int, *, actor: str, reason: str | None = None
    ) -> ModelVersion:
        if alias not in ALIASES:
            raise UsageError(f"unknown alias {alias!r}; use one of {list(ALIASES)}.")
        mv = self.get(name, version)
        with self.engine.begin() as c:
            self._set_alias(c, name, alias, mv.version, actor, "alias", reason)
        return self.get(name, mv.version)

    def clear_alias(self, name: str, alias: str, *, actor: str, reason: str | None = None) -> None:
        sa = self._sa
        t = self._aliases
        with self.engine.begin() as c:
            prev = c.execute(
                sa.select(t.c.version).where(t.c.model_name == name, t.c.alias == alias)
            ).scalar()
            if prev is None:
                return
            c.execute(t.delete().where(t.c.model_name == name, t.c.alias == alias))
            self.record(
                name,
                "clear_alias",
                actor=actor,
                alias=alias,
                from_version=int(prev),
                reason=reason,
                conn=c,
            )

    def promote(
        self,
        name: str,
        version: int | str,
        *,
        actor: str,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Make ``version`` the champion; a challenger alias on it is cleared."""
        mv = self.get(name, version)
        t = self._aliases
        with self.engine.begin() as c:
            self._set_alias(c, name, "champion", mv.version, actor, "promote", reason, evidence)
            c.execute(
                t.delete().where(
                    t.c.model_name == name, t.c.alias == "challenger", t.c.version == mv.version
                )
            )
        return self.get(name, mv.version)

    def previous_champion(self, name: str) -> int | None:
        """The champion before the current one, from the trail (skipping rolled-back ones)."""
        current = self.aliases(name).get("champion")
        if current is None:
            return None
        history: list[int] = []
        for e in self.trail(name):
            if e.alias == "champion" and e.version is not None:
                if e.action == "rollback" and history:
                    # a rollback undoes the champion it replaced
                    history = [v for v in history if v != e.from_version]
                history.append(e.version)
        for v in reversed(history):
            if v != current:
                return v
        return None

    def rollback(
        self,
        name: str,
        *,
        actor: str,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Put the previous champion back."""
        target = self.previous_champion(name)
        if target is None:
            raise UsageError(
                f"model {name!r} has no earlier champion to roll back to "
                f"(see: tripwire registry list {name})."
            )
        with self.engine.begin() as c:
            self._set_alias(c, name, "champion", target, actor, "rollback", reason, evidence)
        return self.get(name, target)


def _jsonable(obj: Any) -> Any:
    """Round-trip through JSON so numpy scalars and the like are stored as plain values."""

    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        if hasattr(o, "tolist"):
            return o.tolist()
        if isinstance(o, (dt.datetime, dt.date)):
            return o.isoformat()
        return str(o)

    def finite(o: Any) -> Any:
        if isinstance(o, float) and o != o or o in (float("inf"), float("-inf")):
            return None
        if isinstance(o, dict):
            return {str(k): finite(v) for k, v in o.items()}
        if isinstance(o, list):
            return [finite(v) for v in o]
        return o

    return finite(json.loads(json.dumps(obj, default=default)))
