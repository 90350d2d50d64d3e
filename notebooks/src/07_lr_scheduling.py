# %% [markdown] slideshow={"slide_type": "slide"}
# # 07 · Learning-rate scheduling
#
# Big steps make fast progress while the model is far from good; near a good solution
# the same steps overshoot and bounce around. So `Train.py` lowers the learning rate
# when the validation accuracy stops improving. We watch it happen on the apple photos,
# then take the rule apart epoch by epoch.
#
# **Time:** about 30 minutes. Follows the document's section **Learning Rate Scheduling**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - the document's `ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)` and
#   `scheduler.step(validation_accuracy)`;
# - a real training run on the 240 apple photos in which the accuracy stalls and the
#   scheduler cuts the rate;
# - the rule traced in a table, and what "patience 3" means exactly (the document's own
#   timeline is one epoch early);
# - *why* a smaller learning rate later helps, in a small experiment you can see;
# - `mode="max"` against `mode="min"`, and what goes wrong when they are mixed up;
# - an **explorer with sliders** for `factor` and `patience`; where `leafdl` keeps the scheduler.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The document's lines
#
# ```python
# scheduler = optim.lr_scheduler.ReduceLROnPlateau(
#     optimizer, mode="max", factor=0.5, patience=3
# )
# scheduler.step(validation_accuracy)
# ```
#
# Once per epoch, after the validation phase, the scheduler is told the validation
# accuracy. It keeps the **best** so far (`mode="max"`), counts the **bad epochs** in a
# row (epochs that did not beat the best), and when that count goes **above** `patience`
# multiplies the optimizer's learning rate by `factor` (0.5: halves it).

# %% [markdown] slideshow={"slide_type": "notes"}
# The scheduler is attached to the optimizer: it changes `optimizer.param_groups[0]["lr"]`,
# the rate the next `optimizer.step()` uses. It changes nothing else.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A real run on the apple photos
#
# The course's model (EfficientNet-Lite0, features frozen, a new 4-class classifier,
# 128 px) on the 192 training and 48 validation photos. The features are frozen, so each
# photo always gives the same 1280 numbers: we compute them **once**, then train the
# classifier on them for 16 epochs in a second or two.

# %% [markdown] slideshow={"slide_type": "notes"}
# Computing the frozen features once is what makes 16 epochs affordable in a lecture:
# a full epoch through the backbone takes several seconds on a laptop CPU, an epoch of
# the classifier alone a few milliseconds. The classifier, the optimizer, the loss and the
# scheduler are the document's; what we give up is augmentation (each photo is seen the
# same way every epoch). `leafdl.engine.fit` does the same trick for the validation
# photos, whose features never change.

# %% slideshow={"slide_type": "subslide"}
import copy

import matplotlib.pyplot as plt
import torch
from torch import nn, optim
from torch.utils.data import DataLoader

from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import eval_transforms, image_folder
from leafdl.models import build_model

photos, split = apple_data()
torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
_ = model.eval()   # eval() returns the model; "_ =" keeps its long printout off the slide

# %% slideshow={"slide_type": "subslide"}
@torch.no_grad()
def frozen_features(folder):
    """Every photo in folder through the frozen features, once: (features, labels)."""
    batches = [(model.features(images).mean(dim=(2, 3)), labels)
               for images, labels in DataLoader(image_folder(folder, eval_transforms(spec)), batch_size=32)]
    return torch.cat([f for f, _ in batches]), torch.cat([y for _, y in batches])


train_x, train_y = frozen_features(split / "train")
valid_x, valid_y = frozen_features(split / "valid")
print("features:", tuple(train_x.shape), "for training,", tuple(valid_x.shape), "for validation")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loop: each epoch a training phase (batches of 32, shuffled), a validation phase,
# then `scheduler.step(valid_acc)`. We start at `lr=0.01`, ten times the document's
# rate, so that the accuracy levels off within a few epochs, and keep the document's
# `factor=0.5, patience=3`.

# %% slideshow={"slide_type": "subslide"}
def train_phase(head, optimizer):
    """One training phase on the features: shuffled batches of 32."""
    head.train()
    for batch in torch.randperm(len(train_y)).split(32):
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(train_x[batch]), train_y[batch]).backward()
        optimizer.step()


