# %% [markdown] slideshow={"slide_type": "slide"}
# # 02 · Data preparation: the train/validation split
#
# Before a model sees a single image, we hide some of them from it. This notebook is
# about that one decision: which images the model learns from, and which ones we keep
# aside to find out honestly how good it is.
#
# **Time:** about 18 minutes. Follows the document's section **Data Preparation**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - the document's `train_test_split(imgs, test_size=0.2, random_state=42)`, run on the
#   course's 240 real apple photos;
# - why we split at all: training, validation and test sets, and what *overfitting* looks
#   like (a small experiment you can see);
# - *stratification*: keeping each class's share the same in both sets, and what goes
#   wrong without it on unbalanced data;
# - `random_state`: the same split on every run;
# - how `leafdl.data.split_dataset` writes the split into `train/` and `valid/` folders, and
#   why it refuses to write into a folder it did not make.
#
# The document's subsections: *Train/Validation Split*, *Why Split Data?*, *sklearn's
# train_test_split*.

# %% slideshow={"slide_type": "skip"}
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from leafdl.course import apple_data
from leafdl.data import readable_class_name

photos, _ = apple_data()  # the 240 apple photos, copied into data/ the first time
print("dataset:", photos.name)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The document's split
#
# `Train.py` collects the paths of all images in one list, `imgs`, and lets scikit-learn
# shuffle it and cut it in two. Each path still names its class folder
# (`Black_rot/0a1b...___JR_FrgE.S 2784.JPG`), so the label travels with the file. We list
# the files relative to the dataset folder, sorted, so the list is the same on every computer.

# %% slideshow={"slide_type": "-"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
imgs = sorted(path.relative_to(photos) for path in photos.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES)
print(len(imgs), "images, e.g.", imgs[0].as_posix())

train_imgs, valid_imgs = train_test_split(imgs, test_size=0.2, random_state=42)

print(f"train: {len(train_imgs)} images ({len(train_imgs) / len(imgs):.0%})")
print(f"valid: {len(valid_imgs)} images ({len(valid_imgs) / len(imgs):.0%})")
print("first validation image:", valid_imgs[0].as_posix())
assert (len(train_imgs), len(valid_imgs)) == (192, 48)

# %% [markdown] slideshow={"slide_type": "notes"}
# PlantVillage's files end in `.JPG`, in capitals. A pattern like `rglob("*.jpg")` finds
# none of them on Linux, whose file names are case-sensitive (on Windows and macOS it
# would): so we compare `path.suffix.lower()`. The folder also holds a README, a licence
# and a small `.json` marker, which the suffix test leaves out.

# %% [markdown] slideshow={"slide_type": "slide"}
# What the arguments mean:
#
# - `test_size=0.2`: 20% for validation (scikit-learn calls every held-out part a "test"
#   set). It rounds the held-out share *up*: 20% of 240 is exactly 48; 20% of 241 would
#   be 49.
# - `random_state=42`: the seed of the shuffle, so the split is the same every run.
# - It returns two lists: training samples and validation samples, in shuffled order.
#
# How many leaves of each class landed in each set?

# %% slideshow={"slide_type": "-"}
def class_counts(paths) -> Counter:
    """How many paths of each class (the class is the parent folder's name)."""
    return Counter(Path(path).parent.name for path in paths)


train_counts, valid_counts = class_counts(train_imgs), class_counts(valid_imgs)
print(f"{'class':<18}{'train':>7}{'valid':>7}")
for name in sorted(train_counts):
    print(f"{readable_class_name(name):<18}{train_counts[name]:>7}{valid_counts[name]:>7}")
assert set(valid_counts.values()) != {12} and all(11 <= n <= 13 for n in valid_counts.values())

# %% [markdown] slideshow={"slide_type": "notes"}
# Close to 12 per class in validation (a fifth of 60), but not exactly: a plain shuffle
# does not know about classes. With four balanced classes of 60 that hardly matters. We
# come back to it below, where it does matter, and `leafdl` makes it exact.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why split data?
#
# | Set | Purpose | Used for weight updates? |
# |---|---|---|
# | Training | learn patterns | yes |
# | Validation | check generalisation, pick the best epoch | no |
# | Test | final evaluation, once, at the very end | no |
#
# A model is only useful on images it has never seen. Its score on the images it trained
# on says little about that: a big enough network can simply *memorise* them. That is
# **overfitting**: excellent on the training data, poor on new data. The validation set,
# never used to update weights, is our stand-in for "new data".

