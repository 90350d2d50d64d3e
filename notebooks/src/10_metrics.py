# %% [markdown] slideshow={"slide_type": "slide"}
# # 10 · Metrics and visualisation
#
# Training prints a line per epoch. Those numbers say whether the model learns, whether
# it overfits, and where it still goes wrong, if you know how to read them.
#
# **You will learn**
#
# - the tracked metrics and the document's 2x2 plot, on a real run;
# - the overfitting gap `train_acc - val_acc`, and a run that really overfits;
# - the confusion matrix, and per-class precision, recall and F1;
# - how to look at the mistakes themselves.
#
# **Time:** about 25 minutes. Document section **11. Metrics and Visualization**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Follows the document's section 11 (*Tracked Metrics*, *Overfitting Detection*,
# *Visualization*). Both runs train on the real apple photos: the short run of the
# document's recipe takes about 25 s, the overfitting run about 15 s. Every cell can be
# run again; the training cells start from a fresh model each time.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from leafdl.config import TrainConfig
from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import build_dataloaders, load_rgb, readable_class_name
from leafdl.engine import fit
from leafdl.models import build_model

photos, split = apple_data()   # the 240 real apple-leaf photos, split 192 / 48
RUN = "../data/runs/10-metrics"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A short run to measure
#
# Five epochs of the document's recipe on the apple photos (frozen EfficientNet-Lite0
# features, a new classifier, Adam at lr 0.001, ReduceLROnPlateau, early stopping), at
# 128 px. `fit` returns a `History`: every number of its log, in lists.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
torch.manual_seed(0)   # a fresh model each time this cell runs
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
config = TrainConfig(epochs=5, img_size=COURSE_IMG_SIZE, arch="efficientnet_lite0", num_workers=0)
history = fit(model, loaders, config, run_dir=RUN, progress=False)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The tracked metrics
#
# | Metric | Formula | Meaning |
# |---|---|---|
# | Accuracy | correct / total | % of correct predictions |
# | Loss | CrossEntropyLoss | Prediction error magnitude |
# | Learning Rate | `optimizer.param_groups[0]["lr"]` | Current step size |
#
# Our run, measured on the training images (training phase) and the validation images
# (validation phase):

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
print(f"{'epoch':>5} {'train acc':>10} {'valid acc':>10} {'train loss':>11} {'valid loss':>11} {'lr':>8}")
for epoch in range(history.epochs):
    print(f"{epoch + 1:>5} {history.train_acc[epoch]:>10.3f} {history.valid_acc[epoch]:>10.3f} "
          f"{history.train_loss[epoch]:>11.4f} {history.valid_loss[epoch]:>11.4f} {history.lr[epoch]:>8.4f}")
print(f"\nbest epoch: {history.best_epoch} (valid acc {history.best_valid_acc:.3f}); "
      "its weights are the ones fit() keeps and saved as model.pth")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Accuracy is a count.** The validation set has 48 photos, so validation accuracy moves
# in steps of 1/48 ≈ 0.021: one more photo classified correctly.

# %% slideshow={"slide_type": "-"}
n_valid = len(loaders.valid.dataset)
for epoch, acc in enumerate(history.valid_acc, start=1):
    print(f"epoch {epoch}: valid acc {acc:.3f} = {round(acc * n_valid)} / {n_valid} photos correct")
assert n_valid == 48

# %% [markdown] slideshow={"slide_type": "notes"}
# On 48 photos, 0.833 against 0.854 is a single photo, well within luck. Real datasets
# (thousands of validation images) give finer and more trustworthy accuracies.
#
# **Loss says how sure.** Accuracy only asks whether the top class is right. The loss (the
# mean of `-log(probability of the true class)`) also rewards *confidence*: it keeps
# falling while accuracy is stuck, as the model grows surer of the leaves it already gets
# right. A loss of 1.39 = `-log(1/4)` is pure guessing between 4 classes.

