"""Self-checks of notebook 12 accept the right answer and refuse wrong or missing ones."""

import torch

from leafdl.course.exercises import (check_finetune_optimizer, check_smallest_crop_side,
                                     check_trainable_after_unfreezing)
from leafdl.models import build_model


def test_trainable_after_unfreezing():
    model, _ = build_model(4, arch="efficientnet_lite0", pretrained=False, verbose=False)
    last_two = list(model.features.children())[-2:]
    right = 1280 * 4 + 4 + sum(p.numel() for block in last_two for p in block.parameters())   # counted by hand
    assert check_trainable_after_unfreezing(right)
    assert not check_trainable_after_unfreezing(5124)          # the classifier alone
    assert not check_trainable_after_unfreezing(None)


def test_smallest_crop_side():
    assert check_smallest_crop_side(141.4)                 # 500 * sqrt(0.08)
    assert check_smallest_crop_side(500 * 0.08 ** 0.5)
    assert check_smallest_crop_side(296, crop_scale_min=0.35)
    assert not check_smallest_crop_side(40)                # 8% of the side, not of the area
    assert not check_smallest_crop_side("wide")
    assert not check_smallest_crop_side(None)


# --- exercise 2: the fine-tuning optimizer, written by the student -------------------------


def last_blocks(model, n):
    blocks = list(model.features.children())
    return blocks[len(blocks) - n:]


def unfreeze(blocks):
    for block in blocks:
        for parameter in block.parameters():
            parameter.requires_grad = True
    return [parameter for block in blocks for parameter in block.parameters()]


def reference(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze(last_blocks(model, n_blocks))
    return torch.optim.Adam([{"params": backbone, "lr": backbone_lr},
                             {"params": model.classifier.parameters(), "lr": head_lr}])


def first_blocks_unfrozen(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze(list(model.features.children())[:n_blocks])
    return torch.optim.Adam([{"params": backbone, "lr": backbone_lr},
                             {"params": model.classifier.parameters(), "lr": head_lr}])


def nothing_unfrozen(model, n_blocks, backbone_lr, head_lr):
    return torch.optim.Adam(model.classifier.parameters(), lr=head_lr)


def one_learning_rate(model, n_blocks, backbone_lr, head_lr):
    unfreeze(last_blocks(model, n_blocks))
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=head_lr)


def rates_swapped(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze(last_blocks(model, n_blocks))
    return torch.optim.Adam([{"params": backbone, "lr": head_lr},
                             {"params": model.classifier.parameters(), "lr": backbone_lr}])


def frozen_parameters_too(model, n_blocks, backbone_lr, head_lr):
    unfreeze(last_blocks(model, n_blocks))
    head = {id(p) for p in model.classifier.parameters()}
    rest = [p for p in model.parameters() if id(p) not in head]
    return torch.optim.Adam([{"params": rest, "lr": backbone_lr},
                             {"params": model.classifier.parameters(), "lr": head_lr}])


def two_blocks_always(model, n_blocks, backbone_lr, head_lr):
    return reference(model, 2, backbone_lr, head_lr)


def classifier_left_out(model, n_blocks, backbone_lr, head_lr):
    return torch.optim.Adam(unfreeze(last_blocks(model, n_blocks)), lr=backbone_lr)


def slice_and_requires_grad_(model, n_blocks, backbone_lr, head_lr):
    """A right answer in another form: a slice of the Sequential, requires_grad_, a filter."""
    model.features[-n_blocks:].requires_grad_(True)
    backbone = [p for p in model.features.parameters() if p.requires_grad]
    return torch.optim.Adam([{"params": model.classifier.parameters(), "lr": head_lr},
                             {"params": backbone, "lr": backbone_lr}])


def test_finetune_optimizer_accepts_another_form(capsys):
    assert check_finetune_optimizer(slice_and_requires_grad_)


def sgd(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze(last_blocks(model, n_blocks))
    return torch.optim.SGD([{"params": backbone, "lr": backbone_lr},
                            {"params": model.classifier.parameters(), "lr": head_lr}])


def no_return(model, n_blocks, backbone_lr, head_lr):
    reference(model, n_blocks, backbone_lr, head_lr)


def train_mode_to_unfreeze(model, n_blocks, backbone_lr, head_lr):
    for block in last_blocks(model, n_blocks):
        block.train()
    return torch.optim.Adam(model.classifier.parameters(), lr=head_lr)


def one_block_by_index(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze([model.features[-n_blocks]])
    return torch.optim.Adam([{"params": backbone, "lr": backbone_lr},
                             {"params": model.classifier.parameters(), "lr": head_lr}])


def one_block_too_many(model, n_blocks, backbone_lr, head_lr):
    backbone = unfreeze(last_blocks(model, n_blocks + 1))
    return torch.optim.Adam([{"params": backbone, "lr": backbone_lr},
                             {"params": model.classifier.parameters(), "lr": head_lr}])


def stub(model, n_blocks, backbone_lr, head_lr):
    raise NotImplementedError


def test_finetune_optimizer_accepts_the_reference(capsys):
    assert check_finetune_optimizer(reference)
    assert "Correct" in capsys.readouterr().out


def test_finetune_optimizer_names_each_usual_mistake(capsys):
    mistakes = {first_blocks_unfrozen: "LAST ones", nothing_unfrozen: "no block of model.features trains",
                one_learning_rate: "same learning rate", rates_swapped: "swapped",
                frozen_parameters_too: "frozen parameters", two_blocks_always: "use n_blocks",
                classifier_left_out: "classifier is not in the optimizer", sgd: "an Adam",
                no_return: "finetune_optimizer returns nothing", train_mode_to_unfreeze: "no block of model.features trains",
                one_block_by_index: "exactly the last", one_block_too_many: "exactly the last"}
    for mistake, hint in mistakes.items():
        result = check_finetune_optimizer(mistake)
        out = capsys.readouterr().out
        assert not result, mistake.__name__
        assert hint in out, (mistake.__name__, out)


def test_finetune_optimizer_before_the_student_writes_it(capsys):
    result = check_finetune_optimizer(stub)
    assert not result and result.status == "not done"
    assert "Traceback" not in capsys.readouterr().out
