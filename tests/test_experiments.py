"""Cached exercise runs: keyed by configuration, data and code."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import region_dataset

from dropout_utils import experiments as ex
from dropout_utils.data import FashionMNIST


@pytest.fixture
def toy_data() -> FashionMNIST:
    train_images, train_labels = region_dataset(300, seed=0)
    test_images, test_labels = region_dataset(120, seed=1)
    return FashionMNIST(train_images, train_labels, test_images, test_labels)


def small(**changes) -> ex.RunConfig:
    settings = {"num_epochs": 2, "batch_size": 50, "lr": 0.5, "seed": 0}
    settings.update(changes)
    return ex.RunConfig(**settings)


def test_a_run_records_history_statistics_and_weights(toy_data, tmp_path):
    result = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v1")
    assert len(result.history) == 2
    assert len(result.probe_stats) == 3  # before training and after each epoch
    assert len(result.train_stats) == 2
    assert set(result.probe_stats[0]) == {"hidden 1", "hidden 2"}
    for stats in result.probe_stats + result.train_stats:
        for layer in stats.values():
            assert layer["var"] >= 0 and math.isfinite(layer["mean"])
    # Full runs measure clean training accuracy after the last epoch only.
    assert math.isnan(result.clean_train_acc[0])
    assert 0 <= result.clean_train_acc[-1] <= 1
    net = result.model()
    assert not net.training
    with torch.inference_mode():
        assert net(toy_data.test_images[:3]).shape == (3, 10)


def test_an_identical_configuration_reuses_the_stored_run(toy_data, tmp_path):
    first = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v1")
    again = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v1")
    assert again.run_id == first.run_id
    assert again.history == first.history
    other_seed = ex.run(small(seed=1), dataset=toy_data, cache_dir=tmp_path, code="v1")
    assert other_seed.run_id != first.run_id


def test_a_new_code_version_reruns_with_the_same_result(toy_data, tmp_path):
    first = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v1")
    rerun = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v2")
    assert rerun.run_id != first.run_id
    # Seeded runs are deterministic, so the rerun computes the same numbers.
    assert [e["test_acc"] for e in rerun.history] == [
        e["test_acc"] for e in first.history
    ]


def test_the_default_key_follows_the_source_of_the_helpers(
    toy_data, tmp_path, monkeypatch
):
    first = ex.run(small(), dataset=toy_data, cache_dir=tmp_path)
    assert ex.run(small(), dataset=toy_data, cache_dir=tmp_path).run_id == (
        first.run_id
    )
    # Pretend that someone edited noise.py: every run must be computed again.
    real_getsource = ex.inspect.getsource

    def edited(module):
        source = real_getsource(module)
        return source + "\n# edited\n" if module is ex.noise else source

    monkeypatch.setattr(ex.inspect, "getsource", edited)
    assert ex.run(small(), dataset=toy_data, cache_dir=tmp_path).run_id != (
        first.run_id
    )


def test_code_version_covers_the_code_a_run_uses():
    names = {getattr(obj, "__qualname__", obj.__name__) for obj in ex.DEPENDENCIES}
    assert {
        "dropout_utils.noise",
        "dropout_utils.activations",
        "train",
        "train_epoch",
        "evaluate_accuracy",
        "TensorBatches",
        "init_normal",
    } <= names
    assert ex.code_version() == ex.code_version()
    assert ex.code_version((ex.noise,)) != ex.code_version((ex.layers,))


def test_an_unrelated_edit_keeps_the_key(monkeypatch):
    before = ex.code_version()
    real_getsource = ex.inspect.getsource

    def edited(obj):
        source = real_getsource(obj)
        return source + "\n# edited\n" if obj is ex.data.text_labels else source

    monkeypatch.setattr(ex.inspect, "getsource", edited)
    assert ex.code_version() == before
    monkeypatch.setattr(
        ex.inspect,
        "getsource",
        lambda obj: real_getsource(obj) + ("#" if obj is ex.training.train else ""),
    )
    assert ex.code_version() != before


def test_other_data_is_another_key(toy_data, tmp_path):
    first = ex.run(small(), dataset=toy_data, cache_dir=tmp_path, code="v1")
    changed = FashionMNIST(
        toy_data.train_images.flip(0),
        toy_data.train_labels.flip(0),
        toy_data.test_images,
        toy_data.test_labels,
    )
    second = ex.run(small(), dataset=changed, cache_dir=tmp_path, code="v1")
    assert second.run_id != first.run_id


def test_the_cache_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ex.CACHE_ENV_VAR, str(tmp_path / "elsewhere"))
    assert ex.default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(ex.CACHE_ENV_VAR)
    assert ex.default_cache_dir().parts[-2:] == (".cache", "experiments")


@pytest.mark.parametrize(
    "noise", ["dropout", "dropconnect", "gaussian-multiplicative", "gaussian-additive"]
)
def test_every_kind_of_noise_trains_on_a_subset(noise, toy_data, tmp_path):
    config = small(noise=noise, num_train=100, level1=0.2, level2=0.3)
    result = ex.run(config, dataset=toy_data, cache_dir=tmp_path, code="v1")
    # Subset runs measure the clean training accuracy after every epoch.
    assert all(0 <= acc <= 1 for acc in result.clean_train_acc)
    assert result.final_test_acc > 0.3  # four classes: chance is 0.25


def test_the_subset_is_the_same_for_every_seed_and_kind(toy_data):
    first, _ = ex.training_subset(toy_data, 50)
    second, _ = ex.training_subset(toy_data, 50)
    assert torch.equal(first, second)
    with pytest.raises(ValueError, match="exceeds"):
        ex.training_subset(toy_data, 301)


def test_model_structure_follows_the_noise_kind():
    dropout = ex.build_model(ex.RunConfig())
    assert [type(m).__name__ for m in dropout].count("Dropout") == 2
    dropconnect = ex.build_model(ex.RunConfig(noise="dropconnect"))
    assert [type(m).__name__ for m in dropconnect].count("DropConnectLinear") == 2
    assert list(ex.hidden_layers(dropout)) == ["hidden 1", "hidden 2"]


def test_bad_configurations_raise_clear_errors(toy_data, tmp_path):
    with pytest.raises(ValueError, match="noise must be one of"):
        ex.RunConfig(noise="salt")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ex.RunConfig(level1=1.5)
    with pytest.raises(ValueError, match="std must be"):
        ex.RunConfig(noise="gaussian-additive", level1=-1.0)
    with pytest.raises(ValueError, match="num_train"):
        ex.RunConfig(num_train=0)
    with pytest.raises(ValueError, match="weight_decay"):
        ex.RunConfig(weight_decay=-1.0)
    with pytest.raises(TypeError, match="RunConfig"):
        ex.run({"noise": "dropout"}, dataset=toy_data, cache_dir=tmp_path)


def test_summarise_reports_the_spread():
    summary = ex.summarise([0.8, 0.9, 1.0])
    assert summary["mean"] == pytest.approx(0.9)
    assert summary["std"] == pytest.approx(0.1)
    assert (summary["min"], summary["max"]) == (0.8, 1.0)
