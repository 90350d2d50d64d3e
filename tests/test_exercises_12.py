"""Self-checks of notebook 12 accept the right answer and refuse wrong or missing ones."""

from leafdl.course.exercises import (check_backbone_learning_rate, check_smallest_crop_side,
                              check_trainable_after_unfreezing)
from leafdl.models import build_model, count_parameters, unfreeze_last_blocks


def test_trainable_after_unfreezing():
    model, _ = build_model(4, arch="efficientnet_lite0", pretrained=False, verbose=False)
    unfreeze_last_blocks(model, 2)
    right = count_parameters(model).trainable
    assert check_trainable_after_unfreezing(right)
    assert not check_trainable_after_unfreezing(5124)
    assert not check_trainable_after_unfreezing(None)


def test_backbone_learning_rate():
    assert check_backbone_learning_rate("smaller")
    assert check_backbone_learning_rate(" Smaller ")
    assert not check_backbone_learning_rate("larger")
    assert not check_backbone_learning_rate(None)


def test_smallest_crop_side():
    assert check_smallest_crop_side(141.4)                 # 500 * sqrt(0.08)
    assert check_smallest_crop_side(500 * 0.08 ** 0.5)
    assert check_smallest_crop_side(296, crop_scale_min=0.35)
    assert not check_smallest_crop_side(40)                # 8% of the side, not of the area
    assert not check_smallest_crop_side("wide")
    assert not check_smallest_crop_side(None)
