"""The fine-tuning recipe: frozen stage, then the last N blocks unfrozen with their own learning rate."""

from __future__ import annotations

import pytest
import torch

from leafdl.checkpoint import CheckpointError
from leafdl.config import TrainConfig
from leafdl.data import build_dataloaders
from leafdl.engine import Stage, fit, prepare_stage, training_stages
from leafdl.models import build_model, feature_blocks, set_train_mode


def quiet(*_args, **_kwargs):
    pass


def test_stages_follow_the_config():
    assert [s.name for s in training_stages(TrainConfig())] == ["frozen"]
    assert training_stages(TrainConfig(epochs=3, unfreeze=2, finetune_epochs=4)) == [
        Stage("frozen", 3), Stage("finetune", 4)]
    assert [s.name for s in training_stages(TrainConfig(unfreeze=2, finetune_epochs=0))] == ["frozen"]


def test_unfreezing_n_blocks_trains_exactly_those_with_their_learning_rates():
    model, _ = build_model(4, arch="efficientnet_lite0", pretrained=False, verbose=False)
    config = TrainConfig(lr=1e-3, backbone_lr=2e-5, unfreeze=3)
    optimizer, _, _ = prepare_stage(model, Stage("finetune", 1), config)

    blocks = feature_blocks(model)
    expected_backbone = {id(p) for block in blocks[-3:] for p in block.parameters()}
    frozen = {id(p) for block in blocks[:-3] for p in block.parameters()}
    backbone_group, head_group = optimizer.param_groups
    assert {id(p) for p in backbone_group["params"]} == expected_backbone
    assert {id(p) for p in head_group["params"]} == {id(p) for p in model.classifier.parameters()}
    assert backbone_group["lr"] == 2e-5 and head_group["lr"] == 1e-3
    assert all(not p.requires_grad for p in model.parameters() if id(p) in frozen)
    assert all(p.requires_grad for p in model.parameters() if id(p) in expected_backbone)

    # BatchNorm: unfrozen blocks learn their statistics, frozen ones keep ImageNet's.
    set_train_mode(model)
    norms = lambda block: [m for m in block.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(m.training for block in blocks[-3:] for m in norms(block))
    assert not any(m.training for block in blocks[:-3] for m in norms(block))


def test_finetuning_run_learns_and_records_both_stages(demo_split, tmp_path):
    torch.manual_seed(0)
    model, spec = build_model(4, arch="efficientnet_lite0", img_size=96, verbose=False)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    frozen_before = [p.detach().clone() for p in feature_blocks(model)[-1].parameters()]
    config = TrainConfig(epochs=2, lr=0.003, unfreeze=2, finetune_epochs=2, backbone_lr=1e-4)
    history = fit(model, loaders, config, run_dir=tmp_path, progress=False, log=quiet)

    assert history.stage == ["frozen", "frozen", "finetune", "finetune"]
    assert history.best_valid_acc >= 0.5                           # chance is 0.25
    if history.best_epoch > 2:                                       # best model comes from fine-tuning:
        after = list(feature_blocks(model)[-1].parameters())         # the unfrozen block has changed
        assert any(not torch.equal(a, b) for a, b in zip(after, frozen_before))


@pytest.mark.slow
def test_resume_in_the_middle_of_finetuning(demo_split, tmp_path):
    config = TrainConfig(epochs=2, lr=0.003, unfreeze=1, finetune_epochs=3, backbone_lr=1e-4, max_patience=10)

    def fresh():
        torch.manual_seed(3)
        model, spec = build_model(4, arch="efficientnet_lite0", img_size=64, verbose=False)
        return model, build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)

    model, loaders = fresh()
    straight = fit(model, loaders, config, run_dir=tmp_path / "a", progress=False, log=quiet)

    def interrupt_in_finetuning(epoch, history):
        if epoch == 3:   # the second fine-tuning epoch
            raise KeyboardInterrupt

    model, loaders = fresh()
    first = fit(model, loaders, config, run_dir=tmp_path / "b", progress=False,
                on_epoch_end=interrupt_in_finetuning, log=quiet)
    assert first.interrupted and first.stage == ["frozen", "frozen", "finetune", "finetune"]

    # Resuming with the fine-tuning options left out would silently skip the stage: refused.
    without_unfreeze = TrainConfig(epochs=2, lr=0.003, max_patience=10)
    with pytest.raises(CheckpointError, match=r"unfreeze( \(--unfreeze\))?: 1 -> 0"):
        fit(*fresh(), without_unfreeze, run_dir=tmp_path / "b", resume=True, progress=False, log=quiet)

    model, loaders = fresh()
    resumed = fit(model, loaders, config, run_dir=tmp_path / "b", resume=True, progress=False, log=quiet)
    assert resumed.stage == straight.stage == ["frozen"] * 2 + ["finetune"] * 3
    for key in ("train_loss", "valid_loss", "valid_acc", "lr"):
        assert getattr(resumed, key) == pytest.approx(getattr(straight, key), abs=1e-5), key