# %% [markdown] slideshow={"slide_type": "notes"}
# The document (and `Train.py`) uses two sets. The validation set is also used to choose
# things (the best epoch, when to lower the learning rate), so its score is slightly
# optimistic; a third, *test* set, touched only once at the very end, gives the
# unbiased number. With small data people often skip it, as the document does.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Overfitting you can see
#
# 12 noisy training points and 40 validation points from one smooth curve; polynomials of
# degree 0 to 9 fitted to the *training* points only.

# %% [markdown] slideshow={"slide_type": "notes"}
# Fitting curves to points shows the same thing as training a network, in one picture. A
# higher degree is a more flexible model, like a bigger network.

# %% slideshow={"slide_type": "-"}
from numpy.polynomial import Polynomial

rng = np.random.default_rng(3)


def truth(x):
    return np.sin(2 * np.pi * x)


x_train = np.sort(rng.uniform(0, 1, 12))
y_train = truth(x_train) + rng.normal(0, 0.25, x_train.size)
x_valid = np.sort(rng.uniform(x_train.min(), x_train.max(), 40))
y_valid = truth(x_valid) + rng.normal(0, 0.25, x_valid.size)

degrees = range(0, 10)
fits = {degree: Polynomial.fit(x_train, y_train, degree) for degree in degrees}

# %% slideshow={"slide_type": "slide"}
def rmse(polynomial, x, y) -> float:
    """Root mean squared error: the typical distance between the curve and the points."""
    return float(np.sqrt(np.mean((polynomial(x) - y) ** 2)))


train_error = [rmse(fits[d], x_train, y_train) for d in degrees]
valid_error = [rmse(fits[d], x_valid, y_valid) for d in degrees]
for d in degrees:
    print(f"degree {d}: train error {train_error[d]:.3f}   valid error {valid_error[d]:.3f}")

# %% slideshow={"slide_type": "slide"}
fig, axes = plt.subplots(1, 4, figsize=(15, 3.0))
grid = np.linspace(x_train.min(), x_train.max(), 300)
for ax, degree, verdict in zip(axes, (1, 3, 9), ("too simple", "about right", "memorises the noise")):
    ax.plot(x_valid, y_valid, "o", color="tab:orange", alpha=0.5, markersize=4, label="validation points")
    ax.plot(x_train, y_train, "o", color="tab:blue", label="training points")
    ax.plot(grid, fits[degree](grid), color="black", label=f"degree {degree} fit")
    ax.set(title=f"degree {degree}: {verdict}", ylim=(-2, 2), xticks=[], yticks=[])
axes[0].legend(loc="lower left", fontsize=8)
axes[3].plot(list(degrees), train_error, "o-", label="training error")
axes[3].plot(list(degrees), valid_error, "o-", label="validation error")
axes[3].set(title="error vs. flexibility", xlabel="polynomial degree", ylabel="RMSE (log scale)", yscale="log")
axes[3].legend(fontsize=8)
axes[3].grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the right panel from left to right. The **training error only ever falls**: a more
# flexible curve always fits the points it is fitted to better, and at degree 9 it passes
# almost exactly through them. The **validation error falls, then rises**: past a
# point, the extra flexibility is spent on bending towards the *noise* of the 12
# training points, which new points do not share. Had we judged the models on their
# training error, we would have picked the worst one.

# %% [markdown] slideshow={"slide_type": "slide"}
# A neural network trained for many epochs behaves the same way, epoch by epoch instead
# of degree by degree. The document's warning sign:
#
# ```
# Training Accuracy: 99%  }
#                         } Large gap = Overfitting!
# Validation Accuracy: 70%}
# ```
#
# Notebook 10 measures this *gap* on real training runs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Stratification: keep every class's share
#
# An unbalanced set made from the apple photos (40 healthy, 20 scab, 10 black rot,
# 5 rust), split twice with the same seed: as the document does, and with
# `stratify=labels`, which keeps each class's proportion the same in both parts.

# %% [markdown] slideshow={"slide_type": "notes"}
# A plain shuffle can be unlucky with a small class, and real datasets are often
# unbalanced: many healthy leaves, few of a rare disease.