@torch.no_grad()
def valid_phase(head):
    """One validation phase: (photos classified correctly, mean loss)."""
    head.eval()
    outputs = head(valid_x)
    return (outputs.argmax(dim=1) == valid_y).sum().item(), nn.functional.cross_entropy(outputs, valid_y).item()


# %% slideshow={"slide_type": "subslide"}
def train_classifier(lr=0.01, epochs=16, factor=0.5, patience=3, seed=0):
    """Train a fresh copy of the classifier on the features; return each epoch's numbers."""
    torch.manual_seed(seed)                                  # the same shuffles and dropout each run
    head = copy.deepcopy(model.classifier)                   # Dropout(0.2), Linear(1280, 4), untrained
    optimizer = optim.Adam(head.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=factor, patience=patience)
    log = []
    for epoch in range(1, epochs + 1):
        train_phase(head, optimizer)
        correct, loss = valid_phase(head)
        lr_used = optimizer.param_groups[0]["lr"]           # the rate this epoch trained with
        scheduler.step(correct / len(valid_y))                # the document's line
        log.append(dict(epoch=epoch, correct=correct, loss=loss, lr=lr_used, bad_epochs=scheduler.num_bad_epochs))
    return log


# %% slideshow={"slide_type": "subslide"}
run = train_classifier(lr=0.01, epochs=16, seed=3)
print("epoch  valid acc  valid loss  bad epochs  lr this epoch")
for row in run:
    cut = "  -> cut" if row["epoch"] < len(run) and run[row["epoch"]]["lr"] < row["lr"] else ""
    print(f"{row['epoch']:>5}  {row['correct']:>5}/48  {row['loss']:>10.2f}  {row['bad_epochs']:>10}  "
          f"{row['lr']:>13g}{cut}")

# %% [markdown] slideshow={"slide_type": "notes"}
# `bad_epochs` is the scheduler's own counter (`scheduler.num_bad_epochs`) after the
# epoch; it shows 0 right after a cut because the count starts again. The validation
# accuracy is printed as a count: with 48 photos, one photo is 2% of accuracy.
#
# The seed fixes the shuffles and the dropout. Other seeds give other runs with the
# same shape; in ours (seeds 0-5) the first cut came after epoch 7 to 12. Try
# `train_classifier(seed=0)`.

# %% [markdown] slideshow={"slide_type": "subslide"}
# What happened, computed from the run:

# %% slideshow={"slide_type": "-"}
first_cut = next(row["epoch"] for row in run[:-1] if run[row["epoch"]]["lr"] < row["lr"])
best_before = max(row["correct"] for row in run[:first_cut - 4])
stalled = run[first_cut - 4:first_cut]                       # the four epochs that led to the cut
print(f"best before the plateau: {best_before}/48 (epoch {[r['correct'] for r in run].index(best_before) + 1})")
print(f"epochs {stalled[0]['epoch']}-{first_cut}: accuracy {[r['correct'] for r in stalled]}, "
      f"valid loss {min(r['loss'] for r in stalled):.2f}-{max(r['loss'] for r in stalled):.2f}")
print(f"so after epoch {first_cut} the rate was halved: {run[first_cut - 1]['lr']:g} -> {run[first_cut]['lr']:g}")
assert first_cut == 10 and all(r["correct"] <= best_before for r in stalled)   # four epochs without a new best
assert max(r["loss"] for r in stalled) - min(r["loss"] for r in stalled) < 0.05  # the loss had stalled too
assert run[2]["loss"] < run[0]["loss"] / 3                                      # after a fast start

# %% [markdown] slideshow={"slide_type": "fragment"}
# After a fast start the accuracy reached its best, then four epochs in a row failed to
# beat it while the validation loss only wobbled: the **plateau**. On the fourth such
# epoch the scheduler halved the rate, exactly as the rule says.

