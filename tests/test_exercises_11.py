"""The self-checks of notebook 11 (the full pipeline): right answers pass, others do not."""

from __future__ import annotations

import copy

import pytest
import torch

from leafdl.course.exercises import check_optimizer_steps, check_resume_command, check_train_model
from leafdl.course.exercises.nb11 import CAPSTONE_EPOCHS

RESUME = "leafdl train photos/apple --out runs/apple --epochs 20 --device cuda --resume"


def test_resume_command_accepts_any_order_and_no_program_name(capsys):
    assert check_resume_command(RESUME).passed
    assert check_resume_command("train --resume --device cuda --epochs 20 --out runs/apple photos/apple").passed
    assert check_resume_command("leafdl train photos/apple/ --out=runs/apple --epochs=20 --device cuda:0 --resume")
    assert "Correct" in capsys.readouterr().out


def test_resume_command_needs_resume(capsys):
    assert check_resume_command(RESUME.replace(" --resume", "")).passed is False
    assert "--resume" in capsys.readouterr().out


def test_resume_command_needs_the_same_run_and_length(capsys):
    assert check_resume_command(RESUME.replace("runs/apple", "runs/apple2")).passed is False
    assert check_resume_command(RESUME.replace("--epochs 20", "--epochs 8")).passed is False
    assert check_resume_command(RESUME.replace("--epochs 20 ", "")).passed is False   # back to the default 10
    assert check_resume_command(RESUME.replace("--device cuda", "--device cpu")).passed is False
    assert "Not yet" in capsys.readouterr().out


def test_resume_command_that_does_not_parse(capsys):
    assert check_resume_command("leafdl train --out runs/apple --resume").passed is False   # no data folder
    assert check_resume_command("leafdl predict runs/apple photo.jpg").passed is False
    assert check_resume_command('leafdl train "photos/apple').passed is False              # unbalanced quote
    out = capsys.readouterr()
    assert "Not yet" in out.out and out.err == ""


def test_resume_command_unanswered(capsys):
    assert check_resume_command(None).passed is False
    assert "Not done yet" in capsys.readouterr().out


def test_optimizer_steps(capsys):
    assert check_optimizer_steps(250, n_images=1000).passed
    # 1,001 images: 201 for validation, 800 for training: still 25 batches per epoch.
    assert check_optimizer_steps(250, n_images=1001).passed
    # 1,100 images: 220 for validation, 880 for training: 28 batches (the last one has 16 images).
    assert check_optimizer_steps(280, n_images=1100).passed
    assert "Correct" in capsys.readouterr().out


def test_optimizer_steps_rejects_forgetting_the_split_or_the_epochs(capsys):
    assert check_optimizer_steps(320, n_images=1000).passed is False   # all 1,000 images trained on
    assert check_optimizer_steps(25, n_images=1000).passed is False    # one epoch only
    assert check_optimizer_steps(None).passed is False
    assert "Not yet" in capsys.readouterr().out


# --- The capstone: train_model ------------------------------------------------------