# %% slideshow={"slide_type": "-"}
take = {"Healthy": 40, "Apple_scab": 20, "Black_rot": 10, "Cedar_apple_rust": 5}
small_imgs = [path for name, count in take.items() for path in sorted(photos.glob(f"{name}/*.JPG"))[:count]]
small_imgs = [path.relative_to(photos) for path in small_imgs]
labels = [path.parent.name for path in small_imgs]

_, plain_valid = train_test_split(small_imgs, test_size=0.2, random_state=42)
_, strat_valid = train_test_split(small_imgs, test_size=0.2, random_state=42, stratify=labels)

plain, strat = class_counts(plain_valid), class_counts(strat_valid)
print(f"{'class':<18}{'images':>7}{'valid, plain':>14}{'valid, stratified':>19}")
for name, count in take.items():
    print(f"{readable_class_name(name):<18}{count:>7}{plain[name]:>8} ({plain[name] / count:4.0%})"
          f"{strat[name]:>11} ({strat[name] / count:4.0%})")
assert plain["Cedar_apple_rust"] == 0 and (plain["Black_rot"], plain["Apple_scab"]) == (4, 2)
assert [strat[name] for name in take] == [8, 4, 2, 1]

# %% [markdown] slideshow={"slide_type": "slide"}
# Without stratification, **not one rust leaf is in the validation set**: we could never
# find out whether the model recognises rust at all, and black rot is over-represented
# (40% of its leaves held out, against 10% for scab). With `stratify=labels`, every class
# gives 20% of its images: 8, 4, 2 and 1.

# %% [markdown] slideshow={"slide_type": "-"}
# That is why `leafdl` always stratifies: `leafdl.data.split_files` is the document's
# `train_test_split(imgs, test_size=0.2, random_state=42)` with `stratify=labels` added.
# It also refuses splits that cannot work, such as a class with a single image (it cannot
# be in both sets).

# %% slideshow={"slide_type": "-"}
from leafdl.data import split_files

_, leafdl_valid, _, _ = split_files(small_imgs, labels, valid_fraction=0.2, seed=42)
print("leafdl's split equals the stratified one:", leafdl_valid == strat_valid)
assert leafdl_valid == strat_valid

# %% [markdown] slideshow={"slide_type": "slide"}
# ## `random_state`: the same split on every run
#
# The shuffle is random, but driven by a seed. The same seed gives the same split, on
# every run and every computer, so a result can be reproduced and two experiments compared
# on the same validation images. A different seed gives a different split.

# %% slideshow={"slide_type": "-"}
_, valid_again = train_test_split(imgs, test_size=0.2, random_state=42)
_, valid_other = train_test_split(imgs, test_size=0.2, random_state=7)

print("seed 42 twice -> identical split:", valid_again == valid_imgs)
print("seed 7        -> identical split:", valid_other == valid_imgs)
shared = len(set(valid_other) & set(valid_imgs))
print(f"seed 7 shares {shared} of its {len(valid_other)} validation images with seed 42")
assert valid_again == valid_imgs and valid_other != valid_imgs and shared < 20

# %% [markdown] slideshow={"slide_type": "notes"}
# Only a few are shared, by chance: any validation set holds a fifth of all images, so on
# average about a fifth of 48, roughly 10, would be shared. Changing the seed is a cheap
# way to see how much your validation score depends on *which* images happen to be held
# out; with 48 validation images, one image is 2 points of accuracy.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Writing the split to disk: `leafdl.data.split_dataset`
#
# PyTorch's `ImageFolder` (notebook 03) reads a dataset from folders, one per class. So the
# split is written to disk as two such folder trees, `train/` and `valid/`, with copies
# of the images (`shutil.copy`, the document's *Key Libraries*); the original folder is
# only read. `split_dataset` does that: stratified, seed 42, and it returns the counts.

# %% slideshow={"slide_type": "-"}
from leafdl.data import split_dataset

out_dir = Path("../data/02-split")
summary = split_dataset(photos, out_dir, valid_fraction=0.2, seed=42)
print(summary)
assert set(summary.train_counts.values()) == {48} and set(summary.valid_counts.values()) == {12}

# %% [markdown] slideshow={"slide_type": "fragment"}
# Stratified, so exactly 48 training and 12 validation photos of every class, where the
# document's plain shuffle gave 11 to 13. `apple_data()` makes this same split with this
# same function, in `data/apple-split`: the later notebooks train on it.

