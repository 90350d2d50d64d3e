"""leafdl: train a leaf-disease image classifier with PyTorch transfer learning.

The package follows the course document section by section; each module holds one idea:

======================  ==========================================================
module                  the document's section
======================  ==========================================================
``leafdl.config``       Hyperparameters Summary
``leafdl.device``       Hardware: CPU vs GPU
``leafdl.demo_data``    (the synthetic demo leaves the course trains on offline)
``leafdl.data``         Data Preparation, Data Loading Pipeline
``leafdl.memory_data``  Data Loading Pipeline: each image decoded once, kept in memory
``leafdl.models``       Transfer Learning
``leafdl.engine``       The Training Loop, Train vs Eval mode, LR Scheduling, Early Stopping
``leafdl.precision``    (bf16 frozen features on CPUs that compute bf16 natively)
``leafdl.checkpoint``   Model Saving
``leafdl.metrics``      Metrics (accuracy, gap, confusion matrix)
``leafdl.plots``        Visualization
``leafdl.predict``      Using a trained model on new photos
``leafdl.cli``          Train.py itself, as the ``leafdl`` command
``leafdl.distributed``  (beyond the document) training on several processes with torchrun
``leafdl.errors``       the errors a user can fix (one base class, LeafdlError)
``leafdl.files``        writing safely: atomic files, staging folders, a full disk named
``leafdl.photo_sets``  the real photos shipped with the package: 240 apple leaves, 240 bean fields
``leafdl.weights``      where pretrained weights come from (cache, download, bundled)
``leafdl.__main__``     ``python -m leafdl`` (and ``torchrun -m leafdl``)
======================  ==========================================================

For the notebooks only: ``leafdl.course`` (the apple photos, demo and field data for the lessons;
``leafdl.course.exercises``, the exercise checks, one module per notebook),
``leafdl.course.widgets`` (slider explorers) and ``leafdl.course.envcheck`` (the set-up check).

Importing ``leafdl`` is instant and has no side effects: import the module you need,
for example ``from leafdl.data import split_dataset``.
"""

__version__ = "0.1.0"
