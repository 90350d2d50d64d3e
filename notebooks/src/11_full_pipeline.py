# %% [markdown]
# # 11 · The full pipeline: Train.py end to end
#
# The previous notebooks took Train.py apart, one idea at a time. This one puts it back
# together and runs it three ways: as a short script you can read in one glance, as one
# function call, and as a command in a terminal. Then it uses the trained model on new
# photos, and shows how to do all of it on your own.
#
# **You will learn**
#
# - the document's *Training Pipeline Summary*, each step one line of `leafdl`;
# - `leafdl.pipeline.train_from_folder`: the whole pipeline in one call;
# - the `leafdl` command line: `leafdl train`, `leafdl predict`, `leafdl export`;
# - what a run folder holds, and how to use it on new photos;
# - how to run it on your own photos (folder layout, bad images, GPU, resuming).
#
# **Time:** about 15 minutes to read and run. Follows the document's *Training Pipeline
# Summary* and *Hyperparameters Summary*.

# %%
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from leafdl.config import TrainConfig
from leafdl.course import COURSE_IMG_SIZE, demo_data

leaves, _ = demo_data()
leaves = Path(os.path.relpath(leaves))  # a relative path prints the same on every machine
RUNS = Path("../data/runs")
print("photos in", leaves, "->", sorted(p.name for p in leaves.iterdir() if p.is_dir()))

# %% [markdown]
# ## 1. The pipeline, step by step
#
# The document sums Train.py up in five steps:
#
# ```
# 1. Load and split data        train_test_split -> 80% train, 20% validation
# 2. Create data pipeline       transforms, ImageFolder, DataLoader
# 3. Initialize model           pretrained MobileNetV2, freeze features, replace classifier
# 4. Training loop              per epoch: training phase, validation phase, scheduler, best model
# 5. Save and visualize         state_dict to .pth, metadata to JSON, plot metrics
# ```
#
# Each step is one `leafdl` function you have met in an earlier notebook. Here is the whole
# of Train.py in 15 lines (two epochs at 128 px, to stay quick: section 5 shows the
# document's full settings). One change of order: the model is built *before* the
# DataLoaders, because the model says which input it wants (size, normalisation) and the
# transforms are built from that.

# %%
# NBVAL_IGNORE_OUTPUT
from leafdl.data import build_dataloaders, split_dataset
from leafdl.engine import fit
from leafdl.models import build_model
from leafdl.plots import plot_history

config = TrainConfig(epochs=2, img_size=COURSE_IMG_SIZE, arch="efficientnet_lite0", num_workers=0)
run_dir = RUNS / "11-by-hand"
split = split_dataset(leaves, run_dir / "split", config.valid_split, config.seed)        # 1. split 80/20
torch.manual_seed(0)
model, spec = build_model(len(split.classes), arch=config.arch, img_size=config.img_size)  # 3. model
loaders = build_dataloaders(run_dir / "split", spec, config.batch_size,                   # 2. data pipeline
                            num_workers=config.num_workers, seed=config.seed)
history = fit(model, loaders, config, run_dir=run_dir)     # 4. training loop; writes model.pth, metadata.json
fig = plot_history(history, save_to=run_dir / "metrics.png")                              # 5. visualize
plt.close(fig)  # saved to a file; section 3 displays a metrics.png
print(split)

# %% [markdown]
# Everything the document's Train.py does is in these lines, and each line hides a whole
# notebook: `split_dataset` (02), `build_dataloaders` (03), `build_model` (04), `fit`
# (06 to 08), the files that `fit` writes (09) and `plot_history` (10).

# %% [markdown]
# ## 2. The whole pipeline in one call
#
# `leafdl.pipeline.train_from_folder` is those lines plus the finishing touches of a real
# training script: it picks the device (GPU if there is one), checks every image before
# training, prints what it found, and after training also evaluates the best model on the
# validation set and saves the confusion matrix and the per-class report next to the
# model. It takes a folder of class folders (it splits it into `RUN/split`) or a folder
# that already has `train/` and `valid/`.

# %%
# NBVAL_IGNORE_OUTPUT
from leafdl.pipeline import train_from_folder

torch.manual_seed(0)
result = train_from_folder(leaves, RUNS / "11-pipeline", config)

# %% [markdown]
# It returns a `RunResult`: the run folder, the `History`, and the validation
# `Predictions` (notebook 10), so a notebook can go on from there:

# %%
print("run folder:  ", result.run_dir)
print("epochs:      ", result.history.epochs, "| best epoch:", result.history.best_epoch)
print("predictions: ", len(result.predictions.labels), "validation images,",
      int((result.predictions.labels == result.predictions.predicted).sum()), "correct")

