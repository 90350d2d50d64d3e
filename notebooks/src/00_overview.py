# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 · Overview and set-up check
#
# Welcome. This course teaches you how a deep-learning image classifier is *trained*: not
# only which lines to type, but what each line does and why it is there. We follow one
# document, the guide to `Train.py`, a script that teaches a neural network to recognise
# diseases on apple leaves, section by section, and run every piece of it on real photos.
#
# **In this notebook:** what the course is, a set-up check, the pipeline in one picture,
# the photos we train on, and the map of the course.
#
# **Time:** about 15 minutes. Follows the document's **Overview**.

# %% [markdown] slideshow={"slide_type": "notes"}
# In detail, you will
#
# - learn what the course is, who it is for, and how to work with these notebooks;
# - check that your computer has everything the course needs (`[OK]` / `[FAIL]` per package);
# - see the whole training pipeline in one picture, with the notebook that explains each step;
# - meet the data: 240 real photos of apple leaves in four classes, with samples and
#   counts, and the two other sets of leaf images the course uses, each for its own job;
# - get the map of the course, notebook by notebook.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this course is
#
# Training a neural network is an *iterative optimisation*: the network looks at an
# image, guesses its class, is told how wrong it was, and nudges its millions of internal
# numbers (its *weights*) to be a little less wrong next time. Repeat that over thousands
# of images and the guesses become good. The document draws it like this:
#
# ```
# Input Image → Neural Network → Predicted Class
#                     ↑
#               Adjust weights based on errors
# ```
#
# and lists the steps of a training pipeline: **prepare** the data (split it), **load** it
# (transform and batch it), **create** a model (start from a pretrained network),
# **train** it (the loop that adjusts the weights), **evaluate** it on images it never
# trained on, and **save** it. Each notebook takes one of these steps apart.

# %% [markdown] slideshow={"slide_type": "notes"}
# **Who it is for.** You know some Python (functions, lists, a `for` loop) and have heard
# of NumPy. You do not need to know anything about neural networks yet. If you already
# train models, the notebooks show the details that tutorials skip: why the last batch
# must be weighted differently, why `copy.deepcopy(model.state_dict())`, what
# `model.eval()` really changes.
#
# **What you need.** A laptop. Everything runs on a CPU, offline, in seconds per cell:
# the course's photos ship with it, and so does a pretrained network (inside a Python
# package). A GPU is used when there is one, but never needed.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How to use these notebooks
#
# - **Run cells in order**, top to bottom, with **Shift + Enter**. Each cell may use what
#   an earlier cell defined. If something looks odd, use *Kernel → Restart Kernel and Run
#   All Cells*: a notebook always works from a fresh start.
# - **Each notebook stands on its own.** You can open any of them first; the first one to
#   need the apple photos copies them into `data/` (a few seconds, no download).
# - **The document's code, then the library.** Each section first shows the few lines of
#   PyTorch the document shows and runs them, then names the function of the small library
#   `leafdl` (in `leafdl/`, next to this folder) that does the same with more care. Open
#   those files: their comments are written for you.
# - **Exercises** close each notebook: the cell says *Correct* or gives a hint.
# - **Change things.** Edit a number, run the cell again, see what changes.

# %% [markdown] slideshow={"slide_type": "notes"}
# In an exercise, replace `answer = None` (or `raise NotImplementedError`) with your
# answer and run the cell. Worked solutions are in `notebooks/solutions/`. Nothing here
# can break your computer, and *Restart and Run All* brings every notebook back.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Set-up check

# %% [markdown] slideshow={"slide_type": "notes"}
# Before anything else: is every package the course needs installed, and new enough? The
# function below asks Python for each package's version, without importing it, and
# compares it with the oldest version the course works with. A `[FAIL]` line tells you
# the command that fixes it. The last two lines say which *pretrained weights* this
# machine can load without the internet (notebook 04 explains what they are):
# EfficientNet-Lite0's come with a pip package and are always there; MobileNetV2's, the
# document's network, must be downloaded once, and until then the course uses
# EfficientNet-Lite0 instead. `[--]` marks that optional line.
#
# Your versions will differ from the ones stored here; any version at or above the
# minimum works.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.course.envcheck import print_environment_report

