"""Tests for leafdl.models: backbones, pretrained weights, freezing, BatchNorm, counts.

No downloads: TORCH_HOME points at a temporary folder, MobileNetV2 "weights" are written
there by the tests, and the ImageNet check uses the weights bundled in a pip package on
real photos shipped inside scikit-learn and scikit-image.
"""

from __future__ import annotations

import json
import socket

import pytest
import torch
from torch import nn
from torchvision import models, transforms

from leafdl import weights
from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.models import (
    ARCHITECTURES,
    BATCH_NORMS,
    EfficientNetLite0,
    InputSpec,
    build_model,
    count_parameters,
    create_timm_efficientnet_lite0,
    feature_blocks,
    input_spec_for,
    lukemelas_to_timm_key,
    resolve_arch,
    set_train_mode,
    unfreeze_last_blocks,
)
from leafdl.weights import WeightsUnavailableError, bundled_efficientnet_lite0_path


@pytest.fixture(scope="module")
def imagenet_lite0():
    """The bundled EfficientNet-Lite0 with its 1000 ImageNet classes, in eval mode."""
    return EfficientNetLite0(pretrained=True).eval()


def timm_lite0(pretrained: bool = False) -> nn.Module:
    import timm

    return timm.create_model("tf_efficientnet_lite0", pretrained=pretrained)


def batch_norms(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, BATCH_NORMS)]


# --- The bundled weights: key mapping and real ImageNet predictions ---------------------------


def test_every_bundled_key_maps_to_a_timm_key_of_the_same_shape():
    bundled = torch.load(bundled_efficientnet_lite0_path(), map_location="cpu", weights_only=True)
    expected = timm_lite0().state_dict()

    renamed = {lukemelas_to_timm_key(key): value for key, value in bundled.items()}

    assert len(renamed) == len(bundled)  # no two keys collapse into one
    assert set(renamed) == set(expected)  # none missing, none left over
    for key, value in renamed.items():
        assert value.shape == expected[key].shape, key
    timm_lite0().load_state_dict(renamed, strict=True)


def test_bundled_weights_load_into_timm_and_wrapper_computes_the_same(imagenet_lite0):
    net = create_timm_efficientnet_lite0(pretrained=True).eval()
    bundled = torch.load(bundled_efficientnet_lite0_path(), map_location="cpu", weights_only=True)
    assert torch.equal(net.conv_stem.weight, bundled["_conv_stem.weight"])
    assert torch.equal(net.blocks[6][0].conv_pwl.weight, bundled["_blocks.15._project_conv.weight"])

    images = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(imagenet_lite0(images), net(images), rtol=1e-4, atol=1e-4)


def preprocess(image_array, spec: InputSpec) -> torch.Tensor:
    """Resize the short side to size/0.875, centre-crop, normalise: ImageNet's evaluation recipe."""
    from PIL import Image

    pipeline = transforms.Compose([
        transforms.Resize(round(spec.size / 0.875),
                          interpolation=transforms.InterpolationMode(spec.interpolation)),
        transforms.CenterCrop(spec.size),
        transforms.ToTensor(),
        transforms.Normalize(spec.mean, spec.std),
    ])
    return pipeline(Image.fromarray(image_array))


def test_bundled_weights_recognise_real_photos(imagenet_lite0):
    from skimage import data
    from sklearn.datasets import load_sample_image

    categories = models.MobileNet_V2_Weights.DEFAULT.meta["categories"]  # ImageNet's 1000, offline
    assert categories[698] == "palace" and categories[967] == "espresso"
    assert categories[281:286] == ["tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"]

    spec = input_spec_for("efficientnet_lite0")
    photos = [load_sample_image("china.jpg"), data.chelsea(), data.coffee()]
    batch = torch.stack([preprocess(photo, spec) for photo in photos])
    with torch.no_grad():
        top5 = imagenet_lite0(batch).topk(5, dim=1).indices.tolist()

    china, chelsea, coffee = top5
    assert 698 in china, [categories[i] for i in china]  # palace
    assert 281 <= chelsea[0] <= 285, [categories[i] for i in chelsea]  # a cat
    assert coffee[0] == 967, [categories[i] for i in coffee]  # espresso


# --- InputSpec --------------------------------------------------------------------------------


def test_efficientnet_lite0_input_spec_follows_timms_pretrained_cfg():
    cfg = timm_lite0().pretrained_cfg
    spec = input_spec_for("efficientnet_lite0")
    assert spec.mean == tuple(cfg["mean"]) and spec.std == tuple(cfg["std"])
    assert spec.interpolation == cfg["interpolation"] == "bicubic"
    assert spec.size == cfg["input_size"][-1] == 224