# %% [markdown] slideshow={"slide_type": "slide"}
# Here is what it wrote, as a folder tree:

# %% slideshow={"slide_type": "-"}
from leafdl.course import print_tree

print_tree(out_dir)

# %% [markdown] slideshow={"slide_type": "notes"}
# Two details. The class folders are the same in `train/` and `valid/`, so both get the
# same class numbers (notebook 03). And a small file, `.leafdl-split.json`, records that
# `leafdl` made this folder, with the seed and the share. It matters for safety:

# %% [markdown] slideshow={"slide_type": "slide"}
# **`split_dataset` never overwrites a folder it did not make.** Running it again on
# `02-split` is fine (it recognises its own marker and replaces `train/` and `valid/`).
# But point it by mistake at a folder holding your own files, and a careless script
# would delete them; `split_dataset` stops and says why. We make such a folder, with one
# file of "yours" in it, and try:

# %% slideshow={"slide_type": "-"}
from leafdl.data import DatasetError

split_dataset(photos, out_dir)  # our own folder: allowed, same split again
print("second split into", out_dir.name, "went fine")

foreign = Path("../data/02-my-notes")
foreign.mkdir(parents=True, exist_ok=True)
(foreign / "notes.txt").write_text("my own file, not made by leafdl\n")
try:
    split_dataset(photos, foreign)
except DatasetError as error:
    print("DatasetError:", error)
print("my file is still there:", (foreign / "notes.txt").exists())

# %% slideshow={"slide_type": "skip"}
import shutil

shutil.rmtree(foreign)  # tidy up the folder this notebook made for the demonstration

# %% [markdown] slideshow={"slide_type": "-"}
# From the command line the same split is `leafdl data split data/apple-photos
# data/apple-split` (what `apple_data()` made for the later notebooks), and `leafdl
# train` does it for you inside its run folder.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `train_test_split(imgs, test_size=0.2, random_state=42)` holds out 20% (rounded up),
#   the same 20% on every run.
# - We split because a model's score on its own training data hides overfitting.
# - `stratify=labels` keeps every class's share in both sets: 48 and 12 apple photos of
#   each class. `leafdl` always stratifies.
# - `leafdl.data.split_dataset(source, out_dir)` copies the split into `train/` and
#   `valid/`, and never overwrites folders it did not make.

# %% [markdown] slideshow={"slide_type": "notes"}
# In more words: the training error keeps falling while the validation error turns back
# up; without stratification a small class can vanish from validation (`split_files` is
# the stratified split); another seed gives another split.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Rounding.** A dataset has 1001 images. How many go to validation with
# `train_test_split(..., test_size=0.2)`? (Try it in a new cell with `list(range(1001))`
# after you have an answer.)

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_validation_size

answer = None  # your answer here
check_validation_size(answer, n_images=1001, test_size=0.2)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. A rare class.** A dataset has 90 healthy leaves and 10 rust leaves. With
# `test_size=0.2` and `stratify=labels`, how many **rust** leaves end up in the validation
# set?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_stratified_rare_class

answer = None  # your answer here
check_stratified_rare_class(answer, common=90, rare=10, test_size=0.2)

# %% [markdown] slideshow={"slide_type": "slide"}
# **3. Split and copy** (code). Write the document's split as `Train.py` does it, plus
# `stratify`: `split_and_copy(files, labels, out_dir)` gets a list of image paths, their
# class names (`labels[i]` is the class of `files[i]`) and an empty folder. It splits the
# files 80/20 with `train_test_split` (`random_state=42`, every class keeping its share),
# then **copies** each file to `out_dir/train/<label>/<file name>` or
# `out_dir/valid/<label>/<file name>` (`Path.mkdir(parents=True, exist_ok=True)` and
# `shutil.copy`). The check hands it 30 demo leaves of four unbalanced classes and
# compares what lands where with the document's split.

# %% slideshow={"slide_type": "-"}
import shutil

from leafdl.course.exercises import check_split_and_copy


def split_and_copy(files, labels, out_dir):
    """Copy a stratified 80/20 split of `files` into out_dir/train/<label>/ and out_dir/valid/<label>/."""
    raise NotImplementedError  # your code here


check_split_and_copy(split_and_copy)
