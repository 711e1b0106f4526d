"""JUnit XML: one test suite per failure mode, one test case per check, so CI can gate on it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tripwire.findings import MODES, Report, Severity


def render_junit(report: Report, fail_on: str = "critical") -> str:
    """Checks with a finding at or above ``fail_on`` fail; skipped checks are skipped.

    Examples
    --------
    >>> from tripwire.findings import Finding, CheckRun
    >>> r = Report("audit", [Finding("labels.x", "labels", "critical", "bad")],
    ...            checks=[CheckRun("labels.x", "labels", "ran", findings=1)])
    >>> 'failures="1"' in render_junit(r)
    True
    """
    threshold = Severity(fail_on).rank
    root = ET.Element("testsuites", name=f"tripwire {report.kind}")
    total_fail = total_tests = 0
    for mode in MODES:
        runs = [c for c in report.checks if c.mode == mode.key]
        suite = ET.SubElement(root, "testsuite", name=f"{mode.number} {mode.title}")
        failures = skipped = errors = 0
        for run in runs:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"tripwire.{mode.key}",
                name=run.check,
                time=f"{run.seconds:.3f}",
            )
            bad = [f for f in report.findings if f.check == run.check and f.sev.rank >= threshold]
            if run.status == "skipped":
                ET.SubElement(case, "skipped", message=run.reason)
                skipped += 1
            elif run.status == "error":
                ET.SubElement(case, "error", message=run.reason)
                errors += 1
            elif bad:
                failures += 1
                fail = ET.SubElement(case, "failure", message=bad[0].title, type=bad[0].sev.value)
                fail.text = "\n\n".join(
                    f"[{f.sev.value}] {f.title}\n{f.detail}\nAction: {f.action}" for f in bad
                )
            notes = [f for f in report.findings if f.check == run.check and f.sev.rank < threshold]
            if notes:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"[{f.sev.value}] {f.title}" for f in notes)
        suite.set("tests", str(len(runs)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        total_fail += failures
        total_tests += len(runs)
    root.set("tests", str(total_tests))
    root.set("failures", str(total_fail))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
