"""The peer benchmark's harness with fake worker processes (no JAX needed)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.peers import harness
from benchmarks.peers.harness import (
    Row,
    machine_load,
    markdown,
    measure,
    replace_block,
    speed,
    worker_env,
)
from benchmarks.peers.rows_envs import ENV_ROWS

FAKE = textwrap.dedent('''
    import json, sys
    name, times, compile_s, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    if times == "missing":
        print(json.dumps({"missing": "no such system here"}))
        sys.exit(0)
    if times == "crash":
        sys.stderr.write("boom: the worker broke\\n")
        sys.exit(3)
    times = [float(t) for t in times.split(",")]
    print("a library's import banner")
    print(json.dumps({"ready": True, "compile_s": float(compile_s), "version": name + " 1.0"}))
    sys.stdout.flush()
    runs = 0
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        with open(log, "a") as f:
            f.write(name + "\\n")
        print(json.dumps({"cpu_s": times[runs % len(times)], "wall_s": 0.0}), flush=True)
        runs += 1
''')


@pytest.fixture
def fake(tmp_path: Path):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    log = tmp_path / "runs.log"

    def cmd(name: str, times: str, compile_s: float = 0.5) -> tuple[str, ...]:
        return (sys.executable, str(script), name, times, str(compile_s), str(log))

    cmd.log = log  # type: ignore[attr-defined]
    return cmd


def row(fake, ours: str, peer: str, work: str = "toy work, B = 8") -> Row:
    return Row(work=work, peer="a peer", peer_cmd=fake("peer", peer, 7.5),
               ours_cmd=fake("ours", ours, 0.25), settings="both: toy settings.",
               differences="none worth a word.")


def test_ratios_median_range_and_table(fake):
    result = measure(row(fake, "1.0", "2,3,4,5,6"), 5, worker_env())
    assert result.ratios == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert (result.peer_compile, result.ours_start) == (7.5, 0.25)
    assert result.versions == ("ours 1.0", "peer 1.0")
    table = markdown([result], 5, "load average 1.0 to 2.0 on 2 CPUs")
    assert "| toy work, B = 8 | a peer | 4.00x faster (2.00x to 6.00x) | 7.50 s | 0.25 s |" in table
    assert table.startswith("| work | peer | lola-games vs peer | peer's compile | ours' start-up")
    assert "5 alternating pairs per row" in table
    assert "; load average 1.0 to 2.0 on 2 CPUs." in table
    assert "Settings: both: toy settings. Differences: none worth a word." in table
    assert "(ours 1.0 against peer 1.0)" in table


def test_rows_sharing_settings_are_described_once(fake):
    results = [measure(row(fake, "1.0", "2.0", work=w), 1, worker_env()) for w in ("a", "b")]
    table = markdown(results, 1)
    assert table.count("Settings:") == 1 and "- **a; b, a peer**" in table
    assert machine_load((2.0, 0, 0), (1.5, 0, 0)).startswith("load average 1.5 to 2.0 on ")


def test_pairs_alternate_which_side_goes_first(fake):
    measure(row(fake, "1.0", "1.0"), 4, worker_env())
    runs = fake.log.read_text().split()
    assert runs == ["ours", "peer", "peer", "ours", "ours", "peer", "peer", "ours"]


def test_slower_is_said_as_slower():
    assert speed([0.5, 0.25, 0.4]) == "2.50x slower (2.00x to 4.00x)"
    assert speed([1.0, 1.5, 0.8]) == "1.00x faster (0.80x to 1.50x)"


def test_a_row_whose_peer_is_missing_is_skipped_with_its_reason(fake, capsys):
    rows = [row(fake, "1.0", "missing", work="missing work"), row(fake, "1.0", "3.0")]
    assert harness.main(rows, ["--pairs", "2"]) == 0
    out, err = capsys.readouterr()
    assert "skipped: missing work vs a peer: no such system here" in err
    assert "missing work" not in out and "3.00x faster" in out


def test_a_crashing_worker_fails_its_row_and_the_run(fake, capsys):
    rows = [row(fake, "1.0", "crash", work="broken work"), row(fake, "1.0", "2.0")]
    assert harness.main(rows, ["--pairs", "1"]) == 1
    out, err = capsys.readouterr()
    assert "failed: broken work vs a peer" in err and "boom: the worker broke" in err
    assert "2.00x faster" in out


def test_rows_pattern_write_and_readme(fake, tmp_path, monkeypatch, capsys):
    rows = [row(fake, "1.0", "2.0", work="first"), row(fake, "2.0", "1.0", work="second")]
    out_file = tmp_path / "table.md"
    assert harness.main(rows, ["--pairs", "1", "--rows", "^sec", "--write", str(out_file)]) == 0
    text = out_file.read_text()
    assert "| second | a peer | 2.00x slower (2.00x to 2.00x)" in text and "first" not in text
    # --readme rewrites the marked block of README.md and docs/benchmarks.md
    monkeypatch.setattr(harness, "REPO", tmp_path)
    (tmp_path / "docs").mkdir()
    for name in harness.READMES:
        (tmp_path / name).write_text(f"intro\n{harness.BEGIN}\nold claim\n{harness.END}\nend\n")
    assert harness.main(rows, ["--pairs", "1", "--readme"]) == 0
    for name in harness.READMES:
        text = (tmp_path / name).read_text()
        assert "old claim" not in text and "| first | a peer | 2.00x faster" in text
        assert text.startswith("intro\n") and text.endswith(f"{harness.END}\nend\n")
    capsys.readouterr()
    # a table missing a row does not replace the README's
    skipped = [*rows, row(fake, "1.0", "missing", work="third")]
    assert harness.main(skipped, ["--pairs", "1", "--readme"]) == 1
    assert "not written" in capsys.readouterr().err
    assert "| first | a peer | 2.00x faster" in (tmp_path / "README.md").read_text()


def test_replace_block_needs_the_markers():
    text = f"a\n{harness.BEGIN}\nx\n{harness.END}\nb"
    assert replace_block(text, "table\n") == f"a\n{harness.BEGIN}\ntable\n{harness.END}\nb"
    with pytest.raises(ValueError, match="README.md has no"):
        replace_block("no markers", "table\n", "README.md")


def test_bad_pairs_are_refused():
    with pytest.raises(SystemExit):
        harness.parse_args(["--pairs", "0"])


def test_workers_get_one_thread_and_this_checkout():
    env = worker_env({"LOLA_GAMES_PAX": "/somewhere"})
    assert env["OMP_NUM_THREADS"] == "1" and "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    assert env["PYTHONPATH"].split(":")[0] == str(harness.REPO)
    assert env["LOLA_GAMES_PAX"] == "/somewhere"


def test_the_pax_row_without_a_checkout_is_skipped(monkeypatch):
    """Without a pax path the pax worker reports itself missing (whether JAX is there or not),
    so the row is skipped rather than failed."""
    monkeypatch.delenv("LOLA_GAMES_PAX", raising=False)
    ipd = [r for r in ENV_ROWS if r.peer.startswith("pax")]
    assert len(ipd) == 1 and len(ENV_ROWS) == 4
    result = measure(ipd[0], 1, worker_env())
    assert result.skipped and ("pax" in result.skipped or "JAX" in result.skipped)
