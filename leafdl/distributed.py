"""Training on several processes at once: the plumbing behind ``torchrun -m leafdl train``.

*Data parallelism* runs one copy of the model in each process (one per GPU, or a few
on a CPU). Each process reads its own shard of the training images, computes gradients
on its batch, and before the optimizer step the gradients of all processes are
averaged (an *all-reduce*), so every copy takes the same step and stays identical.
PyTorch's ``DistributedDataParallel`` (DDP) does that averaging during ``backward()``.

``torchrun`` starts the processes and tells each who it is through environment
variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``)::

    torchrun --nproc-per-node 4 -m leafdl train data/photos --out runs/big

Everything here does nothing outside torchrun: :func:`rank` is 0, :func:`world_size`
is 1, :func:`barrier` returns at once and :func:`all_reduce_sum` gives back its input.
So the training loop has one code path, and a single-process run computes exactly
what it computed before.

Example:
    >>> from leafdl import distributed
    >>> distributed.world_size(), distributed.is_main()     # outside torchrun
    (1, True)
    >>> distributed.all_reduce_sum([2.0, 3.0])
    [2.0, 3.0]
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from dataclasses import replace
from typing import Callable, Iterator, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from leafdl.data import DataLoaders
from leafdl.errors import LeafdlError, OptionError

T = TypeVar("T")

# The variables torchrun sets in every process it starts.
TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched_by_torchrun() -> bool:
    """True when this process was started by ``torchrun`` (its variables are set)."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def is_initialized() -> bool:
    """True once :func:`init_from_torchrun` (or anyone) has set up the process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's number among all processes, 0 to ``world_size() - 1``; 0 alone."""
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    """How many processes train together; 1 alone."""
    return dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """True in the one process (rank 0) that prints, draws progress bars and writes files."""
    return rank() == 0