# %% [markdown]
# ## 3. The command line: `leafdl train`
#
# Installing leafdl also installs a command, `leafdl`, for the terminal: the document's
# Train.py, with every hyperparameter of its summary table as an option (`leafdl train
# --help` lists them). In a terminal you would type:
#
# ```
# leafdl train data/demo-leaves --out runs/demo
# ```
#
# which trains with the document's settings: 224 px, batch size 32, 10 epochs, lr 0.001,
# patience 7. Here we keep it short, with the notebooks' 128 px and 2 epochs.
#
# From a notebook we run the command with a small helper, `run_leafdl`, that prints the
# command line as you would type it (after a `$`, the terminal's prompt), runs it and
# shows what it printed. It starts the command through the notebook's own Python
# (`python -m leafdl.cli` is the same program as `leafdl`), so it works even where the
# environment's `bin/` folder is not on the `PATH`. In Jupyter you could also type
# `!leafdl train ...` in a cell: `!` hands a line to the shell.

# %%
def run_leafdl(*arguments: str) -> None:
    """Run `leafdl ARGUMENTS...` as a terminal would, and print its output."""
    print("$ leafdl", " ".join(arguments))
    done = subprocess.run([sys.executable, "-m", "leafdl.cli", *arguments], capture_output=True, text=True)
    print(done.stdout + done.stderr, end="")
    if done.returncode != 0:
        raise RuntimeError(f"leafdl stopped with exit status {done.returncode}; see its message above.")


# %%
# NBVAL_IGNORE_OUTPUT
run_leafdl("train", "../data/demo-leaves", "--out", "../data/runs/11-cli", "--epochs", "2",
           "--img-size", "128", "--arch", "efficientnet_lite0", "--workers", "0", "--quiet")

# %% [markdown]
# ### The run folder
#
# Everything the run produced is in its `--out` folder:

# %%
CLI_RUN = RUNS / "11-cli"
about = {
    "model.pth": "the best weights (a state_dict)",
    "metadata.json": "classes, architecture, input size and normalisation, hyperparameters, history",
    "last.ckpt": "everything needed to --resume",
    "metrics.png": "the 2x2 metrics plot",
    "confusion_matrix.png": "the confusion matrix of the validation set",
    "report.txt": "per-class precision, recall and F1",
    "split": "the 80/20 split of your photos (copies)",
}
for path in sorted(CLI_RUN.iterdir()):
    name = path.name + ("/" if path.is_dir() else "")
    print(f"{name:<22} {about.get(path.name, '')}")

# %% [markdown]
# The metrics plot it saved (notebook 10 explains how to read it):

# %%
from IPython.display import Image, display

display(Image(filename=str(CLI_RUN / "metrics.png"), width=700))

# %% [markdown]
# Two epochs are not much: both accuracy curves are still climbing and the loss is
# still falling steeply, so a longer run would do better. The per-class report:

# %%
# NBVAL_IGNORE_OUTPUT
print((CLI_RUN / "report.txt").read_text())

# %% [markdown]
# ## 4. Predicting new photos
#
# A model is only useful on photos it has never seen. We draw four new demo leaves, one
# per class, with a random seed the dataset never used, and save them as JPEG files, as a
# camera would. The file names do not give the answer away; we keep the truth aside.

# %%
from leafdl.demo_data import draw_leaf

new_photos = Path("../data/11-new-photos")
new_photos.mkdir(parents=True, exist_ok=True)
truth = {}
rng = np.random.default_rng(2024)  # a seed the demo dataset never used
for number, disease in enumerate(["Black_rot", "Healthy", "Cedar_apple_rust", "Apple_scab"], start=1):
    photo = new_photos / f"leaf_{number}.jpg"
    draw_leaf(disease, rng).save(photo, quality=90)
    truth[photo.name] = disease
print("saved:", ", ".join(sorted(truth)))

# %% [markdown]
# **From the command line**, `leafdl predict RUN_DIR IMAGE...` prints the most likely
# classes of each photo:

# %%
# NBVAL_IGNORE_OUTPUT
photos = sorted(new_photos.glob("leaf_*.jpg"))
run_leafdl("predict", "../data/runs/11-cli", *[p.as_posix() for p in photos], "--top", "2")

# %% [markdown]
# **From Python**, `leafdl.predict.Predictor` does the same: it rebuilds the model from
# `metadata.json` and `model.pth`, prepares each photo exactly as the validation images
# were prepared (resize, centre crop, the backbone's normalisation), and applies softmax
# to the outputs.

# %%
from leafdl.data import load_rgb, readable_class_name
from leafdl.plots import show_images
from leafdl.predict import Predictor

predictor = Predictor.from_run(CLI_RUN)
titles = []
for photo in photos:
    name, probability = predictor.predict(photo, top_k=1)[0]  # the most likely class
    verdict = "right" if name == truth[photo.name] else f"wrong, it is {readable_class_name(truth[photo.name])}"
    titles.append(f"{readable_class_name(name)} ({probability:.0%})\n{verdict}")
