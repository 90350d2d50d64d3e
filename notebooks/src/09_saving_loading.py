# %% [markdown]
# # 09 · Saving and loading models
#
# A trained model lives in memory. Close the notebook and it is gone, unless you saved
# it. Saving looks like one line, `torch.save(model.state_dict(), "model.pth")`, but
# there are a few traps around that line, and this notebook walks through all of them.
#
# **You will learn**
#
# - what a `state_dict` holds (weights, biases, BatchNorm statistics) and what it does
#   not hold (the architecture);
# - why the document writes `copy.deepcopy(model.state_dict())`: without it, your "best"
#   model quietly changes as training goes on;
# - `torch.save` and `torch.load(..., weights_only=True)`, and why loading a file you
#   did not make can be dangerous;
# - atomic writes, so a crash never leaves a half-written `model.pth`;
# - checkpointing and resuming: stop a run after epoch 2, continue it later, and get
#   the same result as if it had never stopped;
# - the metadata that makes a `.pth` file usable, loading for prediction, the checks
#   that refuse a wrong checkpoint, and exporting a run as a zip archive.
#
# **Time:** about 15 minutes to read and run. Follows the document's section
# **10. Model Saving** (`state_dict()`, *Why deepcopy?*, *Checkpointing*).

# %%
import copy
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import torch

from leafdl.course import COURSE_IMG_SIZE, demo_data
from leafdl.data import build_dataloaders
from leafdl.models import build_model

leaves, split = demo_data()
RUNS = Path("../data/runs")
print("Demo data:", split.name, "with", sorted(p.name for p in (split / "train").iterdir()))

# %% [markdown]
# As in the earlier notebooks we train at 128 px instead of the document's 224 px (about
# three times less computation per image, so the epochs below take seconds on a laptop
# CPU) and use the bundled EfficientNet-Lite0 backbone, which needs no download.

# %%
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
print(f"{len(loaders.train.dataset)} training and {len(loaders.valid.dataset)} validation images")

# %% [markdown]
# ## 1. What a `state_dict` holds
#
# `model.state_dict()` is an ordinary Python dictionary: the **name** of each tensor in
# the model (its path through the modules, like `classifier.1.weight`) mapped to the
# **tensor** itself. Let us look at the first few entries and the last two.

# %%
state = model.state_dict()
print(type(state).__name__, "with", len(state), "entries\n")
names = list(state)
for name in names[:7] + ["..."] + names[-2:]:
    if name == "...":
        print("   ...")
        continue
    tensor = state[name]
    print(f"{name:<40} {str(tuple(tensor.shape)):<18} {tensor.dtype}")

# %% [markdown]
# What to notice:
#
# - `features.0.0.weight` is the first convolution: 32 filters of 3 channels × 3 × 3 pixels.
# - `features.0.1.*` is the BatchNorm layer right after it, and it has **five** entries.
#   Only two of them, `weight` and `bias`, are learnable parameters. `running_mean` and
#   `running_var` are the statistics the layer uses in `eval()` mode (notebook 06), and
#   `num_batches_tracked` counts how many batches updated them. These are **buffers**:
#   part of the model's state, saved and loaded with it, but never touched by the optimizer.
# - The last two entries are our new classifier: `Linear(1280, 4)`, a 4 × 1280 weight
#   matrix and 4 biases.
#
# Let us count both kinds.

# %%
parameter_names = {name for name, _ in model.named_parameters()}
buffers = {name: t for name, t in state.items() if name not in parameter_names}
parameters = {name: t for name, t in state.items() if name in parameter_names}
print(f"learnable parameters: {len(parameters):>4} tensors, {sum(t.numel() for t in parameters.values()):>9,} numbers")
print(f"buffers:              {len(buffers):>4} tensors, {sum(t.numel() for t in buffers.values()):>9,} numbers")
kinds = sorted({name.rsplit('.', 1)[1] for name in buffers})
print("buffer kinds:", kinds)
megabytes = sum(t.numel() * t.element_size() for t in state.values()) / 1e6
print(f"all together: {megabytes:.1f} MB of numbers")

# %% [markdown]
# And what is **not** in it: the architecture. There is no "this is an EfficientNet with
# 16 blocks" anywhere, only names and numbers. To use a `state_dict` you must first build
# the very same model in code, then pour the numbers in with `model.load_state_dict(...)`.
# That is why a saved run also needs a small file that says *which* model to build (the
# metadata, section 6 below).

