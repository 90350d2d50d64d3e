# %% [markdown] slideshow={"slide_type": "slide"}
# # A2 · Saving safely
#
# An appendix to notebook 09 for practitioners: what can go wrong around
# `torch.save` and `torch.load` once models travel between runs, disks and people.
#
# **You will see**
#
# - why `torch.load(..., weights_only=True)`: a `.pth` file that runs code when loaded;
# - atomic writes, so a crash never leaves a half-written `model.pth`;
# - the checks that refuse the wrong checkpoint, and what their messages say;
# - exporting a run as a zip archive to share it.
#
# **Time:** about 8 minutes to read and run.

# %% slideshow={"slide_type": "skip"}
import pickle
import shutil
import zipfile
from pathlib import Path

import torch

from leafdl.config import TrainConfig
from leafdl.course import COURSE_IMG_SIZE, demo_data
from leafdl.data import build_dataloaders
from leafdl.engine import fit
from leafdl.models import build_model

leaves, split = demo_data()
RUN = Path("../data/runs/A2-demo")
WORK = Path("../data/runs/A2-files")
WORK.mkdir(parents=True, exist_ok=True)

# %% slideshow={"slide_type": "skip"} tags=["nbval-ignore-output"]
# A one-epoch run to have real files to save, load, break and export (a few seconds),
# into an empty folder: this notebook's run from an earlier execution is removed first.
shutil.rmtree(RUN, ignore_errors=True)
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
config = TrainConfig(epochs=1, img_size=COURSE_IMG_SIZE, arch="efficientnet_lite0", num_workers=0)
history = fit(model, loaders, config, run_dir=RUN, progress=False)
snapshot = model.state_dict()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Why `weights_only=True`?
#
# A `.pth` file is a zip archive holding a **pickle**, Python's general format for saving
# objects. Unpickling may tell Python to *call a function* while loading, any function,
# with any arguments: that is how pickle rebuilds objects, and how a file can run code on
# your machine. A harmless "sneaky" object whose pickled form says "call `print`" (a
# malicious file would name something worse):

# %% slideshow={"slide_type": "-"}
class Sneaky:
    """An object that, when unpickled, calls a function of its choosing."""

    def __reduce__(self):
        return (print, (">>> this line was printed by torch.load: loading the file ran code <<<",))


sneaky_path = WORK / "sneaky.pth"
torch.save({"classifier.1.weight": torch.zeros(4, 1280), "surprise": Sneaky()}, sneaky_path)

print("torch.load(weights_only=False):")
contents = torch.load(sneaky_path, weights_only=False)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The file *ran code* just by being loaded. With `weights_only=True`, `torch.load` only
# rebuilds tensors and plain containers (dicts, lists, numbers, strings) and refuses
# anything else:

# %% slideshow={"slide_type": "-"}
try:
    torch.load(sneaky_path, weights_only=True)
    refused = False
except pickle.UnpicklingError as error:
    refused = True
    reason = next((line.strip() for line in str(error).splitlines() if "WeightsUnpickler" in line),
                  str(error).splitlines()[0])
    print("Refused:", reason.split(". Please")[0] + ".")
assert refused

# %% [markdown] slideshow={"slide_type": "fragment"}
# Since PyTorch 2.6 `weights_only=True` is the default, but older versions default to
# `False`, and much code online passes `weights_only=False` to silence an error. Write it
# out, so your code is safe on every version: every load in leafdl goes through
# `leafdl.checkpoint.safe_torch_load`, which does.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Atomic writes: never a half-written file
#
# Saving a 14 MB file takes a moment. If the program dies in that moment (Ctrl-C, a
# crash, a full disk, a flat battery), `torch.save` leaves a half-written `model.pth`,
# and the good model that was there is gone too: the file was emptied when writing began.
# We provoke it: a `lambda` cannot be pickled, so saving a dict that holds one fails after
# the tensors before it were written.

# %% slideshow={"slide_type": "-"}
plain = WORK / "plain.pth"
torch.save(snapshot, plain)                 # a good file...
size_before = plain.stat().st_size / 1e6
print(f"before: {size_before:5.1f} MB")
try:
    torch.save({**snapshot, "oops": lambda: 0}, plain)   # ...overwritten by a save that fails halfway
except pickle.PicklingError as error:
    print("the save failed:", type(error).__name__)
print(f"after:  {plain.stat().st_size / 1e6:5.1f} MB")
try:
    torch.load(plain, weights_only=True)
except RuntimeError as error:
    print("loading it:", str(error).split(". ")[0])
assert 13 < size_before < 15 and plain.stat().st_size < 1e6

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both the old model and the new one are lost. The cure is an **atomic write**: write to
# a temporary file in the same folder, and only when it is complete, *rename* it over the
# real name. A rename within one disk is all-or-nothing: anyone who opens `model.pth`
# sees the old file or the new one, never a mixture.
#
# ```python
# temporary = path.with_name("." + path.name + ".tmp")
# torch.save(obj, temporary)        # if this fails, path is untouched
# os.replace(temporary, path)       # one step: old file -> new file
# ```