# %% slideshow={"slide_type": "subslide"} jupyter={"source_hidden": true}
epochs = [row["epoch"] for row in run]
fig, (acc_ax, loss_ax, lr_ax) = plt.subplots(1, 3, figsize=(12, 3.4))
acc_ax.plot(epochs, [row["correct"] for row in run], "o-")
acc_ax.set(title="valid accuracy (of 48)", xlabel="epoch")
loss_ax.plot(epochs, [row["loss"] for row in run], "o-", color="tab:orange")
loss_ax.set(title="valid loss", xlabel="epoch", yscale="log")
lr_ax.step(epochs, [row["lr"] for row in run], "o-", where="mid", color="tab:purple")
lr_ax.set(title="learning rate this epoch", xlabel="epoch", yscale="log")
for ax in (acc_ax, loss_ax, lr_ax):
    for row in run[:-1]:
        if run[row["epoch"]]["lr"] < row["lr"]:
            ax.axvline(row["epoch"] + 0.5, color="tab:red", alpha=0.4)
    ax.grid(alpha=0.3)
fig.suptitle("ReduceLROnPlateau(mode='max', factor=0.5, patience=3) on the apple photos; red: lr cut")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# After each cut the steps are half as big. Compare the validation loss during the
# plateau with the last epochs (computed below): with smaller steps the classifier
# settles a little lower instead of bouncing around. The accuracy hardly moves any more:
# on 48 photos it moves in steps of one photo, and there are few left to win.

# %% slideshow={"slide_type": "fragment"}
cuts = [row["epoch"] for row in run[:-1] if run[row["epoch"]]["lr"] < row["lr"]]
plateau_loss = sum(r["loss"] for r in stalled) / len(stalled)
last_loss = sum(r["loss"] for r in run[-4:]) / 4
print(f"cuts after epochs {cuts}; the last epochs train with lr {run[-1]['lr']:g}")
print(f"mean valid loss: {plateau_loss:.2f} on the plateau, {last_loss:.2f} over the last 4 epochs")
assert last_loss < plateau_loss - 0.01

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Tracing the rule epoch by epoch
#
# To see the rule in isolation, we feed the real PyTorch scheduler a series of validation
# accuracies that we **made up** for the purpose (16 epochs: a fast rise, a plateau, a
# small climb, another plateau). The optimizer only carries the learning rate here;
# nothing is trained.

# %% slideshow={"slide_type": "-"}
# A made-up validation-accuracy series, one value per epoch (not from a real run).
valid_acc_series = [0.62, 0.71, 0.78, 0.81, 0.81, 0.80, 0.81, 0.79,
                    0.83, 0.84, 0.84, 0.83, 0.84, 0.84, 0.85, 0.85]

placeholder = torch.nn.Parameter(torch.zeros(1))  # an optimizer needs something to optimise
optimizer = optim.Adam([placeholder], lr=0.001)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)

