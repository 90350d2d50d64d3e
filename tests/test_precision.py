"""Precision: bf16 frozen features only where the CPU computes bf16, float32 for all that learns."""

from __future__ import annotations

import json

import pytest
import torch

from leafdl import checkpoint, precision
from leafdl.cli import main
from leafdl.config import TrainConfig
from leafdl.data import build_dataloaders
from leafdl.device import cpu_bf16_flags, cpu_has_native_bf16
from leafdl.engine import fit
from leafdl.models import build_model
from leafdl.pipeline import train_from_folder
from leafdl.predict import Predictor

CPU = torch.device("cpu")


def quiet(*_args, **_kwargs):
    pass


@pytest.fixture
def native_bf16(monkeypatch):
    """Make the CPU check answer yes or no: ``native_bf16(True)``."""
    def force(answer: bool) -> None:
        monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: answer)
    return force


def record_dtypes(model) -> dict[str, list[torch.dtype]]:
    """Hooks that note the dtype of what the features give and the classifier gets."""
    seen = {"features": [], "classifier": []}
    model.features.register_forward_hook(lambda _m, _i, output: seen["features"].append(output.dtype))
    model.classifier.register_forward_pre_hook(lambda _m, inputs: seen["classifier"].append(inputs[0].dtype))
    return seen


def demo_model(img_size: int = 96):
    torch.manual_seed(0)
    return build_model(4, arch="efficientnet_lite0", img_size=img_size, verbose=False)


# --- The CPU check ------------------------------------------------------------------------


@pytest.mark.parametrize("flags, expected, named", [
    ("fpu sse2 avx2 avx512f avx512_bf16 amx_tile", True, ["avx512_bf16", "amx_tile"]),
    ("fpu sse2 avx2 amx_bf16 amx_tile", True, ["amx_bf16", "amx_tile"]),
    ("fpu sse2 avx2 avx512f avx512_vnni", False, []),   # AVX-512 alone emulates bf16
])
def test_cpu_check_reads_the_flags(tmp_path, flags, expected, named):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\n")
    assert cpu_has_native_bf16(cpuinfo) is expected
    assert cpu_bf16_flags(cpuinfo) == named


def test_cpu_check_says_no_without_cpuinfo(tmp_path):
    assert cpu_has_native_bf16(tmp_path / "missing") is False    # macOS, Windows
    assert cpu_bf16_flags(tmp_path / "missing") == []


# --- Choosing -------------------------------------------------------------------------------


def test_auto_is_fp32_when_the_cpu_has_no_native_bf16(native_bf16):
    native_bf16(False)
    choice = precision.choose_precision("auto", CPU)
    assert choice.name == "fp32" and not choice.bf16_features
    assert choice.describe() == "Precision: fp32 (this CPU has no native bf16)"


def test_auto_is_bf16_when_the_cpu_has_it(native_bf16):
    native_bf16(True)
    choice = precision.choose_precision("auto", CPU)
    assert choice.name == "bf16" and choice.bf16_features
    assert "bf16 for the frozen features" in choice.describe()
    assert "natively" in choice.describe()
    assert precision.choose_precision("fp32", CPU).name == "fp32"   # fp32 always wins when asked


def test_forced_bf16_warns_where_it_is_emulated(native_bf16):
    native_bf16(False)
    choice = precision.choose_precision("bf16", CPU)
    assert choice.bf16_features and "slower" in choice.describe()


def test_cuda_keeps_its_mixed_precision_and_refuses_bf16():
    cuda = torch.device("cuda")   # choosing needs no GPU
    assert precision.choose_precision("auto", cuda).cuda_amp
    assert precision.choose_precision("fp32", cuda).name == "fp32"
    with pytest.raises(ValueError, match="bf16 is for CPUs"):
        precision.choose_precision("bf16", cuda)
    with pytest.raises(ValueError, match="bf16 is for CPUs"):
        precision.choose_precision("bf16", torch.device("mps"))


@pytest.mark.parametrize("bad", ["half", "fp16", "BF16", ""])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        precision.choose_precision(bad, CPU)


def test_bad_values_are_refused_by_fit_and_the_command(demo_split, tmp_path, capsys):
    model, spec = demo_model(32)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    with pytest.raises(ValueError, match=r"precision \(command line: --precision\) must be one of"):
        TrainConfig(epochs=1, precision="half")   # refused as the settings are made, before fit
    config = TrainConfig(epochs=1)
    config.precision = "half"                  # changed afterwards: fit refuses it too
    with pytest.raises(ValueError, match="precision must be one of"):
        fit(model, loaders, config, progress=False, log=quiet)
    with pytest.raises(SystemExit):
        main(["train", str(demo_split), "--out", str(tmp_path / "run"), "--precision", "half"])
    assert "invalid choice: 'half'" in capsys.readouterr().err


