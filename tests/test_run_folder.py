"""A run folder is owned: nothing of yours overwritten, no two runs mixed, resume checks everything.

Each test is a user's command on real files in a temporary folder (issue 27, cases 1 to 4
and 6): training into a folder of theirs, training again over a finished run, a second
writer while the first runs, resuming on other data or with changed options, and
exporting a run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from dataclasses import fields
from pathlib import Path

import pytest
from PIL import Image

import leafdl.engine
from leafdl import checkpoint
from leafdl.cli import main
from leafdl.config import TrainConfig
from leafdl.run_folder import RUN_MARKER

TINY = ["--img-size", "64", "--epochs", "1", "--batch-size", "16", "--arch", "efficientnet_lite0",
        "--workers", "0", "--quiet"]
ROOT = Path(__file__).resolve().parents[1]


def train(data: Path, out: Path, *extra: str) -> int:
    return main(["train", str(data), "--out", str(out), *TINY, *extra])


def contents(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def finished_run(demo_split, tmp_path_factory) -> Path:
    """One finished 1-epoch run on the pre-split demo leaves; tests copy it (:func:`run_copy`)."""
    run = tmp_path_factory.mktemp("runs") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
        assert train(demo_split, run) == 0
    return run


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    return Path(shutil.copytree(finished_run, tmp_path / "run", symlinks=True))


def hold(*python_lines: str) -> subprocess.Popen:
    """Another process running leafdl code that holds a lock until killed (as a running training does)."""
    code = "\n".join([*python_lines, "print('held', flush=True)", "import time", "time.sleep(300)"])
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout.readline().strip() == "held"
    return process


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


# --- 1. a folder with your files ---------------------------------------------------------


def test_training_into_a_folder_with_your_files_is_refused_and_touches_nothing(demo_split, tmp_path, capsys):
    mine = tmp_path / "myresults"
    mine.mkdir()
    (mine / "report.txt").write_text("my thesis numbers")
    assert train(demo_split, mine) == 2
    err = capsys.readouterr().err
    assert "report.txt" in err and "did not write" in err and "Traceback" not in err
    assert contents(mine) == {"report.txt": b"my thesis numbers"}


def test_an_empty_folder_or_one_with_only_finder_junk_is_taken_and_marked(demo_split, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    assert train(demo_split, run) == 0
    marker = json.loads((run / RUN_MARKER).read_text())
    assert marker["written_by"] == "leafdl train" and marker["data"] == str(demo_split.resolve())
    assert not (run / ".leafdl-lock").exists()   # the lock goes with the run


# --- 2. a finished run is not replaced -----------------------------------------------------


def test_training_again_over_a_finished_run_without_resume_is_refused(run_copy, demo_split, capsys):
    before = contents(run_copy)
    assert train(demo_split, run_copy, "--lr", "0.01", "--img-size", "96") == 2
    err = capsys.readouterr().err
    assert "already holds a training run" in err and "--resume" in err and "another --out" in err
    assert contents(run_copy) == before


# --- 3. one writer at a time ---------------------------------------------------------------


@pytest.mark.slow
def test_a_second_training_into_a_busy_run_folder_stops_while_predict_still_works(run_copy, demo_split, capsys):
    before = contents(run_copy)
    first = hold("from leafdl.run_folder import claimed",
                 f"held = claimed({str(run_copy)!r}, {str(demo_split)!r}, resume=True)", "held.__enter__()")
    try:
        assert train(demo_split, run_copy, "--resume") == 2
        err = capsys.readouterr().err
        assert "being written by another leafdl process" in err and f"process {first.pid}" in err
        photo = next((demo_split / "valid" / "Healthy").glob("*.jpg"))
        assert main(["predict", str(run_copy), str(photo)]) == 0   # the last complete model answers
        assert "%" in capsys.readouterr().out
    finally:
        kill(first)                                    # kill -9: the lock dies with its process
    assert {name: data for name, data in contents(run_copy).items() if name != ".leafdl-lock"} == before
    assert train(demo_split, run_copy, "--resume") == 0


@pytest.mark.parametrize("command", [["data", "split", "{leaves}", "{out}"], ["data", "demo", "{out}", "--per-class", "2"],
                                     ["data", "field", "{out}"], ["data", "apples", "{out}"]])
def test_a_second_writer_of_a_data_folder_stops_at_once(demo_leaves, tmp_path, capsys, command):
    out = tmp_path / "out"
    first = hold("from leafdl.locks import output_lock", f"held = output_lock({str(out)!r})", "held.__enter__()")
    try:
        argv = [part.format(leaves=demo_leaves, out=out) for part in command]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "being written by another leafdl process" in err and str(out) in err and "Traceback" not in err
        assert not out.exists()
    finally:
        kill(first)
    assert main(argv) == 0


# --- 4. resume checks what defines the run --------------------------------------------------


def test_resume_on_other_pre_split_data_is_refused(run_copy, demo_split, tmp_path, capsys):
    other = Path(shutil.copytree(demo_split, tmp_path / "other-split"))
    photo = sorted((other / "valid" / "Healthy").glob("*.jpg"))[0]
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo)   # another validation set
    before = contents(run_copy)
    assert train(other, run_copy, "--resume") == 2
    err = capsys.readouterr().err
    assert "other images" in err and "image files differ" in err and "Traceback" not in err
    assert contents(run_copy) == before


def test_resume_rebuilds_a_deleted_model_file_from_last_ckpt(run_copy, demo_split, capsys):
    best = checkpoint.safe_torch_load(run_copy / "last.ckpt")["best_model"]
    (run_copy / "model.pth").unlink()
    assert train(demo_split, run_copy, "--resume") == 0
    assert "model.pth was missing: rebuilt" in capsys.readouterr().out
    saved = checkpoint.safe_torch_load(run_copy / "model.pth")
    assert saved.keys() == best.keys() and all(saved[name].equal(best[name]) for name in best)


def test_a_finished_run_refuses_more_epochs_or_another_patience(run_copy, demo_split, capsys):
    for option in (["--epochs", "3"], ["--patience", "2"]):
        assert train(demo_split, run_copy, "--resume", *option) == 2
        err = capsys.readouterr().err
        assert "is a finished run" in err and option[0] in err and "another --out" in err


def test_resume_honours_a_new_patience_and_records_it(demo_split, tmp_path, monkeypatch, capsys):
    real_run_phase, calls = leafdl.engine.run_phase, []

    def interrupt_in_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run_phase(*args, **kwargs)

    monkeypatch.setattr(leafdl.engine, "run_phase", interrupt_in_epoch_two)
    run = tmp_path / "run"
    assert train(demo_split, run, "--epochs", "2") == 130
    monkeypatch.undo()
    assert train(demo_split, run, "--epochs", "2", "--patience", "1", "--resume") == 0
    assert checkpoint.safe_torch_load(run / "last.ckpt")["early_stopping"]["patience"] == 1
    assert json.loads((run / "metadata.json").read_text())["hyperparameters"]["max_patience"] == 1


def test_every_setting_is_either_refused_or_honoured_on_resume():
    classified = (*checkpoint.SETTINGS_FIXED_ON_RESUME, *checkpoint.SETTINGS_OF_THE_REST_OF_A_RUN,
                  *checkpoint.SETTINGS_OF_SPEED_ONLY)
    assert sorted(classified) == sorted(field.name for field in fields(TrainConfig))


# --- 6. export -------------------------------------------------------------------------------


def test_export_zips_only_the_runs_own_files_and_never_replaces_yours(run_copy, tmp_path, capsys):
    (run_copy / "credentials.env").write_text("TOKEN=secret")
    archive = tmp_path / "run.zip"
    archive.write_bytes(b"my own zip")
    assert main(["export", str(run_copy)]) == 2
    assert "already exists" in capsys.readouterr().err and archive.read_bytes() == b"my own zip"

    assert main(["export", str(run_copy), "--overwrite"]) == 0
    with zipfile.ZipFile(archive) as zipped:
        names = sorted(name for name in zipped.namelist() if not name.endswith("/"))
    assert names == [f"run/{name}" for name in ("confusion_matrix.png", "metadata.json", "metrics.png",
                                                "model.pth", "report.txt")]
    assert main(["export", str(run_copy)]) == 0   # its own earlier export is simply renewed
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_export_follows_no_link_out_of_the_run(run_copy, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for sharing")
    (run_copy / "report.txt").unlink()
    (run_copy / "report.txt").symlink_to(secret)
    assert main(["export", str(run_copy)]) == 2
    err = capsys.readouterr().err
    assert "report.txt is a link" in err and "Traceback" not in err
    assert not (tmp_path / "run.zip").exists()


def test_export_dot_names_the_zip_after_the_folder(run_copy, monkeypatch, capsys):
    monkeypatch.chdir(run_copy)
    assert main(["export", "."]) == 0
    assert (run_copy.parent / "run.zip").is_file()
    assert "Traceback" not in capsys.readouterr().err


@pytest.fixture
def small_mount(tmp_path):
    """Mount a tmpfs of a given size (needs root): writes past it fail as on a full disk."""
    mounted = []

    def mount(size_bytes: int, read_only: bool = False) -> Path:
        point = tmp_path / f"mount{len(mounted)}"
        point.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(point)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small file system here (needs root): {result.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "--lazy", str(point)], check=True)


def test_export_on_a_full_disk_leaves_no_broken_zip(finished_run, small_mount, capsys):
    size = sum(path.stat().st_size for path in finished_run.iterdir() if path.name in checkpoint.EXPORTED_FILES)
    disk = small_mount(size + 2**20)   # room for the run's files, not for its zip too
    run = disk / "run"
    run.mkdir()
    for name in checkpoint.EXPORTED_FILES:
        shutil.copy2(finished_run / name, run / name)
    assert main(["export", str(run)]) == 2
    err = capsys.readouterr().err
    assert "Could not write" in err and "run.zip" in err and "Traceback" not in err
    assert sorted(path.name for path in disk.iterdir()) == ["run"]


def test_export_of_a_run_on_a_read_only_disk_says_so(finished_run, small_mount, capsys):
    disk = small_mount(64 * 2**20)
    shutil.copytree(finished_run, disk / "run", ignore=shutil.ignore_patterns("split", "last.ckpt"))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    assert main(["export", str(disk / "run")]) == 2
    err = capsys.readouterr().err
    assert "Could not write" in err and "Traceback" not in err