# %% slideshow={"slide_type": "slide"}
print(f"{'epoch':>5} {'valid acc':>10} {'best':>6} {'bad epochs':>11} {'lr this epoch':>14}")
for epoch, accuracy in enumerate(valid_acc_series, start=1):
    lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trained with
    scheduler.step(accuracy)              # end of the epoch: the scheduler sees the accuracy
    new_lr = optimizer.param_groups[0]["lr"]
    note = f"  -> reduced to {new_lr:g}" if new_lr < lr else ""
    print(f"{epoch:>5} {accuracy:>10.2f} {scheduler.best:>6.2f} {scheduler.num_bad_epochs:>11} {lr:>14g}{note}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the table top to bottom:
#
# - Epochs 1-4: every accuracy is a new best, the count of bad epochs stays 0.
# - Epochs 5-8: 0.81, 0.80, 0.81, 0.79 never *beat* 0.81 (equal is not better), so the
#   count climbs 1, 2, 3, 4. At 4, above the patience of 3, the rate is halved to 0.0005
#   and the count restarts (it shows 0 after the reduction).
# - Epoch 9 trains with 0.0005, and the accuracy climbs to new bests, 0.83, 0.84: smaller
#   steps find a spot the big steps kept jumping over. (In this made-up series we chose
#   it so; in real runs it often, not always, happens.)
# - Epochs 11-14: another plateau of four bad epochs, another halving, to 0.00025.
#
# `scheduler.best` and `scheduler.num_bad_epochs` are the scheduler's own attributes: the
# table shows its real state. Here is the same run as a picture, drawn by
# `leafdl.course.widgets.plot_plateau_schedule`:

# %% slideshow={"slide_type": "slide"}
from leafdl.course.widgets import plot_plateau_schedule

plot_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The grey dashed line is the best so far; the red lines mark the ends of the epochs after
# which the rate was reduced. The learning-rate axis is logarithmic: each halving is one
# equal step down.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### What "patience 3" means, exactly
#
# The document illustrates the rule with this timeline:
#
# ```
# Epoch 1-3: lr = 0.001
# Epoch 4-6: lr = 0.001 (no improvement)
# Epoch 7:   lr = 0.0005 (reduced!)
# ```

# %% [markdown] slideshow={"slide_type": "slide"}
# PyTorch reduces when the count of bad epochs *exceeds* the patience, so three bad
# epochs are tolerated and the **fourth** triggers the cut. A series shaped like the
# document's (best at epoch 3, no improvement after) shows it: the reduction happens after
# epoch 7, so epoch **8** is the first to train with 0.0005.
# `leafdl.course.widgets.simulate_plateau_schedule` steps PyTorch's scheduler through a list
# of accuracies, as above, and returns the rate each epoch trains with.

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import simulate_plateau_schedule

document_like = [0.70, 0.75, 0.80, 0.79, 0.80, 0.78, 0.79, 0.78, 0.79]
for epoch, lr in enumerate(simulate_plateau_schedule(document_like, lr=0.001, factor=0.5, patience=3), start=1):
    print(f"epoch {epoch}: lr = {lr:g}")

# %% [markdown] slideshow={"slide_type": "slide"}
# A small thing, but worth knowing when you read a log: with `patience=3` you wait four
# flat epochs, not three. On the longer series above the two cuts come after epochs 8
# and 14, each the fourth flat epoch in a row:

# %% slideshow={"slide_type": "-"}
from leafdl.course.widgets import trace_plateau_schedule

steps = trace_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3)
cut_after = [step.epoch for step in steps if step.reduced]
print("epochs after which the lr was reduced:", cut_after)
print("bad epochs in a row at each cut:      ", [steps[epoch - 1].bad_epochs for epoch in cut_after])
assert cut_after == [8, 14] and all(steps[epoch - 1].bad_epochs == 4 for epoch in cut_after)

# %% [markdown] slideshow={"slide_type": "notes"}
# One more detail of the rule: to count as better, an accuracy must beat the best by a
# relative `threshold` of 0.01% (`threshold=1e-4`, PyTorch's default), so 0.8100001 does
# not count as an improvement over 0.81.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why reduce the learning rate?
#
# The document's three reasons: a **large** learning rate for fast initial progress, a
# **small** one for fine-tuning near the optimum, and a way out of plateaus. A tiny
# experiment shows the first two. We minimise the simplest loss there is,
# $\frac{1}{2}\lVert w \rVert^2$ (its best point is $w = 0$), with plain gradient descent
# (`optim.SGD`), but with **noisy** gradients, as in real training, where each batch
# gives a slightly different gradient than the whole dataset would. After each "epoch"
# of 10 steps we measure the loss without noise, like a validation phase.
#
# Three runs, the same noise in each: a small learning rate (0.02), a large one (0.5),
# and the large one with `ReduceLROnPlateau` watching the loss.

# %% slideshow={"slide_type": "slide"}
def noisy_descent(lr: float, use_scheduler: bool, epochs: int = 10, steps_per_epoch: int = 10,
                  dimensions: int = 200, seed: int = 0) -> tuple[list[float], list[float]]:
    """Minimise 0.5 * ||w||^2 with noisy gradients; return the loss and lr after each epoch."""
    noise = torch.Generator().manual_seed(seed)
    w = torch.nn.Parameter(torch.full((dimensions,), 3.0))
    optimizer = optim.SGD([w], lr=lr)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
    losses, rates = [], []
    for epoch in range(epochs):
        for step in range(steps_per_epoch):
            optimizer.zero_grad()
            # The gradient of this expression is w + noise: the true gradient, disturbed.
            (0.5 * (w**2).sum() + (w * torch.randn(dimensions, generator=noise)).sum()).backward()
            optimizer.step()
        rates.append(optimizer.param_groups[0]["lr"])
        losses.append(0.5 * (w.detach() ** 2).mean().item())  # "validation": the loss without noise
        if use_scheduler:
            scheduler.step(losses[-1])  # mode="min": a lower loss is better
    return losses, rates


