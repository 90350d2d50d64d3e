# %% [markdown] slideshow={"slide_type": "slide"}
# # 08 · Early stopping
#
# How many epochs should we train? Early stopping lets the validation set answer while
# training runs: keep going while it improves, stop when it has not improved for a while,
# and keep the best model, not the last one.
#
# **You will learn**
#
# - the patience counter of Train.py, on a real run that stops early;
# - proof that `fit` hands back the best weights, not the last;
# - `leafdl.engine.EarlyStopping`, traced on the document's example;
# - why `EPOCHS = 10` with `max_patience = 7` hardly ever stops anything.
#
# **Time:** about 20 minutes. Document section **9. Early Stopping**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Follows the document's section 9 (and *Checkpointing* in section 10). Too few epochs
# and the model has not learnt all it could; too many and it starts memorising the
# training photos while its validation accuracy stalls or falls. The real run (section 2)
# takes about 20 s; every cell can be run again.

# %% slideshow={"slide_type": "skip"}
import copy

import matplotlib.pyplot as plt
import torch
from torch import nn

from leafdl.checkpoint import TRAINING_STATE_FILE, safe_torch_load
from leafdl.config import TrainConfig
from leafdl.course import apple_data
from leafdl.data import build_dataloaders
from leafdl.engine import EarlyStopping, fit, run_phase
from leafdl.models import build_model

photos, split = apple_data()   # the 240 real apple-leaf photos, split 192 / 48

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The rule
#
# Train.py keeps two numbers across epochs: the best validation accuracy so far,
# `max_acc`, and `count_patience`, the number of epochs since it last improved. After
# every epoch's validation phase:
#
# - if the accuracy beats `max_acc`: remember it, keep a copy of the weights, reset the
#   counter to 0;
# - otherwise: add 1 to the counter;
# - and if the counter has reached `max_patience`:
#
# ```python
# if count_patience >= max_patience:
#     print("Max patience reached - Stopping")
#     break
# ```

# %% slideshow={"slide_type": "skip"} jupyter={"source_hidden": true}
def plot_early_stopping(accuracies, best_epoch, stop_epoch, patience, title):
    """Validation accuracy per epoch, with the best epoch and the epochs of patience after it."""
    epochs = range(1, len(accuracies) + 1)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(epochs, accuracies, "o-", color="tab:orange", label="validation accuracy")
    if stop_epoch:
        ax.axvspan(best_epoch + 0.5, stop_epoch + 0.5, color="grey", alpha=0.15,
                   label=f"{stop_epoch - best_epoch} epochs without improvement (patience {patience})")
        ax.axvline(stop_epoch + 0.5, color="tab:red", linestyle="--", label=f"stop after epoch {stop_epoch}")
    ax.plot(best_epoch, accuracies[best_epoch - 1], "*", color="tab:green", markersize=18,
            label=f"best: epoch {best_epoch} ({accuracies[best_epoch - 1]:.3f}), the weights we keep")
    ax.set(xlabel="epoch", ylabel="validation accuracy", title=title, xticks=list(epochs))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A real run that stops early
#
# The course model (frozen EfficientNet-Lite0, a new classifier) on the apple photos,
# with `max_patience=2`, at most 10 epochs, and a learning rate of 0.01 instead of the
# document's 0.001: the classifier learns what it can in a few epochs, then stalls.
# The log's last line names the *frozen stage*: `fit`'s word for training with the
# backbone frozen, the document's whole method (notebook 12 adds a fine-tuning stage).

