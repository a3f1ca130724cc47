"""The tree itself: no file shadows a standard-library module, every benchmark starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted((ROOT / "bench").glob("*.py"))


def test_no_file_shadows_a_standard_library_module() -> None:
    """Scripts run with their own folder first on the path, and src/ is on it for everyone:
    a name there that the standard library also has would replace the library's module."""
    on_the_path = [*(ROOT / "bench").iterdir(), *(ROOT / "scripts").iterdir()]
    on_the_path += (ROOT / "src").iterdir()
    shadows = [
        str(path.relative_to(ROOT))
        for path in on_the_path
        if path.name.removesuffix(".py") in sys.stdlib_module_names
    ]
    assert shadows == []


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_every_benchmark_runs_as_a_script(script: Path) -> None:
    """`python bench/NAME.py --help` starts: its imports work from its own folder."""
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower()