# %% slideshow={"slide_type": "-"}
runs = {
    "small lr 0.02": noisy_descent(0.02, use_scheduler=False),
    "large lr 0.5": noisy_descent(0.5, use_scheduler=False),
    "lr 0.5 + ReduceLROnPlateau": noisy_descent(0.5, use_scheduler=True),
}

# %% slideshow={"slide_type": "slide"}
fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
epochs = range(1, 11)
for name, (losses, rates) in runs.items():
    loss_ax.plot(epochs, losses, "o-", label=name)
    lr_ax.step(epochs, rates, "o-", where="post", label=name)
loss_ax.set(title="Loss (noise-free), lower is better", xlabel="epoch", ylabel="loss", yscale="log")
lr_ax.set(title="Learning rate", xlabel="epoch", ylabel="lr", yscale="log")
for ax in (loss_ax, lr_ax):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% slideshow={"slide_type": "subslide"}
for name, (losses, rates) in runs.items():
    print(f"{name:<28} loss after epoch 1: {losses[0]:.3f}   after epoch 10: {losses[-1]:.3f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# - The **small** rate moves steadily but slowly: after 10 epochs it is still on its way.
# - The **large** rate gets close in the very first epoch, then stalls: each noisy step is
#   so big that it keeps jumping around the minimum, and the loss stays at the level of
#   that jumping.
# - **Large, then reduced** gets both: the fast start, and then, each time the loss
#   stalls, a halved step that settles closer to the minimum.
#
# Training a network is the same story in millions of dimensions, with the noise coming
# from each batch being a small sample of the data.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## `mode="max"` or `mode="min"`?
#
# The mode says which direction is *better* for the number you pass to `step()`:
#
# | you pass | better is | mode |
# |---|---|---|
# | validation **accuracy** (the document) | higher | `"max"` |
# | validation **loss** (the experiment above) | lower | `"min"` (PyTorch's default) |

# %% [markdown] slideshow={"slide_type": "slide"}
# Mixing them up raises no error; the scheduler just does the opposite of what you want.
# Here is the made-up accuracy series again with `mode="min"`: every rising accuracy now
# looks like a *worse* result, so the rate is cut while the model is improving, and it
# is left alone when accuracy finally falls.

# %% slideshow={"slide_type": "-"}
right = simulate_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3, mode="max")
wrong = simulate_plateau_schedule(valid_acc_series, lr=0.001, factor=0.5, patience=3, mode="min")
print(f"{'epoch':>5} {'valid acc':>10} {'lr, mode=max':>13} {'lr, mode=min':>13}")
for epoch, (accuracy, good, bad) in enumerate(zip(valid_acc_series, right, wrong), start=1):
    print(f"{epoch:>5} {accuracy:>10.2f} {good:>13g} {bad:>13g}")

# %% [markdown] slideshow={"slide_type": "notes"}
# With `mode="min"` the first cut comes after epoch 5, in the middle of the fast rise, because
# the best "lowest accuracy" was epoch 1's. Since PyTorch's default mode is `"min"`, leaving
# `mode="max"` out of the document's line would cause exactly this.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore `factor` and `patience`
#
# Move the sliders and watch the learning rate (lower panel) on the made-up series:
#
# - **factor** 0.1 cuts the rate tenfold at each plateau, 0.9 barely touches it;
# - **patience** 0 cuts after every epoch that is not a new best (nervous); 8 never
#   cuts on this series (stubborn).

# %% [markdown] slideshow={"slide_type": "notes"}
# The line above the picture says after which epochs the rate was cut. Which settings
# would you choose for a noisy validation set of only 48 images, where the accuracy moves
# in steps of 2%?

# %% slideshow={"slide_type": "slide"}
from leafdl.course.widgets import scheduler_explorer

