"""Self-checks for notebook 13 (scaling up): global batch, steps per epoch, learning rate.

Each check computes the right answer itself, from the same rules the notebook teaches
(and, for the steps, from PyTorch's own ``DistributedSampler``), prints ``Correct`` with
why, or ``Not yet`` with a hint. Worked solutions: ``notebooks/solutions/13_scaling_up.md``.
"""

from __future__ import annotations

import math
from typing import Any

from torch.utils.data import DistributedSampler

from leafdl.course.exercises.common import CheckResult, close_to, not_answered, report


def check_batch_size_for(answer: Any, global_batch: int = 256, nodes: int = 1, gpus_per_node: int = 2) -> CheckResult:
    """Notebook 13, exercise 1: the ``--batch-size`` that gives ``global_batch`` images per step on fewer GPUs.

    ``--batch-size`` is per process, and a step averages one batch of every process, so
    the batch per process is ``global_batch / (nodes * gpus_per_node)``.
    """
    missing = not_answered(answer, "the --batch-size to pass")
    if missing is not None:
        return missing
    processes = nodes * gpus_per_node
    expected = global_batch / processes
    if close_to(answer, global_batch):
        return report(False, "", f"--batch-size is per process: with {processes} processes each taking a batch of "
                                 f"{global_batch}, a step would see {global_batch * processes} images.")
    if close_to(answer, global_batch * processes):
        return report(False, "", "more processes share the global batch, so each takes a smaller part: divide, "
                                 "do not multiply.")
    return report(close_to(answer, expected),
                  f"{processes} processes x {expected:g} images = {global_batch} images per step: the global "
                  "batch is unchanged, so the learning rate can stay as it was.",
                  f"how many processes take part? Each takes an equal share of the {global_batch} images.")


def check_steps_per_epoch(answer: Any, images: int = 43_456, processes: int = 8, batch_size: int = 32) -> CheckResult:
    """Notebook 13, exercise 2: optimizer steps per epoch when ``processes`` share ``images``.

    ``DistributedSampler`` gives each process ``ceil(images / processes)`` images (padding
    the last shard), cut into batches of ``batch_size``, the last one smaller. Counted
    here with a real ``DistributedSampler``.
    """
    missing = not_answered(answer, "the number of optimizer steps (batches per process) in one epoch")
    if missing is not None:
        return missing
    per_process = len(DistributedSampler(range(images), num_replicas=processes, rank=0, shuffle=False))
    expected = math.ceil(per_process / batch_size)
    single = math.ceil(images / batch_size)
    return report(close_to(answer, expected),
                  f"each process gets {per_process:,} images, {expected:,} batches of up to {batch_size}; "
                  f"one process alone would take {single:,} steps, {processes} times as many.",
                  f"first the images of one process (divide by {processes}, round up), then its batches "
                  f"(divide by {batch_size}, round up).")


def check_scaled_learning_rate(answer: Any, lr: float = 0.001, processes_before: int = 1,
                               processes_after: int = 4) -> CheckResult:
    """Notebook 13, exercise 3: the linear scaling rule's learning rate for a larger global batch.

    With the batch per process fixed, the global batch grows with the number of
    processes; the linear scaling rule grows the learning rate by the same factor.
    """
    missing = not_answered(answer, "the learning rate the linear scaling rule suggests")
    if missing is not None:
        return missing
    factor = processes_after / processes_before
    expected = lr * factor
    if close_to(answer, lr / factor, tolerance=1e-9):
        return report(False, "", "the batch got larger, so each step averages more images: the step can be "
                      "larger, not smaller.")
    return report(close_to(answer, expected, tolerance=1e-9),
                  f"the global batch grew {factor:g}x, so the rule scales lr by {factor:g}: {expected:g}. "
                  "A starting point to check on the validation curve, with a few epochs of warm-up "
                  "for large factors.",
                  f"how many times larger is the global batch? Multiply lr = {lr:g} by that.")
