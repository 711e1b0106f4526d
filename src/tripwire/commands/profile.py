"""`tripwire profile DATA... --out PROFILE`: mergeable column profiles of data of any size."""

from __future__ import annotations

from typing import Any

import click


@click.command("profile")
@click.argument("data", nargs=-1, required=True)
@click.option("--out", required=True, help="Profile file to write (JSON, see docs/scale.md).")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: stream the files here in bounded memory; dask: run on a Dask cluster.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://host:8786); without it a local cluster is started.",
)
@click.option("--columns", default=None, help="Comma-separated columns to profile (default all).")
@click.option(
    "--merge",
    "merge_with",
    multiple=True,
    help="Existing profile file(s) to merge into the result (e.g. earlier windows).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def profile_command(**kw: Any) -> None:
    """Profile DATA (CSV/Parquet files or folders) into one mergeable profile file.

    Each column gets exact counts, missing values and moments plus KLL quantile, frequent-item
    and HyperLogLog sketches. `tripwire drift` compares two profiles without the raw data.
    """
    from tripwire.cli import _split
    from tripwire.scale.engines import profile
    from tripwire.scale.profile import load_profile

    prof = profile(
        *kw["data"],
        engine=kw["engine"],
        scheduler=kw["scheduler"],
        columns=_split(kw["columns"]) or None,
        progress=not kw["quiet"],
    )
    for path in kw["merge_with"]:
        prof = prof.merge(load_profile(path))
    prof.save(kw["out"])
    if not kw["quiet"]:
        _print_summary(prof, kw["out"])


def _print_summary(prof: Any, out: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{prof.rows:,} rows profiled -> {out}")
    for head in ("column", "kind", "missing", "distinct", "mean / top", "p50", "p99"):
        table.add_column(head)
    for name, c in prof.columns.items():
        s = c.summary()
        if c.kind == "numeric":
            q = s["quantiles"]
            mid = f"{s['mean']:.4g}" if s["mean"] is not None else "-"
            p50, p99 = f"{q['p50']:.4g}", f"{q['p99']:.4g}"
        else:
            mid = ", ".join(str(t["value"]) for t in s["top"][:3])
            p50 = p99 = ""
        table.add_row(
            name, c.kind, f"{s['missing_rate']:.2%}", f"{s['distinct']:,.0f}", mid, p50, p99
        )
    Console().print(table)


COMMANDS = [profile_command]
