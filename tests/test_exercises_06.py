"""The self-checks of notebook 06 (train and eval mode) accept the right answer only."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from leafdl.course.exercises import check_running_mean_after_two_batches, check_validate


def validate(model, loader, criterion):
    """The reference solution (notebooks/solutions/06_train_eval_mode.md)."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            total_loss += loss.item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += inputs.size(0)
    return total_loss / seen, correct / seen


# --- Right answers in other forms -------------------------------------------------------


def inference_mode_and_torch_max(model, loader, criterion):
    model.eval()
    losses, correct = [], 0
    with torch.inference_mode():
        for inputs, labels in loader:
            outputs = model(inputs)
            losses.append(criterion(outputs, labels).item() * len(labels))
            correct += (torch.max(outputs, 1)[1] == labels).sum().item()
    return sum(losses) / len(loader.dataset), correct / len(loader.dataset)


def back_to_training_mode_afterwards(model, loader, criterion):
    was_training = model.training
    returned = validate(model, loader, criterion)
    model.train(was_training)
    return returned


def set_grad_enabled_and_numpy(model, loader, criterion):
    model.train(False)
    losses, hits, sizes = [], [], []
    with torch.set_grad_enabled(False):
        for inputs, labels in loader:
            outputs = model(inputs)
            losses.append(nn.functional.cross_entropy(outputs, labels).item())
            hits.append((outputs.numpy().argmax(1) == labels.numpy()).sum())
            sizes.append(len(labels))
    return np.average(losses, weights=sizes), np.sum(hits) / np.sum(sizes)


RIGHT = [validate, inference_mode_and_torch_max, back_to_training_mode_afterwards, set_grad_enabled_and_numpy]


@pytest.mark.parametrize("answer", RIGHT, ids=lambda answer: answer.__name__)
def test_validate_accepts_right_answers_in_any_form(answer, course_leaves, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_validate(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


# --- Wrong answers, each with the hint that must name its mistake ------------------------


def no_eval(model, loader, criterion):
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            total_loss += criterion(outputs, labels).item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += inputs.size(0)
    return total_loss / seen, correct / seen


def eval_without_brackets(model, loader, criterion):
    model.eval
    return no_eval(model, loader, criterion)


def eval_after_the_loop(model, loader, criterion):
    returned = no_eval(model, loader, criterion)
    model.eval()
    return returned


def no_no_grad(model, loader, criterion):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        outputs = model(inputs)
        total_loss += criterion(outputs, labels).item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def no_grad_without_brackets(model, loader, criterion):
    model.eval()
    with torch.no_grad:
        return no_no_grad(model, loader, criterion)


def backward_in_validation(model, loader, criterion):
    model.eval()
    for inputs, labels in loader:
        criterion(model(inputs), labels).backward()
    return 0.5, 0.5


def backward_under_no_grad(model, loader, criterion):
    model.eval()
    with torch.no_grad():
        for inputs, labels in loader:
            criterion(model(inputs), labels).backward()
    return 0.5, 0.5


def first_batch_only(model, loader, criterion):
    model.eval()
    with torch.no_grad():
        inputs, labels = next(iter(loader))
        outputs = model(inputs)
        return criterion(outputs, labels).item(), (outputs.argmax(1) == labels).float().mean().item()


def measured(how):
    """The solution, with its two numbers made in another (wrong) way."""
    def student(model, loader, criterion):
        model.eval()
        losses, hits, sizes = [], [], []
        with torch.no_grad():
            for inputs, labels in loader:
                outputs = model(inputs)
                losses.append(criterion(outputs, labels))
                hits.append((outputs.argmax(dim=1) == labels).sum())
                sizes.append(inputs.size(0))
        return how(losses, hits, sizes)
    student.__name__ = how.__name__
    return student


def loss_as_a_tensor(losses, hits, sizes):
    return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), sum(h.item() for h in hits) / sum(sizes)


def accuracy_as_a_tensor(losses, hits, sizes):
    return sum(l.item() * n for l, n in zip(losses, sizes)) / sum(sizes), sum(hits) / sum(sizes)


def per_batch_means(losses, hits, sizes):
    return (sum(l.item() for l in losses) / len(losses),
            sum(h.item() / n for h, n in zip(hits, sizes)) / len(sizes))


def accuracy_in_percent(losses, hits, sizes):
    return sum(l.item() * n for l, n in zip(losses, sizes)) / sum(sizes), 100 * sum(h.item() for h in hits) / sum(sizes)


def swapped_pair(losses, hits, sizes):
    return sum(h.item() for h in hits) / sum(sizes), sum(l.item() * n for l, n in zip(losses, sizes)) / sum(sizes)


def loss_over_batches(losses, hits, sizes):
    return sum(l.item() * n for l, n in zip(losses, sizes)) / len(sizes), sum(h.item() for h in hits) / sum(sizes)


WRONG = [
    (no_eval, "BatchNorm's running averages changed during validation"),
    (eval_without_brackets, "Call model.eval() (with its brackets)"),
    (eval_after_the_loop, "the model was still in training mode"),
    (no_no_grad, "PyTorch recorded gradients during validation"),
    (no_grad_without_brackets, "with its brackets: `with torch.no_grad():`"),
    (backward_in_validation, "PyTorch recorded gradients during validation"),
    (backward_under_no_grad, "Validation only measures: no loss.backward() there"),
    (first_batch_only, "the model ran 1 times for 3 batches"),
    (measured(loss_as_a_tensor), "your mean loss is a tensor"),
    (measured(accuracy_as_a_tensor), "your accuracy is a tensor"),
    (measured(per_batch_means), "mean of the batch losses"),
    (measured(accuracy_in_percent), "accuracy is a percentage"),
    (measured(swapped_pair), "your two numbers are swapped"),
    (measured(loss_over_batches), "divided the summed loss by the number of batches"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_validate_names_each_mistake(answer, hint, course_leaves, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no warning may leak from the check
        result = check_validate(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_validate_stub_is_not_done(course_leaves):
    def stub(model, loader, criterion):
        raise NotImplementedError
    assert check_validate(stub).status == "not done"


def test_running_mean_after_two_batches():
    assert check_running_mean_after_two_batches(0.96).passed        # 0.9 * 0.4 + 0.1 * 6


def test_running_mean_rejects_common_mistakes():
    assert check_running_mean_after_two_batches(0.4).passed is False         # only the first batch
    assert check_running_mean_after_two_batches(5.0).passed is False         # the data's mean
    assert check_running_mean_after_two_batches(1.0).passed is False         # 0.1 * (4 + 6)


def test_running_mean_unanswered():
    assert check_running_mean_after_two_batches(None).passed is False