scheduler_explorer(valid_acc_series, lr=0.001, factor=0.5, patience=3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## In `leafdl`
#
# `leafdl.engine.fit` builds the document's scheduler with `leafdl.engine.make_scheduler`
# (`factor` and `patience` from `TrainConfig.scheduler_factor` and `scheduler_patience`)
# and calls `scheduler.step(valid_accuracy)` after every validation phase. It records in
# `history.lr` the rate each epoch **trained with**, read *before* that step, as our
# loop above did.

# %% slideshow={"slide_type": "-"}
from leafdl.config import TrainConfig
from leafdl.engine import make_scheduler

optimizer = optim.Adam(model.classifier.parameters(), lr=0.001)
scheduler = make_scheduler(optimizer, TrainConfig())
print(f"{type(scheduler).__name__}(mode={scheduler.mode!r}, factor={scheduler.factor}, patience={scheduler.patience})")
assert (scheduler.mode, scheduler.factor, scheduler.patience) == ("max", 0.5, 3)

# %% [markdown] slideshow={"slide_type": "notes"}
# How soon can the document's scheduler act? The first epoch is always a new best (there
# is nothing to compare with), so with `patience=3` the earliest possible cut is after
# epoch **5**. In the document's 10-epoch runs at `lr=0.001` the accuracy is often still
# climbing, and the scheduler never acts: correct behaviour, not a bug. It matters in
# longer runs, once the accuracy flattens out, as in our run at `lr=0.01`. Because
# `leafdl`'s checkpoint stores `scheduler.state_dict()` (its best value and its count of
# bad epochs), a resumed run continues the schedule exactly where it stopped (notebook 09).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - `ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=3)` multiplies the
#   rate by `factor` when the accuracy has not improved for **more than** `patience`
#   epochs in a row (the 4th bad epoch).
# - On the apple photos at `lr=0.01` the accuracy stalled early, and the cut came after
#   the fourth flat epoch; smaller steps then settled the loss lower.
# - `mode="max"` for accuracy, `mode="min"` for loss; the wrong mode fails silently.
# - `leafdl.engine.fit` steps the scheduler with the validation accuracy and records
#   each epoch's rate in `history.lr`.

# %% [markdown] slideshow={"slide_type": "notes"}
# Try: `train_classifier(lr=0.001, epochs=30)`, the document's rate. When does the
# accuracy level off, and when does the first cut come? And `factor=0.1`: what happens to
# the loss after the cut?

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. When is the first cut?** With `mode="max"`, `factor=0.5` and `patience=2`, after
# which epoch is the learning rate first reduced, for these validation accuracies? Work
# it out by hand first (remember: equal is not better, and a new best restarts the
# count), then check with `trace_plateau_schedule`.

# %% slideshow={"slide_type": "slide"}
from leafdl.course.exercises import check_first_reduction_epoch

exercise_series = [0.50, 0.62, 0.70, 0.69, 0.71, 0.70, 0.70, 0.71, 0.72]
answer = None  # your answer here: an epoch number (1 = the first epoch)
check_first_reduction_epoch(answer, exercise_series, patience=2)

# %% [markdown] slideshow={"slide_type": "slide"}
# **2. A run that never improves again** (predict, then run). The document's scheduler
# (`mode="max"`, `factor=0.5`, `patience=3`) starts at `lr=0.001`. Epoch 1 reaches 0.70
# validation accuracy, and the next **11** epochs reach exactly 0.70 again. What is the
# learning rate after epoch 12? Trace the count of bad epochs by hand; what happens to the
# count after a cut? Then check your answer with a real `ReduceLROnPlateau` in a new cell.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_lr_after_flat_epochs

answer = None  # your answer here
check_lr_after_flat_epochs(answer, epochs=12)

# %% [markdown] slideshow={"slide_type": "slide"}
# **3. Wire the scheduler** (code). Two small functions, as `Train.py` needs them:
# `make_scheduler(optimizer)` returns the document's scheduler, and
# `end_of_epoch(scheduler, valid_loss, valid_acc)` is called once after every validation
# phase and steps it on the right number. The check runs them with a real Adam optimizer
# through ten epochs in which the accuracy stalls while the loss keeps falling, and
# compares the learning rate after every epoch with the document's.

# %%
from torch import optim

from leafdl.course.exercises import check_scheduler


def make_scheduler(optimizer):
    """Return the document's ReduceLROnPlateau for this optimizer."""
    raise NotImplementedError  # your code here


def end_of_epoch(scheduler, valid_loss, valid_acc):
    """Tell the scheduler how this epoch went."""
    raise NotImplementedError  # your code here


check_scheduler(make_scheduler, end_of_epoch)
