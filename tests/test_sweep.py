"""The resumable p1/p2 sweep, on tiny data (the stored file: test_book.py)."""

from __future__ import annotations

import json

import pytest
import torch

from dropout_utils import sweep
from dropout_utils.data import FashionMNIST

GRID = (0.0, 0.5)


@pytest.fixture(scope="module")
def tiny_data() -> FashionMNIST:
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(96, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (96,), generator=generator)
    return FashionMNIST(images[:64], labels[:64], images[64:], labels[64:])


@pytest.fixture
def settings() -> sweep.SweepSettings:
    return sweep.SweepSettings(num_epochs=2, lr=0.1, batch_size=16, grid=GRID)


def test_a_sweep_covers_the_grid_and_records_what_made_it(
    tmp_path, tiny_data, settings
):
    path = tmp_path / "sweep.json"
    payload = sweep.run_sweep(path, tiny_data, settings, progress=False)
    assert [(r["p1"], r["p2"]) for r in payload["runs"]] == [
        (0.0, 0.0),
        (0.0, 0.5),
        (0.5, 0.0),
        (0.5, 0.5),
    ]
    stored = sweep.load_sweep(path)
    assert stored == json.loads(path.read_text())
    assert stored["settings"]["grid"] == list(GRID)
    assert stored["settings"]["num_epochs"] == 2
    assert set(stored["versions"]) >= {"python", "torch", "torchvision"}
    for run in stored["runs"]:
        assert len(run["train_loss"]) == len(run["test_acc"]) == 2
        assert 0 <= run["final_clean_train_acc"] <= 1
        assert run["seed"] == settings.seed
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.json"]


def test_an_interrupted_sweep_resumes_without_redoing_finished_runs(
    tmp_path, tiny_data, settings, monkeypatch
):
    path = tmp_path / "sweep.json"
    real_run = sweep.run_setting
    calls = []

    def interrupt_on_third(p1, p2, settings, data):
        calls.append((p1, p2))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run(p1, p2, settings, data)

    monkeypatch.setattr(sweep, "run_setting", interrupt_on_third)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(path, tiny_data, settings, progress=False)
    # Two finished runs were saved; no temporary file is left behind.
    assert len(sweep.load_sweep(path)["runs"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.json"]

    calls.clear()
    monkeypatch.setattr(sweep, "run_setting", real_run)
    done = []
    monkeypatch.setattr(
        sweep,
        "run_setting",
        lambda p1, p2, s, d: done.append((p1, p2)) or real_run(p1, p2, s, d),
    )
    payload = sweep.run_sweep(path, tiny_data, settings, progress=False)
    assert done == [(0.5, 0.0), (0.5, 0.5)]
    assert len(payload["runs"]) == 4


def test_resuming_with_other_settings_is_refused(tmp_path, tiny_data, settings):
    path = tmp_path / "sweep.json"
    sweep.run_sweep(path, tiny_data, settings, progress=False)
    other = sweep.SweepSettings(num_epochs=3, lr=0.1, batch_size=16, grid=GRID)
    with pytest.raises(ValueError, match="--fresh"):
        sweep.run_sweep(path, tiny_data, other, progress=False)


def test_runs_are_reproducible(tiny_data, settings):
    first = sweep.run_setting(0.5, 0.5, settings, tiny_data)
    second = sweep.run_setting(0.5, 0.5, settings, tiny_data)
    assert first.test_acc == second.test_acc
    assert first.train_loss == second.train_loss


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema_version": 99}', "schema version"),
        ('{"schema_version": 1, "settings": {}}', "lacks the key"),
    ],
)
def test_a_damaged_file_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "sweep.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        sweep.load_sweep(path)


def test_a_run_trains_on_the_settings_threads_and_restores_the_count(
    tiny_data, monkeypatch
):
    seen = []
    original = sweep._run_setting

    def spy(*args):
        seen.append(torch.get_num_threads())
        return original(*args)

    monkeypatch.setattr(sweep, "_run_setting", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        settings = sweep.SweepSettings(
            num_epochs=1, lr=0.1, batch_size=16, grid=GRID, threads=1
        )
        sweep.run_setting(0.1, 0.2, settings, tiny_data)
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
