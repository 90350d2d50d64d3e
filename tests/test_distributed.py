"""`leafdl train` under torchrun: 2 processes on one machine, and 2 "machines" on one, on CPU (gloo).

Each test starts real torchrun launches on 127.0.0.1, with a free port and a timeout, on
the tiny demo data at 64 px. One thread per process (OMP_NUM_THREADS=1), so two
processes fit the 2 cores of a CI machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from leafdl import distributed
from leafdl.checkpoint import safe_torch_load

TIMEOUT_S = 240
EXPECTED_RUN_FILES = {"model.pth", "metadata.json", "last.ckpt", "metrics.png", "confusion_matrix.png",
                      "report.txt"}
TRAIN_OPTIONS = ["--img-size", "64", "--epochs", "2", "--quiet"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def torchrun_command(*launcher: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *launcher, "-m", "leafdl", "train"]


def run(command: list[str], cwd: Path, **extra_environment: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=environment(**extra_environment), capture_output=True, text=True,
                            timeout=TIMEOUT_S)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def two_processes(port: int) -> list[str]:
    return torchrun_command("--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(port))


@pytest.fixture(scope="module")
def two_process_run(demo_leaves, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A 2-process run on the unsplit demo leaves, batch 8 per process, 2 epochs: (working folder, result)."""
    workdir = tmp_path_factory.mktemp("work")
    empty_torch_home = tmp_path_factory.mktemp("torch_home")   # as the autouse fixture gives each test
    result = run(two_processes(free_port()) + [str(demo_leaves), "--out", "two", "--batch-size", "8", *TRAIN_OPTIONS],
                 workdir, TORCH_HOME=str(empty_torch_home))
    return workdir, result


