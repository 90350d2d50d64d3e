# %% [markdown] slideshow={"slide_type": "slide"}
# # 11 · The full pipeline: Train.py end to end
#
# The previous notebooks took Train.py apart. This one puts it back together in plain
# PyTorch, top to bottom as the document writes it, and checks that `leafdl.engine.fit`
# gives *the same numbers* on the same data. Last, the one-command version
# (`leafdl train`) and the trained model on new photos.
#
# **You will learn**
#
# - the whole of Train.py, written out;
# - the three things `leafdl`'s loop does beyond the document, and that they are all;
# - the command line: `leafdl train`, `leafdl predict`, `leafdl export`;
# - what a run folder holds, and using it on new photos and your own;
# - the capstone: you write the training function yourself, checked against `fit`.
#
# **Time:** about 40 minutes. Follows the document's *Training Pipeline Summary* and
# *Hyperparameters Summary*.

# %% slideshow={"slide_type": "skip"}
import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms
from tqdm.auto import tqdm

from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.device import tune_cpu_allocator

tune_cpu_allocator()  # faster forward passes on a Linux CPU (see leafdl.device); fit() does it too
photos_dir, _ = apple_data()   # the 240 real PlantVillage apple photos shipped with leafdl
photos_dir = Path(os.path.relpath(photos_dir))  # a relative path prints the same on every machine
RUNS = Path("../data/runs")
print("photos in", photos_dir, "->", sorted(p.name for p in photos_dir.iterdir() if p.is_dir()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The hyperparameters
#
# The document's *Hyperparameters Summary*, as the constants at the top of Train.py:
#
# | Parameter | Value | Description |
# |-----------|-------|-------------|
# | `IMG_SIZE` | (224, 224) | Input image dimensions |
# | `B_SIZE` | 32 | Batch size |
# | `EPOCHS` | 10 | Maximum training epochs |
# | `VALID_SPLIT` | 0.2 | Validation set ratio |
# | `lr` | 0.001 | Initial learning rate |
# | `max_patience` | 7 | Early stopping patience |
#
# One change, for time: 128 px instead of 224 (about 3x less computation, the same code),
# on the 240 real apple photos shipped with leafdl (PlantVillage, 60 per class). `SEED` is the document's `random_state=42`, for every random
# choice of the run.

# %% slideshow={"slide_type": "subslide"}
IMG_SIZE = 224          # the document's value ...
IMG_SIZE = COURSE_IMG_SIZE   # ... 128 here, so that this notebook runs in seconds on a CPU
B_SIZE = 32
EPOCHS = 10
VALID_SPLIT = 0.2
lr = 0.001
max_patience = 7
SEED = 42

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
RUN = RUNS / "11-train-py"
if RUN.exists():
    shutil.rmtree(RUN)   # this notebook's own folder from an earlier run: start empty
print("image size", IMG_SIZE, "| batch", B_SIZE, "| epochs", EPOCHS, "| lr", lr, "| patience", max_patience)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Load and split the data
#
# The document's `train_test_split(..., test_size=0.2, random_state=42)`, then `shutil.copy`
# of each photo into `split/train/CLASS/` or `split/valid/CLASS/`. One addition:
# `stratify=labels` keeps each class's share the same in both sets (notebook 02).

# %% slideshow={"slide_type": "-"}
imgs = sorted(path for path in photos_dir.glob("*/*") if path.suffix.lower() in (".jpg", ".jpeg", ".png"))
labels = [path.parent.name for path in imgs]
train_imgs, valid_imgs = train_test_split(imgs, test_size=VALID_SPLIT, random_state=SEED, stratify=labels)

for phase, files in [("train", train_imgs), ("valid", valid_imgs)]:
    for src in files:
        dst = RUN / "split" / phase / src.parent.name / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
print(f"{len(imgs)} photos -> {len(train_imgs)} train, {len(valid_imgs)} valid")
assert (len(train_imgs), len(valid_imgs)) == (192, 48)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The data pipeline: transforms, ImageFolder, DataLoader
#
# **Which normalisation?** The one the network was trained with. The document's
# MobileNetV2 saw ImageNet's mean and std; its weights download on first use, so they are
# not on every machine (not on this offline one). Then leafdl's bundled EfficientNet-Lite0
# stands in: the same family, trained on pixels scaled to [-1, 1], i.e. mean = std = 0.5.

# %% slideshow={"slide_type": "-"}
from leafdl.weights import mobilenet_v2_weights_available

imagenet_mean = [0.485, 0.456, 0.406]  # RGB channel means
imagenet_std = [0.229, 0.224, 0.225]   # RGB channel stds

if mobilenet_v2_weights_available():   # the document's network, when its weights are cached
    ARCH, mean, std = "mobilenet_v2", imagenet_mean, imagenet_std
else:                                  # else the bundled EfficientNet-Lite0, with its own
    ARCH, mean, std = "efficientnet_lite0", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
print("backbone:", ARCH, "| mean", mean, "| std", std)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What each normalisation does to a pixel: `ToTensor` gives values in [0, 1], and
# `(x - mean) / std` maps them to the range each network expects. Feed a network the
# other's range and its pretrained features describe a different picture.

# %% slideshow={"slide_type": "-"}
for name, (m, s) in {"ImageNet (MobileNetV2)": (imagenet_mean, imagenet_std),
                     "0.5 / 0.5 (EfficientNet-Lite0)": ([0.5] * 3, [0.5] * 3)}.items():
    low = [(0 - mu) / sigma for mu, sigma in zip(m, s)]
    high = [(1 - mu) / sigma for mu, sigma in zip(m, s)]
    print(f"{name:<31} black -> {np.round(low, 2)}   white -> {np.round(high, 2)}")
assert np.allclose([(0 - 0.5) / 0.5, (1 - 0.5) / 0.5], [-1, 1])
assert round((0 - 0.485) / 0.229, 2) == -2.12 and round((1 - 0.406) / 0.225, 2) == 2.64

# %% [markdown] slideshow={"slide_type": "fragment"}
# The document's transforms: a random crop resized to `IMG_SIZE` (a different crop every
# epoch: the augmentation), `ToTensor`, `Normalize`. Validation gets its own `Compose`,
# with nothing random (resize, centre crop), so every epoch is judged on the same images
# (notebook 03).

# %% slideshow={"slide_type": "subslide"}
train_transform = transforms.Compose([
    transforms.RandomResizedCrop(IMG_SIZE),
    transforms.ToTensor(),
    transforms.Normalize(mean, std),
])
valid_transform = transforms.Compose([
    transforms.Resize(round(IMG_SIZE / 0.875)),   # 146 px for 128, 256 px for 224
    transforms.CenterCrop(IMG_SIZE),
    transforms.ToTensor(),
    transforms.Normalize(mean, std),
])

train_dataset = datasets.ImageFolder(RUN / "split" / "train", train_transform)
valid_dataset = datasets.ImageFolder(RUN / "split" / "valid", valid_transform)
class_names = train_dataset.classes
num_classes = len(class_names)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loaders: batches of `B_SIZE`, the training set shuffled. One batch:

# %% slideshow={"slide_type": "-"}
generator = torch.Generator().manual_seed(SEED)   # the shuffling's own random numbers
train_loader = DataLoader(train_dataset, batch_size=B_SIZE, shuffle=True, num_workers=0, generator=generator)
valid_loader = DataLoader(valid_dataset, batch_size=B_SIZE, shuffle=False, num_workers=0)
dataloaders = {"train": train_loader, "valid": valid_loader}

inputs, targets = next(iter(train_loader))
print("classes:", class_names)
print("one batch:", tuple(inputs.shape), "images,", tuple(targets.shape), "labels")
assert inputs.shape == (B_SIZE, 3, IMG_SIZE, IMG_SIZE) and valid_dataset.classes == class_names

# %% [markdown] slideshow={"slide_type": "notes"}
# Two changes to the document's `DataLoader(..., num_workers=4)`: `num_workers=0` (workers
# cost more than they save on 2 cores, and crash notebooks on Windows and macOS), and a
# seeded `generator` for repeatable shuffling.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The model: pretrained backbone, frozen features, new classifier
#
# The document's three lines. `EfficientNetLite0` (`leafdl.models`) has MobileNetV2's
# `.features`, `.classifier` and `.last_channel`, so the freezing and classifier lines
# are the same for both. They sit in a function: section 8 builds the model again, from
# the same seed.

# %% slideshow={"slide_type": "subslide"}
from leafdl.models import EfficientNetLite0


def make_model() -> nn.Module:
    """The document's model: pretrained features, frozen, and a new classifier."""
    if ARCH == "mobilenet_v2":
        model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    else:
        model = EfficientNetLite0()
    for p in model.features.parameters():
        p.requires_grad = False                                      # freeze
    torch.manual_seed(SEED)                                          # the new layer's random start
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)  # replace
    return model

# %% [markdown] slideshow={"slide_type": "subslide"}
# Built and counted: what is frozen, and what learns.

# %% slideshow={"slide_type": "-"}
model = make_model()
frozen = sum(p.numel() for p in model.features.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"{ARCH}: {frozen:,} frozen feature parameters, {trainable:,} trainable "
      f"(Linear({model.last_channel}, {num_classes}))")
assert trainable == model.last_channel * num_classes + num_classes

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two backbones' feature sizes (`weights=None`: the architecture only, nothing
# downloaded):

# %% slideshow={"slide_type": "-"}
feature_counts = {"mobilenet_v2": sum(p.numel() for p in models.mobilenet_v2(weights=None).features.parameters()),
                  "efficientnet_lite0": sum(p.numel() for p in EfficientNetLite0(pretrained=False).features.parameters())}
print({name: f"{count / 1e6:.1f} million" for name, count in feature_counts.items()})
assert round(feature_counts["mobilenet_v2"] / 1e6, 1) == 2.2 and round(feature_counts["efficientnet_lite0"] / 1e6, 1) == 3.4
assert frozen == feature_counts[ARCH]

# %% [markdown] slideshow={"slide_type": "notes"}
# **Why the numbers differ from a MobileNetV2 run.** EfficientNet-Lite0's features (3.4
# million parameters; MobileNetV2's: 2.2 million) were trained separately, so every epoch
# below differs; the code is the same.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Loss, optimizer, scheduler
#
# `CrossEntropyLoss` (notebook 05); Adam on the classifier's parameters, the only ones
# that learn; `ReduceLROnPlateau` halving the learning rate once the validation accuracy
# has not improved for more than 3 epochs (`mode="max"`, notebook 07).

# %% [markdown] slideshow={"slide_type": "notes"}
# They sit in a function with the model, so that every run starts from the same fresh
# state: running the training cell again repeats the same run instead of continuing an
# old one with a spent patience counter.

# %% slideshow={"slide_type": "-"}
criterion = nn.CrossEntropyLoss()


def fresh_start() -> tuple[nn.Module, optim.Optimizer, optim.lr_scheduler.ReduceLROnPlateau]:
    """A new model (same seed), its Adam and its scheduler: every training run starts here."""
    model = make_model().to(DEVICE, memory_format=torch.channels_last)   # leafdl: channels_last
    optimizer = optim.Adam(model.classifier.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)
    return model, optimizer, scheduler

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The training loop
#
# Each epoch is a training phase and a validation phase. Training: `train()` mode, and
# per batch `zero_grad`, forward, loss, `backward`, `step`. Validation: `eval()` mode,
# and `torch.set_grad_enabled(False)` skips the gradients. Loss and accuracy are summed
# over samples and divided by their number. After both phases the scheduler sees the
# validation accuracy, a better model is kept (a `deepcopy`: the live `state_dict` keeps
# changing, notebook 09), and early stopping counts epochs without improvement
# (notebook 08).

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three things go beyond the document, each marked `# leafdl:` in the code; `fit` does
# exactly these too:
#
# 1. **Frozen BatchNorm stays in eval mode** (`keep_frozen_batchnorm_in_eval`, below).
# 2. **Each epoch is seeded**, from `SEED` and the epoch number.
# 3. **`channels_last` memory layout** for the model and each batch.
#
# The document's `tqdm` progress bar around each loader is switched off here
# (`disable=True`): the epoch loop prints one line per epoch instead.

# %% [markdown] slideshow={"slide_type": "notes"}
# Why: (1) `model.train()` also puts the frozen BatchNorm layers in training mode, where
# they overwrite their ImageNet averages with your leaves' statistics (notebook 06).
# (2) Epoch 5's crops, shuffling and dropout are then the same in every run, and in a
# run resumed at epoch 5. (3) The same numbers stored pixel by pixel: a CPU's
# convolutions run markedly faster. `tqdm.auto` opens the loader once more when it wraps
# it (one draw from the shuffling generator); both loops do it, so they shuffle alike.

# %% slideshow={"slide_type": "-"}
def keep_frozen_batchnorm_in_eval(model: nn.Module) -> None:
    """Put every BatchNorm layer whose weights are all frozen back in eval mode."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            weights = list(module.parameters(recurse=False))
            if weights and not any(p.requires_grad for p in weights):
                module.eval()


# %% [markdown] slideshow={"slide_type": "subslide"}
# One phase: a pass over one loader, as a function.

# %% [markdown] slideshow={"slide_type": "notes"}
# The document writes the phase, and the epoch below, inside the epoch loop; here each is
# a function so that each part fits a slide. They use the notebook's `model`,
# `optimizer`, `scheduler` and `history`, as the document's loop does.

# %% slideshow={"slide_type": "-"}
def run_phase(phase: str) -> tuple[float, float]:
    """Train or validate for one pass over the phase's loader; return its loss and accuracy."""
    if phase == "train":
        model.train()
        keep_frozen_batchnorm_in_eval(model)                        # leafdl: frozen BatchNorm in eval
    else:
        model.eval()
    running_loss, running_corrects, seen = 0.0, 0, 0
    for inputs, labels in tqdm(dataloaders[phase], desc=phase, leave=False, disable=True):
        inputs = inputs.to(DEVICE, memory_format=torch.channels_last)  # leafdl: channels_last
        labels = labels.to(DEVICE)
        optimizer.zero_grad()
        with torch.set_grad_enabled(phase == "train"):
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            if phase == "train":
                loss.backward()
                optimizer.step()
        _, preds = torch.max(outputs, 1)
        running_loss += loss.item() * inputs.size(0)
        running_corrects += (preds == labels).sum().item()
        seen += inputs.size(0)
    return running_loss / seen, running_corrects / seen


# %% [markdown] slideshow={"slide_type": "subslide"}
# One epoch: both phases, recorded in `history`; then the scheduler sees the validation
# accuracy.

# %% slideshow={"slide_type": "-"}
def run_epoch(epoch: int) -> float:
    """Train and validate once, record both phases in `history`, step the scheduler; return the valid accuracy."""
    torch.manual_seed(SEED * 1000 + epoch)                              # leafdl: seed each epoch
    generator.manual_seed(SEED * 1000 + epoch)
    for phase in ["train", "valid"]:
        epoch_loss, epoch_acc = run_phase(phase)
        history[f"{phase}_loss"].append(epoch_loss)
        history[f"{phase}_acc"].append(epoch_acc)

    e_acc = history["valid_acc"][-1]
    history["lr"].append(optimizer.param_groups[0]["lr"])
    scheduler.step(e_acc)
    print(f"Epoch {epoch + 1:>2}/{EPOCHS}  train loss {history['train_loss'][-1]:.4f} "
          f"acc {history['train_acc'][-1]:.3f}  valid loss {history['valid_loss'][-1]:.4f} "
          f"acc {e_acc:.3f}  lr {history['lr'][-1]:.2g}")
    return e_acc


# %% [markdown] slideshow={"slide_type": "notes"}
# The epoch loop. It starts from `fresh_start()` and empty records, so running the cell
# again repeats the same run. With the document's 10 epochs, 192 training photos and a
# frozen backbone it takes a few seconds per epoch on a CPU.

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
model, optimizer, scheduler = fresh_start()
history = {"train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": [], "lr": []}
max_acc, count_patience, best_epoch, best_model = 0.0, 0, 0, copy.deepcopy(model.state_dict())
for epoch in range(EPOCHS):
    e_acc = run_epoch(epoch)
    if e_acc > max_acc:
        max_acc, best_epoch, count_patience = e_acc, epoch + 1, 0
        best_model = copy.deepcopy(model.state_dict())
    else:
        count_patience += 1
    if count_patience >= max_patience:
        print("Max patience reached - Stopping")
        break
model.load_state_dict(best_model)   # the best model, not the last one
history["gap"] = [t - v for t, v in zip(history["train_acc"], history["valid_acc"])]
print(f"best epoch {best_epoch}: valid acc {max_acc:.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# What the run did: the best validation accuracy is more than 0.1 above the first
# epoch's, and the gap (`train_acc - valid_acc`) stayed below 0.1, the document's
# threshold for mild overfitting: below 0, in fact, in every epoch.

# %% slideshow={"slide_type": "-"}
epochs_run = len(history["valid_acc"])
below_zero = sum(gap < 0 for gap in history["gap"])
print(f"{epochs_run} epochs; valid acc {history['valid_acc'][0]:.2f} -> best {max_acc:.2f} "
      f"(epoch {best_epoch}); gap below 0 in {below_zero} of {epochs_run} epochs")
assert max_acc > history["valid_acc"][0] + 0.1
assert below_zero == epochs_run
assert max_acc == max(history["valid_acc"]) and history["valid_acc"][best_epoch - 1] == max_acc

# %% [markdown] slideshow={"slide_type": "fragment"}
# A negative gap: the training accuracy is measured on random crops (some hold 8% of a
# photo), harder than the centred validation photos. Not because the head is too small
# to memorise: can its 5,124 numbers learn the 192 training photos by heart?

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Can a linear head memorise 192 photos?** A fresh head, trained on the frozen features
# of the training photos as they are (no random crops), for 300 steps:

# %% slideshow={"slide_type": "-"}
def frozen_features(net: nn.Module, phase: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The backbone's 1280 numbers per photo of one split folder (centred, no augmentation), and the labels."""
    photos = datasets.ImageFolder(RUN / "split" / phase, valid_transform)
    images, labels = map(torch.stack, zip(*[(image, torch.tensor(label)) for image, label in photos]))
    with torch.no_grad():
        return nn.functional.adaptive_avg_pool2d(net.features(images), 1).flatten(1), labels


# %% slideshow={"slide_type": "subslide"}
backbone = make_model().eval()
(train_x, train_y), (valid_x, valid_y) = frozen_features(backbone, "train"), frozen_features(backbone, "valid")
head = backbone.classifier[1]                      # Linear(1280, 4): 5,124 numbers
head_optimizer = optim.Adam(head.parameters(), lr=0.01)
for step in range(300):                            # all 192 photos in one batch, every step
    head_optimizer.zero_grad()
    criterion(head(train_x), train_y).backward()
    head_optimizer.step()
with torch.no_grad():
    memorised = (head(train_x).argmax(1) == train_y).sum().item()
    head_valid_acc = (head(valid_x).argmax(1) == valid_y).float().mean().item()
print(f"training photos right: {memorised}/{len(train_y)}; validation accuracy {head_valid_acc:.2f}")
assert memorised == len(train_y) and head_valid_acc < 1

# %% [markdown] slideshow={"slide_type": "fragment"}
# It can: all 192 right. So the negative gap of section 6 does not come from the head's
# size: it comes from the random crops (a new crop of each photo every epoch) and 10
# short epochs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Save: model, metadata, archive, plot
#
# `torch.save` writes the best `state_dict` (numbers only, no code: notebook 09). The
# metadata JSON records what using and judging the model needs: the classes in order,
# the backbone, input size and normalisation, hyperparameters, history.
# `shutil.make_archive` zips the run folder for sharing.

# %% slideshow={"slide_type": "-"}
torch.save(best_model, RUN / "model.pth")
metadata = {
    "arch": ARCH,
    "classes": class_names,
    "input": {"size": IMG_SIZE, "mean": mean, "std": std},
    "hyperparameters": {"IMG_SIZE": IMG_SIZE, "B_SIZE": B_SIZE, "EPOCHS": EPOCHS,
                        "VALID_SPLIT": VALID_SPLIT, "lr": lr, "max_patience": max_patience, "seed": SEED},
    "best_epoch": best_epoch,
    "best_valid_acc": max_acc,
    "history": history,
}
with open(RUN / "metadata.json", "w") as file:
    json.dump(metadata, file, indent=2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The document's 2x2 plot: accuracy, loss, learning rate, and the gap (click to show the
# code).

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
epochs_axis = range(1, epochs_run + 1)
fig, axes = plt.subplots(2, 2, figsize=(10, 5.6))
axes[0, 0].plot(epochs_axis, history["train_acc"], "o-", label="train")
axes[0, 0].plot(epochs_axis, history["valid_acc"], "o-", label="valid")
axes[0, 0].set(title="Accuracy", xlabel="epoch", ylim=(0, 1.02))
axes[0, 1].plot(epochs_axis, history["train_loss"], "o-", label="train")
axes[0, 1].plot(epochs_axis, history["valid_loss"], "o-", label="valid")
axes[0, 1].set(title="Loss", xlabel="epoch")
axes[1, 0].plot(epochs_axis, history["lr"], "o-", color="tab:purple")
axes[1, 0].set(title="Learning rate", xlabel="epoch", yscale="log")
axes[1, 1].bar(epochs_axis, history["gap"], color="tab:green")
axes[1, 1].axhline(0.1, color="tab:orange", linestyle="--", label="0.1: mild overfitting")
axes[1, 1].set(title="Gap: train acc - valid acc", xlabel="epoch")
for ax in (axes[0, 0], axes[0, 1], axes[1, 1]):
    ax.legend()
fig.tight_layout()
fig.savefig(RUN / "metrics.png", dpi=100)
plt.show()

# %% slideshow={"slide_type": "subslide"}
archive = shutil.make_archive(str(RUN), "zip", root_dir=RUN, base_dir=".")
with zipfile.ZipFile(archive) as zipped:
    names = sorted(name.removeprefix("./") for name in zipped.namelist() if not name.endswith("/"))
print(Path(archive).name, "holds", len(names), "files, among them:",
      [name for name in names if "/" not in name])
assert {"model.pth", "metadata.json", "metrics.png"} <= set(names)

# %% [markdown] slideshow={"slide_type": "fragment"}
# That is the whole of Train.py. Loading it back is the other half (notebook 09): build
# the same model, `load_state_dict(torch.load(..., weights_only=True))`, and prepare
# photos with the metadata's size and normalisation.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. The same run with `leafdl.engine.fit`
#
# `fit` is this loop, written once and tested. Given the same model (`make_model`, same
# seed), the same loaders and settings, it must produce the same history, epoch by
# epoch. It takes the loaders in a `DataLoaders` box and the hyperparameters in a
# `TrainConfig` (the document's table and defaults), and `precision="fp32"`, as the loop
# above computes.

# %% [markdown] slideshow={"slide_type": "notes"}
# `precision` goes beyond the document: `leafdl train` runs the frozen features in
# bfloat16 on a CPU that computes it natively (`--precision auto`, about 1.8x faster
# there). `TrainConfig` computes in float32 unless asked otherwise; we write it to say so.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.config import TrainConfig
from leafdl.data import DataLoaders
from leafdl.engine import fit

library_model = make_model()
config = TrainConfig(img_size=IMG_SIZE, batch_size=B_SIZE, epochs=EPOCHS, valid_split=VALID_SPLIT,
                     lr=lr, max_patience=max_patience, seed=SEED, precision="fp32")
library_history = fit(library_model, DataLoaders(train_loader, valid_loader, class_names), config,
                      device=DEVICE, progress=False)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Epoch by epoch, every number agrees: on a CPU to the last digits; on a CUDA GPU some
# kernels are not bit-for-bit repeatable, so small differences are allowed there.

# %% slideshow={"slide_type": "-"}
tolerance = 1e-6 if DEVICE.type == "cpu" else 0.05
for key in ["train_loss", "train_acc", "valid_loss", "valid_acc", "lr", "gap"]:
    difference = np.abs(np.subtract(history[key], getattr(library_history, key))).max()
    assert len(history[key]) == library_history.epochs and difference <= tolerance, key
    print(f"{key:<11} the same in all {epochs_run} epochs (every difference below {tolerance:g})")
assert library_history.best_epoch == best_epoch
weights_difference = max((library_model.state_dict()[name].float() - value.float()).abs().max().item()
                         for name, value in best_model.items())
assert weights_difference <= tolerance
print(f"best epoch: {best_epoch} in both; the best weights differ by less than {tolerance:g}")

# %% [markdown] slideshow={"slide_type": "slide"}
# So the cells above *are* what `leafdl` runs, and each piece has its `leafdl` home:
#
# | Train.py, above | leafdl |
# |---|---|
# | `train_test_split` + `shutil.copy` (section 2) | `leafdl.data.split_dataset` |
# | transforms, `ImageFolder`, `DataLoader` (section 3) | `leafdl.data.build_dataloaders` |
# | pretrained backbone, freeze, replace (section 4) | `leafdl.models.build_model` |
# | the loop, scheduler, best weights, early stopping (sections 5-6) | `leafdl.engine.fit` |
# | `torch.save`, metadata JSON (section 7) | written by `fit` with a `run_dir` |
# | the 2x2 plot, `make_archive` (section 7) | `leafdl.plots.plot_history`, `leafdl export` |

# %% [markdown] slideshow={"slide_type": "notes"}
# `leafdl`'s own training transforms add the document's other augmentations
# (`RandomHorizontalFlip`, `RandomRotation(15)`, `ColorJitter`, notebook 03) and resize
# bicubically for EfficientNet-Lite0, as it was trained: so `leafdl train` below prints
# other numbers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. The command line: `leafdl train`
#
# All of it in one command. Installing leafdl installs the `leafdl` command: the
# document's Train.py, with every hyperparameter of its table as an option
# (`leafdl train --help`). In a terminal:
#
# ```
# leafdl train data/apple-photos --out runs/apple
# ```
#
# trains with the document's settings: 224 px, batch size 32, 10 epochs, lr 0.001,
# patience 7. Here: the same apple photos, 128 px, 2 epochs, and float32 throughout
# (`--precision fp32`: the same numbers on every CPU).

# %% [markdown] slideshow={"slide_type": "notes"}
# `run_leafdl` prints the command after `$`, the prompt, and runs it as
# `python -m leafdl.cli` (the same program) with the notebook's Python, so it works where
# `bin/` is not on the `PATH`. `!leafdl train ...` in a cell works too. `leafdl train`
# ends by printing the per-class report it saves as `report.txt`; to keep the output on
# one slide, `shorten=` prints that block as one line, and the slide after shows the file.

# %% slideshow={"slide_type": "-"}
def run_leafdl(*arguments: str, shorten: Path | None = None) -> None:
    """Run `leafdl ARGUMENTS...` as a terminal would, and print its output; where it printed the
    whole text of the file `shorten` (one the command wrote), print one line naming the file."""
    print("$ leafdl", " ".join(arguments))
    done = subprocess.run([sys.executable, "-m", "leafdl.cli", *arguments], capture_output=True, text=True)
    output = done.stdout + done.stderr
    if shorten is not None and done.returncode == 0:
        text = shorten.read_text()
        assert text in output, f"{shorten.name} is not in the output"
        output = output.replace(text, f"[... {shorten.name}, printed in full below ...]")
    print(output, end="")
    if done.returncode != 0:
        raise RuntimeError(f"leafdl stopped with exit status {done.returncode}; see its message above.")


# %% [markdown] slideshow={"slide_type": "notes"}
# `leafdl train` refuses to write into the folder of a finished run (it would mix two
# runs). So the cell first removes this notebook's own run folder from an earlier
# execution: running it again trains again, from empty.

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
CLI_RUN = RUNS / "11-cli"
shutil.rmtree(CLI_RUN, ignore_errors=True)   # this notebook's run folder from an earlier run: start empty
run_leafdl("train", photos_dir.as_posix(), "--out", CLI_RUN.as_posix(), "--epochs", "2", "--img-size", "128",
           "--arch", "efficientnet_lite0", "--precision", "fp32", "--workers", "0", "--quiet",
           shorten=CLI_RUN / "report.txt")

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The run folder
#
# Everything the run produced is in its `--out` folder:

# %% slideshow={"slide_type": "-"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# The per-class report, as `leafdl train` printed it and saved it in `report.txt`
# (notebook 10 explains it, and the metrics plot):

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print((CLI_RUN / "report.txt").read_text())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. Predicting new photos
#
# A model is only useful on photos it has never trained on. The 48 validation photos are
# such photos, for both runs (`leafdl train` splits as section 2 does). Four of them,
# one per class, copied under short names, stand in for new photos from the orchard:

# %% slideshow={"slide_type": "-"}
new_photos = Path("../data/11-new-photos")
shutil.rmtree(new_photos, ignore_errors=True)   # this notebook's copies from an earlier run
new_photos.mkdir(parents=True)
truth = {}
for number, name in enumerate(["Black_rot", "Healthy", "Cedar_apple_rust", "Apple_scab"], start=1):
    source = sorted((CLI_RUN / "split" / "valid" / name).iterdir())[0]
    assert source.name in {path.name for path in valid_imgs}   # never trained on, in either run
    photo = new_photos / f"leaf_{number}.jpg"
    shutil.copy(source, photo)
    truth[photo.name] = name
photos = sorted(new_photos.glob("leaf_*.jpg"))
print("copied as", ", ".join(photo.name for photo in photos))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **From the command line**, `leafdl predict RUN_DIR IMAGE...` prints the most likely
# classes of each photo:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
run_leafdl("predict", CLI_RUN.as_posix(), *[p.as_posix() for p in photos], "--top", "2")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **From Python**, `leafdl.predict.Predictor` rebuilds the model from `metadata.json` and
# `model.pth`, prepares each photo as the validation images were (resize, centre crop,
# the backbone's normalisation), and applies softmax to the outputs.

# %% slideshow={"slide_type": "-"}
from leafdl.data import load_rgb, readable_class_name
from leafdl.plots import show_images
from leafdl.predict import Predictor

predictor = Predictor.from_run(CLI_RUN)
cli_confidence = []
titles = []
for photo in photos:
    name, probability = predictor.predict(photo, top_k=1)[0]  # the most likely class
    cli_confidence.append(probability)
    verdict = "right" if name == truth[photo.name] else f"wrong, it is {readable_class_name(truth[photo.name])}"
    titles.append(f"{readable_class_name(name)} ({probability:.0%})\n{verdict}")

# %% slideshow={"slide_type": "subslide"}
fig = show_images([load_rgb(p) for p in photos], titles, columns=4, size=2.8,
                  suptitle="Validation photos, predicted by the 2-epoch model")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two epochs at 128 px leave the model unsure: look at the percentages. The model of
# section 6 had up to 10 epochs. The same four photos through it (its `valid_transform`,
# softmax over the outputs):

# %% slideshow={"slide_type": "-"}
model.eval()
with torch.no_grad():
    batch = torch.stack([valid_transform(load_rgb(photo)) for photo in photos]).to(DEVICE)
    probabilities = torch.softmax(model(batch), dim=1)
confidence, predicted = probabilities.max(dim=1)
for photo, p, k in zip(photos, confidence.tolist(), predicted.tolist()):
    print(f"{photo.name}: {readable_class_name(class_names[k]):<18} {p:.0%}   (true: {readable_class_name(truth[photo.name])})")
print(f"mean confidence: {np.mean(cli_confidence):.0%} after 2 epochs (leafdl train), "
      f"{confidence.mean().item():.0%} after {best_epoch} (the best epoch of section 6)")
assert confidence.mean().item() > np.mean(cli_confidence) + 0.1

# %% [markdown] slideshow={"slide_type": "fragment"}
# The longer-trained model is markedly surer. Confidence is not correctness, though: a
# model can be sure and wrong, so the validation accuracy, not the percentages, decides
# which model to keep.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. On your own photos
#
# **Folder layout.** One folder per class, as `ImageFolder` expects (notebook 03); the
# folder names, sorted, become the class names. PlantVillage's apple classes:
#
# ```
# photos/apple/
# ├── Apple___Apple_scab/          630 images
# ├── Apple___Black_rot/           621 images
# ├── Apple___Cedar_apple_rust/    275 images
# └── Apple___healthy/            1645 images
# ```
#
# `leafdl.data.readable_class_name` turns `Plant___Disease` names into words:

# %% slideshow={"slide_type": "-"}
for folder in ["Apple___Apple_scab", "Apple___Cedar_apple_rust", "Tomato___Spider_mites Two-spotted_spider_mite"]:
    print(f"{folder:<48} -> {readable_class_name(folder)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The commands**, in a terminal where leafdl is installed:
#
# | to ... | run |
# |---|---|
# | train with the document's settings | `leafdl train photos/apple --out runs/apple` |
# | use the document's MobileNetV2 | `leafdl weights download` once (internet), then `--arch mobilenet_v2` |
# | skip unreadable images | `--skip-bad-images` |
# | use a GPU | nothing: `--device auto` picks CUDA, MPS, then CPU; or `--device cuda:1` |
# | continue an interrupted run | the same command plus `--resume` |
# | fine-tune the last blocks (notebook 12) | `--unfreeze 2 --finetune-epochs 5` |
# | field photos: the measured recipe (notebook 12) | `--epochs 5 --unfreeze 12 --img-size 320 --crop-scale-min 0.35 --patience 10` |
# | classify new photos | `leafdl predict runs/apple photo1.jpg photo2.jpg` |
# | share the model | `leafdl export runs/apple` (writes `runs/apple.zip`: model, metadata, plots) |

# %% [markdown] slideshow={"slide_type": "notes"}
# Habits that save time with real photos:
#
# - `leafdl train` opens every image first and lists all broken ones at once.
# - Start with `--epochs 2`, to see that everything works.
# - On a CPU, `--img-size 160` or `128` makes epochs two to three times faster, at a small
#   cost in accuracy. On a GPU keep 224.
# - One `--out` folder per run; the metadata records the hyperparameters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Train.py is five steps: split, data pipeline, model, training loop, save and
#   visualise: sections 1 to 7, in plain PyTorch.
# - `leafdl.engine.fit` runs the same loop, with three additions (frozen BatchNorm in
#   eval mode, each epoch seeded, `channels_last`), and gives the same history.
# - `leafdl train DATA --out RUN` does it from a terminal; `leafdl predict` and
#   `Predictor` use a run on new photos; `leafdl export` zips it.
# - Your own photos need one folder per class.
# - Next: write the loop yourself (Exercise 1, the capstone).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1 · The capstone: the training function, written by you.** Write
# `train_model(model, loaders, criterion, optimizer, scheduler, epochs, patience)`: the
# whole of section 6 in one function, from memory if you can. `loaders` is a dict
# `{"train": ..., "valid": ...}`; the optimizer and scheduler (`ReduceLROnPlateau`,
# `mode="max"`) are made for you. Return `(model, history)`: the model with its best
# epoch's weights, and a dict of lists with one number per epoch: `"train_loss"`,
# `"train_acc"`, `"valid_loss"`, `"valid_acc"` and `"lr"` (the rate the epoch trained with).

# %% [markdown] slideshow={"slide_type": "notes"}
# The check runs the function on a tiny network with BatchNorm over 56 apple photos at
# 16 px (a few seconds), with objects that note what it does: the model's mode and
# whether gradients are on in each phase, each optimizer step and its gradients, the
# number given to the scheduler, each batch's loss. Then it runs `leafdl.engine.fit` from
# the same weights and compares history and best weights. Its hint names the first
# thing that differs; the solution is in `notebooks/solutions/11_full_pipeline.md`.

# %% slideshow={"slide_type": "subslide"}
from leafdl.course.exercises import check_train_model


def train_model(model, loaders, criterion, optimizer, scheduler, epochs, patience):
    """Train for up to `epochs` epochs with early stopping; return (model with its best weights, history)."""
    raise NotImplementedError   # your code here


check_train_model(train_model)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** You trained on the GPU with
# `leafdl train photos/apple --out runs/apple --epochs 20 --device cuda`, and the run was
# interrupted at epoch 12. Write the command that continues it, as a string.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_resume_command

answer = None  # your answer here, e.g. "leafdl train ..."
check_resume_command(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** With every setting at the document's defaults (`TrainConfig()`:
# validation share 0.2, batch size 32, 10 epochs), how many optimizer steps does
# `leafdl train` take on a dataset of 1,000 images, if early stopping never stops it?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_optimizer_steps

answer = None  # your answer here
check_optimizer_steps(answer, n_images=1000)