ready = print_environment_report()

# %% [markdown] slideshow={"slide_type": "-"}
# If a line says `[FAIL]`, run the command after the arrow in a terminal (with your
# course environment active), then *Kernel → Restart Kernel* and run this cell again.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The pipeline in one picture
#
# Here is the whole journey from a folder of photos to a trained model, with the number
# of the notebook that explains each step. Keep this picture in mind: every later
# notebook zooms into one of its boxes.

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

steps = [  # (title, detail, notebooks, colour)
    ("Class folders", "Apple_scab/  Black_rot/\nCedar_apple_rust/  Healthy/", "00", "#e8f1e4"),
    ("Split", "train/ 80 %  ·  valid/ 20 %\ntrain_test_split(random_state=42)", "02", "#e8f1e4"),
    ("Load", "transforms · ImageFolder\nDataLoader → batches (32, 3, H, W)", "03", "#e3ecf7"),
    ("Model", "pretrained backbone (frozen)\n+ new classifier (4 classes)", "04", "#e3ecf7"),
    ("Train", "forward · loss · backward · step\nLR schedule · early stopping", "05–08", "#fbeedd"),
    ("Save & judge", "model.pth + metadata.json\n2x2 metrics plot · confusion matrix", "09–11", "#fbeedd"),
]
# Two rows: left to right on top, then right to left below (a snake).
positions = [(0, 1), (1, 1), (2, 1), (2, 0), (1, 0), (0, 0)]
box_w, box_h, gap_x, gap_y = 3.2, 1.5, 0.9, 1.0

fig, ax = plt.subplots(figsize=(11, 4.6))
centres = []
for (title, detail, notebooks, colour), (column, row) in zip(steps, positions):
    x, y = column * (box_w + gap_x), row * (box_h + gap_y)
    ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.05,rounding_size=0.15",
                                facecolor=colour, edgecolor="#555555"))
    ax.text(x + box_w / 2, y + box_h - 0.32, title, ha="center", va="center", fontsize=12, weight="bold")
    ax.text(x + box_w / 2, y + box_h / 2 - 0.2, detail, ha="center", va="center", fontsize=8.5)
    label = f"notebooks {notebooks}" if "–" in notebooks else f"notebook {notebooks}"
    ax.text(x + box_w - 0.08, y + 0.1, label, ha="right", va="bottom", fontsize=8, color="#8a3b12", style="italic")
    centres.append((x + box_w / 2, y + box_h / 2, x, y))

for (cx1, cy1, x1, y1), (cx2, cy2, x2, y2) in zip(centres, centres[1:]):
    if y1 == y2:  # same row: from the side of one box to the side of the next
        start = (x1 + box_w, cy1) if x2 > x1 else (x1, cy1)
        end = (x2, cy2) if x2 > x1 else (x2 + box_w, cy2)
    else:  # down to the next row
        start, end = (cx1, y1), (cx2, y2 + box_h)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=18, linewidth=1.5, color="#333333"))

ax.set_xlim(-0.3, 3 * box_w + 2 * gap_x + 0.3)
ax.set_ylim(-0.3, 2 * box_h + gap_y + 0.3)
ax.axis("off")
ax.set_title("From a folder of leaf photos to a trained classifier", fontsize=13)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Read it along the arrows. The photos sit in one folder per class (*Class folders*). We
# keep a fifth of them aside to check the model honestly (*Split*). Images are resized,
# randomly varied and turned into tensors, 32 at a time (*Load*). A network that already
# learnt to see on ImageNet's 1.2 million photos gets a new last layer for our four
# classes (*Model*). The training loop shows it the images again and again, measures its
# errors and adjusts its weights (*Train*). Finally the best weights are saved, with
# everything needed to use them later, and judged with plots (*Save & judge*).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A tour of the dataset
#
# The document trains on PlantVillage's apple-leaf photos: one detached leaf on a plain
# board, in four classes. The full set is a large download, so 240 of its photos, 60 per
# class, ship with `leafdl`. `apple_data()` copies them into `data/apple-photos` (next to
# this folder) the first time, checking every file, and makes the 80/20 split
# (`data/apple-split`) that later notebooks train on.