def test_mobilenet_v2_input_spec_follows_torchvisions_weights():
    reference = models.MobileNet_V2_Weights.DEFAULT.transforms()
    spec = input_spec_for("mobilenet_v2")
    assert spec.mean == IMAGENET_MEAN == tuple(reference.mean)
    assert spec.std == IMAGENET_STD == tuple(reference.std)
    assert spec.interpolation == reference.interpolation.value == "bilinear"
    assert spec.size == reference.crop_size[0]


def test_input_spec_round_trips_through_json():
    spec = InputSpec(160, (0.5, 0.5, 0.5), (0.25, 0.5, 0.5), "bicubic")
    restored = InputSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert restored == spec
    assert isinstance(restored.mean, tuple)


@pytest.mark.parametrize("bad", [
    dict(size=0),
    dict(mean=(0.5, 0.5)),
    dict(std=(0.5, 0.0, 0.5)),
    dict(interpolation="lanczos"),
])
def test_input_spec_rejects_impossible_values(bad):
    values = dict(size=224, mean=(0.5,) * 3, std=(0.5,) * 3, interpolation="bilinear") | bad
    with pytest.raises(ValueError):
        InputSpec(**values)


# --- Choosing the backbone --------------------------------------------------------------------


def write_fake_mobilenet_v2_weights() -> dict[str, torch.Tensor]:
    """Save a MobileNetV2 state_dict where torchvision caches the real one; return it.

    Random weights plus values no fresh model could have, so the test can tell that
    exactly this file was loaded.
    """
    torch.manual_seed(1)
    state = models.mobilenet_v2(weights=None).state_dict()
    state["features.0.0.weight"] = torch.linspace(-1, 1, state["features.0.0.weight"].numel()).view_as(
        state["features.0.0.weight"])
    state["features.1.conv.0.1.running_mean"].fill_(0.25)  # a BatchNorm statistic (a buffer)
    path = weights.mobilenet_v2_weights_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def test_auto_uses_mobilenet_v2_from_the_hub_cache(capsys):
    assert resolve_arch("auto") == "efficientnet_lite0"
    saved = write_fake_mobilenet_v2_weights()
    assert resolve_arch("auto") == "mobilenet_v2"

    model, spec = build_model(num_classes=3, arch="auto")

    assert isinstance(model, models.MobileNetV2)
    assert model.arch == "mobilenet_v2" and model.input_spec == spec
    loaded = model.state_dict()
    for key, value in saved.items():
        if key.startswith("features."):
            assert torch.equal(loaded[key], value), key
    assert model.classifier[1].out_features == 3
    assert spec == input_spec_for("mobilenet_v2")
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("Model: MobileNetV2 with ImageNet weights")


def test_the_documents_own_line_finds_the_cached_file_without_network():
    saved = write_fake_mobilenet_v2_weights()
    model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    assert torch.equal(model.features[0][0].weight, saved["features.0.0.weight"])


def test_auto_falls_back_to_the_bundled_backbone_and_says_so(capsys):
    model, spec = build_model(num_classes=4, arch="auto")

    assert isinstance(model, EfficientNetLite0)
    assert model.arch == "efficientnet_lite0"  # what "auto" became, for the checkpoint
    assert spec == input_spec_for("efficientnet_lite0")
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert "EfficientNet-Lite0" in printed[0] and "leafdl weights download" in printed[0]
    assert "/" not in printed[0] and "\\" not in printed[0]  # no machine-specific path in notebook output


def test_mobilenet_v2_without_cached_weights_and_no_network_raises(monkeypatch, torch_home):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the with block ends: connections are refused
    unreachable = f"http://127.0.0.1:{port}/mobilenet_v2-7ebf99e0.pth"
    monkeypatch.setattr(weights, "mobilenet_v2_weights_url", lambda: unreachable)

    with pytest.raises(WeightsUnavailableError) as caught:
        build_model(num_classes=4, arch="mobilenet_v2", verbose=False)

    assert str(torch_home) in str(caught.value)
    assert "efficientnet_lite0" in str(caught.value)
    assert not weights.mobilenet_v2_weights_path().exists()


def test_unknown_arch_lists_the_choices():
    with pytest.raises(ValueError, match="mobilenet_v2.*efficientnet_lite0"):
        build_model(num_classes=4, arch="resnet50", verbose=False)
    with pytest.raises(ValueError, match="auto"):
        resolve_arch("MobileNet")
    assert set(ARCHITECTURES) == {"mobilenet_v2", "efficientnet_lite0"}


def test_img_size_changes_the_spec_and_the_model_still_runs():
    model, spec = build_model(num_classes=2, arch="efficientnet_lite0", pretrained=False,
                              img_size=160, verbose=False)
    assert spec.size == 160
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 160, 160)).shape == (1, 2)