# --- Training -------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [(True, "bf16"), (False, "fp32")])
def test_fit_runs_only_the_frozen_features_in_bf16(native_bf16, demo_split, tmp_path, answer, expected):
    native_bf16(answer)
    model, spec = demo_model(32)
    seen = record_dtypes(model)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    history = fit(model, loaders, TrainConfig(epochs=1, precision="auto"), run_dir=tmp_path, progress=False, log=quiet)

    assert history.precision == [expected]
    assert set(seen["features"]) == {torch.bfloat16 if answer else torch.float32}
    assert set(seen["classifier"]) == {torch.float32}           # what learns sees float32
    saved = checkpoint.safe_torch_load(tmp_path / checkpoint.MODEL_FILE)
    assert {tensor.dtype for tensor in saved.values() if tensor.is_floating_point()} == {torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    metadata = json.loads((tmp_path / checkpoint.METADATA_FILE).read_text())
    assert metadata["precision"] == expected
    assert metadata["hyperparameters"]["precision"] == "auto"


def record_training_dtypes(model) -> dict[str, list[torch.dtype]]:
    """Hooks that note, in training passes only, what the first (frozen) block and the last
    (unfrozen) block compute in."""
    seen = {"first block": [], "last block": []}
    blocks = list(model.features.children())
    for name, block in (("first block", blocks[0]), ("last block", blocks[-1])):
        block.register_forward_hook(lambda _m, _i, output, name=name:
                                    seen[name].append(output.dtype) if torch.is_grad_enabled() else None)
    return seen


@pytest.mark.parametrize("answer", [True, False], ids=["native-bf16", "no-native-bf16"])
def test_fine_tuning_computes_under_bf16_autocast_on_a_bf16_cpu(native_bf16, demo_split, tmp_path, answer):
    native_bf16(answer)
    model, spec = demo_model(32)
    seen = record_training_dtypes(model)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    config = TrainConfig(epochs=1, unfreeze=2, finetune_epochs=1, precision="auto")
    history = fit(model, loaders, config, run_dir=tmp_path, progress=False, log=quiet)

    assert history.stage == ["frozen", "finetune"]
    assert history.precision == (["bf16", "bf16-autocast"] if answer else ["fp32", "fp32"])
    computed = torch.bfloat16 if answer else torch.float32
    finetune_batches = len(loaders.train)
    assert seen["last block"][-finetune_batches:] == [computed] * finetune_batches   # the blocks that learn
    assert seen["first block"][-finetune_batches:] == [computed] * finetune_batches  # and the frozen ones
    gradients = [p.grad for p in model.features[-1].parameters()]    # the last step's, kept after fit
    assert gradients and {g.dtype for g in gradients} == {torch.float32}             # fp32 master weights
    assert all(p.dtype == torch.float32 for p in model.parameters())
    saved = checkpoint.safe_torch_load(tmp_path / checkpoint.MODEL_FILE)
    assert {t.dtype for t in saved.values() if t.is_floating_point()} == {torch.float32}
    state = checkpoint.safe_torch_load(tmp_path / checkpoint.TRAINING_STATE_FILE)
    moments = [value for entry in state["optimizer"]["state"].values() for key, value in entry.items()
               if key in ("exp_avg", "exp_avg_sq")]
    assert moments and {t.dtype for t in moments} == {torch.float32}              # Adam's state too
    assert json.loads((tmp_path / checkpoint.METADATA_FILE).read_text())["history"]["precision"] == history.precision


def test_a_fine_tuning_run_resumes_in_another_precision(native_bf16, demo_split, tmp_path):
    """--precision changes only speed: a run stopped under one resumes under the other, each epoch recorded."""
    native_bf16(True)

    def fresh():
        model, spec = demo_model(32)
        return model, build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)

    def stop_after(stop_epoch):
        def on_epoch_end(epoch, _history):
            if epoch == stop_epoch:
                raise KeyboardInterrupt
        return on_epoch_end

    settings = dict(epochs=1, unfreeze=2, finetune_epochs=2, max_patience=10)
    stopped = fit(*fresh(), TrainConfig(**settings, precision="auto"), run_dir=tmp_path, progress=False,
                  on_epoch_end=stop_after(0), log=quiet)                          # the frozen epoch in bf16
    assert stopped.interrupted and stopped.precision == ["bf16"]
    stopped = fit(*fresh(), TrainConfig(**settings, precision="fp32"), run_dir=tmp_path, resume=True,
                  progress=False, on_epoch_end=stop_after(1), log=quiet)         # fine-tuning begins in fp32
    assert stopped.interrupted and stopped.precision == ["bf16", "fp32"]
    model, loaders = fresh()
    resumed = fit(model, loaders, TrainConfig(**settings, precision="auto"), run_dir=tmp_path, resume=True,
                  progress=False, log=quiet)                                     # and ends under bf16 autocast
    assert resumed.precision == ["bf16", "fp32", "bf16-autocast"]
    assert resumed.stage == ["frozen", "finetune", "finetune"] and not resumed.interrupted
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # The saved model is used as its best epoch was validated, whichever precision that was.
    best = resumed.precision[resumed.best_epoch - 1]
    assert Predictor.from_run(tmp_path, precision="auto").precision == best
    assert Predictor.from_run(tmp_path, precision="fp32").precision == "fp32"


