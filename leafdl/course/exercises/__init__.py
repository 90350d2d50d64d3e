"""Self-checks for the notebooks' exercises, one module per notebook (``nb02.py`` for notebook 02).

Two kinds of exercise end each notebook:

- a **number or a word**, checked by a cell such as::

      answer = None        # replace None with your answer
      check_iterations_per_epoch(answer)

- **code**: the notebook gives a function (or class) whose body is ``raise
  NotImplementedError``; you write the body, then hand the function itself to its check::

      def train_one_epoch(model, loader, criterion, optimizer):
          raise NotImplementedError   # your code here

      check_train_one_epoch(train_one_epoch)

  The check runs your code on real objects (demo leaves, a tiny network, a real
  optimizer) and compares what it does with the document's code and with the usual
  mistakes, so that the hint can name yours.

Every check prints ``Correct!`` with why, ``Not yet. Hint: ...``, or ``Not done yet: ...``
(still the placeholder), and returns a :class:`~leafdl.course.exercises.common.CheckResult`
(``.passed``, ``.status``, ``.message``; true only when correct) that Jupyter does not
display, so no bare ``True``/``False`` appears under the verdict. The checks compute the
right answer themselves (never a stored number), so reading them teaches as much as the
solutions in ``notebooks/solutions/``.
"""

from leafdl.course.exercises.common import CheckResult
from leafdl.course.exercises.nb00 import check_count_images, check_demo_validation_images
from leafdl.course.exercises.nb01 import check_choose_device, check_classifier_flops
from leafdl.course.exercises.nb02 import check_validation_size, check_stratified_rare_class, check_split_and_copy
from leafdl.course.exercises.nb03 import check_last_batch_size, check_make_transforms
from leafdl.course.exercises.nb04 import check_separable_conv_weights, check_prepare_model
from leafdl.course.exercises.nb05 import check_iterations_per_epoch, check_cross_entropy, check_train_one_epoch
from leafdl.course.exercises.nb06 import check_validate, check_running_mean_after_two_batches
from leafdl.course.exercises.nb07 import check_first_reduction_epoch, check_lr_after_flat_epochs, check_scheduler
from leafdl.course.exercises.nb08 import check_stop_epoch, check_latest_useful_best_epoch, check_early_stopper
from leafdl.course.exercises.nb09 import check_batches_tracked, check_best_weights, check_state_dict_numbers
from leafdl.course.exercises.nb10 import check_precision_of_class, check_gap_report
from leafdl.course.exercises.nb11 import check_resume_command, check_optimizer_steps, check_train_model
from leafdl.course.exercises.nb12 import (check_finetune_optimizer, check_smallest_crop_side,
                                          check_trainable_after_unfreezing)
from leafdl.course.exercises.nb13 import check_batch_size_for, check_scaled_learning_rate, check_steps_per_epoch

__all__ = [
    "CheckResult",
    "check_count_images",
    "check_demo_validation_images",
    "check_classifier_flops",
    "check_choose_device",
    "check_validation_size",
    "check_stratified_rare_class",
    "check_split_and_copy",
    "check_last_batch_size",
    "check_make_transforms",
    "check_separable_conv_weights",
    "check_prepare_model",
    "check_iterations_per_epoch",
    "check_cross_entropy",
    "check_train_one_epoch",
    "check_validate",
    "check_running_mean_after_two_batches",
    "check_first_reduction_epoch",
    "check_lr_after_flat_epochs",
    "check_scheduler",
    "check_stop_epoch",
    "check_latest_useful_best_epoch",
    "check_early_stopper",
    "check_best_weights",
    "check_state_dict_numbers",
    "check_batches_tracked",
    "check_precision_of_class",
    "check_gap_report",
    "check_resume_command",
    "check_optimizer_steps",
    "check_train_model",
    "check_trainable_after_unfreezing",
    "check_finetune_optimizer",
    "check_smallest_crop_side",
    "check_batch_size_for",
    "check_steps_per_epoch",
    "check_scaled_learning_rate",
]