# %% [markdown]
# ## 2. Why `deepcopy`? A "best model" that keeps changing
#
# During training we want to remember the weights of the best epoch so far. The obvious
# line is `best = model.state_dict()`. The document warns against it:
#
# > Without deepcopy, you save a **reference** that changes as training continues.
#
# Here is the trap happening. We keep `best` without a copy, and `snapshot` with
# `copy.deepcopy`, then take **one** training step.

# %%
best = model.state_dict()                     # the trap: no copy
snapshot = copy.deepcopy(model.state_dict())  # the document's line: a real copy

weight = model.classifier[1].weight
print("best shares memory with the live weight:    ", best["classifier.1.weight"].data_ptr() == weight.data_ptr())
print("snapshot shares memory with the live weight:", snapshot["classifier.1.weight"].data_ptr() == weight.data_ptr())
print("first three weights before the step:", best["classifier.1.weight"][0, :3])

# %%
# One training step, exactly as in the training loop (notebook 05).
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=0.001)
criterion = torch.nn.CrossEntropyLoss()
inputs, labels = next(iter(loaders.train))
model.train()
optimizer.zero_grad()
loss = criterion(model(inputs), labels)
loss.backward()
optimizer.step()

print("live weights after the step:", model.classifier[1].weight[0, :3].detach())
print("best (no copy):             ", best["classifier.1.weight"][0, :3])
print("snapshot (deepcopy):        ", snapshot["classifier.1.weight"][0, :3])
print()
print("best changed along with the model:  ", not torch.equal(best["classifier.1.weight"], snapshot["classifier.1.weight"]))
print("best is identical to the live model:", torch.equal(best["classifier.1.weight"], weight))

# %% [markdown]
# `model.state_dict()` does not copy the tensors: to save memory, each entry *is* the
# model's own tensor, under a new name. When the optimizer updates the weights in place,
# `best` shows the new values, because it points at the same memory. After ten epochs
# your "best model from epoch 3" would be epoch 10 in disguise, and you would never know.
#
# `copy.deepcopy` copies every tensor into new memory, so `snapshot` stays exactly as it
# was. This is the line `leafdl.engine.fit` uses each time validation accuracy improves:
#
# ```python
# best_state = copy.deepcopy(model.state_dict())
# ```
#
# (`torch.save` is also a real copy, to disk. The trap is only for copies kept in memory.)

# %% [markdown]
# ## 3. `torch.save` and `torch.load(..., weights_only=True)`
#
# `torch.save` writes any Python object of tensors to a file; for weights, the document
# saves the `state_dict`. `torch.load` reads it back. To use the numbers, build the same
# architecture (here with `pretrained=False`: the weights will come from the file) and
# load them in.

# %%
basics = RUNS / "09-basics"
basics.mkdir(parents=True, exist_ok=True)
path = basics / "model.pth"
torch.save(snapshot, path)
print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB")

loaded = torch.load(path, weights_only=True)
fresh, _ = build_model(num_classes=4, arch="efficientnet_lite0", pretrained=False, verbose=False,
                       img_size=COURSE_IMG_SIZE)
print(fresh.load_state_dict(loaded))

# %% [markdown]
# `<All keys matched successfully>`: every name in the file found a tensor of the same
# shape in the new model. The reloaded model now computes exactly what the model
# computed when we took the snapshot. Check it on a batch of validation images:

# %%
original, _ = build_model(num_classes=4, arch="efficientnet_lite0", pretrained=False, verbose=False,
                          img_size=COURSE_IMG_SIZE)
original.load_state_dict(snapshot)  # the weights as they were before the training step
images, _ = next(iter(loaders.valid))
with torch.no_grad():
    same = torch.equal(original.eval()(images), fresh.eval()(images))
print("identical outputs after a save and a load:", same)

# %% [markdown]
# ### Why `weights_only=True`?
#
# A `.pth` file is a zip archive holding a **pickle**, Python's general format for saving
# objects. Unpickling is not just reading data: a pickle may tell Python to *call a
# function* while loading, any function, with any arguments. That is how pickle rebuilds
# objects, and it is also how a file can run code on your machine.
#
# To see it, here is a harmless "sneaky" object whose pickled form says "call `print`".
# A malicious file would name something worse than `print`.