# %% [markdown] slideshow={"slide_type": "fragment"}
# **The learning rate** stays at 0.001: `ReduceLROnPlateau(patience=3)` only halves it
# after more than 3 epochs without improvement, which a 5-epoch run does not reach.

# %% slideshow={"slide_type": "-"}
print("learning rates:", history.lr)
assert all(lr == config.lr for lr in history.lr)   # the scheduler never acted

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The 2x2 metrics plot
#
# `leafdl.plots.plot_history` draws the document's figure (`leafdl train` saves it as
# `metrics.png`):

# %% slideshow={"slide_type": "-"}
from leafdl.plots import plot_history

# %% slideshow={"slide_type": "subslide"}
fig = plot_history(history, title="EfficientNet-Lite0 on the apple photos, 5 epochs")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# How to read it, panel by panel:
#
# 1. **Accuracy (top left)**: both curves should rise and stay close. Validation above
#    training, as in this run (the check below counts the epochs), is normal in transfer
#    learning: training accuracy is measured on *augmented* images with dropout active,
#    the harder task. The dotted line marks the best epoch: the weights kept.
# 2. **Loss (top right)**: both should fall and stay close. Still falling at the last
#    epoch, as here, means more epochs would help. A *validation* loss that turns upward
#    while training loss keeps falling is the classic signature of overfitting.
# 3. **Learning rate (bottom left, log scale)**: the scheduler's decisions; in long runs,
#    steps down by the factor 0.5 each time accuracy stalls.
# 4. **Gap (bottom right)**: `train_acc - valid_acc` per epoch, green below 0.1, orange
#    up to 0.2, red above: the next section.

# %% slideshow={"slide_type": "subslide"}
# What the notes say about this run's curves, checked:
above = sum(valid > train for train, valid in zip(history.train_acc, history.valid_acc))
print(f"validation accuracy above training accuracy in {above} of {history.epochs} epochs")
print("both losses still falling at the last epoch:",
      history.train_loss[-1] < history.train_loss[-2] and history.valid_loss[-1] < history.valid_loss[-2])
assert above >= history.epochs - 1
assert history.train_loss[-1] < history.train_loss[-2] and history.valid_loss[-1] < history.valid_loss[-2]

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The gap: is the model overfitting?
#
# Overfitting means memorising the training images instead of learning what a disease
# looks like: training accuracy pulls away from validation accuracy. The document:
# `acc_gap = train_acc - val_acc`, read with a table.
#
# | Gap | Interpretation |
# |---|---|
# | ~0 | Good generalization |
# | > 0.1 | Mild overfitting |
# | > 0.2 | Significant overfitting |

# %% slideshow={"slide_type": "subslide"}
from leafdl.metrics import interpret_gap  # the document's table

