"""Images per second of `leafdl train` in 1 process and in N processes under torchrun.

Run:  .venv/bin/python benchmarks/bench_distributed.py [DATA_DIR] [--nproc N] [--epochs 2]
                                                      [--img-size 128] [--batch-size 32] [--unfreeze 0]

On a GPU machine N defaults to the number of GPUs (one process per GPU, nccl); on a CPU
to 2 (gloo), and the cores are shared out: the single process gets all of them as
threads, each of the N processes its share (OMP_NUM_THREADS). Every run trains the same
data with the same global batch: the single process uses ``batch_size * N``, each of the
N processes ``batch_size``.

DATA_DIR is a folder of class folders (or train/ and valid/); by default the course's demo
leaves (60 per class, drawn into a temporary folder, no download). The data is split once,
outside the timing. Printed per run: images per second over the training epochs (train and
validation passes; start-up excluded, it is printed apart as the wall time of the whole
command), the best validation accuracy and the CPU time. Nothing is asserted: these are
measurements. On a 2-core CPU no speed-up is expected (the two processes share the same two
cores that one process already uses as two threads); the point there is that the numbers
agree. With --unfreeze N the last N backbone blocks train too (a fine-tuning stage of
--epochs epochs follows the frozen one), which is where DistributedDataParallel has the most
gradients to average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(launcher: list[str], data: Path, out: Path, options: list[str], threads: int) -> dict:
    """Run one `leafdl train` and return its numbers."""
    command = [sys.executable, "-m", *launcher, "leafdl", "train", str(data), "--out", str(out), "--quiet", *options]
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cpu_before, started = children_cpu_seconds(), time.perf_counter()
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, children_cpu_seconds() - cpu_before
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    metadata = json.loads((out / "metadata.json").read_text())
    return {"metadata": metadata, "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, nargs="?", default=None)
    parser.add_argument("--nproc", type=int, default=None, help="processes for the parallel run (default: GPUs, or 2)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--img-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32, help="per process in the parallel run")
    parser.add_argument("--unfreeze", type=int, default=0, help="also fine-tune the last N blocks")
    args = parser.parse_args()

    import torch

    from leafdl.config import TrainConfig
    from leafdl.demo_data import make_demo_dataset
    from leafdl.device import cpu_count
    from leafdl.pipeline import prepare_data

    gpus = torch.cuda.device_count()
    nproc = args.nproc or (gpus if gpus > 1 else 2)
    cores = cpu_count()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        source = args.data_dir or make_demo_dataset(scratch / "demo-leaves", per_class=60, seed=0, progress=False)
        split = prepare_data(source, scratch / "split-run", TrainConfig(), log=lambda message: None)
        n_train = sum(1 for path in (split / "train").rglob("*") if path.is_file())
        common = ["--img-size", str(args.img_size), "--epochs", str(args.epochs)]
        if args.unfreeze:
            common += ["--unfreeze", str(args.unfreeze), "--finetune-epochs", str(args.epochs)]
        device = f"{gpus} GPU(s): {torch.cuda.get_device_name(0)}" if gpus else f"CPU, {cores} cores"
        print(f"{n_train} training images at {args.img_size} px, {args.epochs} epoch(s) per stage, "
              f"global batch {args.batch_size * nproc}; {device}")

        runs = {
            "1 process": train([], split, scratch / "one",
                               common + ["--batch-size", str(args.batch_size * nproc)], cores),
            f"{nproc} processes": train(["torch.distributed.run", "--nproc-per-node", str(nproc),
                                         "--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m"],
                                        split, scratch / "many", common + ["--batch-size", str(args.batch_size)],
                                        max(1, cores // nproc)),
        }
        print(f"{'run':<14}{'images/s':>10}{'epochs s':>10}{'wall s':>9}{'CPU s':>9}{'best acc':>10}")
        for name, numbers in runs.items():
            metadata = numbers["metadata"]
            history = metadata["history"]
            epoch_seconds = sum(history["seconds"])
            images_per_second = n_train * metadata["epochs_trained"] / epoch_seconds
            print(f"{name:<14}{images_per_second:>10.1f}{epoch_seconds:>10.1f}{numbers['wall']:>9.1f}"
                  f"{numbers['cpu']:>9.1f}{metadata['best_valid_acc']:>10.3f}")


if __name__ == "__main__":
    main()