# %% [markdown] slideshow={"slide_type": "notes"}
# With the document's lr 0.001 the classifier learns more slowly: on these photos it is
# still climbing after 10 epochs, and early stopping would have nothing to stop. We train
# at 96 px to keep the cell short. The log lines vary a little from machine to machine;
# the numbers quoted below are read from the `History` that `fit` returns, so they always
# match.

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
torch.manual_seed(0)   # a fresh model each time this cell runs
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=96, verbose=False)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
config = TrainConfig(epochs=10, max_patience=2, lr=0.01, img_size=96)
RUN = "../data/runs/08-early-stopping"   # fit also saves the last epoch's state there (last.ckpt)
history = fit(model, loaders, config, run_dir=RUN, progress=False)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The counter, replayed from the run's validation accuracies (`history.valid_acc`, in
# photos right out of 48) through `EarlyStopping`, Train.py's counter as a small object
# (section 4 traces it):

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
n_valid = len(loaders.valid.dataset)
replay = EarlyStopping(patience=config.max_patience)
for epoch, e_acc in enumerate(history.valid_acc, start=1):
    improved = replay.step(e_acc)
    print(f"Epoch {epoch}: {round(e_acc * n_valid):>2}/{n_valid} right   {'new best' if improved else '        '}"
          f"   patience = {replay.epochs_without_improvement}" + ("   -> stop" if replay.should_stop else ""))
print(f"\nbest epoch {history.best_epoch}; stopped after epoch {history.epochs} of {config.epochs}")
assert history.stopped_early and history.epochs < config.epochs and replay.should_stop
assert history.epochs - history.best_epoch == config.max_patience
assert history.best_epoch >= 2 and history.valid_acc[0] < history.best_valid_acc   # it rose first

# %% slideshow={"slide_type": "subslide"}
fig = plot_early_stopping(history.valid_acc, history.best_epoch, history.epochs, config.max_patience,
                          f"A real run on the apple photos: max_patience = 2, lr = {config.lr:g}")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The validation accuracy rises for a few epochs, then fails to beat its best twice in
# a row, and `fit` stops (`history.stopped_early` is `True`). Notice how coarse the
# accuracy is: with 48 validation photos it moves in steps of one photo, about 0.021, so
# "no improvement" can simply mean "the same photos right as before", while the
# validation *loss* may still be going down. A patience of 2 is impatient for such a noisy
# signal; the document's 7 is generous. Choosing patience is choosing how much noise to
# sit through.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. `fit` gives back the best weights, not the last
#
# When the loop ends, `fit` loads the kept copy of the best epoch's `state_dict` back into
# the model (the document's `best_model = copy.deepcopy(model.state_dict())`, notebook 09).
# So the model we hold should score what the best epoch scored. We evaluate it once more,
# and the last epoch's weights too, read back from the `last.ckpt` that `fit` saved after
# the final epoch (notebook 09):

# %% slideshow={"slide_type": "subslide"}
def evaluate(weights_of: nn.Module):
    """Validation loss and accuracy, measured exactly as fit did (mixed precision on a CUDA GPU)."""
    device = next(weights_of.parameters()).device
    return run_phase(weights_of.eval(), loaders.valid, nn.CrossEntropyLoss(), device, "valid",
                     progress=False, amp=device.type == "cuda")


last_model = copy.deepcopy(model)
_ = last_model.load_state_dict(safe_torch_load(f"{RUN}/{TRAINING_STATE_FILE}")["model"])
after_fit, last_weights = evaluate(model), evaluate(last_model)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
best, last = history.best_epoch - 1, history.epochs - 1   # 0-based
rows = [("model after fit", after_fit.accuracy, after_fit.loss),
        (f"best epoch ({best + 1}), as fit measured it", history.valid_acc[best], history.valid_loss[best]),
        (f"last epoch's weights ({last + 1})", last_weights.accuracy, last_weights.loss)]
for name, accuracy, loss in rows:
    print(f"{name:<36} {round(accuracy * n_valid)}/{n_valid} right, validation loss {loss:.3f}")
assert after_fit.accuracy == history.best_valid_acc == max(history.valid_acc)
assert abs(after_fit.loss - history.valid_loss[best]) < 1e-4      # the very weights of the best epoch
assert last_weights.accuracy == history.valid_acc[last] <= after_fit.accuracy
assert abs(last_weights.loss - after_fit.loss) > 1e-3            # ... and not the last epoch's

