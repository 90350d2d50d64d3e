# %% [markdown] slideshow={"slide_type": "slide"}
# # 09 · Saving and loading models
#
# A trained model lives in memory: close the notebook and it is gone, unless you saved
# it. Saving looks like one line, `torch.save(model.state_dict(), "model.pth")`, but a
# few traps surround that line.
#
# **You will learn**
#
# - what a `state_dict` holds, and why the document writes `copy.deepcopy(...)`;
# - `torch.save` and `torch.load(..., weights_only=True)`;
# - checkpoints: stop a run, resume it, get the same result;
# - the metadata that makes a `.pth` file usable, and loading for prediction.
#
# **Time:** about 20 minutes. Document section **10. Model Saving**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Follows the document's section 10 (`state_dict()`, *Why deepcopy?*, *Checkpointing*).
# Everything here trains on the real apple photos. The practitioner's side (why
# `weights_only` matters, atomic writes, refusing the wrong checkpoint, exporting a run)
# is in the appendix [A2 · Saving safely](A2_safe_saving.ipynb). The training cells
# (sections 4 and 5) take 10-20 s each; every cell can be run again, in any order after
# the first run.

# %% slideshow={"slide_type": "skip"}
import copy
import json
import shutil
import textwrap
from pathlib import Path

import torch

from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import build_dataloaders
from leafdl.models import build_model

photos, split = apple_data()   # the 240 real apple-leaf photos, split 192 / 48
RUNS = Path("../data/runs")
print("Apple photos:", split.name, "with", sorted(p.name for p in (split / "train").iterdir()))

# %% slideshow={"slide_type": "skip"}
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
print(f"{len(loaders.train.dataset)} training and {len(loaders.valid.dataset)} validation images")

# %% [markdown] slideshow={"slide_type": "notes"}
# As in the earlier notebooks we use the 240 real PlantVillage apple photos (192 to train,
# 48 to validate), train at 128 px instead of the document's 224 px (about three times
# less computation per image) and use the bundled EfficientNet-Lite0 backbone, which
# needs no download.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. What a `state_dict` holds
#
# `model.state_dict()` is an ordinary Python dictionary: the **name** of each tensor (its
# path through the modules, like `classifier.1.weight`) mapped to the **tensor** itself.
# The first few entries and the last two:

# %% slideshow={"slide_type": "-"}
state = model.state_dict()
print(type(state).__name__, "with", len(state), "entries\n")
rows = [f"{name:<40} {str(tuple(tensor.shape)):<18} {tensor.dtype}" for name, tensor in state.items()]
print("\n".join(rows[:7] + ["   ..."] + rows[-2:]))
assert state["features.0.0.weight"].shape == (32, 3, 3, 3) and state["classifier.1.weight"].shape == (4, 1280)
assert len([name for name in state if name.startswith("features.0.1.")]) == 5

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to notice:
#
# - `features.0.0.weight` is the first convolution: 32 filters of 3 channels × 3 × 3 pixels.
# - `features.0.1.*` is the BatchNorm layer after it, with **five** entries. Only `weight`
#   and `bias` are learnable. `running_mean` and `running_var` are the statistics used in
#   `eval()` mode (notebook 06); `num_batches_tracked` counts the batches that updated
#   them. These are **buffers**: saved and loaded with the model, never touched by the
#   optimizer.
# - The last two entries are our new classifier, `Linear(1280, 4)`: a 4 × 1280 weight
#   matrix and 4 biases.

# %% slideshow={"slide_type": "subslide"}
parameter_names = {name for name, _ in model.named_parameters()}
buffers = {name: t for name, t in state.items() if name not in parameter_names}
parameters = {name: t for name, t in state.items() if name in parameter_names}
print(f"learnable parameters: {len(parameters):>4} tensors, {sum(t.numel() for t in parameters.values()):>9,} numbers")
print(f"buffers:              {len(buffers):>4} tensors, {sum(t.numel() for t in buffers.values()):>9,} numbers")
print("buffer kinds:", sorted({name.rsplit('.', 1)[1] for name in buffers}))
megabytes = sum(t.numel() * t.element_size() for t in state.values()) / 1e6
print(f"all together: {megabytes:.1f} MB of numbers")

