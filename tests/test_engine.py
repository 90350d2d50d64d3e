"""The training loop: it learns, schedules, stops early, resumes exactly, keeps the best."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from leafdl import checkpoint
from leafdl.config import TrainConfig
from leafdl.data import build_dataloaders
from leafdl.engine import EarlyStopping, History, Phase, fit, run_phase
from leafdl.errors import OptionError
from leafdl.models import InputSpec, build_model, freeze_features

SMALL = InputSpec(size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


class TinyNet(nn.Module):
    """A small CNN in MobileNetV2's shape (.features, .classifier), for fast loop tests."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.arch = "tiny"
        self.input_spec = SMALL
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU())
        self.last_channel = 8
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(8, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def quiet(*_args, **_kwargs):
    pass


@pytest.fixture
def tiny_loaders(demo_split):
    return build_dataloaders(demo_split, SMALL, batch_size=8, num_workers=0)


def test_early_stopping_counts_epochs_without_improvement():
    stopper = EarlyStopping(patience=3)
    steps = [stopper.step(acc) for acc in (0.5, 0.6, 0.6, 0.55, 0.59)]
    assert steps == [True, True, False, False, False]
    assert stopper.should_stop and stopper.best == 0.6


@pytest.mark.slow
def test_pretrained_backbone_learns_the_demo_leaves(demo_split):
    torch.manual_seed(0)
    model, spec = build_model(4, arch="efficientnet_lite0", img_size=96, verbose=False)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    history = fit(model, loaders, TrainConfig(epochs=4, lr=0.003), progress=False, log=quiet)
    assert history.epochs == 4
    assert history.best_valid_acc >= 0.5                    # chance is 0.25
    assert history.train_loss[-1] < history.train_loss[0]   # the loss went down
    assert history.gap == pytest.approx([t - v for t, v in zip(history.train_acc, history.valid_acc)])


def test_loss_and_accuracy_are_weighted_by_samples(demo_split):
    model = TinyNet().eval()
    loaders = build_dataloaders(demo_split, SMALL, batch_size=5, num_workers=0)  # 13 valid images: 5 + 5 + 3
    result = run_phase(model, loaders.valid, nn.CrossEntropyLoss(), torch.device("cpu"), "valid", progress=False)
    with torch.no_grad():
        inputs, labels = zip(*[loaders.valid.dataset[i] for i in range(len(loaders.valid.dataset))])
        outputs = model(torch.stack(inputs))
        labels = torch.tensor(labels)
    assert result.samples == len(labels)
    assert result.loss == pytest.approx(nn.CrossEntropyLoss()(outputs, labels).item(), rel=1e-5)
    assert result.accuracy == pytest.approx((outputs.argmax(1) == labels).float().mean().item())


def test_plateau_halves_the_learning_rate_and_stops_early(tiny_loaders):
    # Frozen features and a learning rate too small to change a prediction: validation
    # accuracy is a constant plateau. (1e-6, not smaller: the scheduler ignores changes below 1e-8.)
    model = TinyNet()
    freeze_features(model)
    config = TrainConfig(epochs=20, lr=1e-6, max_patience=7, scheduler_patience=3)
    history = fit(model, tiny_loaders, config, progress=False, log=quiet)
    assert len(set(history.valid_acc)) == 1
    assert history.stopped_early
    assert history.epochs == 8                 # best at epoch 1, then 7 epochs without improvement
    assert history.best_epoch == 1
    # ReduceLROnPlateau(patience=3): the 4th epoch without improvement (epoch 5) halves the rate.
    assert history.lr[:5] == [1e-6] * 5
    assert history.lr[5] == pytest.approx(0.5e-6)


def test_best_weights_are_restored_at_the_end(tiny_loaders, tmp_path):
    seen = {}

    def remember(epoch, history):
        seen[epoch] = {k: v.clone() for k, v in model.state_dict().items()}

    model = TinyNet()
    history = fit(model, tiny_loaders, TrainConfig(epochs=4, lr=0.05), run_dir=tmp_path,
                  progress=False, on_epoch_end=remember, log=quiet)
    best = seen[history.best_epoch - 1]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, best[name]), name
    saved = checkpoint.safe_torch_load(tmp_path / checkpoint.MODEL_FILE)
    assert all(torch.equal(saved[name], best[name]) for name in best)


def test_interrupted_and_resumed_run_matches_an_uninterrupted_one(demo_split, tmp_path):
    config = TrainConfig(epochs=4, lr=0.01, max_patience=10)

    def loaders():
        return build_dataloaders(demo_split, SMALL, batch_size=8, num_workers=0)

    torch.manual_seed(1)
    straight = fit(TinyNet(), loaders(), config, run_dir=tmp_path / "a", progress=False, log=quiet)

    def interrupt_after_second(epoch, history):
        if epoch == 1:
            raise KeyboardInterrupt

    torch.manual_seed(1)
    first = fit(TinyNet(), loaders(), config, run_dir=tmp_path / "b", progress=False,
                on_epoch_end=interrupt_after_second, log=quiet)
    assert first.interrupted and first.epochs == 2
    assert (tmp_path / "b" / checkpoint.MODEL_FILE).exists()   # the best so far was kept

    resumed = fit(TinyNet(), loaders(), config, run_dir=tmp_path / "b", resume=True, progress=False, log=quiet)
    assert resumed.epochs == 4
    for key in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"):
        assert getattr(resumed, key) == pytest.approx(getattr(straight, key), abs=1e-6), key
    assert resumed.best_epoch == straight.best_epoch


def test_resume_refuses_a_checkpoint_for_other_classes(tiny_loaders, tmp_path):
    fit(TinyNet(), tiny_loaders, TrainConfig(epochs=1), run_dir=tmp_path, progress=False, log=quiet)
    tiny_loaders.classes = ["cats", "dogs", "owls", "yaks"]
    with pytest.raises(checkpoint.CheckpointError, match="classes"):
        fit(TinyNet(), tiny_loaders, TrainConfig(epochs=2), run_dir=tmp_path, resume=True, progress=False, log=quiet)


def test_history_round_trips_through_a_dict():
    history = History()
    history.train_loss.append(1.0)
    history.best_epoch = 1
    assert History.from_dict(history.to_dict()) == history


@pytest.mark.parametrize("phase", ["validation", "eval", "Train", True, None])
def test_a_phase_is_train_or_valid_nothing_else(demo_split, phase):
    """A misspelt phase used to run silently as a validation phase; now it is refused with the choices."""
    loaders = build_dataloaders(demo_split, SMALL, batch_size=5, num_workers=0)
    with pytest.raises(OptionError, match="Phase.TRAIN or Phase.VALID"):
        run_phase(TinyNet(), loaders.valid, nn.CrossEntropyLoss(), torch.device("cpu"), phase, progress=False)
    assert Phase("valid") is Phase.VALID   # the values still work, as the notebooks write them


def test_unfreezing_more_blocks_than_the_model_has_is_refused_before_training(demo_split):
    model, spec = build_model(4, arch="efficientnet_lite0", pretrained=False, img_size=64, verbose=False)
    loaders = build_dataloaders(demo_split, spec, batch_size=16, num_workers=0)
    config = TrainConfig(epochs=1, unfreeze=19, finetune_epochs=1)   # any backbone may have 19; this one has 18
    epochs = []
    with pytest.raises(OptionError, match=r"--unfreeze\) must be at most 18"):
        fit(model, loaders, config, progress=False, log=quiet, on_epoch_end=lambda epoch, _: epochs.append(epoch))
    assert epochs == []