for epoch in range(history.epochs):
    gap = history.train_acc[epoch] - history.valid_acc[epoch]
    print(f"epoch {epoch + 1}: {history.train_acc[epoch]:.3f} - {history.valid_acc[epoch]:.3f} "
          f"= {gap:+.3f}  -> {interpret_gap(gap)}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Negative gaps would mean the model does better on photos it never trained on. It does
# not: the two accuracies are not measured the same way.

# %% [markdown] slideshow={"slide_type": "notes"}
# - **Training accuracy is an average over the epoch, while the weights change.** The
#   first batches are scored by the weights as they were when the epoch began;
#   validation is scored once, by the weights at the epoch's end.
# - **Training images are augmented and dropout is on**: random crops that may miss the
#   lesions, flips, rotations and colour changes, and a fifth of the features dropped.
#   Validation images are shown plainly, with dropout off.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Measure the training images the way validation is measured (after the epoch, `eval()`
# mode, the validation transform) and the gap means what the table says:

# %% slideshow={"slide_type": "-"}
from torch import nn
from torch.utils.data import DataLoader

from leafdl.data import eval_transforms, image_folder
from leafdl.engine import run_phase

plain_train = DataLoader(image_folder(split / "train", eval_transforms(spec)), batch_size=32)
train_after = run_phase(model.eval(), plain_train, nn.CrossEntropyLoss(), next(model.parameters()).device,
                        "valid", progress=False)
assert len(plain_train.dataset) == 192

# %% slideshow={"slide_type": "subslide"}
best = history.best_epoch - 1   # fit has loaded this epoch's weights into `model`
print(f"epoch {best + 1}, training photos, averaged during the epoch (augmented): {history.train_acc[best]:.3f}")
print(f"epoch {best + 1}, training photos, after the epoch (like validation):     {train_after.accuracy:.3f}")
print(f"epoch {best + 1}, validation photos:                                      {history.valid_acc[best]:.3f}")
fair_gap = train_after.accuracy - history.valid_acc[best]
print(f"gap measured fairly: {fair_gap:+.3f} -> {interpret_gap(fair_gap)}")
assert train_after.accuracy > history.train_acc[best] and abs(fair_gap) < 0.1

# %% [markdown] slideshow={"slide_type": "notes"}
# Measured fairly, training accuracy is higher than the epoch's running average, and the
# gap lies inside "good generalisation" (below 0.1 either way): after five epochs on 192
# augmented photos the classifier has not memorised its training set. With 48 validation
# photos, a gap of a photo or two either way is noise. Section 4 provokes overfitting.

# %% [markdown] slideshow={"slide_type": "subslide"}
# For contrast, the document's own example of overfitting, and two made-up runs:

# %% slideshow={"slide_type": "-"}
for train_acc, val_acc in [(0.99, 0.70), (0.96, 0.83), (0.91, 0.89)]:
    gap = train_acc - val_acc
    print(f"train {train_acc:.2f}, valid {val_acc:.2f}: gap {gap:.2f} -> {interpret_gap(gap)}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# A large gap calls for the document's *Tuning Guidelines*: more augmentation, dropout,
# early stopping, more data. Never keep the epoch with the best *training* accuracy: keep
# the best **validation** accuracy, as `fit` does.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. A run that overfits
#
# The run above does not overfit. We provoke it, on the same apple photos, with the same
# frozen backbone and a fresh classifier:
#
# - **4 training photos per class** (16 instead of 192): easy to memorise;
# - **no augmentation**: the same 16 pictures every epoch;
# - **lr 0.003**, three times the document's, and 96 px photos, to keep it quick.
#
# Up to 30 epochs, early-stopping patience 7, seeded; validation on the same 48 photos.

# %% slideshow={"slide_type": "subslide"}
from torch.utils.data import Subset

from leafdl.data import DataLoaders
from leafdl.models import input_spec_for

plain = eval_transforms(input_spec_for("efficientnet_lite0", 96))   # no randomness at all
all_train = image_folder(split / "train", plain)
four_each = [i for c in range(4) for i in [j for j, (_, label) in enumerate(all_train.samples) if label == c][:4]]
small_loaders = DataLoaders(
    train=DataLoader(Subset(all_train, four_each), batch_size=8, shuffle=True, generator=torch.Generator()),
    valid=DataLoader(image_folder(split / "valid", plain), batch_size=32),
    classes=all_train.classes,
)
assert len(four_each) == 16

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
torch.manual_seed(0)   # a fresh model each time this cell runs
overfit_model, _ = build_model(num_classes=4, arch="efficientnet_lite0", img_size=96, verbose=False)
overfit_config = TrainConfig(epochs=30, max_patience=7, lr=0.003, img_size=96)
overfit = fit(overfit_model, small_loaders, overfit_config, progress=False)

# %% [markdown] slideshow={"slide_type": "fragment"}
# The log's last line names the *frozen stage*: `fit`'s word for training with the
# backbone frozen, the document's whole method (notebook 12 adds a fine-tuning stage).

# %% slideshow={"slide_type": "subslide"}
fig = plot_history(overfit, title="Provoked overfitting: 16 training photos, no augmentation")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Every panel now tells the overfitting story:
#
# - **Accuracy**: training accuracy climbs to 1.000 (all 16 photos right) within a few
#   epochs, while validation accuracy stalls far below it.
# - **Loss**: training loss falls towards 0, while validation loss turns upward after its
#   lowest point: the classifier grows ever surer of its memorised answers, including the
#   ones that are wrong on new photos.
# - **Learning rate**: the scheduler halves it once accuracy stalls, which cannot help:
#   the problem is the data, not the step size.
# - **Gap**: above 0.2 at the end, red: significant overfitting.

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
best, last = overfit.best_epoch - 1, overfit.epochs - 1
lowest_loss = int(np.argmin(overfit.valid_loss))
print(f"training accuracy 1.000 from epoch {overfit.train_acc.index(1.0) + 1}; "
      f"stopped early after epoch {overfit.epochs}: {overfit.stopped_early}")
print(f"validation loss: lowest {overfit.valid_loss[lowest_loss]:.2f} at epoch {lowest_loss + 1}, "
      f"{overfit.valid_loss[last]:.2f} at the last")
print(f"best epoch {best + 1}: valid acc {overfit.valid_acc[best]:.3f}, gap {overfit.gap[best]:+.2f}")
print(f"last epoch {last + 1}: valid acc {overfit.valid_acc[last]:.3f}, gap {overfit.gap[last]:+.2f} "
      f"-> {interpret_gap(overfit.gap[last])}")
assert overfit.train_acc.index(1.0) < 6 and overfit.stopped_early and best < last
assert overfit.valid_loss[last] > overfit.valid_loss[lowest_loss] + 0.03 and lowest_loss < last - 2
assert overfit.gap[last] > 0.2 and overfit.valid_acc[last] <= overfit.valid_acc[best] < 0.85
assert last - best == overfit_config.max_patience and min(overfit.lr) < overfit_config.lr

# %% [markdown] slideshow={"slide_type": "notes"}
# The exact epochs and accuracies in this cell may differ a little on another computer
# (its arithmetic rounds differently, and 16 photos leave little room for it to average
# out); the assertions check the story, which does not change. Why does validation
# accuracy stall instead of falling? The backbone is frozen: the classifier can only
# reweigh the same 1280 features, so memorising 16 photos cannot wreck what they show.
# Overfitting appears as the gap and as overconfidence (the validation loss). With more
# that can learn (unfrozen blocks, notebook 12) and as few photos, it can fall too.

# %% [markdown] slideshow={"slide_type": "fragment"}
# Early stopping ended the run 7 epochs after the best epoch, and `fit` kept that epoch's
# weights. The model we hold scores the best epoch's validation loss, not the last's:

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
device = next(overfit_model.parameters()).device
check = run_phase(overfit_model.eval(), small_loaders.valid, nn.CrossEntropyLoss(), device, "valid",
                  progress=False, amp=device.type == "cuda")   # evaluated exactly as fit did
print(f"model after fit: valid loss {check.loss:.3f}, acc {check.accuracy:.3f}")
print(f"best epoch {best + 1}:    valid loss {overfit.valid_loss[best]:.3f}, acc {overfit.valid_acc[best]:.3f}")
print(f"last epoch {last + 1}:   valid loss {overfit.valid_loss[last]:.3f}, acc {overfit.valid_acc[last]:.3f}")
assert abs(check.loss - overfit.valid_loss[best]) < 1e-4 and check.accuracy == overfit.valid_acc[best]
assert check.loss < overfit.valid_loss[last] - 0.02

# %% [markdown] slideshow={"slide_type": "notes"}
# The cure is the *Tuning Guidelines* row for overfitting: more data, more augmentation,
# dropout, early stopping. The first run had 12 times the photos and augmentation, and
# its gap, measured fairly, stayed inside "good generalisation".

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The confusion matrix
#
# Accuracy says *how many* leaves are wrong, not *which*. A confusion matrix counts, for
# every true class (row), how often each class was predicted (column). The diagonal holds
# the correct answers; everything off it is a specific confusion.

# %% slideshow={"slide_type": "-"}
from leafdl.metrics import collect_predictions
from leafdl.plots import plot_confusion_matrix  # the same as a picture, saved by leafdl train

predictions = collect_predictions(model, loaders.valid, classes=loaders.classes, progress=False)
matrix = predictions.confusion_matrix()
print(f"validation accuracy: {predictions.accuracy:.3f}\n")
names = [readable_class_name(name) for name in predictions.classes]
corner = "true \\ predicted"
print(f"{corner:<18}" + "".join(f"{name:>18}" for name in names))
for name, row in zip(names, matrix):
    print(f"{name:<18}" + "".join(f"{count:>18}" for count in row))

# %% [markdown] slideshow={"slide_type": "notes"}
# `leafdl.metrics.collect_predictions` runs the model (`eval()` mode, no gradients) over
# the validation loader and keeps every image's true label, prediction and probabilities.

# %% slideshow={"slide_type": "subslide"}
fig = plot_confusion_matrix(matrix, predictions.classes)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Read along each row: a row with all its count on the diagonal is a class the model
# always recognises; numbers elsewhere in the row say which class it is mistaken for. Two
# diseases with similar spots show up as a pair of off-diagonal cells.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Precision, recall and F1, per class
#
# Two questions about one class, say cedar apple rust:
#
# - **Precision**: *of the leaves called rust, how many were rust?* The rust **column**.
#   Low precision means false alarms: spraying against rust that is not there.
# - **Recall**: *of the rust leaves, how many were called rust?* The rust **row**. Low
#   recall means missed cases: rust left to spread.
#
# **F1**, their harmonic mean, is high only when both are. By hand, for rust:

# %% slideshow={"slide_type": "-"}
rust = predictions.classes.index("Cedar_apple_rust")
called_rust = matrix[:, rust].sum()
really_rust = matrix[rust, :].sum()
correct_rust = matrix[rust, rust]
precision = correct_rust / called_rust if called_rust else 0.0
recall = correct_rust / really_rust
f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
print(f"called rust: {called_rust}, of which really rust: {correct_rust} -> precision {precision:.3f}")
print(f"really rust: {really_rust}, of which called rust: {correct_rust} -> recall    {recall:.3f}")
print(f"F1 = 2 * precision * recall / (precision + recall) = {f1:.3f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Precision and recall are usually different numbers. They agree only when a class has as
# many false alarms (the column outside the diagonal) as misses (the row outside the
# diagonal). Exercise 1 has a matrix where they differ.

# %% [markdown] slideshow={"slide_type": "subslide"}
# `Predictions.report()` does it for every class with scikit-learn's
# `classification_report` (`leafdl train` saves it as `report.txt`). *Support* is the
# number of true images of the class (the row total):

# %% slideshow={"slide_type": "-"}
print(predictions.report())

# %% [markdown] slideshow={"slide_type": "notes"}
# *macro avg* is the plain mean over classes, *weighted avg* weighs each class by its
# support. With balanced classes, as here, they agree; with a rare disease they do not,
# and macro avg is the one that shows a rare class being ignored.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Look at the mistakes
#
# Numbers tell you where to look; pictures tell you why. The misclassified validation
# leaves, most confident mistakes first. The photos come from the dataset's file list,
# `dataset.samples[i]` = `(path, label)`, opened with `leafdl.data.load_rgb`.

# %% slideshow={"slide_type": "-"}
from leafdl.plots import show_images

# %% slideshow={"slide_type": "subslide"}
samples = loaders.valid.dataset.samples  # the validation loader is not shuffled: same order as predictions
confidence = predictions.probabilities.max(axis=1)
wrong = predictions.misclassified()
print(f"{len(wrong)} of {len(predictions.labels)} validation photos are misclassified, "
      f"{np.sum(confidence[wrong] < 0.5)} of them with less than 50% confidence")
assert len(wrong) > 0
shown = wrong[np.argsort(-confidence[wrong])][:8]   # the most confident mistakes first

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
suptitle = "Misclassified validation photos (most confident first)"
images = [load_rgb(samples[i][0]) for i in shown]
titles = [f"true: {readable_class_name(predictions.classes[predictions.labels[i]])}\n"
          f"pred: {readable_class_name(predictions.classes[predictions.predicted[i]])} ({confidence[i]:.0%})"
          for i in shown]
fig = show_images(images, titles, columns=min(4, max(2, len(shown))), size=2.0, suptitle=suptitle)
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# Ask of each mistake: are the lesions small, few or faint? Is the leaf in shadow or at the
# edge of the picture? Would *you* get it right? Mistakes on leaves you classify at a
# glance, made with low confidence (below 50%), come from an under-trained model: more
# epochs, or fine-tuning (notebook 12). Confident mistakes on clear pictures deserve a
# second look at the *label*: real datasets contain mislabelled photos. And if the picture
# is ambiguous even to you, the photo is the problem, not the model.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The least confident *correct* answers are worth a look too: they are the next mistakes.

# %% slideshow={"slide_type": "-"}
right = np.flatnonzero(predictions.labels == predictions.predicted)
shown = right[np.argsort(confidence[right])][:4]
images = [load_rgb(samples[i][0]) for i in shown]
titles = [f"{readable_class_name(predictions.classes[predictions.labels[i]])}\n"
          f"correct, but only {confidence[i]:.0%} sure" for i in shown]
fig = show_images(images, titles, columns=4, size=2.6, suptitle="Correct but unsure")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Accuracy** counts (one photo in 48 is 0.021); **loss** also measures confidence;
#   the **learning rate** shows what the scheduler did.
# - The **2x2 plot**: accuracies rise and stay close, losses fall, the gap stays small.
# - The **gap** `train_acc - val_acc`: ~0 good, > 0.1 mild, > 0.2 significant overfitting.
# - **Overfitting**: training accuracy 1.0, validation stalls, its loss turns upward.
# - The **confusion matrix** shows *which* classes are confused; **precision** (column),
#   **recall** (row), **F1**.
# - Always **look at the mistakes**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Training accuracy, averaged over an epoch on augmented photos, can make the gap
# negative: measure the training photos like the validation photos to read it fairly.
# The overfitting run had 16 training photos and no augmentation; early stopping kept its
# best epoch.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** A longer run on more leaves gives this confusion matrix (rows: true
# class, columns: predicted, in the order Apple scab, Black rot, Cedar apple rust,
# Healthy). What is the **precision** of Cedar apple rust? (A number between 0 and 1.)

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_precision_of_class

example_classes = ["Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy"]
example_matrix = np.array([[45, 2, 3, 0],
                           [1, 40, 9, 0],
                           [0, 4, 46, 0],
                           [2, 0, 1, 47]])
answer = None  # your answer here
check_precision_of_class(answer, example_matrix, example_classes, "Cedar_apple_rust")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2** (code). Compute the gap panel and its dotted line yourself:
# `gap_report(history)` gets a dict of per-epoch lists (`"train_acc"`, `"valid_acc"`,
# `"train_loss"`, `"valid_loss"`), as `Train.py` keeps it, and returns
# `(gaps, best_epoch)`: the gap of every epoch, and the epoch (counted from 1) whose
# weights early stopping keeps. The check runs it on an overfitting run, then on this
# notebook's `history`.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_gap_report


def gap_report(history):
    """Return (gaps, best_epoch) from a dict of per-epoch lists."""
    raise NotImplementedError  # your code here


check_gap_report(gap_report, history)