def test_bf16_learns_as_well_as_fp32(native_bf16, demo_split):
    best = {}
    for name in ("fp32", "bf16"):
        model, spec = demo_model(96)
        loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
        history = fit(model, loaders, TrainConfig(epochs=3, lr=0.003, precision=name), progress=False, log=quiet)
        assert history.precision == [name] * 3
        best[name] = history.best_valid_acc
    # 13 validation images: within one image of each other, and far above chance (0.25).
    assert abs(best["bf16"] - best["fp32"]) <= 1 / 13 + 1e-9
    assert best["bf16"] >= 0.5


def test_the_run_says_its_precision_first(native_bf16, demo_split, tmp_path):
    native_bf16(True)
    lines = []
    train_from_folder(demo_split, tmp_path / "run", TrainConfig(epochs=1, img_size=64, arch="efficientnet_lite0",
                                                                 num_workers=0, precision="auto"),
                      device="cpu", progress=False, log=lines.append)
    assert lines[0].startswith("Device: cpu")
    assert lines[1] == ("Precision: bf16 for the frozen features, bf16 autocast while fine-tuning; weights, "
                        "gradients and optimizer in fp32 (this CPU computes bf16 natively)")
    assert json.loads((tmp_path / "run" / "metadata.json").read_text())["precision"] == "bf16"


# --- Prediction -----------------------------------------------------------------------------


def test_predictor_precision(native_bf16, demo_split, tmp_path):
    native_bf16(True)
    model, spec = demo_model(32)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    fit(model, loaders, TrainConfig(epochs=1, precision="auto"), run_dir=tmp_path, progress=False, log=quiet)
    image = loaders.valid.dataset.samples[0][0]

    fast = Predictor.from_run(tmp_path, precision="auto")    # bf16 on this (forced) CPU
    exact = Predictor.from_run(tmp_path)                      # the library's default: fp32
    assert (fast.precision, exact.precision) == ("bf16", "fp32")
    fast_probabilities, exact_probabilities = fast.probabilities(image), exact.probabilities(image)
    assert fast_probabilities.dtype == torch.float32
    assert torch.allclose(fast_probabilities, exact_probabilities, atol=0.05)
    assert not torch.equal(fast_probabilities, exact_probabilities)   # bf16 really ran
    with pytest.raises(ValueError, match="precision must be one of"):
        Predictor.from_run(tmp_path, precision="half")


def test_command_line_precision_for_train_and_predict(native_bf16, demo_leaves, tmp_path, capsys):
    native_bf16(True)
    run = tmp_path / "run"
    assert main(["train", str(demo_leaves), "--out", str(run), "--epochs", "1", "--img-size", "64",
                 "--arch", "efficientnet_lite0", "--workers", "0", "--quiet", "--precision", "fp32"]) == 0
    assert "Precision: fp32 (asked for)" in capsys.readouterr().out
    assert json.loads((run / "metadata.json").read_text())["precision"] == "fp32"
    image = next((run / "split" / "valid").rglob("*.jpg"))
    assert main(["predict", str(run), str(image), "--precision", "bf16", "--top", "1"]) == 0
    assert "%" in capsys.readouterr().out


def test_the_library_defaults_to_fp32_and_the_command_to_auto(native_bf16, demo_split, tmp_path):
    """Notebooks get the same numbers on every machine; `leafdl train` gets the fast choice."""
    native_bf16(True)
    assert TrainConfig().precision == "fp32"
    assert main(["train", str(demo_split), "--out", str(tmp_path / "run"), "--epochs", "1", "--img-size", "64",
                 "--arch", "efficientnet_lite0", "--workers", "0", "--quiet"]) == 0
    assert json.loads((tmp_path / "run" / "metadata.json").read_text())["precision"] == "bf16"
