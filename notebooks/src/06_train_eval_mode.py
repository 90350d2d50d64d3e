# %% [markdown] slideshow={"slide_type": "slide"}
# # 06 · Training mode and evaluation mode
#
# Two innocent-looking lines of Train.py, `model.train()` and `model.eval()`, change what
# some layers compute. Forget one and the model validates with random holes in it, or
# gives a different answer for the same photo depending on which other photos share its
# batch. This notebook shows, with numbers, on the apple photos, what each mode does and why.
#
# **Time:** about 25 minutes. Follows the document's section **7. Training vs Evaluation
# Mode**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - what `model.train()` and `model.eval()` switch, and in which layers;
# - Dropout: random zeros and a 1/(1−p) scaling in training, nothing in evaluation;
# - BatchNorm: batch statistics in training, running averages in evaluation, and how the
#   running averages are updated;
# - `torch.set_grad_enabled(phase == "train")`: what validation saves by not recording
#   the computation for a backward pass;
# - a trap in the document's code: `model.train()` quietly changes the *frozen*
#   features, and how `leafdl.models.set_train_mode` avoids it.

# %% slideshow={"slide_type": "skip"}
import copy
import time

import torch
from torch import nn

from leafdl.course import apple_data
from leafdl.data import build_dataloaders
from leafdl.device import tune_cpu_allocator
from leafdl.engine import seed_epoch
from leafdl.models import build_model

IMG_SIZE = 96         # below the course's 128 px, so that the two training runs of section 5 take seconds
tune_cpu_allocator()  # faster forward passes on a Linux CPU (see leafdl.device); fit() does it too
photos, split = apple_data()
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=IMG_SIZE)
imagenet_state = copy.deepcopy(model.state_dict())   # the weights as built: demonstrations start again from them
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. What the two calls switch
#
# | Behavior | `train()` | `eval()` |
# |---|---|---|
# | Dropout | Active (random neurons disabled) | Disabled |
# | BatchNorm | Uses batch statistics | Uses running averages |
# | Purpose | Learning with regularization | Consistent predictions |
#
# Both calls set one flag, `module.training`, on the model and every module inside it.
# Most layers ignore it; in our model only the classifier's Dropout and the many
# BatchNorm layers of the features read it.

# %% slideshow={"slide_type": "-"}
kinds = {}
for module in model.modules():
    kinds[type(module).__name__] = kinds.get(type(module).__name__, 0) + 1
print("layers that behave differently:",
      {name: count for name, count in kinds.items() if "Dropout" in name or "BatchNorm" in name})

model.train()
print("after model.train(): training flags =", {m.training for m in model.modules()})
model.eval()
print("after model.eval():  training flags =", {m.training for m in model.modules()})

# %% [markdown] slideshow={"slide_type": "notes"}
# `BatchNormAct2d` is timm's BatchNorm with its activation attached; it is a subclass of
# `nn.BatchNorm2d` and behaves exactly like it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Dropout
#
# In training, `nn.Dropout(p)` sets each input to zero with probability `p`, a fresh random
# choice on every call, and multiplies the survivors by `1 / (1 − p)`. In evaluation it
# does nothing. The same input, three calls in each mode:

# %% [markdown] slideshow={"slide_type": "notes"}
# Why zeros? A classifier that cannot count on any single feature being present must
# spread its decision over many of them, so it relies less on quirks of the training
# images: a *regulariser*. Why the scaling? So that each output keeps the same *expected*
# value as without dropout; then in evaluation dropout can simply do nothing.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
dropout = nn.Dropout(p=0.5)
x = torch.ones(1, 10)

dropout.train()
for call in range(3):
    print("train:", dropout(x).tolist()[0])
dropout.eval()
for call in range(3):
    print("eval: ", dropout(x).tolist()[0])

