"""The `tripwire` command. It parses arguments, makes one core call and renders the result.

Exit codes: 0 no critical finding, 1 at least one critical finding (or one at --fail-on),
2 bad input or usage, with one line on stderr that says what was wrong and how to fix it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from tripwire import __version__
from tripwire.errors import TripwireError, UsageError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


class ProgressPrinter:
    """Progress on stderr: a live bar on a terminal, one line per check otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> ProgressPrinter:
        if self.tty and not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, event: str, check: str, i: int, total: int, detail: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task("checks", total=total)
            if event == "start":
                self._bar.update(self._task, description=check)
            elif event == "note":
                self._bar.update(self._task, description=f"{check}: {detail}")
            elif event == "end":
                self._bar.update(self._task, completed=i)
            return
        if event == "end":
            click.echo(f"[{i}/{total}] {check}: {detail}", err=True)
        elif event == "note":
            click.echo(f"[{i}/{total}] {check}: {detail}", err=True)


def _fail(message: str) -> None:
    click.echo(f"tripwire: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tripwire")
def cli() -> None:
    """Catch the ways ML models fail: audit before deployment, monitor after, recover safely."""


def _write_outputs(
    report: Any, json_out: str | None, html_out: str | None, junit_out: str | None, fail_on: str
) -> list[str]:
    written = []
    if json_out:
        if json_out == "-":
            click.echo(report.to_json())
        else:
            written.append(str(report.save_json(json_out)))
    if html_out:
        written.append(str(report.save_html(html_out)))
    if junit_out:
        written.append(str(report.save_junit(junit_out, fail_on=fail_on)))
    return written


def _finish(report: Any, written: list[str], quiet: bool, fail_on: str, json_stdout: bool) -> None:
    if not quiet and not json_stdout:
        from rich.console import Console

        from tripwire.report.terminal import print_summary

        print_summary(report, Console(stderr=False))
        for path in written:
            click.echo(f"wrote {path}")
    sys.exit(report.exit_code(fail_on))


@cli.command()
@click.option("--train", required=True, help="Training data (CSV or Parquet).")
@click.option("--test", default=None, help="Held-out test data with the same columns.")
@click.option("--target", required=True, help="Label column.")
@click.option("--time", "time_col", default=None, help="Time column (enables temporal checks).")
@click.option("--group", default=None, help="Entity column (patient, customer, ...).")
@click.option("--id", "id_col", default=None, help="Row id column (excluded from features).")
@click.option("--prediction", default=None, help="Column with the model's predictions on test.")
@click.option(
    "--probabilities", default=None, help="Comma-separated probability columns, one per class."
)
@click.option("--weight", default=None, help="Sample weight column.")
@click.option(
    "--model",
    "model_path",
    default=None,
    help="Fitted scikit-learn model or Pipeline (joblib file).",
)
@click.option(
    "--task",
    type=click.Choice(["binary", "multiclass", "regression"]),
    default=None,
    help="Override the inferred task.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="COL=KIND",
    help="Override a column kind (repeatable).",
)
@click.option("--costs", default=None, help="Cost matrix inline (e.g. 'fn=5,fp=1') or a JSON file.")
@click.option(
    "--latency-budget-ms", type=float, default=None, help="Per-row predict latency budget."
)
@click.option(
    "--annotations", default=None, help="Long table item,annotator,label of several annotators."
)
@click.option(
    "--label-columns", default=None, help="Comma-separated label columns of several annotators."
)
@click.option(
    "--ledger", default=None, help="Test-set reuse ledger file (default ~/.tripwire/ledger.jsonl)."
)
@click.option(
    "--checks",
    "only",
    default=None,
    help="Run only checks whose id starts with these (comma-separated).",
)
@click.option(
    "--skip", default=None, help="Skip checks whose id starts with these (comma-separated)."
)
@click.option(
    "--json", "json_out", default=None, help="Write the JSON report here ('-' for stdout)."
)
@click.option("--html", "html_out", default=None, help="Write the HTML report here.")
@click.option(
    "--junit", "junit_out", default=None, help="Write JUnit XML here (one test per check)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "critical"]),
    default="critical",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is found.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed for models and resampling."
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress or summary; only the exit code and files."
)
def audit(**kw: Any) -> None:
    """Audit TRAIN (and TEST) for the seven ways models fail."""
    from tripwire.audit import audit as run_audit
    from tripwire.data import parse_kind_overrides

    options = {
        "costs": kw["costs"],
        "latency_budget_ms": kw["latency_budget_ms"],
        "label_columns": _split(kw["label_columns"]),
        "ledger": kw["ledger"],
    }
    with ProgressPrinter(kw["quiet"] or kw["json_out"] == "-") as progress:
        report = run_audit(
            kw["train"],
            kw["test"],
            target=kw["target"],
            time_column=kw["time_col"],
            group=kw["group"],
            id=kw["id_col"],
            prediction=kw["prediction"],
            probabilities=_split(kw["probabilities"]),
            weight=kw["weight"],
            model=kw["model_path"],
            task=kw["task"],
            kinds=parse_kind_overrides(kw["kinds"]),
            annotations=kw["annotations"],
            options=options,
            checks=_split(kw["only"]) or None,
            skip=_split(kw["skip"]),
            random_state=kw["seed"],
            progress=progress,
        )
    written = _write_outputs(report, kw["json_out"], kw["html_out"], kw["junit_out"], kw["fail_on"])
    _finish(report, written, kw["quiet"], kw["fail_on"], kw["json_out"] == "-")


@cli.command()
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    help="Folder for the demo's data and reports.",
)
@click.option("--quiet", "-q", is_flag=True)
def demo(out: str, quiet: bool) -> None:
    """The whole story on bundled real data (UCI Adult) with failures planted on purpose."""
    from tripwire.demo import run_demo

    code = run_demo(Path(out), echo=(lambda s: None) if quiet else click.echo)
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None, prog_name: str = "tripwire") -> None:
    """Entry point: map every user error to exit code 2 and a single line on stderr."""
    try:
        cli.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.NoSuchOption as exc:
        _fail(f"{exc.format_message()} Run '{_cmd(exc)} --help' for the options.")
    except click.exceptions.UsageError as exc:
        _fail(f"{exc.format_message()} Run '{_cmd(exc)} --help' for usage.")
    except click.exceptions.Abort:
        _fail("aborted.")
    except TripwireError as exc:
        _fail(_one_line(exc))
    except KeyboardInterrupt:
        _fail("interrupted.")
    except SystemExit:
        raise
    else:
        sys.exit(EXIT_OK)


def _cmd(exc: click.exceptions.UsageError) -> str:
    ctx = exc.ctx
    return ctx.command_path if ctx is not None else "tripwire"


def _add_commands() -> None:
    from tripwire.commands import discover

    for command in discover():
        cli.add_command(command)


_add_commands()


__all__ = ["cli", "main", "UsageError"]
