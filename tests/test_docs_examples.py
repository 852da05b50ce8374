"""Every ```python block of README.md and docs/**/*.md runs, so the examples stay true.

Each block is executed on its own, in a fresh namespace, with a fresh temporary directory as
the working directory (examples write run directories under ``runs/``). A block directly
preceded by an HTML comment that starts with ``<!-- no-test`` is skipped; the comment says
why. Blocks of other languages (bash, text) are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_TEST = re.compile(r"^\s*<!--\s*no-test\b")
OPEN = re.compile(r"^(\s*)```(\w*)")

# optional extras: a block that needs one is skipped where it is not installed
EXTRAS = {"axelrod", "stable_baselines3", "ray", "torchrl"}



def python_blocks(path: Path) -> list[tuple[int, str, bool]]:
    """``(line of the opening fence, code, skipped)`` for each ```python block of a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith("```"):
            j += 1
        if lang == "python":
            prev = start - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            skipped = prev >= 0 and bool(NO_TEST.match(lines[prev]))
            code = "\n".join(line[len(indent):] for line in lines[start + 1:j])
            blocks.append((start + 1, code, skipped))
        i = j + 1
    return blocks


def _collect() -> list:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    params = []
    for path in files:
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT).as_posix()
        for line, code, skipped in python_blocks(path):
            marks = [pytest.mark.skip(reason="marked <!-- no-test --> in the docs")] \
                if skipped else []
            params.append(pytest.param(rel, line, code, id=f"{rel}:{line}", marks=marks))
    return params


EXAMPLES = _collect()


def test_examples_were_found():
    assert len(EXAMPLES) >= 10, [p.id for p in EXAMPLES]


@pytest.mark.parametrize(("path", "line", "code"), EXAMPLES)
def test_example_runs(path, line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs_example__"}
    try:
        exec(compile(code, f"{path}:{line}", "exec"), namespace)
    except ModuleNotFoundError as e:
        top = (e.name or "").split(".")[0]
        if top in EXTRAS:
            pytest.skip(f"needs the optional package {top!r}")
        raise
    finally:
        plt.close("all")