# %% [markdown] slideshow={"slide_type": "fragment"}
# The model in memory scores what the best epoch scored, not what the last epoch's
# weights score: whatever came after the best epoch, `fit` handed back the best.

# %% [markdown] slideshow={"slide_type": "notes"}
# The validation photos and their transforms are deterministic (no augmentation), so the
# same weights give the same loss and accuracy; the loss, which changes with every
# weight, confirms these are the best epoch's weights and not merely weights that get the
# same photos right. With a `run_dir`, `fit` also writes the best model to `model.pth` as
# soon as an epoch improves, so a crash later cannot lose it (notebook 09).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The counter step by step: the document's example
#
# The document illustrates the rule with epoch 5 as the best (0.85) and seven epochs
# without improvement, the last at epoch 12. It leaves out epochs 1-4 and 8-11; we fill
# them in with made-up but plausible numbers and run Train.py's loop on them, with the
# training left out.

# %% slideshow={"slide_type": "subslide"}
val_accs = [0.62, 0.74, 0.80, 0.83, 0.85, 0.84, 0.83, 0.84, 0.85, 0.83, 0.84, 0.82]
max_patience = 7

max_acc, count_patience = 0.0, 0
for epoch, e_acc in enumerate(val_accs, start=1):
    if e_acc > max_acc:
        max_acc = e_acc
        count_patience = 0          # Train.py also keeps best_model = copy.deepcopy(model.state_dict())
    else:
        count_patience += 1
    print(f"Epoch {epoch:>2}: val_acc = {e_acc:.2f}   best = {max_acc:.2f}   patience = {count_patience}")
    if count_patience >= max_patience:
        print("Max patience reached - Stopping")
        break

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two details to notice:
#
# - At epoch 9 the accuracy **equals** the best (0.85) and the counter still goes up:
#   only a strictly better value counts as an improvement (`>`, not `>=`). With a small
#   validation set, accuracies often tie; a tie is not progress.
# - The counter counts epochs since the best, not epochs that got worse: epoch 8 (0.84)
#   is better than epoch 7 (0.83), but not better than the best, so patience keeps
#   running.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same rule in the library: `EarlyStopping`
#
# `leafdl.engine.EarlyStopping` holds the same two numbers (`best` and
# `epochs_without_improvement`). `step(metric)` records one epoch and returns `True` when
# it is a new best (that is when to copy the weights); `should_stop` says when to break.

# %% slideshow={"slide_type": "subslide"}
stopper = EarlyStopping(patience=max_patience)
print(stopper)
print(f"\n{'epoch':>5} {'val_acc':>8} {'new best?':>10} {'best':>6} {'patience':>9}  stop?")
trace = []
for epoch, e_acc in enumerate(val_accs, start=1):
    improved = stopper.step(e_acc)
    trace.append((epoch, e_acc, improved, stopper.best, stopper.epochs_without_improvement, stopper.should_stop))
    print(f"{epoch:>5} {e_acc:>8.2f} {'yes' if improved else '':>10} {stopper.best:>6.2f} "
          f"{stopper.epochs_without_improvement:>9}  {'STOP' if stopper.should_stop else ''}")
    if stopper.should_stop:
        break

# %% [markdown] slideshow={"slide_type": "fragment"}
# The same numbers as the hand-written loop, row for row.

# %% slideshow={"slide_type": "subslide"}
best_epoch = max(row[0] for row in trace if row[2])     # the last epoch that was a new best
fig = plot_early_stopping(val_accs, best_epoch, len(trace), max_patience, "The document's example, max_patience = 7")
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# The model saved is the one from epoch 5 (the green star), not the one from epoch 12:
# the last seven epochs cost time and gave nothing. The document's benefits: it
# **prevents overfitting**, **saves training time**, and **returns the best model, not
# the final model**.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. `EPOCHS = 10` against `max_patience = 7`
#
# The example stops after epoch **12**, but the document's hyperparameters say
# `EPOCHS = 10`. If the best epoch is `b`, the counter reaches 7 after epoch `b + 7`; that
# only happens within 10 epochs if `b ≤ 3`, and only *saves* epochs if `b + 7 < 10`, i.e.
# if the best epoch is 1 or 2. Every case, with `EarlyStopping`: a run whose accuracy rises
# until epoch `b` and then never improves again.

