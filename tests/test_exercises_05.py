"""The self-checks of notebook 05 (the training loop) accept the right answer only."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
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


# --- Right answers in other forms -------------------------------------------------------


def zero_grad_after_the_step(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct = 0.0, 0
    for inputs, labels in loader:
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total_loss += loss.item() * len(labels)
        _, predicted = torch.max(outputs, 1)
        correct += int((predicted == labels).sum())
    return total_loss / len(loader.dataset), correct / len(loader.dataset)


def model_zero_grad_and_numpy(model, loader, criterion, optimizer):
    model.train(True)
    losses, hits, sizes = [], [], []
    for inputs, labels in loader:
        model.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        hits.append((outputs.detach().numpy().argmax(axis=1) == labels.numpy()).sum())
        sizes.append(len(labels))
    sizes = np.array(sizes)
    return float(np.dot(losses, sizes) / sizes.sum()), np.sum(hits) / sizes.sum()


def returns_a_list(model, loader, criterion, optimizer):
    return list(train_one_epoch(model, loader, criterion, optimizer))


RIGHT = [train_one_epoch, zero_grad_after_the_step, model_zero_grad_and_numpy, returns_a_list]


@pytest.mark.parametrize("answer", RIGHT, ids=lambda answer: answer.__name__)
def test_train_one_epoch_accepts_right_answers_in_any_form(answer, course_leaves, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_train_one_epoch(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


# --- Wrong answers, each with the hint that must name its mistake ------------------------


def no_zero_grad(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def zero_grad_once_before_the_loop(model, loader, criterion, optimizer):
    optimizer.zero_grad()
    return no_zero_grad(model, loader, criterion, optimizer)


def zero_grad_between_backward_and_step(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def no_backward(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def no_step(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def one_step_after_the_loop(model, loader, criterion, optimizer):
    no_step(model, loader, criterion, optimizer)
    optimizer.step()
    return 0.5, 0.5


def no_train_mode(model, loader, criterion, optimizer):
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


def train_mode_at_the_end(model, loader, criterion, optimizer):
    returned = no_train_mode(model, loader, criterion, optimizer)
    model.train()
    return returned


def under_no_grad(model, loader, criterion, optimizer):
    with torch.no_grad():
        return train_one_epoch(model, loader, criterion, optimizer)


def loss_summed_as_a_tensor(model, loader, criterion, optimizer):
    """The issue's example: no .item(), so the returned loss is a tensor that keeps the graph."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def correct_counted_as_a_tensor(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def float_of_the_loss(model, loader, criterion, optimizer):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += float(loss) * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    return total_loss / seen, correct / seen


def averages(how):
    """The solution, with its two numbers averaged in another (wrong) way."""
    def student(model, loader, criterion, optimizer):
        model.train()
        losses, hits, sizes = [], [], []
        for inputs, labels in loader:
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            hits.append((outputs.argmax(dim=1) == labels).sum().item())
            sizes.append(inputs.size(0))
        return how(losses, hits, sizes)
    student.__name__ = how.__name__
    return student


def per_batch_means(losses, hits, sizes):
    return sum(losses) / len(losses), sum(h / n for h, n in zip(hits, sizes)) / len(sizes)


def batch_losses_over_images(losses, hits, sizes):
    return sum(losses) / sum(sizes), sum(hits) / sum(sizes)


def weighted_loss_over_batches(losses, hits, sizes):
    return sum(l * n for l, n in zip(losses, sizes)) / len(sizes), sum(hits) / sum(sizes)


def accuracy_in_percent(losses, hits, sizes):
    return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), 100 * sum(hits) / sum(sizes)


def accuracy_per_batch(losses, hits, sizes):
    return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), sum(h / n for h, n in zip(hits, sizes)) / len(sizes)


def accuracy_not_divided(losses, hits, sizes):
    return sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), sum(hits)


def swapped_pair(losses, hits, sizes):
    return sum(hits) / sum(sizes), sum(l * n for l, n in zip(losses, sizes)) / sum(sizes)


def returns_a_dict(losses, hits, sizes):
    return {"loss": sum(l * n for l, n in zip(losses, sizes)) / sum(sizes), "acc": sum(hits) / sum(sizes)}


WRONG = [
    (no_zero_grad, "gradients pile up"),
    (zero_grad_once_before_the_loop, "gradients pile up"),
    (zero_grad_between_backward_and_step, "zero_grad() between backward() and step() wipes the gradients"),
    (no_backward, "call loss.backward() before it"),
    (no_step, "call optimizer.step() after loss.backward()"),
    (one_step_after_the_loop, "step once per batch"),
    (no_train_mode, "call model.train() before the loop"),
    (train_mode_at_the_end, "call model.train() before the loop"),
    (under_no_grad, "no torch.no_grad()"),
    (loss_summed_as_a_tensor, "your mean loss is a tensor"),
    (correct_counted_as_a_tensor, "your accuracy is a tensor"),
    (float_of_the_loss, "float(loss) on a tensor that still needs its gradient makes PyTorch warn"),
    (averages(per_batch_means), "mean of the batch losses"),
    (averages(batch_losses_over_images), "multiply each batch's loss by its number of images"),
    (averages(weighted_loss_over_batches), "divided the summed loss by the number of batches (3)"),
    (averages(accuracy_in_percent), "accuracy is a percentage"),
    (averages(accuracy_per_batch), "mean of the batches' accuracies"),
    (averages(accuracy_not_divided), "number of correct images: divide it by the number of images (12)"),
    (averages(swapped_pair), "your two numbers are swapped"),
    (averages(returns_a_dict), "return two numbers, (mean loss, accuracy), not dict"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_train_one_epoch_names_each_mistake(answer, hint, course_leaves, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no warning may leak from the check
        result = check_train_one_epoch(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_a_crash_names_the_line_of_the_students_cell(course_leaves):
    """The deepest line of the student's own code: here loss.backward() inside train_one_epoch."""
    result = check_train_one_epoch(under_no_grad)
    assert "under_no_grad raised RuntimeError: element 0 of tensors does not require grad" in result.message
    lines, first = inspect.getsourcelines(train_one_epoch)
    backward = first + next(i for i, line in enumerate(lines) if "loss.backward()" in line)
    assert f"(line {backward} of your cell)" in result.message


def test_train_one_epoch_stub_is_not_done_and_keeps_the_random_state(course_leaves):
    def stub(model, loader, criterion, optimizer):
        raise NotImplementedError
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    assert check_train_one_epoch(stub).status == "not done"
    assert check_train_one_epoch(train_one_epoch).passed
    assert torch.equal(torch.rand(1), expected)
