# %% [markdown] slideshow={"slide_type": "slide"}
# # 03 · The data loading pipeline
#
# A network cannot read a JPEG file. Between the files and the network there is a
# pipeline: open each image, vary it at random (augmentation), turn it into a tensor,
# normalise it, and stack 32 images into one batch. We build it piece by piece, on the
# course's real apple photos.
#
# **Time:** about 25 minutes. Follows the document's section **Data Loading Pipeline**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - `transforms.Compose`: a chain of image operations, applied in order;
# - data augmentation, shown on a leaf, with an **explorer with sliders**;
# - `ToTensor` and `Normalize`: shapes, value ranges and the formula;
# - `ImageFolder`: how folder names become class numbers (`class_to_idx`);
# - `DataLoader`: batches `(32, 3, H, W)`, iterations per epoch, `num_workers`;
# - what happens when a file is broken.
#
# The document's subsections, in its order: *Transforms*, *Data Augmentation*,
# *Normalization*, *ToTensor*, *ImageFolder*, *DataLoader*.

# %% [markdown] slideshow={"slide_type": "notes"}
# Images here are 128x128 pixels (`COURSE_IMG_SIZE`), not the document's 224x224: about
# three times less computation per image, so every cell runs in seconds on a laptop CPU.
# The code is the same; only the number changes.

# %% slideshow={"slide_type": "skip"}
import math
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import load_rgb, readable_class_name