# %% slideshow={"slide_type": "-"}
def stops_after(accuracies, patience):
    """The epoch after which EarlyStopping stops on these accuracies, or None if it never does."""
    stopper = EarlyStopping(patience=patience)
    for epoch, accuracy in enumerate(accuracies, start=1):
        stopper.step(accuracy)
        if stopper.should_stop:
            return epoch
    return None


# %% slideshow={"slide_type": "subslide"}
EPOCHS = 10
print(f"{'best epoch':>10}   {'stops after epoch':>17}   {'epochs saved':>12}")
saved = {}
for best in range(1, EPOCHS + 1):
    accuracies = [0.5 + 0.03 * min(epoch, best) for epoch in range(1, EPOCHS + 1)]   # rises, then flat
    stopped_after = stops_after(accuracies, max_patience)
    saved[best] = EPOCHS - stopped_after if stopped_after else 0
    print(f"{best:>10}   {stopped_after or 'never':>17}   {saved[best]:>12}")
assert [best for best in saved if saved[best]] == [1, 2]   # only a best epoch of 1 or 2 saves any training

# %% [markdown] slideshow={"slide_type": "fragment"}
# Early stopping saves training only when the best epoch is 1 or 2. For the document's
# default run that is unlikely, so in Train.py early stopping almost never stops: what
# matters there is **keeping the best model**, the `deepcopy` of the best epoch's weights.

# %% [markdown] slideshow={"slide_type": "notes"}
# Early stopping proper matters when you raise `EPOCHS` (say to 50 and let the patience
# decide) or lower `max_patience`, as in section 2. leafdl uses the document's
# defaults: `TrainConfig()` has `epochs=10` and `max_patience=7`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Early stopping counts epochs without a **strictly** better validation accuracy and
#   stops when the count reaches `max_patience`.
# - `fit(..., TrainConfig(max_patience=...))` stops early (`history.stopped_early`) and
#   loads the best epoch's weights back into the model.
# - `EarlyStopping(patience)`: `step(metric)` is `True` on a new best, `should_stop`
#   says when to stop.
# - With `EPOCHS = 10`, `max_patience = 7`, what matters is **keeping the best model**.

# %% [markdown] slideshow={"slide_type": "notes"}
# With `EPOCHS = 10` and `max_patience = 7`, early stopping can save epochs only if the
# best epoch is 1 or 2. Small validation sets make accuracy coarse and noisy (one photo
# in 48 is 0.021): choose patience with that in mind.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** With `max_patience = 3`, after which epoch does training stop for these
# validation accuracies (epoch 1 first)?
#
# `[0.70, 0.78, 0.81, 0.80, 0.81, 0.83, 0.82, 0.82, 0.83, 0.84]`
#
# Trace it by hand first (watch out for ties), then check with `EarlyStopping`.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_stop_epoch

answer = None  # your answer here
check_stop_epoch(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** You raise `EPOCHS` to **20** and keep `max_patience = 7`. What is the
# **latest** best epoch for which early stopping still saves at least one epoch of
# training?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_latest_useful_best_epoch

answer = None  # your answer here
check_latest_useful_best_epoch(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3** (code). Write early stopping as a small class: `EarlyStopper(patience)`,
# whose `step(valid_acc)` is called once per epoch with the validation accuracy and
# returns `True` when training should stop, `False` otherwise, following the document's
# rule. The check replays eight runs (four series, two patiences) through your class and through
# `leafdl.engine.EarlyStopping`, and compares the epochs at which they stop.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_early_stopper


class EarlyStopper:
    def __init__(self, patience):
        raise NotImplementedError  # your code here

    def step(self, valid_acc):
        """Record one epoch's validation accuracy; return True when training should stop."""
        raise NotImplementedError  # your code here


check_early_stopper(EarlyStopper)