# %% [markdown] slideshow={"slide_type": "fragment"}
# And what is **not** in it: the architecture. There is no "this is an EfficientNet with
# 16 blocks" anywhere, only names and numbers. To use a `state_dict` you first build the
# very same model in code, then pour the numbers in with `model.load_state_dict(...)`.
# That is why a saved run also needs a small file that says *which* model to build (the
# metadata, section 6).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Why `deepcopy`? A "best model" that keeps changing
#
# To remember the weights of the best epoch, the obvious line is
# `best = model.state_dict()`. The document warns:
#
# > Without deepcopy, you save a **reference** that changes as training continues.
#
# We keep `best` without a copy and `snapshot` with `copy.deepcopy`, then take **one**
# training step.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)   # a fresh model for this demonstration
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
best = model.state_dict()                     # the trap: no copy
snapshot = copy.deepcopy(model.state_dict())  # the document's line: a real copy

weight = model.classifier[1].weight
print("best shares memory with the live weight:    ", best["classifier.1.weight"].data_ptr() == weight.data_ptr())
print("snapshot shares memory with the live weight:", snapshot["classifier.1.weight"].data_ptr() == weight.data_ptr())
print("first three weights before the step:", best["classifier.1.weight"][0, :3])

# %% slideshow={"slide_type": "subslide"}
# One training step, exactly as in the training loop (notebook 05).
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=0.001)
inputs, labels = next(iter(loaders.train))
model.train()
optimizer.zero_grad()
torch.nn.CrossEntropyLoss()(model(inputs), labels).backward()
optimizer.step()

print("live weights after the step:", model.classifier[1].weight[0, :3].detach())
print("best (no copy):             ", best["classifier.1.weight"][0, :3])
print("snapshot (deepcopy):        ", snapshot["classifier.1.weight"][0, :3])
changed = not torch.equal(best["classifier.1.weight"], snapshot["classifier.1.weight"])
print("best changed along with the model:  ", changed)
print("best is identical to the live model:", torch.equal(best["classifier.1.weight"], weight))
assert changed and torch.equal(best["classifier.1.weight"], weight)

# %% [markdown] slideshow={"slide_type": "fragment"}
# `fit` keeps the best epoch with the document's line:
# `best_state = copy.deepcopy(model.state_dict())`.

# %% [markdown] slideshow={"slide_type": "notes"}
# `model.state_dict()` does not copy the tensors: each entry *is* the model's own tensor,
# under a new name. When the optimizer updates the weights in place, `best` shows the new
# values. After ten epochs your "best model from epoch 3" would be epoch 10 in disguise.
# `copy.deepcopy` copies every tensor into new memory, so `snapshot` stays as it was.
# (`torch.save` is also a real copy, to disk: the trap is only for copies kept in memory.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. `torch.save` and `torch.load(..., weights_only=True)`
#
# `torch.save` writes the `state_dict` to a file, `torch.load` reads it back. To use the
# numbers, build the same architecture (with `pretrained=False`: the weights come from
# the file) and load them in.

# %% slideshow={"slide_type": "-"}
basics = RUNS / "09-basics"
basics.mkdir(parents=True, exist_ok=True)
path = basics / "model.pth"
torch.save(snapshot, path)
print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB")

loaded = torch.load(path, weights_only=True)
fresh, _ = build_model(num_classes=4, arch="efficientnet_lite0", pretrained=False, verbose=False,
                       img_size=COURSE_IMG_SIZE)
result = fresh.load_state_dict(loaded)   # says which names did not match
print("missing keys:", result.missing_keys, "| unexpected keys:", result.unexpected_keys)
assert not result.missing_keys and not result.unexpected_keys

# %% [markdown] slideshow={"slide_type": "subslide"}
# No name missing, none left over: every name in the file found a tensor of the same
# shape in the new model. (A cell that *ends* with `load_state_dict(...)` shows this result
# as `<All keys matched successfully>`.) The reloaded model computes exactly what the
# model computed when we took the snapshot, on a batch of validation photos:

# %% slideshow={"slide_type": "-"}
original, _ = build_model(num_classes=4, arch="efficientnet_lite0", pretrained=False, verbose=False,
                          img_size=COURSE_IMG_SIZE)
