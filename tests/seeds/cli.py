"""The CLI in this process (click's runner): the commands as a user types them, without a
new interpreter per line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from click.testing import CliRunner

from moonshift.cli.main import cli


def invoke(
    cwd: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``moonshift ARGS`` in ``cwd``; the result reads like a finished process."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        clean = {k: None for k in os.environ if k.startswith("MOONSHIFT_")}
        result = CliRunner().invoke(cli, list(args), env={**clean, **(env or {})}, input=input)
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(
        ["moonshift", *args], result.exit_code, result.stdout, result.stderr
    )