photos, split = apple_data()  # the 240 apple photos and their 80/20 split (notebook 02)
leaf_path = sorted((photos / "Cedar_apple_rust").glob("*.JPG"))[0]
leaf = load_rgb(leaf_path)
print(f"{leaf_path.parent.name}/{leaf_path.name}: {leaf.size[0]}x{leaf.size[1]} pixels, mode {leaf.mode}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Transforms
#
# A *transform* takes an image and returns a changed one. `transforms.Compose` chains
# several; each receives what the previous one returned. The document's chain:

# %% slideshow={"slide_type": "-"}
transform = transforms.Compose([
    transforms.RandomResizedCrop(COURSE_IMG_SIZE),
    transforms.ToTensor(),
    transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
])

torch.manual_seed(0)
tensor = transform(leaf)
print("in: ", type(leaf).__name__, leaf.size)
print("out:", type(tensor).__name__, tuple(tensor.shape), tensor.dtype)
assert leaf.size == (256, 256) and tuple(tensor.shape) == (3, 128, 128)

# %% [markdown] slideshow={"slide_type": "-"}
# A 256x256 PIL image in, a `(3, 128, 128)` tensor out: three colour channels of 128x128
# numbers. The order matters: the random crop works on a PIL image, `ToTensor` converts
# it, and `Normalize` works on tensors.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Data augmentation
#
# Augmentation shows the network a slightly different version of each image every time it
# sees it, so it cannot memorise the exact pixels and must learn what stays the same: the
# lesions. The document's four random transforms:
#
# | Transform | Effect | Purpose |
# |---|---|---|
# | `RandomResizedCrop(224)` | random crop + resize | scale invariance |
# | `RandomHorizontalFlip()` | 50% chance flip | orientation invariance |
# | `RandomRotation(15)` | ±15° rotation | rotation invariance |
# | `ColorJitter(0.2, 0.2)` | random brightness/contrast | lighting invariance |

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Each transform on its own: four random draws, next to the original

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
small_leaf = leaf.resize((COURSE_IMG_SIZE, COURSE_IMG_SIZE))
one_at_a_time = {
    "RandomResizedCrop(128)": transforms.RandomResizedCrop(COURSE_IMG_SIZE),
    "RandomHorizontalFlip()": transforms.RandomHorizontalFlip(),
    "RandomRotation(15)": transforms.RandomRotation(15),
    "ColorJitter(0.2, 0.2)": transforms.ColorJitter(brightness=0.2, contrast=0.2),
}
draws = 4
torch.manual_seed(0)
fig, axes = plt.subplots(len(one_at_a_time), draws + 1, figsize=(1.6 * (draws + 1), 1.6 * len(one_at_a_time)))
for row, (name, random_transform) in enumerate(one_at_a_time.items()):
    axes[row, 0].imshow(small_leaf)
    axes[row, 0].set_title("original", fontsize=9)
    for column in range(1, draws + 1):
        axes[row, column].imshow(random_transform(small_leaf))
    axes[row, 0].set_ylabel(name, fontsize=9)
    for ax in axes[row]:
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The draws are seeded, so the picture is the same every run. Row by row:
#
# - **RandomResizedCrop** cuts out a random rectangle of 8% to 100% of the area (aspect
#   ratio 3:4 to 4:3) and resizes it: a lesion is a lesion at any size. A small crop can
#   miss the lesions entirely, a real cost on small spots.
# - **RandomHorizontalFlip** mirrors the image, or not, with equal chance.
# - **RandomRotation(15)** turns it up to 15° either way; the new corners are black.
# - **ColorJitter(0.2, 0.2)** multiplies brightness and contrast by random factors
#   between 0.8 and 1.2, like photos taken in different light.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### All four together, newly drawn for every image in every epoch
#
# `leafdl.course.widgets.augmentation_pipeline()` builds the chain (without `ToTensor`
# and `Normalize`, so the result can be shown):

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import augment_samples, augmentation_pipeline, plot_augmentations

augment = augmentation_pipeline(size=COURSE_IMG_SIZE)  # the document's four transforms
samples = augment_samples(leaf, augment, count=8, seed=0)
plot_augmentations(small_leaf, samples, columns=5, size=1.6, title="One leaf, eight random augmentations")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Why augment?
#
# - It fights **overfitting**: the exact pixels never repeat.
# - It simulates the **variation of real photos**: distance, angle, light.
# - It **multiplies the data** at no cost: eight training images from one file.
#
# The label stays *Cedar apple rust* in all of them, so an augmentation must keep what
# defines the class. Validation images are **not** augmented.

# %% [markdown] slideshow={"slide_type": "notes"}
# Flipping a leaf keeps its disease; a colour change strong enough to turn orange rust
# spots brown would not. Validation is a measurement: we want the images as they are,
# the same way every epoch (`leafdl.data.eval_transforms` only resizes and crops the
# centre; its chain comes below).

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Explore the strengths yourself
#
# **Presenter:** on the slides the sliders show as text; switch to the notebook's tab
# here (same kernel) and move them there.

# %% [markdown] slideshow={"slide_type": "notes"}
# Each slider sets one strength; the grid redraws when you let go. Try:
#
# - **crop scale min** at 1.0: only the aspect ratio varies; at 0.05: many crops show no
#   lesion, teaching the model that a healthy-looking patch can mean rust;
# - **rotation** at 90°: big black corners, a pattern real photos do not have;
# - **brightness** and **contrast** at 0.8: some images nearly black or washed out;
# - **seed**: other random draws.

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import augmentation_explorer

augmentation_explorer(leaf, size=COURSE_IMG_SIZE)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## ToTensor: from a picture to numbers
#
# A PIL image stores each pixel as three whole numbers from 0 to 255 (red, green, blue):
# as a NumPy array, shape `(H, W, C)`. PyTorch's convolutions want the channels first,
# `(C, H, W)`, and floating-point numbers. `ToTensor` does both:
#
# - shape: `(H, W, C)` → `(C, H, W)`;
# - range: `[0, 255]` → `[0.0, 1.0]` (it divides by 255).

# %% slideshow={"slide_type": "-"}
pixels = np.asarray(small_leaf)
as_tensor = transforms.ToTensor()(small_leaf)
print(f"PIL image as an array: shape {pixels.shape}, {pixels.dtype}, values {pixels.min()} to {pixels.max()}")
print(f"after ToTensor:        shape {tuple(as_tensor.shape)}, {as_tensor.dtype}, "
      f"values {as_tensor.min():.3f} to {as_tensor.max():.3f}")
print(f"the top-left pixel:    {pixels[0, 0].tolist()} / 255 = {[round(v, 4) for v in as_tensor[:, 0, 0].tolist()]}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Normalization
#
# `Normalize(mean, std)` then shifts and scales each channel $c$:
#
# $$x_{normalized} = \frac{x - \mu_c}{\sigma_c}$$
#
# with the document's ImageNet constants: $\mu$ = (0.485, 0.456, 0.406) and
# $\sigma$ = (0.229, 0.224, 0.225) for red, green and blue.

# %% [markdown] slideshow={"slide_type": "notes"}
# These are each channel's average and spread over the 1.2 million ImageNet photos the
# pretrained network learnt from. After normalising, a typical ImageNet pixel is near 0,
# and most values lie between about -2 and +2.

# %% slideshow={"slide_type": "subslide"}
normalized = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)(as_tensor)
print(f"{'channel':<8}{'':>9}{'min':>8}{'max':>8}{'mean':>8}")
for index, channel in enumerate(["red", "green", "blue"]):
    for stage, values in (("before", as_tensor[index]), ("after", normalized[index])):
        label = channel if stage == "before" else ""
        print(f"{label:<8}{stage:>9}{values.min():8.3f}{values.max():8.3f}{values.mean():8.3f}")

red = as_tensor[0, 0, 0].item()
print(f"\ntop-left red value: ({red:.4f} - 0.485) / 0.229 = {(red - 0.485) / 0.229:.4f}"
      f"  (Normalize gave {normalized[0, 0, 0]:.4f})")
assert all(normalized[index].mean() < 0 for index in range(3))  # a dark board: every channel below 0

# %% [markdown] slideshow={"slide_type": "notes"}
# Our leaf lies on a dark grey board, so it is darker than the average ImageNet photo
# and its normalised means land below 0 in every channel. That is fine: what matters is
# that the network sees its inputs scaled exactly as in its own training. (Notebook 04
# measures what the wrong constants cost.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Why normalise?
#
# - **The pretrained network expects it.** It learnt its weights on normalised ImageNet
#   images; raw `[0, 1]` values would look shifted and scaled to its first layer.
# - **Centred data trains better.** Inputs around zero with similar spreads keep the
#   first layer's gradients balanced, so gradient descent converges faster.
# - **The constants belong to the network**, not to your data.

# %% [markdown] slideshow={"slide_type": "notes"}
# MobileNetV2 (the document's network) wants the ImageNet values; EfficientNet-Lite0,
# which the course uses offline, was trained on pixels scaled to $[-1, 1]$, which is
# mean = std = 0.5. So `leafdl.data.train_transforms(spec)` is the document's chain with
# `spec.size`, `spec.mean` and `spec.std` of the chosen network (notebook 04).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## ImageFolder: folders become classes
#
# The split from notebook 02 has `train/` and `valid/`, one folder per class.
# `datasets.ImageFolder` lists the class folders in **sorted** order, numbers them 0, 1,
# 2, ..., and pairs every image file with its folder's number.

# %% slideshow={"slide_type": "-"}
train_dir = split / "train"
train_dataset = datasets.ImageFolder(train_dir, transform)

print("classes:     ", train_dataset.classes)
print("class_to_idx:", train_dataset.class_to_idx)
print("images:      ", len(train_dataset))
first_path, first_label = train_dataset.samples[0]
print("samples[0]:  ", Path(first_path).relative_to(train_dir).as_posix(), "->", first_label)

torch.manual_seed(0)
image_tensor, label = train_dataset[0]  # opens the file and runs the transform, now
print("dataset[0]:   tensor", tuple(image_tensor.shape), "and label", label)

# %% [markdown] slideshow={"slide_type": "notes"}
# The network only sees the numbers 0 to 3; `classes` turns them back into names. The
# *sorted* order numbers `train/` and `valid/` alike, and a saved model must keep its
# `classes` list (notebook 09).
#
# `ImageFolder` only lists files: each `dataset[i]` opens one file and transforms it
# afresh, which is why augmentation differs every epoch. `leafdl.data.image_folder` is
# the same call, but it opens every image once first, so a broken file is reported before
# training (end of this notebook), and it converts every image to RGB.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## DataLoader: batches
#
# `DataLoader` picks 32 indices (shuffled anew each epoch when `shuffle=True`), asks the
# dataset for those samples, and stacks them into one tensor. The document:
#
# ```python
# train_loader = DataLoader(dataset, batch_size=32, shuffle=True, num_workers=4)
# ```
#
# The notebooks use `num_workers=0` (why, below).

# %% slideshow={"slide_type": "-"}
train_loader = DataLoader(train_dataset, batch_size=32, shuffle=True, num_workers=0)

torch.manual_seed(0)
inputs, labels = next(iter(train_loader))  # one batch
print("inputs.shape =", tuple(inputs.shape), "→ 32 images, 3 channels, 128x128")
print("labels.shape =", tuple(labels.shape), "→ 32 class indices")
print("labels:", labels.tolist())

# %% [markdown] slideshow={"slide_type": "slide"}
# A batch is one tensor `(batch, channels, height, width)` and a tensor of labels. To look
# at it we undo the normalisation ($x \cdot \sigma + \mu$, `leafdl.plots.denormalize`),
# otherwise the colours are nonsense:

# %% slideshow={"slide_type": "-"}
from leafdl.plots import denormalize, show_images

shown = 16
pictures = denormalize(inputs[:shown], IMAGENET_MEAN, IMAGENET_STD)
titles = [readable_class_name(train_dataset.classes[i]) for i in labels[:shown].tolist()]
show_images(pictures, titles, columns=8, size=1.7, suptitle="Half of one training batch, as the network sees it")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Shuffled classes and random crops: each batch is a fresh mix. (This is the document's
# chain: crop, `ToTensor`, `Normalize`; `leafdl`'s training transforms add the flips,
# rotations and lighting changes of the table above.) Look for a crop that missed the
# lesions: it still carries its disease label, the price of strong cropping.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Why batches?
#
# - A GPU's memory cannot hold the whole dataset; a batch of 32 fits easily.
# - Each batch gives one weight update from 32 images: noisy enough to help escape poor
#   solutions, stable enough to make progress.
# - One product over 32 images is much faster than 32 over one (notebook 01).

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Validation gets a transform without randomness
#
# Validation is a measurement: the same images, prepared the same way, every time. So
# resize, then keep the centre square:

# %% [markdown] slideshow={"slide_type": "notes"}
# With the training chain, every epoch would judge the model on other random crops, some
# of which miss the leaf, and the validation accuracy would wobble for no reason.
# `leafdl.data.eval_transforms` is this chain, and `build_dataloaders` gives it to the
# validation set.

# %% slideshow={"slide_type": "-"}
valid_transform = transforms.Compose([
    transforms.Resize(round(COURSE_IMG_SIZE / 0.875)),  # 146 px, so the crop keeps 87.5%
    transforms.CenterCrop(COURSE_IMG_SIZE),
    transforms.ToTensor(),
    transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
])
valid_dataset = datasets.ImageFolder(split / "valid", valid_transform)

same_valid = torch.equal(valid_dataset[0][0], valid_dataset[0][0])    # read the same image twice
same_train = torch.equal(train_dataset[0][0], train_dataset[0][0])
print("valid_dataset[0] twice identical:", same_valid, "| train_dataset[0] twice identical:", same_train)
assert same_valid and not same_train

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Iterations per epoch
#
# One *epoch* is one pass over all training images; one *iteration* is one batch. So an
# epoch takes $\lceil N / \text{batch size} \rceil$ iterations, and the last batch holds
# whatever is left:

# %% slideshow={"slide_type": "-"}
for name, dataset in (("train", train_dataset), ("valid", valid_dataset)):
    loader = DataLoader(dataset, batch_size=32)
    n = len(dataset)
    last = n - (len(loader) - 1) * 32
    print(f"{name}: {n} images / 32 = {n / 32:.2f} -> ceil = {math.ceil(n / 32)} iterations; "
          f"len(loader) = {len(loader)}, last batch {last} images")
assert (name, last) == ("valid", 16)  # the loop ends with valid: its last batch holds 16 images

# %% [markdown] slideshow={"slide_type": "-"}
# The validation loader's last batch has only 16 images. So `leafdl` weights each batch's
# loss and accuracy by its number of images when averaging over an epoch (notebook 05).

# %% [markdown] slideshow={"slide_type": "slide"}
# ### `num_workers`: loading in parallel
#
# With `num_workers=0` the main process opens and augments the images between training
# steps; with `num_workers=4` four helper *processes* prepare the next batches while the
# model computes. That helps most on a GPU, where data loading becomes the bottleneck.

# %% [markdown] slideshow={"slide_type": "notes"}
# Workers have a cost and a trap. On Windows and macOS they start by re-importing
# everything (seconds per epoch), and in a notebook they cannot see functions defined in
# cells, a classic crash. On a laptop with few cores a worker takes a core away from the
# model, for a small job (`benchmarks/bench_training.py` measures it). So
# `leafdl.data.default_num_workers()` picks 0 on Windows, macOS and up to 4 cores, and a
# few workers on larger Linux machines.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
import sys

from leafdl.data import default_num_workers

print(f"platform {sys.platform}: default_num_workers() = {default_num_workers()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The whole pipeline in one call
#
# `leafdl.data.build_dataloaders(split, spec)` builds both loaders: training with the
# document's augmentation and shuffling, validation with `eval_transforms`, both
# normalised with the network's own constants (`spec`). It also checks that `train/` and
# `valid/` hold the same classes.

# %% slideshow={"slide_type": "-"}
from leafdl.data import build_dataloaders
from leafdl.models import input_spec_for

spec = input_spec_for("efficientnet_lite0", img_size=COURSE_IMG_SIZE)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
print("input spec:", spec)
print("classes:   ", loaders.classes)
print(f"train: {len(loaders.train.dataset)} images in {len(loaders.train)} batches; "
      f"valid: {len(loaders.valid.dataset)} images in {len(loaders.valid)} batches")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## When a file is broken
#
# A photo still downloading, a file of zero bytes, a text file renamed `.jpg`: plain
# `ImageFolder` stops with a stack trace when it reaches one, maybe in epoch 7.
# `leafdl.data.image_folder` opens every file at the start and reports all problems
# together, with what to do.

# %% [markdown] slideshow={"slide_type": "notes"}
# We try it on a copy of the validation folder with two broken files added, and a
# `notes.txt`, which is simply skipped: it is not an image file.

# %% slideshow={"slide_type": "-"}
from leafdl.data import DatasetError, image_folder

broken = Path("../data/03-broken-copy")
if broken.exists():
    shutil.rmtree(broken)
shutil.copytree(split / "valid", broken)
(broken / "Healthy" / "not_really.jpg").write_text("this is text, not a JPEG")
(broken / "Black_rot" / "empty.jpg").write_bytes(b"")
(broken / "Healthy" / "notes.txt").write_text("photos taken on Monday")

try:
    image_folder(broken)
except DatasetError as error:
    print("DatasetError:", error)

# %% [markdown] slideshow={"slide_type": "slide"}
# To train on the readable images and deal with the broken ones later, `skip_bad=True`
# leaves them out (on the command line: `--skip-bad-images`):

# %% slideshow={"slide_type": "-"}
dataset = image_folder(broken, skip_bad=True)
print(f"{len(dataset)} readable images kept, the 2 broken files left out")
shutil.rmtree(broken)  # remove the copy this notebook made

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `transforms.Compose([...])` chains transforms; random ones give each image a new
#   version every epoch (augmentation); validation images get none.
# - `ToTensor`: `(H, W, C)` in `[0, 255]` → `(C, H, W)` in `[0, 1]`; `Normalize`:
#   $(x - \mu) / \sigma$ with the network's constants.
# - `ImageFolder` numbers the class folders in sorted order (`class_to_idx`).
# - `DataLoader` gives batches `(32, 3, H, W)`; an epoch is $\lceil N/32 \rceil$ of them.
# - `leafdl.data.build_dataloaders` builds the whole pipeline.

# %% [markdown] slideshow={"slide_type": "notes"}
# Also: validation's transform is resize and centre crop; the last batch may be smaller,
# so averages weight each batch by its size; in notebooks use `num_workers=0`;
# `leafdl.data.image_folder` reports broken files before training.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. The last batch.** The document's example has 1000 training images and batches of
# 32. How many images are in the **last** batch of each epoch?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_last_batch_size

answer = None  # your answer here
check_last_batch_size(answer, n_images=1000, batch_size=32)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. Two pipelines** (code). Write `make_transforms(img_size)` returning
# `(train_transform, valid_transform)`, each turning a PIL image into a normalised tensor
# of shape `(3, img_size, img_size)` with `IMAGENET_MEAN` and `IMAGENET_STD`. Training
# images get random augmentation (at least the document's random crop); validation
# images must look the same every time: resize, then take the centre. The check runs
# both under several random seeds on a demo leaf cut to a 3:2 photo, as real photos
# rarely are square.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_make_transforms


def make_transforms(img_size):
    """Return (train_transform, valid_transform) for square images of img_size pixels."""
    raise NotImplementedError  # your code here


check_make_transforms(make_transforms)