_ = original.load_state_dict(snapshot)  # the weights as they were before the training step
images, _ = next(iter(loaders.valid))
with torch.no_grad():
    same = torch.equal(original.eval()(images), fresh.eval()(images))
print("identical outputs after a save and a load:", same)
assert same

# %% [markdown] slideshow={"slide_type": "fragment"}
# ### Why `weights_only=True`?
#
# A `.pth` file holds a **pickle**, and loading a pickle can run code named in the file.
# `weights_only=True` rebuilds only tensors and plain containers, and refuses anything
# else: write it out on every load (leafdl's `safe_torch_load` does). The demonstration
# of a file that runs code, and why a crash must never leave a half-written `model.pth`,
# are in [A2 · Saving safely](A2_safe_saving.ipynb).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Checkpointing during training
#
# > Best practice: save during training, not just at the end.
#
# Given a `run_dir`, `leafdl.engine.fit` writes files after **every epoch**:
#
# | file | written | holds | used for |
# |---|---|---|---|
# | `model.pth` | when validation accuracy improves | the best `state_dict` | predicting |
# | `metadata.json` | with `model.pth` | classes, architecture, input size, hyperparameters, history | knowing what `model.pth` is |
# | `last.ckpt` | after every epoch | latest model, optimizer, scheduler, epoch, history, early-stopping counter, best model | resuming |

# %% slideshow={"slide_type": "subslide"}
from leafdl.config import TrainConfig
from leafdl.engine import fit

RUN = RUNS / "09-demo"
shutil.rmtree(RUN, ignore_errors=True)  # start clean, so the listing below shows only this run's files
# lr 0.01, ten times the document's: three epochs then learn enough to predict with (section 7)
config = TrainConfig(epochs=3, lr=0.01, img_size=COURSE_IMG_SIZE, arch="efficientnet_lite0", num_workers=0)

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
history = fit(model, loaders, config, run_dir=RUN, progress=False)

# %% slideshow={"slide_type": "fragment"} tags=["nbval-ignore-output"]
def human_size(n_bytes: int) -> str:
    """A size in MB, or in KB for small files."""
    return f"{n_bytes / 1e6:6.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:6.1f} KB"


for file in sorted(RUN.iterdir()):
    print(f"{file.name:<15} {human_size(file.stat().st_size)}")
ratio = (RUN / "last.ckpt").stat().st_size / (RUN / "model.pth").stat().st_size
assert 1.8 < ratio < 2.2, ratio

# %% [markdown] slideshow={"slide_type": "notes"}
# `*best*` in the log marks an improvement, when `model.pth` is rewritten. `last.ckpt` is
# about twice the size of `model.pth`: it holds the latest weights *and* the best ones
# (they differ once accuracy stops improving), plus the optimizer's state. Adam keeps two
# running averages per trainable number, but only the classifier trains, so that part is
# small.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Interrupted? Resume.
#
# Long runs get interrupted: the laptop closes, the kernel dies, you press Ctrl-C. We
# simulate it: `fit` calls `on_epoch_end` after each epoch, and ours raises
# `KeyboardInterrupt` (what Ctrl-C raises) after epoch 2. `fit` catches it and keeps the
# best model so far.

# %% slideshow={"slide_type": "-"}
def press_ctrl_c_after_epoch_2(epoch, history):
    if epoch + 1 == 2:  # epoch counts from 0
        raise KeyboardInterrupt


RESUMED = RUNS / "09-resume"
shutil.rmtree(RESUMED, ignore_errors=True)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
torch.manual_seed(0)
model, _ = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
first_part = fit(model, loaders, config, run_dir=RESUMED, on_epoch_end=press_ctrl_c_after_epoch_2, progress=False)

# %% slideshow={"slide_type": "fragment"}
print("epochs finished:", first_part.epochs, "| interrupted:", first_part.interrupted)
print("files on disk:  ", sorted(p.name for p in RESUMED.iterdir()))
assert first_part.epochs == 2 and first_part.interrupted