# %%
class Sneaky:
    """An object that, when unpickled, calls a function of its choosing."""

    def __reduce__(self):
        return (print, (">>> this line was printed by torch.load: loading the file ran code <<<",))


sneaky_path = basics / "sneaky.pth"
torch.save({"classifier.1.weight": torch.zeros(4, 1280), "surprise": Sneaky()}, sneaky_path)

print("torch.load(weights_only=False):")
contents = torch.load(sneaky_path, weights_only=False)

# %% [markdown]
# The file *ran code* just by being loaded. With `weights_only=True`, `torch.load` only
# rebuilds tensors and plain containers (dicts, lists, numbers, strings) and refuses
# anything else:

# %%
try:
    torch.load(sneaky_path, weights_only=True)
except pickle.UnpicklingError as error:
    reason = next((line.strip() for line in str(error).splitlines() if "WeightsUnpickler" in line),
                  str(error).splitlines()[0])
    print("Refused:", reason.split(". Please")[0] + ".")

# %% [markdown]
# Since PyTorch 2.6 `weights_only=True` is the default, but older versions default to
# `False`, and much code on the internet passes `weights_only=False` to silence an error.
# Write it out explicitly, so your code is safe on every version. Every load in leafdl
# goes through `leafdl.checkpoint.safe_torch_load`, which does exactly that.

# %% [markdown]
# ## 4. Atomic writes: never a half-written file
#
# Saving a 14 MB file takes a moment. If the program dies in that moment (Ctrl-C, a
# crash, a full disk, a laptop running out of battery), `torch.save` leaves a
# half-written `model.pth`, and the good model that was there before is gone too: the
# file was emptied when writing began.
#
# We can provoke a failure halfway through `torch.save`: a `lambda` cannot be pickled, so
# saving a dict that holds one fails after the tensors before it were written.

# %%
plain = basics / "plain.pth"
torch.save(snapshot, plain)                 # a good file...
print(f"before: {plain.stat().st_size / 1e6:5.1f} MB")
try:
    torch.save({**snapshot, "oops": lambda: 0}, plain)   # ...overwritten by a save that fails halfway
except pickle.PicklingError as error:
    print("the save failed:", type(error).__name__)
print(f"after:  {plain.stat().st_size / 1e6:5.1f} MB")
try:
    torch.load(plain, weights_only=True)
except RuntimeError as error:
    print("loading it:", str(error).split(". ")[0])

# %% [markdown]
# Both the old model and the new one are lost. The cure is an **atomic write**: write to
# a temporary file in the same folder, and only when it is complete, *rename* it over the
# real name. A rename within one disk is all-or-nothing: anyone who opens `model.pth`
# sees the old file or the new one, never a mixture. In a few lines:
#
# ```python
# temporary = path.with_name("." + path.name + ".tmp")
# torch.save(obj, temporary)        # if this fails, path is untouched
# os.replace(temporary, path)       # one step: old file -> new file
# ```
#
# `leafdl.checkpoint.atomic_torch_save` is this, plus flushing the data to disk and
# removing the temporary file if the save fails. The same failing save, made atomic:

# %%
from leafdl.checkpoint import atomic_torch_save

safe = basics / "atomic.pth"
atomic_torch_save(snapshot, safe)
print(f"before: {safe.stat().st_size / 1e6:5.1f} MB")
try:
    atomic_torch_save({**snapshot, "oops": lambda: 0}, safe)
except pickle.PicklingError as error:
    print("the save failed:", type(error).__name__)
print(f"after:  {safe.stat().st_size / 1e6:5.1f} MB")
reloaded = torch.load(safe, weights_only=True)
print("the old model is intact:", torch.equal(reloaded["classifier.1.weight"], snapshot["classifier.1.weight"]))
print("temporary files left behind:", [p.name for p in basics.iterdir() if p.name.endswith(".tmp")])

