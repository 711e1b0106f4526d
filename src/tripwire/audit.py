"""Run every check the inputs allow and collect a Report."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from tripwire.checks import Check, registered
from tripwire.context import AuditContext
from tripwire.data import Roles, describe_source, prepare, read_table
from tripwire.errors import TripwireError, UsageError
from tripwire.findings import CheckRun, Finding, Report

#: progress(event, check, index, total, detail): event is "start", "note" or "end".
Progress = Callable[[str, str, int, int, str], None]


def audit(
    train: Any,
    test: Any = None,
    *,
    target: str,
    time_column: str | None = None,
    group: str | None = None,
    id: str | None = None,
    prediction: str | None = None,
    probabilities: Sequence[str] = (),
    weight: str | None = None,
    model: Any = None,
    kinds: Mapping[str, str] | None = None,
    task: str | None = None,
    annotations: Any = None,
    options: Mapping[str, Any] | None = None,
    checks: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    random_state: int = 0,
    progress: Progress | None = None,
    **kwargs: Any,
) -> Report:
    """Audit a train (and optional test) set for the seven ways models fail.

    Parameters
    ----------
    train, test
        Paths (CSV/Parquet) or pandas/polars/pyarrow/numpy tables.
    target
        The label column.
    time_column, group, id, prediction, probabilities, weight
        Column roles. ``time`` is accepted as an alias of ``time_column``.
    model
        A fitted scikit-learn estimator or Pipeline taking the feature columns, or a path to a
        joblib file holding one.
    kinds
        Column kind overrides, e.g. ``{"zip": "categorical"}``.
    options
        Check options, e.g. ``costs``, ``latency_budget_ms``, ``label_columns``.
    checks, skip
        Run only checks whose id starts with one of ``checks``; skip those starting with ``skip``.

    Returns
    -------
    Report
        Findings of every failure mode; ``report.exit_code()`` is 1 when one is critical.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "y": rng.integers(0, 2, 200)})
    >>> report = audit(df.iloc[:150], df.iloc[150:], target="y", checks=["data."])
    >>> report.kind, report.mode_status("data"), report.exit_code()
    ('audit', 'info', 0)
    """
    started = time.perf_counter()
    time_column = kwargs.pop("time", time_column)
    if kwargs:
        raise UsageError(f"audit() got unknown arguments: {', '.join(sorted(kwargs))}.")
    names = {"train": describe_source(train)}
    frames = {"train": read_table(train, name=_side_name("train", train))}
    if test is not None:
        names["test"] = describe_source(test)
        frames["test"] = read_table(test, name=_side_name("test", test))
    roles = Roles(
        target=target,
        time=time_column,
        group=group,
        id=id,
        prediction=prediction,
        probabilities=tuple(probabilities),
        weight=weight,
    )
    prepared, schema = prepare(
        frames,
        roles,
        kinds=kinds,
        task=task,
        names={s: _side_name(s, v) for s, v in (("train", train), ("test", test))},
    )
    label_columns = set((options or {}).get("label_columns") or ())
    if label_columns:  # other annotators' labels are not features (they would leak the target)
        import dataclasses

        kept = tuple(c for c in schema.features if c not in label_columns)
        schema = dataclasses.replace(schema, features=kept)
    if isinstance(model, (str,)) or hasattr(model, "__fspath__"):
        from tripwire.loading import load_model

        model = load_model(model)
    ann = read_table(annotations, name="annotations") if annotations is not None else None
    ctx = AuditContext(
        train=prepared["train"],
        test=prepared.get("test"),
        schema=schema,
        raw=frames,
        model=model,
        options=dict(options or {}),
        random_state=random_state,
        names=names,
        annotations=ann,
    )
    return run_checks(ctx, "audit", checks=checks, skip=skip, progress=progress, started=started)


def _side_name(side: str, source: Any) -> str:
    return str(source) if isinstance(source, str) else side


def run_checks(
    ctx: AuditContext,
    command: str,
    *,
    checks: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    progress: Progress | None = None,
    started: float | None = None,
) -> Report:
    """Run the registered checks of ``command`` on ``ctx`` and build the Report."""
    started = time.perf_counter() if started is None else started
    selected = _select(registered(command), checks, skip)
    findings: list[Finding] = []
    runs: list[CheckRun] = []
    total = len(selected)
    for i, chk in enumerate(selected, start=1):
        reason = next((r for r in (ctx.missing(req) for req in chk.requires) if r), None)
        if reason:
            runs.append(CheckRun(chk.id, chk.mode, "skipped", reason))
            continue
        if progress:
            progress("start", chk.id, i, total, chk.description)
            ctx.note = lambda msg, _id=chk.id, _i=i: progress("note", _id, _i, total, msg)  # type: ignore[misc]
        t0 = time.perf_counter()
        try:
            produced = list(chk.func(ctx))
        except TripwireError:
            raise
        except Exception as exc:  # a broken check must not hide the others' findings
            seconds = time.perf_counter() - t0
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            runs.append(CheckRun(chk.id, chk.mode, "error", tb, seconds))
            if progress:
                progress("end", chk.id, i, total, f"error: {tb}")
            continue
        finally:
            ctx.note = None
        seconds = time.perf_counter() - t0
        findings.extend(produced)
        runs.append(CheckRun(chk.id, chk.mode, "ran", "", seconds, len(produced)))
        if progress:
            progress("end", chk.id, i, total, f"{len(produced)} finding(s) in {seconds:.1f}s")
    return Report(
        kind=command,
        findings=findings,
        inputs=_describe_inputs(ctx),
        profile=ctx.cached("profile", lambda: _profile(ctx)),
        checks=runs,
        seconds=time.perf_counter() - started,
    )


def _select(checks: list[Check], only: Iterable[str] | None, skip: Iterable[str]) -> list[Check]:
    only = list(only) if only is not None else None
    skip = list(skip)
    out = []
    for c in checks:
        if only is not None and not any(c.id == p or c.id.startswith(p) for p in only):
            continue
        if any(c.id == p or c.id.startswith(p) for p in skip):
            continue
        out.append(c)
    return out


def _profile(ctx: AuditContext) -> dict[str, Any]:
    from tripwire.checks.data import profile_table

    sides = {"train": ctx.train}
    if ctx.test is not None:
        sides["test"] = ctx.test
    return {side: profile_table(df, ctx.schema) for side, df in sides.items()}


def _describe_inputs(ctx: AuditContext) -> dict[str, Any]:
    roles = ctx.schema.roles
    out: dict[str, Any] = {
        "sources": dict(ctx.names),
        "rows": {
            s: int(len(df))
            for s, df in (("train", ctx.train), ("test", ctx.test))
            if isinstance(df, pd.DataFrame)
        },
        "task": ctx.task,
        "classes": [str(c) for c in ctx.schema.classes],
        "roles": {k: v for k, v in roles.__dict__.items() if v},
        "features": ctx.features,
        "kinds": dict(ctx.schema.kinds),
        "model": type(ctx.model).__name__ if ctx.model is not None else None,
        "random_state": ctx.random_state,
    }
    return out