# %% [markdown] slideshow={"slide_type": "fragment"}
# Later (imagine a new Python session: a fresh model, nothing in memory) we call `fit`
# again with `resume=True`. It reads `last.ckpt`, restores the model, optimizer, scheduler
# and early-stopping counter as they were after epoch 2, and trains epoch 3. On the
# command line: `leafdl train DATA_DIR --out RUN_DIR --resume`.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
torch.manual_seed(1)  # a different seed on purpose: resuming must not depend on it
model, _ = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
resumed = fit(model, loaders, config, run_dir=RESUMED, resume=True, progress=False)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Did the interruption change anything? The resumed run against the uninterrupted run of
# section 4, epoch by epoch:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"{'epoch':>5} | {'uninterrupted':^24} | {'stopped after 2, resumed':^24}")
print(f"{'':>5} | {'train loss':>11} {'valid acc':>11}  | {'train loss':>11} {'valid acc':>11}")
for epoch in range(history.epochs):
    print(f"{epoch + 1:>5} | {history.train_loss[epoch]:>11.4f} {history.valid_acc[epoch]:>11.3f}  | "
          f"{resumed.train_loss[epoch]:>11.4f} {resumed.valid_acc[epoch]:>11.3f}")

# %% slideshow={"slide_type": "fragment"}
for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"):
    print(f"{name:<11} identical in both runs: {getattr(history, name) == getattr(resumed, name)}")