# %% [markdown]
# ## 5. Checkpointing during training
#
# > Best practice: save during training, not just at the end.
#
# `leafdl.engine.fit` does the document's "keep the best" with `deepcopy`, and, when you
# give it a `run_dir`, also writes files after **every epoch**, atomically:
#
# | file | written | holds | used for |
# |---|---|---|---|
# | `model.pth` | when validation accuracy improves | the best `state_dict` | predicting |
# | `metadata.json` | with `model.pth`, and at the end | classes, architecture, input size, hyperparameters, best epoch, history | knowing what `model.pth` is |
# | `last.ckpt` | after every epoch | the latest model, optimizer, scheduler, epoch, history, early-stopping counter, and the best model | resuming |
#
# A three-epoch run (the `Epoch` lines come from `fit`; `*best*` marks an improvement,
# when `model.pth` is rewritten):

# %%
from leafdl.config import TrainConfig
from leafdl.engine import fit

RUN = RUNS / "09-demo"
shutil.rmtree(RUN, ignore_errors=True)  # start clean, so the listing below shows only this run's files
config = TrainConfig(epochs=3, img_size=COURSE_IMG_SIZE, arch="efficientnet_lite0", num_workers=0)

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
history = fit(model, loaders, config, run_dir=RUN, progress=True)

# %% tags=["nbval-ignore-output"]
def human_size(n_bytes: int) -> str:
    """A size in MB, or in KB for small files."""
    return f"{n_bytes / 1e6:6.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:6.1f} KB"


for file in sorted(RUN.iterdir()):
    print(f"{file.name:<15} {human_size(file.stat().st_size)}")

# %% [markdown]
# `last.ckpt` is about twice the size of `model.pth`: it holds the latest weights *and*
# the best ones (they differ once accuracy stops improving), plus the optimizer's state.
# Adam keeps two running averages per trainable number, but only the classifier trains,
# so that part is small.
#
# ## 6. Interrupted? Resume.
#
# Long runs get interrupted: you close the laptop, the kernel dies, you press Ctrl-C
# because you need the machine. What happens then?
#
# We simulate it: `on_epoch_end` is a function `fit` calls after each epoch; ours raises
# `KeyboardInterrupt` (what Ctrl-C raises) after epoch 2. `fit` catches it, keeps the
# best model so far, and returns the history of the epochs that finished.

# %%
def press_ctrl_c_after_epoch_2(epoch, history):
    if epoch + 1 == 2:  # epoch counts from 0
        raise KeyboardInterrupt


RESUMED = RUNS / "09-resume"
shutil.rmtree(RESUMED, ignore_errors=True)

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
model, _ = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
first_part = fit(model, loaders, config, run_dir=RESUMED, on_epoch_end=press_ctrl_c_after_epoch_2, progress=True)

# %%
print("epochs finished:", first_part.epochs, "| interrupted:", first_part.interrupted)
print("files on disk:  ", sorted(p.name for p in RESUMED.iterdir()))

# %% [markdown]
# Later (imagine a new Python session: a freshly built model, nothing in memory) we call
# `fit` again with `resume=True`. It reads `last.ckpt`, puts the model, optimizer,
# scheduler and early-stopping counter back as they were after epoch 2, and trains epoch 3.
# From the command line, the same is `leafdl train DATA_DIR --out RUN_DIR --resume`.

# %% tags=["nbval-ignore-output"]
torch.manual_seed(1)  # a different seed on purpose: resuming must not depend on it
model, _ = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
resumed = fit(model, loaders, config, run_dir=RESUMED, resume=True, progress=True)

# %% [markdown]
# Did the interruption change anything? Compare the resumed run, epoch by epoch, with the
# uninterrupted run of section 5:

# %% tags=["nbval-ignore-output"]
print(f"{'epoch':>5} | {'uninterrupted':^24} | {'stopped after 2, resumed':^24}")
print(f"{'':>5} | {'train loss':>11} {'valid acc':>11}  | {'train loss':>11} {'valid acc':>11}")
for epoch in range(history.epochs):
    print(f"{epoch + 1:>5} | {history.train_loss[epoch]:>11.4f} {history.valid_acc[epoch]:>11.3f}  | "
          f"{resumed.train_loss[epoch]:>11.4f} {resumed.valid_acc[epoch]:>11.3f}")

# %%
for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"):
    print(f"{name:<11} identical in both runs: {getattr(history, name) == getattr(resumed, name)}")
print("best epoch:", history.best_epoch, "and", resumed.best_epoch)
assert all(getattr(history, name) == getattr(resumed, name)
           for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "lr"))
assert history.best_epoch == resumed.best_epoch

