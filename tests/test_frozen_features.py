"""Frozen features as a fixed function: folded BatchNorms, and validation features computed once."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from leafdl.config import TrainConfig
from leafdl.data import build_dataloaders
from leafdl.engine import Phase, fit, run_phase
from leafdl.errors import OptionError
from leafdl.frozen_features import FrozenFeatures, FrozenPrefix, fold_batch_norms, has_frozen_features
from leafdl.models import build_model, set_train_mode, unfreeze_last_blocks
from leafdl.precision import Computation, Precision

CPU = torch.device("cpu")


def quiet(*_args, **_kwargs):
    pass


def frozen_model(arch: str = "efficientnet_lite0", img_size: int = 64):
    torch.manual_seed(0)
    # MobileNetV2's ImageNet weights are not on this machine: its random start still has BatchNorms to fold
    model, spec = build_model(4, arch=arch, img_size=img_size, pretrained=arch != "mobilenet_v2", verbose=False)
    return model.eval(), spec


def count_calls(module: nn.Module) -> list[int]:
    calls = []
    module.register_forward_hook(lambda _module, inputs, _output: calls.append(inputs[0].shape[0]))
    return calls


@pytest.mark.parametrize("arch", ["efficientnet_lite0", "mobilenet_v2"])
def test_folding_the_batch_norms_computes_the_same_features(arch):
    model, _ = frozen_model(arch)
    # EfficientNet-Lite0 has its ImageNet statistics; MobileNetV2's random start has mean 0 and
    # variance 1, which would make folding trivial: give it statistics to fold.
    with torch.no_grad():
        for module in model.features.modules() if arch == "mobilenet_v2" else []:
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.8, 1.25)
    before = {name: tensor.clone() for name, tensor in model.features.state_dict().items()}
    folded = fold_batch_norms(model.features)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected, got = model.features(images), folded(images)
    assert not any(isinstance(module, nn.BatchNorm2d) for module in folded.modules())
    assert torch.allclose(got, expected, atol=1e-3, rtol=1e-3), (got - expected).abs().max()
    after = model.features.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)   # the model itself is untouched


def test_in_float32_the_outputs_are_those_of_the_model_itself():
    model, _ = frozen_model()
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(FrozenFeatures(model)(images), model(images))


def test_in_bf16_the_outputs_are_close_to_float32_and_float32_themselves():
    model, _ = frozen_model()
    images = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        fast, exact = FrozenFeatures(model, bf16=True)(images), model(images)
    assert fast.dtype == torch.float32
    assert torch.equal(fast.argmax(1), exact.argmax(1))
    assert (fast.softmax(1) - exact.softmax(1)).abs().max() < 0.05


def test_a_keyed_batch_is_computed_once_and_a_changed_batch_again():
    model, _ = frozen_model()
    calls = count_calls(model.features)
    frozen = FrozenFeatures(model)
    first, other = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        once = frozen(first, key=0)
        again = frozen(first.clone(), key=0)
        changed = frozen(other, key=0)              # same key, other images: not the remembered ones
        assert len(calls) == 2
        assert torch.equal(once, again)
        assert torch.equal(changed, model(other))


def test_a_model_whose_features_learn_is_not_frozen():
    model, _ = frozen_model()
    assert has_frozen_features(model)
    model.features[-1].requires_grad_(True)
    assert not has_frozen_features(model)
    assert not has_frozen_features(nn.Linear(3, 2))   # not shaped like MobileNetV2


def test_fit_computes_the_validation_features_once_per_stage(demo_split):
    model, spec = frozen_model()
    calls = count_calls(model.features)
    loaders = build_dataloaders(demo_split, spec, batch_size=8, num_workers=0)
    epochs = 3
    history = fit(model, loaders, TrainConfig(epochs=epochs, precision="fp32"), progress=False, log=quiet)
    train_batches, valid_batches = len(loaders.train), len(loaders.valid)
    assert history.epochs == epochs
    assert len(calls) == epochs * train_batches + valid_batches   # not epochs * valid_batches


def test_remembered_validation_features_give_the_same_phase_result(demo_split):
    model, spec = frozen_model()
    loaders = build_dataloaders(demo_split, spec, batch_size=8, num_workers=0)
    criterion = nn.CrossEntropyLoss()
    fast = Computation.for_stage(model, CPU, Precision("fp32", "asked for"))
    assert fast.frozen is not None                 # frozen features, an architecture it reproduces

    def valid(computation=None):
        return run_phase(model, loaders.valid, criterion, CPU, Phase.VALID, progress=False, computation=computation)

    plain, first = valid(), valid(fast)
    # the classifier learns between epochs: the remembered features must meet the new weights
    set_train_mode(model)
    optimizer = torch.optim.Adam(model.classifier.parameters(), lr=0.01)
    run_phase(model, loaders.train, criterion, CPU, Phase.TRAIN, optimizer, progress=False, computation=fast)
    model.eval()
    remembered, computed = valid(fast), valid()
    assert first == plain
    assert remembered == computed
    assert remembered.loss != first.loss   # the classifier did change


# --- Fine-tuning: the frozen first blocks' outputs remembered for validation --------------------


def fine_tuning_model(unfreeze: int = 12):
    model, spec = frozen_model()
    model.features.requires_grad_(False)
    unfreeze_last_blocks(model, unfreeze)       # 18 blocks: the first 6 stay frozen
    return model, spec


def test_while_fine_tuning_validation_runs_the_frozen_blocks_once_per_stage(demo_split):
    model, spec = fine_tuning_model()
    loaders = build_dataloaders(demo_split, spec, batch_size=8, num_workers=0)
    criterion = nn.CrossEntropyLoss()
    computation = Computation.for_stage(model, CPU, Precision("fp32", "asked for"))
    assert computation.frozen is None and computation.frozen_prefix is not None
    first_block, last_block = count_calls(model.features[0]), count_calls(model.features[-1])

    def valid(computation=None):
        model.eval()
        return run_phase(model, loaders.valid, criterion, CPU, Phase.VALID, progress=False, computation=computation)

    plain, first = valid(), valid(computation)
    set_train_mode(model)                     # the unfrozen blocks learn between the two validations
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
    run_phase(model, loaders.train, criterion, CPU, Phase.TRAIN, optimizer, progress=False, computation=computation)
    first_block.clear(), last_block.clear()
    remembered = valid(computation)
    assert len(first_block) == 0 and len(last_block) == len(loaders.valid)   # only what learns ran again
    computed = valid()
    assert first == plain                     # exactly the model's numbers
    assert remembered == computed
    assert remembered.loss != first.loss      # the unfrozen blocks did change


def test_frozen_prefix_over_its_memory_budget_computes_every_time():
    model, _ = fine_tuning_model()
    images = torch.randn(4, 3, 64, 64)
    prefix = FrozenPrefix(model, budget_bytes=0)
    calls = count_calls(model.features[0])
    with torch.no_grad():
        expected = model(images)
        assert torch.equal(prefix(images, key=0), expected) and torch.equal(prefix(images, key=0), expected)
    assert len(calls) == 3


@pytest.mark.parametrize("unfreeze", [0, 18])
def test_frozen_prefix_needs_frozen_blocks_and_learning_ones(unfreeze):
    model, _ = fine_tuning_model(unfreeze)
    with pytest.raises(OptionError, match="first feature blocks"):
        FrozenPrefix(model)


class DenseNetLike(nn.Module):
    """Shaped like MobileNetV2 (.features, .classifier), but with a ReLU before the pooling, as DenseNet has."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.classifier = nn.Linear(8, 4)

    def forward(self, x):
        pooled = nn.functional.adaptive_avg_pool2d(nn.functional.relu(self.features(x)), 1)
        return self.classifier(torch.flatten(pooled, 1))


def test_a_model_whose_forward_differs_runs_plainly_even_with_frozen_features():
    model = DenseNetLike().eval()
    model.features.requires_grad_(False)
    assert not has_frozen_features(model)               # recognised by its class, not by its attributes
    computation = Computation.for_stage(model, CPU, Precision("bf16", "asked for"))
    assert computation.frozen is None and computation.frozen_prefix is None
    assert computation.precision.name == "bf16-autocast"   # bf16 as written: the model's own forward, autocast
    images = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(computation.outputs(images, training=False), model(images))
        with computation.autocast():
            assert torch.equal(computation.outputs(images, training=False, key=0), model(images).float())
    with pytest.raises(OptionError, match="DenseNetLike"):
        FrozenFeatures(model)