print("best epoch:", history.best_epoch, "and", resumed.best_epoch)
assert all(getattr(history, name) == getattr(resumed, name)
           for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"))
assert history.best_epoch == resumed.best_epoch

# %% [markdown] slideshow={"slide_type": "notes"}
# The same numbers, to the last digit. That needs more than the weights: the optimizer's
# state (Adam's running averages), the scheduler's and early stopping's counters, and even
# the random numbers. `fit` seeds the shuffling and augmentation of each epoch from the
# epoch number, so epoch 3 of the resumed run draws the same crops and flips as epoch 3 of
# the uninterrupted one. The document's Train.py keeps only the best weights, so a crash
# there means starting over.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The metadata: what makes a `.pth` file usable
#
# To use a `state_dict` a year from now, you need to know which architecture to build,
# the classes in their order (output 2 means... which disease?), and how to prepare
# images. `metadata.json` records it next to the weights:

# %% slideshow={"slide_type": "-"}
from leafdl.checkpoint import read_metadata

metadata = read_metadata(RUN)
print("keys:", textwrap.fill(", ".join(metadata), 100, subsequent_indent="      "), "\n")
for key in ("arch", "classes", "input"):
    print(f"{key + ':':<9}", json.dumps(metadata[key]))
hyperparameters = ", ".join(f"{key}={value}" for key, value in metadata["hyperparameters"].items())
print("hyperparameters:", textwrap.fill(hyperparameters, 100, subsequent_indent="    "))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The `input` entry matters more than it looks. EfficientNet-Lite0 expects pixels
# normalised with mean = std = 0.5, MobileNetV2 with ImageNet's (notebooks 03 and 04).
# The model we just trained, on its validation leaves prepared both ways:

# %% slideshow={"slide_type": "-"}
from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.engine import run_phase
from leafdl.models import InputSpec

wrong_spec = InputSpec(spec.size, IMAGENET_MEAN, IMAGENET_STD, spec.interpolation)
model.eval()
judged = {}
for name, input_spec in [("its own, from metadata (0.5 / 0.5)", spec), ("ImageNet's mean and std", wrong_spec)]:
    valid_loader = build_dataloaders(split, input_spec, batch_size=32, num_workers=0).valid
    judged[name] = run_phase(model, valid_loader, torch.nn.CrossEntropyLoss(), next(model.parameters()).device,
                             "valid", progress=False)
    print(f"normalised with {name:<36} valid loss {judged[name].loss:.3f}, accuracy {judged[name].accuracy:.3f}")
right, wrong = judged.values()
assert dict(metadata["input"])["mean"] == list(spec.mean)
assert wrong.loss > 1.5 * right.loss and wrong.accuracy < right.accuracy

# %% [markdown] slideshow={"slide_type": "fragment"}
# The wrong normalisation raised the loss by more than half and cost photos, and nothing
# warned us: that is why the metadata stores `input`, and why `Predictor` reads it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The metadata also keeps the run's results and the versions of the software that made it:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
for key in ("best_epoch", "best_valid_acc", "best_train_acc", "epochs_trained", "stopped_early", "versions"):
    print(f"{key + ':':<16}", json.dumps(metadata[key]))
print("history keys:   ", textwrap.fill(", ".join(metadata["history"]), 90, subsequent_indent=" " * 17))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Loading for prediction
#
# `leafdl.checkpoint.load_model` reads the metadata, builds that architecture with that
# number of classes, loads `model.pth` safely, and switches to `eval()` mode.
# `leafdl.predict.Predictor` adds the matching preprocessing (from `metadata["input"]`)
# and turns outputs into probabilities.

# %% slideshow={"slide_type": "-"}
from leafdl.checkpoint import load_model
from leafdl.predict import Predictor

loaded_model, loaded_metadata = load_model(RUN)
print(f"rebuilt {loaded_metadata['arch']} for {len(loaded_metadata['classes'])} classes; "
      f"eval mode: {not loaded_model.training}")
assert not loaded_model.training
predictor = Predictor.from_run(RUN)
print("the predictor's preprocessing:", predictor.transform)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
for disease in predictor.classes:   # the first validation photo of each class
    photo = sorted((split / "valid" / disease).iterdir())[0]
    (top_class, probability), *_ = predictor.predict(photo, top_k=1)
    print(f"{disease + ' photo:':<24} predicted {top_class:<17} ({probability:.0%} sure)")

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the probability with the answer: an answer near 50% is a guess between two
# classes, and after three epochs on 192 photos some answers are. `leafdl predict RUN_DIR
# photo.jpg` does the same from the command line.

# %% [markdown] slideshow={"slide_type": "fragment"}
# A checkpoint for other classes, another architecture or a truncated file is refused
# with a message that says what to do, and `leafdl export RUN_DIR` zips a run for
# sharing: both in [A2 · Saving safely](A2_safe_saving.ipynb).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A `state_dict` maps names to tensors: learnable weights and biases, plus BatchNorm
#   **buffers** (`running_mean`, `running_var`, `num_batches_tracked`). It holds no
#   architecture: rebuild the model in code, then `load_state_dict`.
# - `model.state_dict()` shares memory with the model. Keep the best weights with
#   `copy.deepcopy(model.state_dict())`, or your "best" follows the live model.
# - `torch.save(state, path)` / `torch.load(path, weights_only=True)`.
# - `fit(..., run_dir=...)` writes `model.pth`, `metadata.json` and `last.ckpt` after
#   each epoch; `resume=True` continues an interrupted run and reproduces the
#   uninterrupted one exactly.
# - `metadata.json` says how to use the weights; `load_model` and `Predictor` read it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** How many numbers does the `state_dict` of this small network hold?
# Count by hand, layer by layer (which entries are parameters, which are buffers?), before
# you check with `sum(v.numel() for v in net.state_dict().values())` in a new cell
# (`from torch import nn` first).
#
# ```python
# net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
#                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
# ```

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_state_dict_numbers

answer = None  # your answer here
check_state_dict_numbers(answer)

# %% [markdown] slideshow={"slide_type": "-"}
# **Exercise 2** (predict, then run). The same network trains for **3** epochs; each
# epoch runs **7** batches in training mode, then **2** validation batches after
# `net.eval()`. What is its BatchNorm's `num_batches_tracked` at the end, and which
# batches counted? Predict, then run that loop on `torch.zeros(2, 3, 8, 8)` batches to see.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_batches_tracked

answer = None  # your answer here
check_batches_tracked(answer, epochs=3, train_batches=7, valid_batches=2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3** (code). Keep the best weights, as `Train.py` does, in a small class:
# `BestWeights()` with `update(model, valid_acc)`, called after every epoch, and
# `restore(model)`, which puts the weights of the epoch with the highest validation
# accuracy back into the model. The check trains a tiny network a little between your
# calls and looks at what `restore` brings back.

# %% slideshow={"slide_type": "-"}
import copy

from leafdl.course.exercises import check_best_weights


class BestWeights:
    def __init__(self):
        raise NotImplementedError  # your code here

    def update(self, model, valid_acc):
        """Called after every epoch: keep these weights if they are the best so far."""
        raise NotImplementedError  # your code here

    def restore(self, model):
        """Put the best weights back into the model."""
        raise NotImplementedError  # your code here


check_best_weights(BestWeights)