# %% [markdown] slideshow={"slide_type": "subslide"}
# `leafdl.checkpoint.atomic_torch_save` is this, plus flushing the data to disk and
# removing the temporary file if the save fails. The same failing save, made atomic:

# %% slideshow={"slide_type": "-"}
from leafdl.checkpoint import atomic_torch_save

safe = WORK / "atomic.pth"
atomic_torch_save(snapshot, safe)
print(f"before: {safe.stat().st_size / 1e6:5.1f} MB")
try:
    atomic_torch_save({**snapshot, "oops": lambda: 0}, safe)
except pickle.PicklingError as error:
    print("the save failed:", type(error).__name__)
print(f"after:  {safe.stat().st_size / 1e6:5.1f} MB")
intact = torch.equal(torch.load(safe, weights_only=True)["classifier.1.weight"], snapshot["classifier.1.weight"])
print("the old model is intact:", intact)
leftovers = [p.name for p in WORK.iterdir() if p.name.endswith(".tmp")]
print("temporary files left behind:", leftovers)
assert intact and leftovers == []

# %% [markdown] slideshow={"slide_type": "notes"}
# `leafdl.engine.fit` writes `model.pth`, `metadata.json` and `last.ckpt` this way after
# every epoch, so pressing Ctrl-C during a save never costs you the best model so far.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Refusing the wrong checkpoint
#
# Loading weights into the wrong model fails deep inside PyTorch, with a long message
# about tensor sizes. leafdl checks first and says what is wrong and what to do.
#
# **Another number of classes.** Trained on 4 classes, loaded into a model for 5:

# %% slideshow={"slide_type": "-"}
from leafdl.checkpoint import CheckpointError, load_model, load_training_state, load_weights, safe_torch_load

weights = safe_torch_load(RUN / "model.pth")
five_classes, _ = build_model(num_classes=5, arch="efficientnet_lite0", pretrained=False, verbose=False)
try:
    load_weights(five_classes, weights)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same check guards resuming: `fit(..., resume=True)` on a dataset whose classes
# differ from the checkpoint's is refused before a single batch is trained:

# %% slideshow={"slide_type": "-"}
try:
    load_training_state(RUN, classes=["Apple_scab", "Healthy", "Powdery_mildew"], arch="efficientnet_lite0")
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Another architecture.** The weights of an EfficientNet-Lite0 poured into a
# MobileNetV2 (the document's model) have the wrong names altogether:

# %% slideshow={"slide_type": "-"}
mobilenet, _ = build_model(num_classes=4, arch="mobilenet_v2", pretrained=False, verbose=False)
try:
    load_weights(mobilenet, weights)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **A truncated file.** A copy that stopped halfway (a full disk, an interrupted download,
# a USB stick pulled out too early). We keep the first half of the bytes of `model.pth`:

# %% slideshow={"slide_type": "-"}
BROKEN = Path("../data/runs/A2-broken")
shutil.rmtree(BROKEN, ignore_errors=True)
shutil.copytree(RUN, BROKEN)
data = (BROKEN / "model.pth").read_bytes()
(BROKEN / "model.pth").write_bytes(data[: len(data) // 2])
try:
    load_model(BROKEN)
except CheckpointError as error:
    print("CheckpointError:", error)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Exporting a run
#
# To share a model, send the weights, the metadata and the plots, but not `last.ckpt`: it
# only serves more training, and is twice as big. `leafdl.checkpoint.export_run` zips
# them with the document's `shutil.make_archive`; on the command line,
# `leafdl export RUN_DIR`.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.checkpoint import export_run

archive = export_run(RUN)
print("wrote", archive.name)
with zipfile.ZipFile(archive) as zipped:
    files = [info for info in zipped.infolist() if not info.is_dir()]
for info in files:
    size = f"{info.file_size / 1e6:6.1f} MB" if info.file_size >= 100_000 else f"{info.file_size / 1e3:6.1f} KB"
    print(f"  {info.filename:<24} {size}")
assert sorted(Path(info.filename).name for info in files) == ["metadata.json", "model.pth"]
ratio = (RUN / "last.ckpt").stat().st_size / (RUN / "model.pth").stat().st_size
assert 1.8 < ratio < 2.2, ratio

# %% [markdown] slideshow={"slide_type": "notes"}
# This run was made with `fit` alone, so it has no plots; a `leafdl train` run folder also
# holds `metrics.png`, `confusion_matrix.png` and `report.txt`, and they go in the zip
# too (notebook 11).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A pickle can run code when loaded: always `torch.load(path, weights_only=True)`
#   (leafdl's `safe_torch_load`).
# - Write to a temporary file and rename it (`atomic_torch_save`): a crash never
#   destroys the last good file.
# - leafdl refuses checkpoints for other classes, other architectures, or broken files,
#   with a message that says what to do.
# - `export_run` (`leafdl export`) zips the model, metadata and plots for sharing,
#   without the resumable `last.ckpt`.
