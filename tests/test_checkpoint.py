"""Saving and loading: atomic writes, safe loading, refusing checkpoints that do not fit."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
from torch import nn

from leafdl.checkpoint import (CheckpointError, atomic_torch_save, export_run, load_model, load_weights,
                               read_metadata, safe_torch_load, save_model)
from leafdl.models import build_model


def run_folder(tmp_path, num_classes=3, arch="efficientnet_lite0"):
    model, spec = build_model(num_classes, arch=arch, pretrained=False, img_size=64, verbose=False)
    with torch.no_grad():
        model.classifier[1].bias.copy_(torch.arange(num_classes, dtype=torch.float32))
    metadata = {"arch": arch, "classes": [f"class_{i}" for i in range(num_classes)], "input": spec.to_dict()}
    save_model(tmp_path, model.state_dict(), metadata)
    return model, metadata


def test_model_round_trips_through_a_run_folder(tmp_path):
    model, metadata = run_folder(tmp_path)
    loaded, loaded_metadata = load_model(tmp_path)
    assert loaded_metadata == metadata
    assert not loaded.training                                   # ready for prediction
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    x = torch.randn(2, 3, 64, 64)
    assert torch.allclose(model.eval()(x), loaded(x))


def test_atomic_save_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "model.pth"
    atomic_torch_save({"w": torch.ones(2)}, target)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_torch_save({"w": Unpicklable()}, target)
    assert torch.equal(safe_torch_load(target)["w"], torch.ones(2))   # old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["model.pth"]      # no temp file left behind


def test_truncated_checkpoint_is_refused_clearly(tmp_path):
    run_folder(tmp_path)
    data = (tmp_path / "model.pth").read_bytes()
    (tmp_path / "model.pth").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_model(tmp_path)


class Sneaky:
    """Any class: unpickling it could run code, so weights_only loading refuses it."""


def test_checkpoint_with_code_is_refused_by_weights_only(tmp_path):
    torch.save({"payload": Sneaky()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError):
        safe_torch_load(tmp_path / "evil.pth")


def test_checkpoint_for_another_architecture_is_refused(tmp_path):
    model, _ = build_model(3, arch="mobilenet_v2", pretrained=False, verbose=False)
    mobilenet_state = model.state_dict()
    other, _ = build_model(3, arch="efficientnet_lite0", pretrained=False, verbose=False)
    with pytest.raises(CheckpointError, match="another architecture"):
        load_weights(other, mobilenet_state)


def test_checkpoint_for_other_classes_is_refused(tmp_path):
    _, metadata = run_folder(tmp_path, num_classes=3)
    metadata["classes"] = ["a", "b", "c", "d"]            # metadata now disagrees with the weights
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(CheckpointError, match="number of classes"):
        load_model(tmp_path)


def test_missing_run_folder_files(tmp_path):
    with pytest.raises(CheckpointError, match="metadata.json"):
        read_metadata(tmp_path)
    (tmp_path / "metadata.json").write_text("{ not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_metadata(tmp_path)


def test_export_zips_model_metadata_and_plots_but_not_the_resume_state(tmp_path):
    run = tmp_path / "run"
    run_folder(run)
    (run / "metrics.png").write_bytes(b"\x89PNG fake")
    (run / "last.ckpt").write_bytes(b"resume state")
    archive = export_run(run)
    assert archive == tmp_path / "run.zip"
    with zipfile.ZipFile(archive) as zipped:
        files = sorted(name for name in zipped.namelist() if not name.endswith("/"))
        assert files == ["run/metadata.json", "run/metrics.png", "run/model.pth"]
    assert (run / "last.ckpt").exists()   # export never removes anything


def test_load_weights_explains_shape_mismatch():
    small, big = nn.Linear(4, 2), nn.Linear(4, 3)
    with pytest.raises(CheckpointError, match="shape"):
        load_weights(small, big.state_dict())


def test_saved_files_are_readable_by_others(tmp_path):
    run_folder(tmp_path)
    for name in ("model.pth", "metadata.json"):
        assert (tmp_path / name).stat().st_mode & 0o044 == 0o044, name