# --- The document's code on the bundled backbone ----------------------------------------------


def test_the_documents_freeze_and_replace_code_works_on_efficientnet_lite0():
    model = EfficientNetLite0(pretrained=False)
    assert model.last_channel == 1280
    assert len(model.features) == 1 + 16 + 1  # stem, 16 blocks, head
    assert all(bn.eps == 1e-3 for bn in batch_norms(model))  # TensorFlow's BatchNorm epsilon

    # The document's lines, verbatim:
    for p in model.features.parameters():
        p.requires_grad = False
    model.classifier[1] = nn.Linear(model.last_channel, 4)

    with torch.no_grad():
        assert model.eval()(torch.randn(2, 3, 96, 96)).shape == (2, 4)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["classifier.1.weight", "classifier.1.bias"]


# --- Freezing, BatchNorm, fine-tuning ---------------------------------------------------------


def training_step(model: nn.Module, images: torch.Tensor) -> None:
    """One step of the document's loop, on the trainable parameters only."""
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    labels = torch.arange(len(images)) % model.classifier[1].out_features
    loss = nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_frozen_features_stay_exactly_the_same_through_a_training_step(arch):
    model, _ = build_model(num_classes=4, arch=arch, pretrained=False, freeze=True, verbose=False)

    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.1.weight", "classifier.1.bias"}
    counts = count_parameters(model)
    assert counts.trainable == 1280 * 4 + 4
    assert counts.total == sum(p.numel() for p in model.parameters())
    assert counts.frozen == counts.total - counts.trainable > 2_000_000

    features_before = {k: v.clone() for k, v in model.features.state_dict().items()}
    classifier_before = model.classifier[1].weight.detach().clone()
    images = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 3 + 1

    set_train_mode(model)
    assert model.training and model.classifier.training
    assert not any(bn.training for bn in batch_norms(model.features))
    training_step(model, images)

    for key, value in model.features.state_dict().items():  # weights and running statistics
        assert torch.equal(value, features_before[key]), key
    assert not torch.equal(model.classifier[1].weight, classifier_before)


def test_plain_train_mode_lets_frozen_batchnorm_statistics_drift():
    # Why set_train_mode exists: with the document's model.train(), "frozen" features change.
    model, _ = build_model(num_classes=4, arch="efficientnet_lite0", pretrained=False, verbose=False)
    first_bn = batch_norms(model.features)[0]
    before = first_bn.running_mean.clone()

    model.train()
    training_step(model, torch.randn(4, 3, 64, 64) * 3 + 1)

    assert not torch.equal(first_bn.running_mean, before)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_unfreeze_last_blocks_trains_exactly_those_blocks(arch):
    model, _ = build_model(num_classes=4, arch=arch, pretrained=False, verbose=False)
    blocks = feature_blocks(model)
    last_two = {f"features.{i}.{name}" for i in (len(blocks) - 2, len(blocks) - 1)
                for name, _ in blocks[i].named_parameters()}

    names = unfreeze_last_blocks(model, 2)

    assert set(names) == last_two and len(names) == len(last_two)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == last_two | {"classifier.1.weight", "classifier.1.bias"}
    assert count_parameters(model).trainable == sum(
        p.numel() for b in blocks[-2:] for p in b.parameters()) + 1280 * 4 + 4

    set_train_mode(model)
    assert all(bn.training for b in blocks[-2:] for bn in batch_norms(b))
    assert batch_norms(blocks[-2]) and batch_norms(blocks[-1])
    assert not any(bn.training for b in blocks[:-2] for bn in batch_norms(b))


def test_unfreeze_zero_blocks_changes_nothing_and_too_many_is_an_error():
    model, _ = build_model(num_classes=4, arch="mobilenet_v2", pretrained=False, verbose=False)
    assert unfreeze_last_blocks(model, 0) == []
    assert count_parameters(model).trainable == 1280 * 4 + 4

    blocks = len(model.features)
    with pytest.raises(ValueError, match=f"between 0 and {blocks}"):
        unfreeze_last_blocks(model, blocks + 1)
    with pytest.raises(ValueError):
        unfreeze_last_blocks(model, -1)
    unfreeze_last_blocks(model, blocks)
    assert count_parameters(model).trainable == count_parameters(model).total


def test_freeze_false_trains_everything():
    model, _ = build_model(num_classes=4, arch="mobilenet_v2", pretrained=False, freeze=False,
                           verbose=False)
    counts = count_parameters(model)
    assert counts.trainable == counts.total
    set_train_mode(model)
    assert all(bn.training for bn in batch_norms(model))


def test_models_without_features_get_a_clear_error():
    with pytest.raises(TypeError, match="features"):
        unfreeze_last_blocks(nn.Linear(3, 2), 1)