# %% slideshow={"slide_type": "-"}
from leafdl.course import apple_data

photos, split = apple_data()
print("dataset folder:", photos.name)
print("class folders: ", sorted(path.name for path in photos.iterdir() if path.is_dir()))

# %% [markdown] slideshow={"slide_type": "slide"}
# One folder per class, and the folder's name *is* the label: this is the layout PyTorch's
# `ImageFolder` reads (notebook 03). How many images does each class have?

# %% slideshow={"slide_type": "-"}
from leafdl.data import readable_class_name, scan_class_folders

scan = scan_class_folders(photos)  # also opens every image once, to catch broken files
for name, count in scan.counts.items():
    print(f"{readable_class_name(name):<18} {count:>4} images   e.g. {scan.images[name][0].name}")
print(f"{'total':<18} {sum(scan.counts.values()):>4} images")
assert set(scan.counts.values()) == {60}

# %% [markdown] slideshow={"slide_type": "notes"}
# Sixty per class, so the classes are *balanced*: a model cannot score well by always
# guessing the most common class. (Real datasets are rarely this tidy; notebook 02 shows
# how to split an unbalanced one fairly.) The file names are PlantVillage's own; the
# README and licence beside the class folders say where the photos come from (CC BY-SA
# 3.0). Now look at the images, four per class.

# %% slideshow={"slide_type": "slide"} jupyter={"source_hidden": true}
from PIL import Image

per_class = 4
fig, axes = plt.subplots(len(scan.classes), per_class, figsize=(1.45 * per_class, 1.5 * len(scan.classes)))
for row, name in enumerate(scan.classes):
    for column, path in enumerate(scan.images[name][:per_class]):
        ax = axes[row, column]
        with Image.open(path) as image:
            ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        if column == 0:
            ax.set_ylabel(readable_class_name(name), fontsize=11)
fig.suptitle("The apple photos: one row per class", fontsize=13)
fig.tight_layout()
plt.show()

with Image.open(scan.images[scan.classes[0]][0]) as image:
    print(f"Each file: {image.format}, {image.size[0]}x{image.size[1]} pixels, mode {image.mode}")
    assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")

# %% [markdown] slideshow={"slide_type": "slide"}
# What to look for, row by row:
#
# - **Apple scab**: olive-brown to black, velvety blotches with feathery edges.
# - **Black rot** ("frog-eye leaf spot"): round spots with a tan centre, rings and a purple rim.
# - **Cedar apple rust**: bright yellow-orange spots with a reddish border.
# - **Healthy**: a clean leaf.

# %% [markdown] slideshow={"slide_type": "notes"}
# Look also at what is *not* the disease: the leaf's shape and size, its angle, the board
# and the light. PlantVillage photographed its leaves in sessions, so such things can
# differ between classes, and a model may learn them instead of the lesions: a model that
# scores well here can still fail on a photo taken in a field. Notebook 12 tries such
# photos.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three sets of leaf images, each for one job
#
# | set | what it is | what the course uses it for |
# |---|---|---|
# | **apple photos** `apple_data()` | 240 real PlantVillage photos, 4 classes × 60, shipped | the document's task: lessons 02–11 train and evaluate on them |
# | **field photos** `field_data()` | 240 real photos of bean leaves in fields, 3 classes × 80, shipped | notebook 12: harder, real-world photos |
# | **demo leaves** `demo_data()` | drawn by a generator: any number, any size, in seconds | tests, benchmarks, `leafdl data demo` |

# %% [markdown] slideshow={"slide_type": "notes"}
# The demo leaves are drawn, not photographed (below: one per class, drawn in memory just
# now). A generator is handy where real photos are not: any number of images at any size
# on demand, for the project's tests and speed benchmarks, and `leafdl data demo` makes a
# folder of them to try the command line on. But they are easier than photos: a
# pretrained network tells their classes apart almost at once, so they cannot show how a
# model learns over epochs. The lessons train on the apple photos instead.

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
import numpy as np

from leafdl.demo_data import draw_leaf

