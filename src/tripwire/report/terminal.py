"""Terminal summary: grouped by failure mode, worst first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tripwire.findings import MODES, Report

STYLE = {
    "critical": "bold red",
    "warning": "yellow",
    "info": "cyan",
    "ok": "green",
    "not_checked": "dim",
}
ICON = {"critical": "✖", "warning": "▲", "info": "·", "ok": "✔", "not_checked": "○"}


def print_summary(
    report: Report, console: Console | None = None, *, max_per_mode: int = 6, show_info: bool = True
) -> None:
    """Print one block per failure mode with its findings, worst first."""
    console = console or Console()
    counts = report.counts()
    head = Text.assemble(
        ("tripwire ", "bold"),
        (f"{report.kind} ", "bold"),
        f"— {counts['critical']} critical, {counts['warning']} warning, {counts['info']} info",
        f"  ({report.seconds:.1f}s)",
    )
    console.print(head)
    for mode in MODES:
        findings = report.by_mode(mode.key)
        status = report.mode_status(mode.key)
        title = Text.assemble(
            (f"{ICON[status]} ", STYLE[status]), (f"{mode.number} {mode.title}", "bold")
        )
        runs = [c for c in report.checks if c.mode == mode.key]
        if report.kind != "audit" and not runs and not findings:
            continue  # e.g. a drift report: other failure modes were not part of the command
        ran = sum(c.status == "ran" for c in runs)
        skipped = [c for c in runs if c.status == "skipped"]
        errors = [c for c in runs if c.status == "error"]
        title.append(
            f"  [{ran} check(s) ran" + (f", {len(skipped)} skipped" if skipped else "") + "]", "dim"
        )
        console.print(title)
        shown = [f for f in findings if show_info or f.sev.value != "info"]
        if not shown and not errors:
            reasons = (
                "; ".join(sorted({c.reason for c in skipped}))
                or "no check of this mode applies to these inputs"
            )
            console.print(
                "    nothing found" if ran else "    not checked: " + reasons, style="dim"
            )
        table = Table.grid(padding=(0, 1))
        table.add_column(width=9)
        table.add_column()
        for f in shown[:max_per_mode]:
            table.add_row(Text(f.sev.value, STYLE[f.sev.value]), Text(f.title))
        if len(shown) > max_per_mode:
            table.add_row(
                "",
                Text(
                    f"... and {len(shown) - max_per_mode} more (see the HTML or JSON report)", "dim"
                ),
            )
        for c in errors:
            table.add_row(
                Text("error", "bold magenta"), Text(f"check {c.check} failed: {c.reason}")
            )
        console.print(table, style=None)
