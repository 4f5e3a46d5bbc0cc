"""The benchmark script in its tiny mode: it runs, and writes a sound table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_ROWS = [
    "our epoch (train + test eval)",
    "seed's epoch (d2l 0.17 pipeline)",
    "our epoch vs matrix products only",
    "dropout layer fwd+bwd, 256x256",
    "peak memory, one training epoch",
    "book build (clean, with execution)",
    "explorer: Train pressed to first point",
    "explorer: a 2-epoch run",
    "test accuracy after 2 epochs (ours)",
]


def test_tiny_benchmark_writes_a_well_formed_results_table(tmp_path):
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--tiny",
            "--repeats",
            "1",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = output.read_text()
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"

    assert "## Machine" in text
    assert re.search(r"- CPU: .+", text)
    assert re.search(r"PyTorch threads used: \d+", text)
    assert re.search(r"torch \d+\.\d+", text)

    results = text.split("## Results", 1)[1].split("\n## ", 1)[0]
    table = [line for line in results.splitlines() if line.startswith("|")]
    header, separator, *rows = table
    assert header == "| measurement | value | reference | ratio | target | met |"
    assert separator == "|---|---|---|---|---|---|"
    for row in rows:
        assert row.endswith(" |") and row.count("|") == 7, row
    names = [row.split("|")[1].strip() for row in rows]
    for expected in EXPECTED_ROWS:
        assert any(name.startswith(expected) for name in names), expected

    # Synthetic data cannot judge a target: tiny mode says so in every row.
    assert "Tiny mode: synthetic data" in text
    for row in rows:
        assert row.split("|")[6].strip() in ("", "n/a"), row

    # Every measured row carries a positive number with its unit.
    cells = {row.split("|")[1].strip(): row.split("|")[2].strip() for row in rows}
    epoch = cells["our epoch (train + test eval)"]
    assert re.fullmatch(r"\d+\.\d{3} s", epoch) and float(epoch[:-2]) > 0
    memory = cells["peak memory, one training epoch"]
    assert re.fullmatch(r"\d+ MB", memory) and int(memory[:-3]) > 50
    accuracy = cells["test accuracy after 2 epochs (ours)"]
    mean = float(accuracy.split(" ± ")[0])
    assert 0.0 <= mean <= 1.0
    # The profile of an epoch names the operators that take the time.
    assert "## Where an epoch's time goes" in text
    assert "| `aten::mm` |" in text or "| `aten::addmm` |" in text
    # The seed's row is either measured or says plainly why it is not.
    seed = cells["seed's epoch (d2l 0.17 pipeline)"]
    assert seed == "skipped" or re.fullmatch(r"\d+\.\d{3} s", seed)


def _load_run_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "benchmark_run", ROOT / "benchmarks" / "run.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_a_new_results_file_keeps_the_hand_written_notes(tmp_path):
    run = _load_run_module()
    output = tmp_path / "RESULTS.md"
    assert run.kept_section(output) == ""  # no file yet
    output.write_text("# old table\n\n| a | b |\n")
    assert run.kept_section(output) == ""  # no marker: nothing to keep
    hand = f"{run.KEEP_MARKER}\n\n## By hand\n\nMeasured on a quiet day.\n"
    output.write_text("# old table\n\n| a | b |\n\n" + hand)
    kept = run.kept_section(output)
    assert kept == "\n" + hand
    assert "old table" not in kept


def test_page_execution_seconds_reads_the_build_cache(tmp_path):
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    run = _load_run_module()
    notebook = tmp_path / "chapters" / "exercises.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    cache = get_cache(tmp_path / "book" / "_build" / ".jupyter_cache")
    bundle = CacheBundleIn(
        nbformat.read(notebook, as_version=4),
        str(notebook),
        data={"execution_seconds": 12.5},
    )
    cache.cache_notebook_bundle(bundle, check_validity=False)
    assert run.page_execution_seconds(tmp_path / "book") == {"exercises": 12.5}


def test_only_a_full_run_writes_the_committed_results_file():
    run = _load_run_module()
    committed = ROOT / "benchmarks" / "RESULTS.md"
    assert run.parse_args([]).output == committed
    for flags in (["--tiny"], ["--skip-build"], ["--tiny", "--skip-build"]):
        output = run.parse_args(flags).output
        assert output != committed
        assert output.parent == ROOT / "_build" / "benchmarks", flags
    chosen = Path("/elsewhere/RESULTS.md")
    assert run.parse_args(["--tiny", "--output", str(chosen)]).output == chosen
