"""The self-checks of notebook 11 (the full pipeline): right answers pass, others do not."""

from __future__ import annotations

from leafdl.course.exercises import check_optimizer_steps, check_resume_command

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