# %% [markdown] slideshow={"slide_type": "subslide"}
# In training: a different pattern of zeros on every call, and the survivors are
# `1 / (1 − 0.5) = 2.0`. In evaluation: the input, unchanged. With many values we can
# check the fraction of zeros and the unchanged average for the classifier's own
# `Dropout(p=0.2)`:

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
classifier_dropout = model.classifier[0]
print(classifier_dropout)
classifier_dropout.train()
y = classifier_dropout(torch.ones(100_000))
classifier_dropout.eval()
print(f"fraction set to zero: {(y == 0).float().mean():.3f}   (p = 0.2)")
print(f"value of the survivors: {y.max():.2f}   (1 / (1 - 0.2) = {1 / 0.8:.2f})")
print(f"average: {y.mean():.3f}   (the input's average: 1.0)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# On our model, the same apple photo gets a different prediction on every call in
# training mode. We compute the photo's 1280 features once, and send them through the
# classifier (Dropout, then the new Linear layer) three times in each mode:

# %% slideshow={"slide_type": "-"}
model.load_state_dict(imagenet_state)    # the weights as built (section 5 trains the model)
photo, label = loaders.valid.dataset[0]
model.eval()
calls = {"train": [], "eval": []}
with torch.no_grad():
    photo_features = model.features(photo.unsqueeze(0)).mean(dim=(2, 3))
    torch.manual_seed(0)
    for mode in calls:
        model.classifier.train(mode == "train")
        for call in range(3):
            calls[mode].append(model.classifier(photo_features).softmax(dim=1)[0])
            print(f"{mode:<5} call {call + 1}: probabilities", [round(p, 2) for p in calls[mode][-1].tolist()])
    model.eval()
assert not torch.equal(calls["train"][0], calls["train"][1]) and torch.equal(calls["eval"][0], calls["eval"][2])

# %% [markdown] slideshow={"slide_type": "notes"}
# (The classifier is not trained yet, so the probabilities themselves mean nothing; what
# matters is that they change between calls in training mode and not in evaluation mode.) Validation must
# measure *the* model, not one random thinned version of it: that is the first reason for
# `model.eval()`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. BatchNorm
#
# A BatchNorm layer normalises each channel to mean 0 and standard deviation 1, then
# rescales it with two learnt numbers (`weight` and `bias`). *Whose* mean and standard
# deviation?
#
# - In **training** mode: those of the **current batch**. And, as a side effect, the layer
#   updates its **running averages**: `running = (1 − momentum) · running + momentum · batch`,
#   with `momentum = 0.1`.
# - In **evaluation** mode: the **running averages**, which summarise all the batches seen
#   in training. The batch itself does not matter.

# %% [markdown] slideshow={"slide_type": "notes"}
# Normalised inputs keep every layer working in a comfortable range, which makes deep
# networks train much faster. Below: a BatchNorm layer for 3 features, fed a batch of 8
# samples whose features have means near 5 and standard deviations near 2.

# %% slideshow={"slide_type": "subslide"}
torch.manual_seed(0)
bn = nn.BatchNorm1d(3)
x = torch.randn(8, 3) * 2 + 5

print("batch mean:           ", [round(v, 3) for v in x.mean(dim=0).tolist()])
print("running_mean at start:", bn.running_mean.tolist(), "  running_var:", bn.running_var.tolist())

bn.train()
y = bn(x)
print("\ntrain mode, output mean:", [round(v, 3) for v in y.mean(dim=0).tolist()],
      " std:", [round(v, 3) for v in y.std(dim=0, unbiased=False).tolist()])
print("running_mean after one batch:", [round(v, 3) for v in bn.running_mean.tolist()])
print("  = 0.9 * 0 + 0.1 * batch mean:", torch.allclose(bn.running_mean, 0.1 * x.mean(dim=0)))

bn.eval()
y_eval = bn(x)
print("\neval mode, output mean: ", [round(v, 3) for v in y_eval.mean(dim=0).tolist()],
      " (normalised with the running averages, which have not caught up yet)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# After one batch the running mean has moved only a tenth of the way, so in evaluation
# mode the same batch is far from normalised. After many training batches the running
# averages settle on the statistics of the whole training data:

# %% slideshow={"slide_type": "-"}
bn = nn.BatchNorm1d(3)             # a fresh layer: the batch above, then 100 more like it
bn.train()
bn(x)
for step in range(100):
    bn(torch.randn(8, 3) * 2 + 5)
print("running_mean after 101 batches:", [round(v, 2) for v in bn.running_mean.tolist()], "(data mean: 5)")
print("running_var after 101 batches: ", [round(v, 2) for v in bn.running_var.tolist()], "(data variance: 4)")
bn.eval()
y_eval = bn(x)
print("eval mode, output mean:", [round(v, 3) for v in y_eval.mean(dim=0).tolist()],
      " std:", [round(v, 3) for v in y_eval.std(dim=0, unbiased=False).tolist()])

# %% [markdown] slideshow={"slide_type": "subslide"}
# **One image at a time.** At prediction time there is often a single photo. In training
# mode, a BatchNorm over single numbers cannot even compute a standard deviation, and
# PyTorch refuses:

# %% slideshow={"slide_type": "-"}
one_sample = x[:1]
bn.train()
try:
    bn(one_sample)
except ValueError as error:
    print("train mode, batch of 1:", error)
bn.eval()
print("eval mode, batch of 1: ", [round(v, 3) for v in bn(one_sample)[0].tolist()])

# %% [markdown] slideshow={"slide_type": "subslide"}
# `BatchNorm2d` (in convolutional networks) averages over the pixels too, so a single
# image raises no error. It is worse: it silently gives **different features for the same
# image depending on its batch mates**. One validation photo, alone and inside a batch of
# 16, through our model's pretrained features (on a copy: training mode would also change
# its running averages):

# %% slideshow={"slide_type": "-"}
valid_batch = torch.stack([loaders.valid.dataset[i][0] for i in range(16)])   # photo 0 and 15 others
copy_of_model = copy.deepcopy(model)
differences = {}
with torch.no_grad():
    for mode in ("train", "eval"):
        copy_of_model.train(mode == "train")
        alone = copy_of_model.features(valid_batch[:1]).mean(dim=(2, 3))[0]
        in_batch = copy_of_model.features(valid_batch).mean(dim=(2, 3))[0]
        difference = (alone - in_batch).norm() / in_batch.norm()
        differences[mode] = difference.item()
        print(f"{mode:<5} mode: features of photo 0 alone vs in a batch of 16 differ by "
              + (f"{difference:.0%}" if difference > 0.01 else "less than 1%"))
assert differences["train"] > 0.1 and differences["eval"] < 1e-4

# %% [markdown] slideshow={"slide_type": "fragment"}
# In evaluation mode a photo's features do not depend on the rest of the batch (up to
# rounding): the second reason for `model.eval()`, **consistent predictions**.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. `torch.set_grad_enabled(phase == "train")`
#
# ```python
# with torch.set_grad_enabled(phase == "train"):
#     # Gradients computed only during training
#     # Saves memory during validation
# ```
#
# A different switch from `train()`/`eval()`: it does not change what the layers compute,
# only whether autograd **records** the computation (keeping every intermediate result a
# gradient will need) so that `backward()` can run later.

# %% slideshow={"slide_type": "-"}
inputs, labels = next(iter(loaders.valid))
model.eval()
for phase in ("train", "valid"):
    with torch.set_grad_enabled(phase == "train"):
        outputs = model(inputs)
    grad_fn = type(outputs.grad_fn).__name__ if outputs.grad_fn is not None else None
    print(f"{phase:<5}: outputs.requires_grad = {outputs.requires_grad!s:<5}  grad_fn = {grad_fn}")

# %% [markdown] slideshow={"slide_type": "notes"}
# `grad_fn` is the last node of the recorded graph (`Addmm`: the Linear layer's
# multiply-add), the starting point of `backward()`. Without the graph (`grad_fn = None`)
# `backward()` is impossible, which is fine in validation: we only measure. To see how much
# memory the recording takes, PyTorch lets us watch every tensor saved for the backward
# pass (`saved_tensors_hooks`); we add up their sizes for one batch of 32 photos, for our
# frozen model and for a fully trainable copy.

# %% slideshow={"slide_type": "subslide"}
def megabytes_saved_for_backward(net: nn.Module, images: torch.Tensor, grad_enabled: bool) -> float:
    """Memory of the tensors autograd keeps for backward() during one forward pass."""
    saved = {}

    def remember(tensor):
        saved[tensor.data_ptr()] = tensor.numel() * tensor.element_size()   # count each tensor once
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(remember, lambda tensor: tensor):
        with torch.set_grad_enabled(grad_enabled):
            net(images)
    return sum(saved.values()) / 1e6


# %% slideshow={"slide_type": "-"}
trainable_copy = copy.deepcopy(model)
for p in trainable_copy.parameters():
    p.requires_grad = True

print(f"{'model':<28} {'grad enabled (train)':>21} {'disabled (valid)':>17}")
saved_mb = {}
for name, net in [("features frozen (ours)", model), ("everything trainable", trainable_copy)]:
    saved_mb[name] = [megabytes_saved_for_backward(net, inputs, enabled) for enabled in (True, False)]
    print(f"{name:<28} {saved_mb[name][0]:>18.1f} MB {saved_mb[name][1]:>14.1f} MB")
assert saved_mb["features frozen (ours)"][1] == saved_mb["everything trainable"][1] == 0   # nothing kept
assert saved_mb["everything trainable"][0] >= 100 and saved_mb["features frozen (ours)"][0] < 1  # hundreds vs almost nothing

# %% [markdown] slideshow={"slide_type": "subslide"}
# With gradients disabled nothing is kept. With gradients enabled, a fully trainable
# network keeps every layer's activations for the backward pass: hundreds of megabytes
# for 32 small photos. Our frozen model keeps almost nothing: autograd records only what
# leads to a parameter that requires a gradient, i.e. the classifier.

# %% [markdown] slideshow={"slide_type": "notes"}
# At the document's 224 px it would be more than five times as much. That is why validation runs with gradients
# off, and why a GPU runs out of memory in training long before it does in prediction.
# Freezing saves memory too.
#
# Recording also costs some time in principle, but on a CPU the difference is smaller
# than the run-to-run noise of a shared machine, so the two timings below can come out
# either way; memory is the saving that counts. Run the cell a few times and see how much
# yours vary.

# %% slideshow={"slide_type": "fragment"} tags=["nbval-ignore-output"]
def seconds_per_forward(net: nn.Module, images: torch.Tensor, grad_enabled: bool, repeats: int = 5) -> float:
    """The fastest of a few forward passes (the least disturbed by other programs)."""
    times = []
    with torch.set_grad_enabled(grad_enabled):
        for _ in range(repeats):
            started = time.perf_counter()
            net(images)
            times.append(time.perf_counter() - started)
    return min(times)


for enabled in (True, False):
    print(f"everything trainable, grad enabled = {enabled!s:<5}: "
          f"{seconds_per_forward(trainable_copy, inputs, enabled):.3f} s per batch of 32")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. A trap: `model.train()` changes the frozen features
#
# We froze the features with `requires_grad = False`, so they cannot change... Except
# that BatchNorm's running averages are not parameters but **buffers**, updated by the
# *forward* pass in training mode, not by the optimizer. The document calls
# `model.train()` at the start of every training phase, which puts every BatchNorm of the
# frozen features in training mode, so:
#
# 1. in training the frozen features normalise with *batch* statistics, in validation
#    with the running averages: the classifier learns from features that differ from
#    those it is validated on;
# 2. every training batch pulls the running averages away from their ImageNet values
#    towards those of our apple batches.

# %% [markdown] slideshow={"slide_type": "notes"}
# To measure it: one pass over the training photos in the document's training mode, with
# no optimizer at all, only forward passes.

# %% slideshow={"slide_type": "subslide"}
seed_epoch(loaders, seed=42, epoch=0)                      # the same shuffle and augmentation on every run
train_batches = [inputs for inputs, _ in loaders.train]    # one epoch of augmented training photos
batch_norms = [m for m in model.features.modules() if isinstance(m, nn.BatchNorm2d)]


def largest_running_mean_change(net: nn.Module, reference_state: dict) -> float:
    """The largest change of any BatchNorm running_mean in net, compared with reference_state."""
    return max((module.running_mean - reference_state[name + ".running_mean"]).abs().max().item()
               for name, module in net.named_modules() if isinstance(module, nn.BatchNorm2d))


# %% slideshow={"slide_type": "-"}
model.load_state_dict(imagenet_state)          # start from the pretrained statistics
model.train()                                  # the document's line
with torch.no_grad():                          # no gradients, no optimizer: forward passes only
    for batch in train_batches:
        model(batch)
print(f"{len(batch_norms)} BatchNorm layers in the frozen features")
print("after one pass in model.train():      largest change of a running_mean =",
      f"{largest_running_mean_change(model, imagenet_state):.3f}")
print("  batches counted by the first BatchNorm:", batch_norms[0].num_batches_tracked.item())
print("  parameters changed:", any(not torch.equal(p, imagenet_state[name]) for name, p in model.named_parameters()))
drifted_state = copy.deepcopy(model.state_dict())
assert largest_running_mean_change(model, imagenet_state) > 0.1 and batch_norms[0].num_batches_tracked.item() == 6
assert all(torch.equal(p, imagenet_state[name]) for name, p in model.named_parameters())   # weights untouched

# %% [markdown] slideshow={"slide_type": "subslide"}
# The weights are untouched, but the running means moved: the frozen features are no
# longer the ImageNet features. The same pass with `leafdl.models.set_train_mode`, which
# calls `model.train()` and then puts back in evaluation mode every BatchNorm whose
# parameters are all frozen:

# %% slideshow={"slide_type": "-"}
from leafdl.models import set_train_mode

model.load_state_dict(imagenet_state)          # back to the ImageNet statistics
set_train_mode(model)
with torch.no_grad():
    for batch in train_batches:
        model(batch)
print("after one pass in set_train_mode():   largest change of a running_mean =",
      f"{largest_running_mean_change(model, imagenet_state):.3f}")
print("BatchNorm layers in training mode:", sum(bn.training for bn in batch_norms), "of", len(batch_norms))
print("classifier dropout in training mode:", model.classifier[0].training)
assert largest_running_mean_change(model, imagenet_state) == 0 and not any(bn.training for bn in batch_norms)
assert model.classifier[0].training

# %% [markdown] slideshow={"slide_type": "notes"}
# Nothing moved, and the dropout still works: the classifier gets its regularisation,
# and a frozen feature means the same thing in training and in validation.

# %% [markdown] slideshow={"slide_type": "subslide"}
# How much does it matter? The features of the same validation photos (evaluation mode,
# no augmentation), with the ImageNet statistics and with those after the single pass in
# `model.train()`:

# %% slideshow={"slide_type": "-"}
model.eval()
with torch.no_grad():
    model.load_state_dict(imagenet_state)
    original = model.features(valid_batch).mean(dim=(2, 3))
    model.load_state_dict(drifted_state)
    drifted = model.features(valid_batch).mean(dim=(2, 3))
    model.load_state_dict(imagenet_state)
change = (drifted - original).norm(dim=1) / original.norm(dim=1)
print(f"features of 16 validation photos after one model.train() pass: changed by {change.mean():.0%} on average")
print(f"share of each running average replaced by 6 batches at momentum 0.1: 1 - 0.9**6 = {1 - 0.9**6:.0%}")
assert change.mean() > 0.25   # a lot
assert round(1 - 0.9**6, 2) == 0.47

# %% [markdown] slideshow={"slide_type": "notes"}
# After a single epoch, without any optimizer step, the features the classifier reads
# have shifted a lot: six batches already replace almost half of each running average
# (1 − 0.9⁶ ≈ 47%) with the apple photos' statistics, and over ten epochs the ImageNet statistics are
# all but gone. A "frozen" model then depends on how, and how long, it was trained.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### What it costs: validation accuracy
#
# We train twice, five epochs each, with everything the same (seed, data, order of
# batches, augmentation, Adam at lr 0.001) except one line at the start of each training
# phase: the document's `model.train()`, or `set_train_mode(model)`.

# %% [markdown] slideshow={"slide_type": "notes"}
# Each epoch is one training phase and one validation phase (`leafdl.engine.run_phase`,
# notebook 05); `seed_epoch` seeds the shuffling, the augmentation and the dropout of each
# epoch the same way in both runs. This notebook works at 96 px rather than the course's
# 128 px, so that each run of five epochs takes seconds on a laptop CPU.

# %% slideshow={"slide_type": "-"}
from leafdl.engine import run_phase


def train_five_epochs(start_training_phase) -> list:
    """Train the course model for 5 epochs from the pretrained start; return each epoch's validation result."""
    model.load_state_dict(imagenet_state)                  # the same start for both runs (and for a re-run)
    optimizer = torch.optim.Adam(model.classifier.parameters(), lr=0.001)
    criterion = nn.CrossEntropyLoss()
    results = []
    for epoch in range(5):
        seed_epoch(loaders, seed=42, epoch=epoch)
        start_training_phase(model)                        # the one line that differs
        run_phase(model, loaders.train, criterion, torch.device("cpu"), "train", optimizer, progress=False)
        model.eval()
        results.append(run_phase(model, loaders.valid, criterion, torch.device("cpu"), "valid", progress=False))
    return results


# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
documents_way = train_five_epochs(lambda net: net.train())

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
frozen_bn_in_eval = train_five_epochs(set_train_mode)

# %% slideshow={"slide_type": "-"}
print(f"{'epoch':>5} | {'model.train() (document)':^26} | {'set_train_mode (leafdl)':^26}")
print(f"{'':>5} | {'valid acc':>12} {'valid loss':>12} | {'valid acc':>12} {'valid loss':>12}")
n_valid = len(loaders.valid.dataset)
for epoch, (doc, ours) in enumerate(zip(documents_way, frozen_bn_in_eval), start=1):
    print(f"{epoch:>5} | {round(doc.accuracy * n_valid):>9}/{n_valid} {doc.loss:>12.2f} |"
          f" {round(ours.accuracy * n_valid):>9}/{n_valid} {ours.loss:>12.2f}")
one_photo = 1 / n_valid
assert all(ours.accuracy >= doc.accuracy - one_photo for doc, ours in zip(documents_way, frozen_bn_in_eval))
assert all(ours.loss < doc.loss for doc, ours in zip(documents_way, frozen_bn_in_eval))
assert frozen_bn_in_eval[-1].accuracy >= documents_way[-1].accuracy + 0.05

# %% [markdown] slideshow={"slide_type": "fragment"}
# Frozen BatchNorm in evaluation mode: a lower validation loss at every epoch, an accuracy
# at least as good (give or take one photo) at every epoch, and higher by 0.05 or more
# after five.

# %% [markdown] slideshow={"slide_type": "notes"}
# With `model.train()` the classifier learns from features normalised with each batch's
# statistics, then is validated on features normalised with the drifting running
# averages: it trains for one input and is judged on another. With 48 validation photos
# one photo is 0.021 of accuracy, so read the loss column as well: it is the steadier
# signal.
#
# `leafdl.engine.fit` therefore calls `set_train_mode(model)` where Train.py calls
# `model.train()`, and `model.eval()` before validation, as the document does. (If you
# *fine-tune*, i.e. unfreeze some blocks, their BatchNorm layers have trainable
# parameters again, and `set_train_mode` leaves them in training mode, as it should.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `model.train()` / `model.eval()` set the `training` flag of every module; only a few
#   layers read it: Dropout and BatchNorm.
# - **Dropout** in training zeroes each value with probability p and scales the others
#   by 1/(1−p) (2.0 for p = 0.5, 1.25 for the classifier's p = 0.2); in evaluation it does
#   nothing, so predictions are repeatable.
# - **BatchNorm** in training normalises with the batch's statistics and updates
#   `running_mean`/`running_var` (momentum 0.1); in evaluation it uses those running
#   averages, so a prediction does not depend on the batch.
# - `torch.set_grad_enabled(False)` in validation keeps no activations for backward: zero
#   extra memory.
# - BatchNorm's running averages are buffers: `requires_grad = False` does not freeze
#   them. `model.train()` changes them; `leafdl.models.set_train_mode(model)` keeps the
#   frozen ones in evaluation mode.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1** (code). Write the validation phase: `validate(model, loader, criterion)`
# measures the model on every batch of `loader` and returns `(mean_loss, accuracy)` over
# the images, without changing the model in any way. The model you get comes straight
# from a training phase. The check hands your function a tiny CNN with BatchNorm and
# Dropout and 12 demo leaves, and watches its BatchNorm statistics, its weights and
# whether PyTorch was recording gradients.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_validate


def validate(model, loader, criterion):
    """Measure the model on every batch of loader; return (mean loss per image, accuracy)."""
    raise NotImplementedError  # your code here


check_validate(validate)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** A fresh `nn.BatchNorm1d(1)` (running mean 0, momentum 0.1) sees two
# training batches: first one whose mean is **4.0**, then one whose mean is **6.0**. What is
# its `running_mean` afterwards? Work it out with the update rule, then check with a real
# layer.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_running_mean_after_two_batches

answer = None  # your answer here
check_running_mean_after_two_batches(answer)
