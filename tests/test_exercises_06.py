"""The self-checks of notebook 06 (train and eval mode) accept the right answer only."""

from __future__ import annotations

import torch

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


def validate_with(eval_mode=True, no_grad=True, per_batch=False):
    """The solution with one classic mistake switched on."""
    def student(model, loader, criterion):
        if eval_mode:
            model.eval()
        losses, accs, total_loss, correct, seen = [], [], 0.0, 0, 0
        with torch.set_grad_enabled(not no_grad):
            for inputs, labels in loader:
                outputs = model(inputs)
                loss = criterion(outputs, labels)
                hits = (outputs.argmax(dim=1) == labels).sum().item()
                losses.append(loss.item())
                accs.append(hits / inputs.size(0))
                total_loss += loss.item() * inputs.size(0)
                correct += hits
                seen += inputs.size(0)
        if per_batch:
            return sum(losses) / len(losses), sum(accs) / len(accs)
        return total_loss / seen, correct / seen
    return student


def test_validate_accepts_the_solution(course_leaves, capsys):
    assert check_validate(validate).passed
    assert "Correct" in capsys.readouterr().out
    assert check_validate(validate_with()).passed


def test_validate_rejects_train_mode(course_leaves):
    result = check_validate(validate_with(eval_mode=False))
    assert not result.passed and "model.eval()" in result.message and "running averages" in result.message


def test_validate_rejects_tracked_gradients(course_leaves):
    result = check_validate(validate_with(no_grad=False))
    assert not result.passed and "torch.no_grad()" in result.message


def test_validate_rejects_per_batch_averages_and_a_backward_pass(course_leaves):
    assert "mean of the batch losses" in check_validate(validate_with(per_batch=True)).message

    def trains(model, loader, criterion):
        model.eval()
        for inputs, labels in loader:
            criterion(model(inputs), labels).backward()
        return 0.0, 0.0
    assert "PyTorch tracked gradients" in check_validate(trains).message


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