# %% [markdown]
# The same numbers, to the last digit. That needs more than the weights: the optimizer's
# state (Adam's running averages), the scheduler's and early stopping's counters, and
# even the random numbers. `fit` seeds the shuffling and augmentation of each epoch from
# the epoch number, so epoch 3 of the resumed run draws the same crops and flips as epoch
# 3 of the uninterrupted one. The document's Train.py keeps only the best weights, so a
# crash there means starting over.

# %% [markdown]
# ## 7. The metadata: what makes a `.pth` file usable
#
# A `state_dict` is names and numbers. To use it a year from now, or on another machine,
# you need to know: which architecture to build, how many classes and in which order
# (output 2 means... which disease?), and how images must be prepared (size, normalisation).
# `metadata.json` records all of it, next to the weights:

# %%
from leafdl.checkpoint import read_metadata

metadata = read_metadata(RUN)
print("keys:", list(metadata))
print()
for key in ("arch", "classes", "input"):
    print(f"{key + ':':<9}", json.dumps(metadata[key]))
print("hyperparameters:")
print(json.dumps(metadata["hyperparameters"], indent=2))

# %% [markdown]
# The `input` entry matters more than it looks. EfficientNet-Lite0 expects pixels
# normalised with mean = std = 0.5, MobileNetV2 with ImageNet's mean and std (notebooks
# 03 and 04): prepare a photo the wrong way and predictions quietly get worse, with no
# error anywhere. Here is the model we just trained, judged on its validation leaves
# prepared both ways:

# %%
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
assert dict(metadata["input"])["mean"] == list(spec.mean) and wrong.loss > right.loss

# %% [markdown]
# The wrong normalisation raised the loss: the model is less sure of the right answers,
# and nothing warned us. That is why the metadata stores `input`, and why `Predictor`
# below reads it. The results of the run and the versions of the software that made it:

# %% tags=["nbval-ignore-output"]
for key in ("best_epoch", "best_valid_acc", "best_train_acc", "epochs_trained", "stopped_early", "versions"):
    print(f"{key + ':':<16}", json.dumps(metadata[key]))
print("history keys:   ", list(metadata["history"]))

# %% [markdown]
# ## 8. Loading for prediction
#
# `leafdl.checkpoint.load_model` reads the metadata, builds that architecture with that
# number of classes, loads `model.pth` safely, and puts the model in `eval()` mode.
# `leafdl.predict.Predictor` adds the matching preprocessing (from `metadata["input"]`)
# and turns the outputs into probabilities.

# %%
from leafdl.checkpoint import load_model
from leafdl.predict import Predictor

loaded_model, loaded_metadata = load_model(RUN)
print(f"rebuilt {loaded_metadata['arch']} for {len(loaded_metadata['classes'])} classes; "
      f"eval mode: {not loaded_model.training}")
predictor = Predictor.from_run(RUN)
print("the predictor's preprocessing:", predictor.transform)

# %% tags=["nbval-ignore-output"]
photo = sorted((split / "valid" / "Black_rot").iterdir())[0]
print(f"\n{photo.parent.name}/{photo.name}:")
for name, probability in predictor.predict(photo, top_k=4):
    print(f"  {probability:6.1%}  {name}")

# %% [markdown]
# ## 9. Refusing the wrong checkpoint
#
# Loading weights into the wrong model fails somewhere deep inside PyTorch, with a long
# message about tensor sizes. leafdl checks first and says what is wrong and what to do.
# Three common mistakes, each caught with `try/except` so you can read the message.
#
# **Another number of classes.** You trained on 4 classes and build a model for 5
# (another dataset). The classifier's weight has a different shape:

# %%
from leafdl.checkpoint import CheckpointError, load_weights, safe_torch_load

weights = safe_torch_load(RUN / "model.pth")
five_classes, _ = build_model(num_classes=5, arch="efficientnet_lite0", pretrained=False, verbose=False)
try:
    load_weights(five_classes, weights)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown]
# The same check guards resuming: `fit(..., resume=True)` on a dataset whose classes
# differ from the checkpoint's is refused before a single batch is trained:

# %%
from leafdl.checkpoint import load_training_state

try:
    load_training_state(RUN, classes=["Apple_scab", "Healthy", "Powdery_mildew"], arch="efficientnet_lite0")
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown]
# **Another architecture.** The weights of an EfficientNet-Lite0 poured into a
# MobileNetV2 (the document's model) have the wrong names altogether:

