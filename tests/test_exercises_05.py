"""The self-checks of notebook 05 (the training loop) accept the right answer only."""

from __future__ import annotations

import math

import torch

from leafdl.course.exercises import check_cross_entropy, check_iterations_per_epoch, check_train_one_epoch


def test_iterations_per_epoch_rounds_up(capsys):
    assert check_iterations_per_epoch(24).passed          # 1500 / 64 = 23.4
    assert "Correct" in capsys.readouterr().out


def test_iterations_per_epoch_rejects_rounding_down(capsys):
    assert check_iterations_per_epoch(23).passed is False
    assert "Not yet" in capsys.readouterr().out
    assert check_iterations_per_epoch(1500 / 64).passed is False


def test_iterations_per_epoch_follows_its_arguments():
    assert check_iterations_per_epoch(32, images=1000, batch_size=32).passed   # the document's example
    assert check_iterations_per_epoch(6, images=192, batch_size=32).passed     # exact division


def test_iterations_per_epoch_unanswered(capsys):
    assert check_iterations_per_epoch(None).passed is False
    assert "Not done yet" in capsys.readouterr().out


def test_cross_entropy_accepts_the_loss():
    exps = [math.exp(z) for z in (2.0, 1.0, 0.1)]
    expected = -math.log(exps[1] / sum(exps))
    assert check_cross_entropy(expected).passed
    assert check_cross_entropy(round(expected, 3)).passed


def test_cross_entropy_rejects_the_wrong_class_and_missing_log():
    exps = [math.exp(z) for z in (2.0, 1.0, 0.1)]
    assert check_cross_entropy(-math.log(exps[0] / sum(exps))).passed is False   # class 0 instead of 1
    assert check_cross_entropy(exps[1] / sum(exps)).passed is False              # probability, not loss


def test_cross_entropy_unanswered():
    assert check_cross_entropy(None).passed is False


def train_one_epoch(model, loader, criterion, optimizer):
    """The reference solution (notebooks/solutions/05_training_loop.md)."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def epoch_with(zero_grad=True, train_mode=True, per_batch=False, step=True):
    """The solution with one classic mistake switched on."""
    def student(model, loader, criterion, optimizer):
        if train_mode:
            model.train()
        losses, accs, total_loss, correct, seen = [], [], 0.0, 0, 0
        for inputs, labels in loader:
            if zero_grad:
                optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            if step:
                optimizer.step()
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


def test_train_one_epoch_accepts_the_solution(course_leaves, capsys):
    assert check_train_one_epoch(train_one_epoch).passed
    assert "Correct" in capsys.readouterr().out


def test_train_one_epoch_rejects_no_zero_grad(course_leaves):
    result = check_train_one_epoch(epoch_with(zero_grad=False))
    assert not result.passed and "optimizer.zero_grad()" in result.message


def test_train_one_epoch_rejects_per_batch_averages(course_leaves):
    result = check_train_one_epoch(epoch_with(per_batch=True))
    assert not result.passed and "mean of the batch losses" in result.message


def test_train_one_epoch_rejects_eval_mode_and_no_step(course_leaves):
    assert "call model.train()" in check_train_one_epoch(epoch_with(train_mode=False)).message
    assert "optimizer.step()" in check_train_one_epoch(epoch_with(step=False)).message


def test_train_one_epoch_stub_is_not_done_and_keeps_the_random_state(course_leaves):
    def stub(model, loader, criterion, optimizer):
        raise NotImplementedError
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    assert check_train_one_epoch(stub).status == "not done"
    assert check_train_one_epoch(train_one_epoch).passed
    assert torch.equal(torch.rand(1), expected)