def test_outside_torchrun_nothing_is_distributed(monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not distributed.launched_by_torchrun()
    assert distributed.init_from_torchrun(torch.device("cpu")) is False
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    assert distributed.all_reduce_sum([1.5, 2.0]) == [1.5, 2.0]
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap_model(model, torch.device("cpu")) is model


def test_shard_sampler_counts_every_sample_once():
    shards = [list(distributed.ShardSampler(13, rank, 2)) for rank in range(2)]
    assert sorted(shards[0] + shards[1]) == list(range(13))
    assert [len(distributed.ShardSampler(13, rank, 2)) for rank in range(2)] == [7, 6]


def test_two_processes_match_one_with_the_same_global_batch(two_process_run, tmp_path):
    workdir, two = two_process_run
    run_dir = workdir / "two"
    # One run folder, written once: nothing else in the working folder, no temporary files.
    assert sorted(path.name for path in workdir.iterdir()) == ["two"]
    assert {path.name for path in run_dir.iterdir()} == EXPECTED_RUN_FILES | {"split", ".leafdl-run.json"}
    # Log lines appear once, not once per process.
    assert two.stdout.count("Epoch  1/2") == 1 and two.stdout.count("Split 20% for validation") == 1
    assert "Each of 2 processes trains on" in two.stdout
    two_meta = json.loads((run_dir / "metadata.json").read_text())
    assert (two_meta["world_size"], two_meta["global_batch_size"]) == (2, 16)
    assert two_meta["epochs_trained"] == 2

    one = subprocess.run([sys.executable, "-m", "leafdl", "train", str(run_dir / "split"), "--out", "one",
                          "--batch-size", "16", *TRAIN_OPTIONS], cwd=tmp_path, env=environment(),
                         capture_output=True, text=True, timeout=TIMEOUT_S)
    assert one.returncode == 0, one.stderr
    one_meta = json.loads((tmp_path / "one" / "metadata.json").read_text())
    assert (one_meta["world_size"], one_meta["global_batch_size"]) == (1, 16)
    # Same global batch, same data; only the shuffling and augmentation draws differ.
    # 13 validation images: allow 2 of them.
    assert abs(two_meta["best_valid_acc"] - one_meta["best_valid_acc"]) <= 2 / 13 + 1e-9
    # Validation counted every image exactly once, summed over both processes.
    report = (run_dir / "report.txt").read_text()
    assert report.split("accuracy")[1].split()[1] == "13"


def test_a_killed_two_process_run_resumes_exactly(two_process_run, tmp_path):
    workdir = tmp_path
    # The same images as the uninterrupted run of the fixture, split the same way.
    options = [str(two_process_run[0] / "two" / "split"), "--batch-size", "8", *TRAIN_OPTIONS]

    # The same run, stopped once epoch 1 is saved. SIGTERM is what a job scheduler or
    # Ctrl-C sends: torchrun passes it on and its workers die mid-epoch. (A SIGKILL stops
    # torchrun alone; leafdl's workers then get a SIGTERM from Linux: distributed.die_with_launcher.)
    command = two_processes(free_port()) + options + ["--out", "killed"]
    checkpoint = workdir / "killed" / "last.ckpt"
    launch = subprocess.Popen(command, cwd=workdir, env=environment(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not checkpoint.exists() and launch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        launch.send_signal(signal.SIGTERM)
        launch.wait(timeout=60)
    assert launch.returncode != 0, "the run finished before it could be stopped"
    time.sleep(1)   # a surviving worker would write epoch 2 now
    state = safe_torch_load(checkpoint)
    assert (state["stage_epoch"], state["finished"], state["world_size"]) == (1, False, 2)

    resumed = run(two_processes(free_port()) + options + ["--out", "killed", "--resume"], workdir)
    assert resumed.stdout.count("Resuming after epoch 1 of 2") == 1, resumed.stdout
    whole = json.loads((two_process_run[0] / "two" / "metadata.json").read_text())["history"]
    again = json.loads((workdir / "killed" / "metadata.json").read_text())["history"]
    assert again["valid_acc"] == whole["valid_acc"] and again["train_loss"] == whole["train_loss"]
    assert again["valid_loss"] == pytest.approx(whole["valid_loss"], abs=1e-6)

    # Resuming with another number of processes would change the global batch: refused.
    single = subprocess.run([sys.executable, "-m", "leafdl", "train", *options, "--out", "killed", "--resume"],
                            cwd=workdir, env=environment(), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert single.returncode == 2 and "trained by 2 process(es), not 1" in single.stderr


def test_two_nodes_with_a_c10d_rendezvous(demo_split, tmp_path):
    endpoint = f"127.0.0.1:{free_port()}"
    nodes = []
    for node_rank in (0, 1):
        launcher = ["--nnodes", "2", "--node-rank", str(node_rank), "--nproc-per-node", "1",
                    "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", "leafdl-test",
                    # Both "machines" are this one: say which hosts the rendezvous store.
                    "--rdzv-conf", f"is_host={int(node_rank == 0)}"]
        command = torchrun_command(*launcher) + [str(demo_split), "--out", str(tmp_path / "run"),
                                                 "--batch-size", "8", "--img-size", "64", "--epochs", "1", "--quiet"]
        nodes.append(subprocess.Popen(command, cwd=tmp_path, env=environment(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for node in nodes:
            outputs.append(node.communicate(timeout=TIMEOUT_S))
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(out + err for out, err in outputs)
    stdout = "".join(out for out, _ in outputs)
    assert stdout.count("Epoch  1/1") == 1                 # one rank 0 among the two machines
    metadata = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert (metadata["world_size"], metadata["global_batch_size"]) == (2, 16)
    assert {path.name for path in (tmp_path / "run").iterdir()} == EXPECTED_RUN_FILES | {".leafdl-run.json"}


WORKER = '''
import sys
import torch
import torch.distributed as dist
from leafdl import distributed
from leafdl.config import TrainConfig
from leafdl.data import build_dataloaders
from leafdl.engine import fit
from leafdl.models import build_model

distributed.init_from_torchrun(torch.device("cpu"))
torch.manual_seed(distributed.rank())          # different starts: DDP must copy rank 0's
model, spec = build_model(4, arch="efficientnet_lite0", img_size=64, verbose=False)
loaders = distributed.shard_loaders(build_dataloaders(sys.argv[1], spec, batch_size=8, num_workers=0), seed=42)
config = TrainConfig(img_size=64, epochs=1, unfreeze=2, finetune_epochs=1, batch_size=8)
fit(model, loaders, config, device=torch.device("cpu"), progress=False, log=lambda message: None)
state = torch.cat([tensor.double().flatten() for tensor in model.state_dict().values()])
copies = [torch.zeros_like(state) for _ in range(distributed.world_size())]
dist.all_gather(copies, state)
print(f"rank {distributed.rank()}: identical" if all(torch.equal(copies[0], copy) for copy in copies) else "differ")
distributed.destroy()
'''


def test_model_copies_stay_identical_through_fine_tuning(demo_split, tmp_path):
    """Weights and BatchNorm statistics of the unfrozen blocks agree in both processes."""
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    launcher = ["--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(free_port())]
    result = run([sys.executable, "-m", "torch.distributed.run", *launcher, str(worker), str(demo_split)], tmp_path)
    # The two processes print at the same moment, so their lines may interleave: count words.
    assert "rank 0: identical" in result.stdout and "rank 1: identical" in result.stdout, result.stdout
    assert "differ" not in result.stdout