fig, axes = plt.subplots(1, len(scan.classes), figsize=(1.6 * len(scan.classes), 1.9))
for ax, name in zip(axes, scan.classes):
    ax.imshow(draw_leaf(name, np.random.default_rng(0), size=128))
    ax.set_title(readable_class_name(name), fontsize=9)
    ax.axis("off")
fig.suptitle("Drawn demo leaves (a generator, not photos)", fontsize=11)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The course map
#
# | notebook | what it teaches | the document's section |
# |---|---|---|
# | **00** overview | this notebook: set-up check, the pipeline, the data | Overview |
# | **01** hardware | CPU vs GPU, choosing a device, `.to(device)`, timing | Hardware: CPU vs GPU |
# | **02** data split | `train_test_split`, why we split, overfitting, stratification | Data Preparation |
# | **03** data loading | transforms, augmentation (with sliders), normalisation, ImageFolder, DataLoader | Data Loading Pipeline |
# | **04** transfer learning | pretrained networks, MobileNetV2, freezing, a new classifier | Transfer Learning |
# | **05** training loop | epochs, batches, forward pass, cross-entropy, backward pass, Adam, `zero_grad` | The Training Loop |
# | **06** train vs eval mode | Dropout and BatchNorm in both modes, `set_grad_enabled` | Training vs Evaluation Mode |

# %% [markdown] slideshow={"slide_type": "subslide"}
# | notebook | what it teaches | the document's section |
# |---|---|---|
# | **07** LR scheduling | ReduceLROnPlateau traced, with sliders for factor and patience | Learning Rate Scheduling |
# | **08** early stopping | patience, keeping the best model | Early Stopping |
# | **09** saving and loading | `state_dict`, `deepcopy`, checkpoints, resuming | Model Saving |
# | **10** metrics | the 2x2 plot, the gap, the confusion matrix | Metrics and Visualization |
# | **11** full pipeline | `Train.py` end to end, predictions, your own photos | Training Pipeline Summary |
# | **12** fine-tuning | beyond the document: fine-tuning on field photos | Tuning Guidelines |
# | **13** scaling up | beyond the document: several GPUs or machines, `torchrun` | Tuning Guidelines |
# | **A1** CPU tuning | appendix to 01: the memory allocator setting `leafdl` changes | (Hardware) |
# | **A2** saving safely | appendix to 09: `weights_only`, atomic writes, refused checkpoints | (Model Saving) |

# %% [markdown] slideshow={"slide_type": "notes"}
# The lessons build on each other in this order, but each one runs on its own. 02 to 11
# train and evaluate on the apple photos, 12 on the field photos; 13, A1 and A2 are for
# practitioners and can be skipped in a first pass.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Training adjusts a network's weights, batch after batch, to make its errors smaller;
#   the pipeline is *class folders → split → load → model → train → save*.
# - `leafdl.course.envcheck.print_environment_report()` checks your set-up: `[OK]` or `[FAIL]`
#   per package, and which pretrained weights work offline.
# - A dataset is a folder per class; the folder name is the label. The apple photos have
#   four balanced classes of 60 images, 256x256 RGB JPEGs; lessons 02–11 train on them.
# - Each later notebook zooms into one box of the pipeline picture.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Count the images yourself** (code). Write `count_images(folder)`: it gets the
# dataset folder (a `pathlib.Path`) and returns a dict `{class folder name: number of
# images}`, like `scan.counts` above. Real folders hold more than images: a class folder
# may contain a stray `notes.txt` or a photo named by a camera (`IMG_0001.JPG`), and the
# dataset folder holds a file of its own
# (`.leafdl-demo.json`). `Path.iterdir()`, `Path.is_dir()` and `Path.suffix` are all you
# need. Replace `raise NotImplementedError` with your code and run the cell: the check
# runs your function on a small folder of demo leaves, then on the whole demo set.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_count_images


def count_images(folder):
    """Return {class folder name: number of image files in it}."""
    raise NotImplementedError  # your code here


check_count_images(count_images)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. Keep a fifth aside.** The document keeps `VALID_SPLIT = 0.2` of the images for
# validation. How many of the demo dataset's images is that? (`train_test_split` rounds
# the validation share *up* to a whole image.)

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_demo_validation_images

answer = None  # your answer here
check_demo_validation_images(answer)