def make_train_model(mistake: str | None = None):
    """The document's loop as a student writes it, right (``mistake=None``) or with one usual mistake."""

    def train_model(model, loaders, criterion, optimizer, scheduler, epochs, patience):
        history = {"train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": [], "lr": []}
        best_weights, best_acc, bad_epochs = copy.deepcopy(model.state_dict()), -1.0, 0
        for epoch in range(epochs):
            for phase in ["train", "valid"]:
                if phase == "train" and mistake != "no model.train()":
                    model.train()
                if phase == "valid" and mistake != "no model.eval()":
                    model.eval()
                total_loss, correct, seen, batch_accs, batch_losses = 0.0, 0, 0, [], []
                for inputs, labels in loaders[phase]:
                    if mistake not in ("no zero_grad", "zero_grad after backward"):
                        optimizer.zero_grad()
                    grad_on = phase == "train" or mistake == "gradients on in validation"
                    with torch.set_grad_enabled(grad_on):
                        outputs = model(inputs)
                        loss = criterion(outputs, labels)
                        if phase == "train":
                            loss.backward()
                            if mistake == "zero_grad after backward":
                                optimizer.zero_grad()
                            optimizer.step()
                    total_loss += loss.item() * inputs.size(0)
                    right = (outputs.argmax(dim=1) == labels).sum().item()
                    correct += right
                    seen += inputs.size(0)
                    batch_accs.append(right / inputs.size(0))
                    batch_losses.append(loss.item())
                    if mistake == "history per batch":
                        history[f"{phase}_loss"].append(loss.item())
                    if mistake == "scheduler per batch" and phase == "train":
                        scheduler.step(right / inputs.size(0))
                if mistake != "history per batch":
                    history[f"{phase}_loss"].append(sum(batch_losses) / len(batch_losses)
                                                    if mistake == "loss per batch" else total_loss / seen)
                history[f"{phase}_acc"].append(sum(batch_accs) / len(batch_accs)
                                               if mistake == "accuracy per batch" else correct / seen)
            valid_acc = history["valid_acc"][-1]
            if mistake != "lr after scheduler step":
                history["lr"].append(optimizer.param_groups[0]["lr"])
            watched = {"scheduler on train loss": history["train_loss"][-1] if history["train_loss"] else 0.0,
                       "scheduler on valid loss": history["valid_loss"][-1] if history["valid_loss"] else 0.0}
            if mistake != "scheduler per batch":
                scheduler.step(watched.get(mistake, valid_acc))
            if mistake == "lr after scheduler step":
                history["lr"].append(optimizer.param_groups[0]["lr"])
            if valid_acc > best_acc:
                best_acc, bad_epochs = valid_acc, 0
                best_weights = (model.state_dict() if mistake == "best weights by reference"
                                else copy.deepcopy(model.state_dict()))
            else:
                bad_epochs += 1
            stop = {"early stopping one late": bad_epochs > patience,
                    "early stopping one early": bad_epochs >= patience - 1,
                    "no early stopping": False}
            if stop.get(mistake, bad_epochs >= patience):
                break
        if mistake != "best weights not loaded":
            model.load_state_dict(best_weights)
        return model, history

    return train_model


def test_train_model_right_answer_matches_fit(capsys):
    result = check_train_model(make_train_model())
    assert result.passed, result.message
    assert "leafdl.engine.fit" in capsys.readouterr().out


MISTAKES = {   # the mistake -> words its hint must contain
    "no model.eval()": "model.eval()",
    "no model.train()": "model.train()",
    "gradients on in validation": "torch.no_grad()",
    "no zero_grad": "zero_grad() before each backward",
    "zero_grad after backward": "not between loss.backward() and optimizer.step()",
    "scheduler on train loss": "stepped on the training loss",
    "scheduler on valid loss": "stepped on the validation loss",
    "scheduler per batch": "once per epoch",
    "accuracy per batch": "history['train_acc'] is the mean over the batches",
    "loss per batch": "history['train_loss'] is the mean over the batches",
    "history per batch": "one number per epoch",
    "lr after scheduler step": "before scheduler.step()",
    "early stopping one late": "one epoch late",
    "early stopping one early": "one epoch early",
    "no early stopping": f"trained all {CAPSTONE_EPOCHS} epochs",
    "best weights by reference": "copy.deepcopy",
    "best weights not loaded": "the last epoch's weights",
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_train_model_names_the_mistake(mistake, capsys):
    result = check_train_model(make_train_model(mistake))
    assert result.status == "not yet"
    assert MISTAKES[mistake] in result.message
    assert capsys.readouterr().out.startswith("Not yet. Hint:")


def test_train_model_stub_and_crashes(capsys):
    def stub(model, loaders, criterion, optimizer, scheduler, epochs, patience):
        raise NotImplementedError

    def no_metric(model, loaders, criterion, optimizer, scheduler, epochs, patience):
        scheduler.step()

    assert check_train_model(stub).status == "not done"
    assert check_train_model(no_metric).status == "not yet"
    assert check_train_model(lambda *args: None).status == "not yet"   # returns nothing
    out = capsys.readouterr().out
    assert "Not done yet" in out and "scheduler.step() needs the number it watches" in out
    assert "return two things: (model, history)" in out