# %%
mobilenet, _ = build_model(num_classes=4, arch="mobilenet_v2", pretrained=False, verbose=False)
try:
    load_weights(mobilenet, weights)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown]
# **A truncated file.** A copy that stopped halfway (a full disk, an interrupted
# download, a USB stick pulled out too early). We make one by keeping the first half of
# the bytes of `model.pth`:

# %%
BROKEN = RUNS / "09-broken"
shutil.rmtree(BROKEN, ignore_errors=True)
shutil.copytree(RUN, BROKEN)
data = (BROKEN / "model.pth").read_bytes()
(BROKEN / "model.pth").write_bytes(data[: len(data) // 2])
try:
    load_model(BROKEN)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown]
# ## 10. Exporting a run
#
# To share a model (with a colleague, or onto the machine that will use it), send the
# weights, the metadata and the plots, but not `last.ckpt`, which is only useful for more
# training and is twice as big. `leafdl.checkpoint.export_run` zips them with the
# document's `shutil.make_archive`. From the command line: `leafdl export RUN_DIR`.
# (This run was made with `fit` alone, so it has no plots yet; a `leafdl train` run folder
# also holds `metrics.png`, `confusion_matrix.png` and `report.txt`, and they go in the zip
# too: see notebook 11.)

# %% tags=["nbval-ignore-output"]
from leafdl.checkpoint import export_run

archive = export_run(RUN)
print("wrote", archive.name)
with zipfile.ZipFile(archive) as zipped:
    for info in zipped.infolist():
        if not info.is_dir():
            print(f"  {info.filename:<24} {human_size(info.file_size)}")

# %% [markdown]
# ## Summary
#
# - A `state_dict` maps names to tensors: learnable weights and biases, plus BatchNorm
#   **buffers** (`running_mean`, `running_var`, `num_batches_tracked`). It holds no
#   architecture: you rebuild the model in code, then `load_state_dict`.
# - `model.state_dict()` shares memory with the model. Keep the best weights with
#   `copy.deepcopy(model.state_dict())`, or your "best" follows the live model.
# - `torch.save(state, path)` / `torch.load(path, weights_only=True)`: a pickle can run
#   code, and `weights_only=True` only rebuilds tensors and plain containers.
# - Write to a temporary file and rename it (`atomic_torch_save`): a crash never destroys
#   the last good file.
# - `fit(..., run_dir=...)` writes `model.pth`, `metadata.json` and `last.ckpt` after
#   each epoch; `resume=True` continues an interrupted run and reproduces the
#   uninterrupted one exactly.
# - `metadata.json` says how to use the weights; `load_model` and `Predictor` read it,
#   and leafdl refuses checkpoints for other classes, other architectures, or broken files.
# - `export_run` zips the model, metadata and plots for sharing.
#
# ## Exercises
#
# **Exercise 1.** The classifier's weight has shape `(classes, 1280)` and its bias
# `(classes,)`, which is why a checkpoint for 4 classes does not fit a model for 5. The
# full PlantVillage dataset has 38 classes. How many numbers (weights + biases) does the
# new classifier hold for 38 classes?

# %%
from leafdl.course.exercises import check_classifier_numbers

answer = None  # your answer here
check_classifier_numbers(answer, num_classes=38)

# %% [markdown]
# **Exercise 2.** Every BatchNorm layer contributes one `num_batches_tracked` buffer.
# How many `num_batches_tracked` entries does the `state_dict` of our EfficientNet-Lite0
# model hold, in other words, how many BatchNorm layers does it have? (Count them in
# `model.state_dict()`, or with `isinstance(module, torch.nn.BatchNorm2d)` over
# `model.modules()`.)

# %%
from leafdl.course.exercises import check_batchnorm_count

answer = None  # your answer here
check_batchnorm_count(answer, arch="efficientnet_lite0")

# %% [markdown]
# **Exercise 3** (code). Keep the best weights, as `Train.py` does, in a small class:
# `BestWeights()` with `update(model, valid_acc)`, called after every epoch, and
# `restore(model)`, which puts the weights of the epoch with the highest validation
# accuracy back into the model. The check trains a tiny network a little between your
# calls and looks at what `restore` brings back.

# %%
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
