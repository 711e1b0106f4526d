"""Headless Chromium for page tests (Debian's chromium package; .ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
]


def chromium() -> str:
    """Path of the browser; skips (with the reason) outside CI when it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if IN_CI:
            pytest.fail(
                "chromium is not installed in CI; .ci/run should install Debian's chromium package"
            )
        pytest.skip("chromium is not installed (apt-get install chromium); page tests need it")
    return path


def dump_dom(url: str, timeout: float = 90) -> str:
    """The page's DOM after its scripts ran."""
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return res.stdout


def screenshot(url: str, out: Path, size: str = "1280,2400", timeout: float = 90) -> Path:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--screenshot={out}",
                url,
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    return out
