"""`tripwire drift --reference REF --current CUR`: what moved, does it matter, for the model."""

from __future__ import annotations

from typing import Any

import click


def _pairs(items: tuple[str, ...], flag: str, example: str) -> dict[str, str]:
    from tripwire.errors import UsageError

    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"{flag} expects NAME=VALUE (e.g. {example}); got {item!r}.")
        k, v = item.rsplit("=", 1)
        out[k.strip()] = v.strip()
    return out


@click.command("drift")
@click.option(
    "--reference", required=True, help="Reference data (CSV or Parquet) or a saved profile."
)
@click.option(
    "--current", required=True, help="Current data with the same columns, or a saved profile."
)
@click.option("--target", default=None, help="Label column (may be absent from current).")
@click.option(
    "--model",
    "model_path",
    default=None,
    help="Fitted scikit-learn model or Pipeline (joblib file).",
)
@click.option("--prediction", default=None, help="Column with the model's predictions.")
@click.option(
    "--probabilities", default=None, help="Comma-separated probability columns, one per class."
)
@click.option("--id", "id_col", default=None, help="Row id column (not compared).")
@click.option("--time", "time_col", default=None, help="Time column (compared by calendar).")
@click.option(
    "--task",
    type=click.Choice(["binary", "multiclass", "regression"]),
    default=None,
    help="Override the inferred task.",
)
@click.option("--kind", "kinds", multiple=True, metavar="COL=KIND", help="Override a column kind.")
@click.option(
    "--method",
    "methods",
    multiple=True,
    metavar="COL=METHOD",
    help="Force a test for a column: ks, wasserstein, psi, chi2, jensen_shannon.",
)
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="False-alarm rate of the dataset-level decision.",
)
@click.option(
    "--min-effect",
    "min_effects",
    multiple=True,
    metavar="NAME=VALUE",
    help="Negligible-effect bar, e.g. ks_distance=0.05 or total_variation=0.03.",
)
@click.option(
    "--no-multivariate", is_flag=True, help="Skip the domain classifier (faster on wide data)."
)
@click.option(
    "--embedding-columns",
    default=None,
    help="Comma-separated numeric columns forming one embedding (MMD test).",
)
@click.option("--checks", "only", default=None, help="Run only checks with these id prefixes.")
@click.option("--skip", default=None, help="Skip checks with these id prefixes.")
@click.option("--json", "json_out", default=None, help="Write the JSON report ('-' for stdout).")
@click.option("--html", "html_out", default=None, help="Write the HTML report here.")
@click.option("--junit", "junit_out", default=None, help="Write JUnit XML here.")
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "critical"]),
    default="critical",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is found.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary.")
def drift_command(**kw: Any) -> None:
    """Compare CURRENT with REFERENCE: column, multivariate, label and prediction shift, and
    the model's performance estimated before labels arrive."""
    from tripwire.cli import ProgressPrinter, _finish, _split, _write_outputs
    from tripwire.compare import drift
    from tripwire.data import parse_kind_overrides
    from tripwire.errors import UsageError

    min_effect = {}
    for name, value in _pairs(kw["min_effects"], "--min-effect", "ks_distance=0.05").items():
        try:
            min_effect[name] = float(value)
        except ValueError:
            raise UsageError(f"--min-effect {name} expects a number; got {value!r}.") from None
    options: dict[str, Any] = {}
    if kw["no_multivariate"]:
        options["multivariate"] = False
    if kw["embedding_columns"]:
        options["embedding_columns"] = _split(kw["embedding_columns"])
    from tripwire.scale.profile import is_profile_file

    if is_profile_file(kw["reference"]) or is_profile_file(kw["current"]):
        # Saved profiles (tripwire profile): compare sketches, no raw data needed.
        from tripwire.scale.drift import profile_drift

        report = profile_drift(
            kw["reference"], kw["current"], alpha=kw["alpha"], min_effect=min_effect
        )
        written = _write_outputs(
            report, kw["json_out"], kw["html_out"], kw["junit_out"], kw["fail_on"]
        )
        _finish(report, written, kw["quiet"], kw["fail_on"], kw["json_out"] == "-")
        return
    with ProgressPrinter(kw["quiet"] or kw["json_out"] == "-") as progress:
        report = drift(
            kw["reference"],
            kw["current"],
            target=kw["target"],
            model=kw["model_path"],
            prediction=kw["prediction"],
            probabilities=_split(kw["probabilities"]),
            id=kw["id_col"],
            time_column=kw["time_col"],
            task=kw["task"],
            kinds=parse_kind_overrides(kw["kinds"]),
            methods=_pairs(kw["methods"], "--method", "income=psi"),
            alpha=kw["alpha"],
            min_effect=min_effect,
            options=options,
            checks=_split(kw["only"]) or None,
            skip=_split(kw["skip"]),
            random_state=kw["seed"],
            progress=progress,
        )
    written = _write_outputs(report, kw["json_out"], kw["html_out"], kw["junit_out"], kw["fail_on"])
    _finish(report, written, kw["quiet"], kw["fail_on"], kw["json_out"] == "-")


COMMANDS = [drift_command]