def main_only(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` in the main process, a function that prints nothing in the others,
    so a run under torchrun prints each line once."""
    return log if is_main() else _silent


def _silent(message: str) -> None:
    pass


def process_device(device: torch.device) -> torch.device:
    """The device of this process: with CUDA under torchrun, the GPU ``LOCAL_RANK``.

    Four processes on a 4-GPU server must each use their own GPU (``cuda:0`` to
    ``cuda:3``), not all ``cuda:0``. On a CPU (or alone) the device is unchanged.
    """
    if device.type != "cuda" or not launched_by_torchrun():
        return device
    gpu = int(os.environ["LOCAL_RANK"])
    if gpu >= torch.cuda.device_count():
        raise OptionError(
            f"Process {gpu} on this machine wants GPU {gpu}, but PyTorch sees only "
            f"{torch.cuda.device_count()}. Start torchrun with --nproc-per-node at most "
            f"{torch.cuda.device_count()}.")
    torch.cuda.set_device(gpu)
    return torch.device("cuda", gpu)


def init_from_torchrun(device: torch.device) -> bool:
    """Join the process group torchrun prepared; return True if this call set it up.

    The backend is ``nccl`` for CUDA GPUs (fast GPU-to-GPU transfers) and ``gloo``
    for CPUs. Does nothing (returns False) outside torchrun or when a group exists.
    """
    if not launched_by_torchrun() or is_initialized():
        return False
    die_with_launcher()
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        dist.init_process_group(backend, device_id=device)
    else:
        dist.init_process_group(backend)
    return True


def die_with_launcher() -> None:
    """Ask Linux to stop this process (SIGTERM) when the torchrun launcher that started it dies.

    Without it, ``kill -9`` of the launcher leaves its workers training to the end and
    writing the run folder, with nobody left to stop them. Elsewhere this does nothing.
    """
    if sys.platform != "linux":
        return
    launcher = os.getppid()
    pr_set_pdeathsig = 1   # from <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != launcher:   # the launcher died before the request was in place
        os.kill(os.getpid(), signal.SIGTERM)


class MainProcessStopped(LeafdlError):
    """Rank 0 stopped on a user error (it printed it); the other processes stop with it."""


def main_first(step: Callable[[], T], wait_s: float = 60) -> T | None:
    """Rank 0 runs ``step()`` while the others wait; returns its result there, ``None`` elsewhere.

    If ``step`` raises a :class:`~leafdl.errors.LeafdlError` on rank 0, every process
    stops: rank 0 with that error (printed once), the others quietly, when torchrun ends
    them on seeing rank 0 fail (so its summary names rank 0 as the root cause), or after
    ``wait_s`` with a one-line :class:`MainProcessStopped`; never with a traceback from a
    broken connection.
    """
    result, failure = None, None
    if is_main():
        try:
            result = step()
        except LeafdlError as error:
            failure = error
    if is_initialized():
        verdict = [None if failure is None else str(failure)]
        dist.broadcast_object_list(verdict, src=0)
        if verdict[0] is not None and not is_main():
            time.sleep(wait_s)   # torchrun stops this process first, once rank 0 has exited
            raise MainProcessStopped(f"process {rank()} stops because rank 0 stopped: {verdict[0]}")
    if failure is not None:
        raise failure
    return result


def destroy() -> None:
    """Leave the process group (call once at the end of a run that joined it)."""
    if is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait here until every process has arrived (nothing to wait for alone)."""
    if is_initialized():
        dist.barrier()


def all_reduce_sum(values: list[float], device: torch.device | str = "cpu") -> list[float]:
    """Add up ``values`` over all processes; every process gets the same sums.

    Used for validation: each process counts loss, correct predictions and samples on
    its shard, and the sums give the accuracy of the whole validation set, the same
    number in every process, so all of them take the same scheduler and
    early-stopping decisions. ``device`` must be a GPU with ``nccl``.
    """
    if not is_initialized():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def wrap_model(model: nn.Module, device: torch.device) -> nn.Module:
    """``DistributedDataParallel(model)`` under torchrun; the model itself otherwise.

    DDP averages the gradients of the parameters that train (``requires_grad=True``)
    during ``backward()``; frozen parameters are left out of the averaging, so wrap
    *after* freezing or unfreezing, once per stage. Every trainable parameter gets a
    gradient in every step, so ``find_unused_parameters`` stays off (it would cost a
    search of the graph each step). Construction copies rank 0's weights and buffers
    to every process, so all copies start identical.
    """
    if not is_initialized():
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=False)


def broadcast_buffers(model: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm's running mean and variance) to every process.

    DDP keeps the *parameters* identical, but an unfrozen BatchNorm layer also updates
    its running statistics from each process's own batches, so after training they
    differ a little from process to process. Call this after each training phase, so
    that validation and the saved model use the same statistics everywhere.
    """
    if not is_initialized():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


class ShardSampler(Sampler[int]):
    """Every ``world_size``-th index starting at ``rank``: each sample exactly once overall.

    ``DistributedSampler`` pads the shards to equal length by repeating samples, which
    would count those samples twice in a validation accuracy. Validation needs no
    equal lengths (no gradients are averaged), so this sampler does not pad.

    >>> list(ShardSampler(5, rank=1, world_size=2))
    [1, 3]
    """

    def __init__(self, length: int, rank: int, world_size: int) -> None:
        self.length, self.rank, self.world_size = length, rank, world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.length, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.length, self.world_size))


def _loader_like(loader: DataLoader, sampler: Sampler) -> DataLoader:
    """A DataLoader with the same dataset and settings as ``loader``, but another sampler."""
    extra = {"prefetch_factor": loader.prefetch_factor} if loader.num_workers > 0 else {}
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                      num_workers=loader.num_workers, pin_memory=loader.pin_memory,
                      collate_fn=loader.collate_fn, worker_init_fn=loader.worker_init_fn,
                      persistent_workers=loader.persistent_workers, generator=loader.generator, **extra)


def shard_loaders(loaders: DataLoaders, seed: int) -> DataLoaders:
    """This process's share of ``loaders``.

    Training: a ``DistributedSampler``, which shuffles all training images with
    ``seed + epoch`` (call ``sampler.set_epoch(epoch)`` each epoch) and gives each
    process every ``world_size``-th of them. Validation: a :class:`ShardSampler`.
    The batch size stays per process, so one step sees ``batch_size * world_size``
    images in all. Outside torchrun the loaders come back unchanged.
    """
    if not is_initialized():
        return loaders
    check_processes(len(loaders.valid.dataset))
    train_sampler = DistributedSampler(loaders.train.dataset, num_replicas=world_size(), rank=rank(),
                                       shuffle=True, seed=seed)
    valid_sampler = ShardSampler(len(loaders.valid.dataset), rank(), world_size())
    return replace(loaders, train=_loader_like(loaders.train, train_sampler),
                   valid=_loader_like(loaders.valid, valid_sampler))


def check_processes(valid_images: int) -> None:
    """Refuse more processes than validation images: each process validates its own share, so each needs one."""
    if world_size() > valid_images:
        raise OptionError(
            f"{world_size()} processes but only {valid_images} validation images: each process validates its "
            f"own share of them. Start torchrun with at most {valid_images} processes (--nnodes times "
            "--nproc-per-node), or validate on more images (--valid).")


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Tell a ``DistributedSampler`` which epoch starts, so it shuffles anew (and exactly
    as an uninterrupted run would after ``--resume``). Other samplers are left alone."""
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)