fig = show_images([load_rgb(p) for p in photos], titles, columns=4, size=2.8,
                  suptitle="New leaves, predicted by the 2-epoch model")
plt.show()

# %% [markdown]
# A model trained for two epochs at 128 px is still unsure of itself (look at the
# percentages), and may get some of these wrong. Train longer, at the document's 224 px,
# and the same four photos are classified with confidence.

# %% [markdown]
# ## 5. On your own photos
#
# **Folder layout.** One folder per class, the images inside, as `ImageFolder` expects
# (notebook 03). The folder names become the class names, in sorted order. PlantVillage's
# apple classes, for example:
#
# ```
# photos/apple/
# ├── Apple___Apple_scab/          630 images
# ├── Apple___Black_rot/           621 images
# ├── Apple___Cedar_apple_rust/    275 images
# └── Apple___healthy/            1645 images
# ```
#
# Plots and printouts turn PlantVillage's `Plant___Disease` names into words with
# `leafdl.data.readable_class_name`:

# %%
for folder in ["Apple___Apple_scab", "Apple___Cedar_apple_rust", "Tomato___Spider_mites Two-spotted_spider_mite"]:
    print(f"{folder:<48} -> {readable_class_name(folder)}")

# %% [markdown]
# **The commands**, in a terminal, in the environment where leafdl is installed:
#
# | to ... | run |
# |---|---|
# | train with the document's settings | `leafdl train photos/apple --out runs/apple` |
# | use the document's MobileNetV2 | `leafdl weights download` once (needs internet), then `--arch mobilenet_v2` |
# | leave out unreadable images instead of stopping | `--skip-bad-images` |
# | use a GPU | nothing: `--device auto` (the default) picks CUDA, then Apple's MPS, then the CPU; `--device cuda:1` picks a GPU |
# | continue a run that was interrupted | the same command plus `--resume` |
# | fine-tune the last blocks after the frozen stage (notebook 12) | `--unfreeze 2 --finetune-epochs 5` |
# | field photos: the measured recipe (notebook 12) | `--epochs 5 --unfreeze 12 --img-size 320 --crop-scale-min 0.35 --patience 10` |
# | classify new photos | `leafdl predict runs/apple photo1.jpg photo2.jpg` |
# | share the model | `leafdl export runs/apple` (writes `runs/apple.zip`: model, metadata, plots) |
#
# A few habits that save time with real photos:
#
# - **Check the data first.** `leafdl train` opens every image before the first epoch and
#   lists all the broken ones at once, instead of crashing in the middle of epoch 7. Fix
#   or delete them, or pass `--skip-bad-images`.
# - **Start small.** Try `--epochs 2` first to see that everything works, then the full run.
# - **On a CPU**, `--img-size 160` or `128` makes each epoch two to three times faster, at a
#   small cost in accuracy. On a GPU keep 224.
# - **Keep every run.** A new `--out` folder per experiment; the metadata records the
#   hyperparameters, so you can always tell runs apart.

# %% [markdown]
# ## Summary
#
# - Train.py is five steps: split, data pipeline, model, training loop, save and
#   visualise. In leafdl each is one call: `split_dataset`, `build_dataloaders`,
#   `build_model`, `fit`, `plot_history`.
# - `train_from_folder` runs them all, checks the images, evaluates the best model and
#   writes a complete run folder: `model.pth`, `metadata.json`, `last.ckpt`,
#   `metrics.png`, `confusion_matrix.png`, `report.txt`.
# - `leafdl train DATA --out RUN` is the same from a terminal, with the document's
#   hyperparameters as options; `leafdl predict RUN IMAGES` and the `Predictor` class
#   use a run on new photos; `leafdl export RUN` zips it for sharing.
# - Your own photos need only one folder per class; `--skip-bad-images`, `--device` and
#   `--resume` handle broken files, GPUs and interruptions.
#
# ## Exercises
#
# **Exercise 1.** You trained on the GPU with
# `leafdl train photos/apple --out runs/apple --epochs 20 --device cuda`, and the run was
# interrupted at epoch 12. Write the command that continues it, as a string.

# %%
from leafdl.course.exercises import check_resume_command

answer = None  # your answer here, e.g. "leafdl train ..."
check_resume_command(answer)

# %% [markdown]
# **Exercise 2.** With every setting at the document's defaults (`TrainConfig()`:
# validation share 0.2, batch size 32, 10 epochs), how many optimizer steps does
# `leafdl train` take on a dataset of 1,000 images, if early stopping never stops it?

# %%
from leafdl.course.exercises import check_optimizer_steps

answer = None  # your answer here
check_optimizer_steps(answer, n_images=1000)
