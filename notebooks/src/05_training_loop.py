# %% [markdown] slideshow={"slide_type": "slide"}
# # 05 · The training loop
#
# Training is a loop that repeats four steps thousands of times: show the model a batch
# of images, measure how wrong it is, work out which way each weight should move, and
# move it a little. This notebook takes the loop apart on the apple photos, then puts
# it back together.
#
# **Time:** about 30 minutes. Follows the document's section **6. The Training Loop**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - epochs, batches and iterations: how many weight updates one pass over the data makes;
# - the forward pass: `outputs = model(inputs)`, logits, `torch.max(outputs, 1)`;
# - cross-entropy loss, by hand and by `nn.CrossEntropyLoss`, and why a confident wrong
#   answer costs so much;
# - the backward pass: `loss.backward()`, and which parameters get a gradient;
# - the optimizer: the update rule, Adam against SGD;
# - `optimizer.zero_grad()`, and what goes wrong without it;
# - one full epoch written by hand, then the library's `run_phase` and `fit`.
#
# The document's sub-sections, in order: *Epochs*, *Batches*, *Forward Pass*, *Loss
# Function*, *Backward Pass*, *Optimizer (Adam)*, *Gradient Management*.

# %% slideshow={"slide_type": "skip"}
import copy
import math

import matplotlib.pyplot as plt
import torch
from torch import nn, optim

from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import build_dataloaders
from leafdl.device import pick_device, tune_cpu_allocator
from leafdl.models import build_model

DEVICE = pick_device()  # the document's torch.device("cuda" if ... else "cpu"), plus Apple GPUs
tune_cpu_allocator()    # faster forward passes on a Linux CPU (see leafdl.device); fit() does it too
photos, split = apple_data()


def untrained_model() -> nn.Module:
    """The course's model with a fresh, untrained classifier: every demonstration starts from it."""
    torch.manual_seed(0)
    model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE, verbose=False)
    return model.to(DEVICE)


torch.manual_seed(0)
model, spec = build_model(num_classes=4, arch="efficientnet_lite0", img_size=COURSE_IMG_SIZE)
model = model.to(DEVICE)
loaders = build_dataloaders(split, spec, batch_size=32, num_workers=0)
torch.manual_seed(0)
first_batch = [tensor.to(DEVICE) for tensor in next(iter(loaders.train))]   # sections 3-7 look at this batch
print("classes:", loaders.classes)

# %% [markdown] slideshow={"slide_type": "notes"}
# The model is the one from notebook 04: EfficientNet-Lite0 with its bundled ImageNet
# weights, features frozen, a new 4-class classifier. We train at 128 px instead of the
# document's 224 px: about three times less computation per image, so an epoch takes
# seconds on a laptop CPU. The code is the same at any size (`leafdl train` uses 224).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Epochs
#
# ```python
# for epoch in range(EPOCHS):  # EPOCHS = 10
# ```
#
# One **epoch** is one complete pass through the training set: every training image is
# seen once. One pass is rarely enough: each weight update moves the weights only a small
# step, so the model needs to see the data several times. Too many passes and it starts
# to memorise the training images instead of learning what a disease looks like
# (overfitting; notebook 08 stops it in time).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Batches and iterations
#
# Within an epoch, the images come in **batches**; one batch processed (one weight
# update) is one **iteration**. An epoch has one iteration per batch, and the last batch
# takes whatever is left: the number of images divided by the batch size, **rounded up**.

# %% slideshow={"slide_type": "-"}
B_SIZE = 32
n_train, n_valid = len(loaders.train.dataset), len(loaders.valid.dataset)

print(f"document's example: ⌈1000 / {B_SIZE}⌉ = ⌈{1000 / B_SIZE}⌉ = {math.ceil(1000 / B_SIZE)} iterations;",
      f"the last batch holds {1000 - (math.ceil(1000 / B_SIZE) - 1) * B_SIZE} images")
print(f"our training set:   ⌈{n_train} / {B_SIZE}⌉ = {math.ceil(n_train / B_SIZE)} iterations;",
      f"len(loaders.train) = {len(loaders.train)}")
print(f"our validation set: ⌈{n_valid} / {B_SIZE}⌉ = {math.ceil(n_valid / B_SIZE)} iterations;",
      f"len(loaders.valid) = {len(loaders.valid)}")
print("validation batch sizes:", [len(labels) for _, labels in loaders.valid])
print(f"10 epochs of our data = {10 * len(loaders.train)} weight updates")
assert (n_train, len(loaders.train), n_valid, len(loaders.valid)) == (192, 6, 48, 2)

# %% [markdown] slideshow={"slide_type": "notes"}
# Our 192 training photos happen to fill exactly 6 batches; the 48 validation photos make
# one full batch of 32 and a last one of 16. A smaller last batch is normal, and it is why
# the library averages loss and accuracy *per image*, not per batch (section 8).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The forward pass
#
# ```python
# outputs = model(inputs)  # Shape: (batch_size, num_classes)
# _, preds = torch.max(outputs, 1)  # Get predicted class indices
# ```
#
# We take one batch from the training loader and send it through the model.

# %% slideshow={"slide_type": "subslide"}
model = untrained_model()
inputs, labels = first_batch          # one batch of 32 training photos
model.train()
outputs = model(inputs)
_, preds = torch.max(outputs, 1)

print("inputs: ", tuple(inputs.shape), " (batch, channels, height, width)")
print("labels: ", tuple(labels.shape), "          one class index per image")
print("outputs:", tuple(outputs.shape), "          one score (logit) per class per image")
print("preds:  ", tuple(preds.shape))
print("\nfirst 5 images:")
print("  logits                          pred  label")
for row, pred, label in zip(outputs[:5].tolist(), preds[:5].tolist(), labels[:5].tolist()):
    print("  " + " ".join(f"{value:6.1f}" for value in row), f"       {pred}     {label}")
print(f"correct on this batch: {(preds == labels).sum()} of {len(labels)}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The outputs are **logits**: raw scores, any real number, one per class. The largest
# logit is the prediction: `torch.max(outputs, 1)` returns the maximum along dimension 1
# (across the classes) and its index; we only need the index, hence `_, preds`. The new
# classifier is still random, so the predictions are guesses.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The loss: cross-entropy
#
# ```python
# criterion = nn.CrossEntropyLoss()
# loss = criterion(outputs, labels)
# ```
#
# The loss turns "how wrong" into one number that training can push down. Cross-entropy
# does it in two steps:
#
# 1. **softmax** turns the logits into probabilities: $\hat{y}_i = e^{z_i} / \sum_j e^{z_j}$,
#    positive and summing to 1;
# 2. **negative log likelihood**: $L = -\sum_i y_i \log(\hat{y}_i)$. With a one-hot label
#    $y$ (1 for the true class, 0 elsewhere) one term is left: $L = -\log$ (probability
#    of the true class).
#
# The batch's loss is the average over its images. Let us compute it by hand and compare.

# %% slideshow={"slide_type": "subslide"}
model, (inputs, labels) = untrained_model(), first_batch   # the state of section 3, again
outputs = model(inputs)
criterion = nn.CrossEntropyLoss()
loss = criterion(outputs, labels)

probabilities = torch.softmax(outputs, dim=1)                      # 1. softmax
p_true = probabilities[torch.arange(len(labels), device=DEVICE), labels]   # p of the true class
by_hand = -torch.log(p_true).mean()                                # 2. -log, averaged
one_hot = nn.functional.one_hot(labels, num_classes=4).float()
by_formula = -(one_hot * torch.log(probabilities)).sum(dim=1).mean()  # the document's formula

print(f"by hand (softmax, -log p, mean): {by_hand.item():.3f}")
print(f"the document's -sum(y log ŷ):     {by_formula.item():.3f}")
print(f"nn.CrossEntropyLoss:             {loss.item():.3f}")
print(f"guessing uniformly, -log(1/4):   {math.log(4):.3f}")
assert torch.allclose(by_hand, loss) and torch.allclose(by_formula, loss)   # all three agree
assert abs(loss.item() - math.log(4)) < 0.15                                # untrained: close to ln 4

# %% slideshow={"slide_type": "subslide"}
print("image  probabilities (softmax)   true class  p(true)  -log p")
for i in range(5):
    row = " ".join(f"{p:.2f}" for p in probabilities[i].tolist())
    print(f"{i:>5}  {row}   {labels[i].item():>10}   {p_true[i]:.2f}    {-torch.log(p_true[i]):.2f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# All three agree, and an untrained classifier scores close to $\ln 4 \approx 1.386$, the
# loss of guessing each class with probability 1/4: a sanity check for any first epoch.
# PyTorch computes the same thing in one numerically safer step, `log_softmax`, which is
# why `CrossEntropyLoss` wants raw logits: never apply softmax yourself before it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The loss by confidence
#
# Five predictions for an image of class 0, from confidently right to confidently wrong:

# %% slideshow={"slide_type": "-"}
cases = {
    "correct, high confidence": [0.97, 0.01, 0.01, 0.01],
    "correct, low confidence":  [0.40, 0.20, 0.20, 0.20],
    "unsure (uniform guess)":   [0.25, 0.25, 0.25, 0.25],
    "wrong":                    [0.10, 0.70, 0.10, 0.10],
    "wrong, high confidence":   [0.01, 0.97, 0.01, 0.01],
}
true_class = torch.tensor([0])
print(f"{'prediction':<26} {'probabilities':<26} {'p(true)':>7} {'loss':>6}")
table = []
for name, probs in cases.items():
    logits = torch.log(torch.tensor([probs]))   # logits whose softmax is exactly `probs`
    case_loss = criterion(logits, true_class).item()
    table.append((name, probs[0], case_loss))
    print(f"{name:<26} {str(probs):<26} {probs[0]:>7.2f} {case_loss:>6.2f}")
assert [round(case_loss, 2) for _, _, case_loss in table] == [0.03, 0.92, 1.39, 2.30, 4.61]

# %% slideshow={"slide_type": "subslide"} jupyter={"source_hidden": true}
p = torch.linspace(0.005, 1, 200)
plt.figure(figsize=(6, 3.5))
plt.plot(p, -torch.log(p), color="tab:blue", label="loss = -log p(true class)")
for name, p_case, case_loss in table:
    plt.plot(p_case, case_loss, "o", color="tab:red")
    right_edge = p_case > 0.8   # label to the left of the point, so it stays inside the plot
    plt.annotate(name, (p_case, case_loss), textcoords="offset points", xytext=(-8 if right_edge else 8, 6),
                 ha="right" if right_edge else "left", fontsize=8)
plt.xlabel("probability the model gives the true class")
plt.ylabel("cross-entropy loss")
plt.title("Cross-entropy punishes confident mistakes")
plt.grid(alpha=0.3)
plt.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# | Prediction | Loss |
# |---|---|
# | Correct (high confidence) | Low (0.03) |
# | Correct (low confidence) | Medium (0.92) |
# | Wrong | High (2.30, and 4.61 when confidently wrong) |

# %% [markdown] slideshow={"slide_type": "notes"}
# The printed table is the document's table of losses, with numbers. The curve is steep
# near 0: going from 10% to 1% on the true class costs as much again as going from 100%
# to 10%. Cross-entropy keeps pushing even on images the model already gets right (0.92
# is far from 0), and punishes confident mistakes hardest, which makes a classifier both
# accurate and honest about its confidence.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The backward pass
#
# ```python
# loss.backward()
# ```
#
# It fills each parameter's `.grad` with the slope $\partial L / \partial w$; frozen
# ones get none.

# %% [markdown] slideshow={"slide_type": "notes"}
# `backward` applies the chain rule from the loss back through every operation of the
# forward pass; the slope says how much the loss would change if that parameter grew a
# little. Only parameters with `requires_grad=True` get one: our features are frozen.

# %% slideshow={"slide_type": "-"}
model, (inputs, labels) = untrained_model(), first_batch   # a fresh start, so this cell can run again
loss = criterion(model(inputs), labels)
loss.backward()

with_grad = [(name, p) for name, p in model.named_parameters() if p.grad is not None]
without_grad = [name for name, p in model.named_parameters() if p.grad is None]
print(f"{len(with_grad)} parameter tensors received a gradient:")
for name, p in with_grad:
    print(f"  {name:<22} grad shape {tuple(p.grad.shape)}, largest |grad| {p.grad.abs().max():.2f}")
print(f"{len(without_grad)} parameter tensors have .grad = None (the frozen features), e.g. {without_grad[0]}")
skipped = sum(p.numel() for name, p in model.named_parameters() if p.grad is None)
print(f"frozen feature parameters skipped: {skipped:,} ({model.arch})")
assert [name for name, _ in with_grad] == ["classifier.1.weight", "classifier.1.bias"]
assert skipped == sum(p.numel() for p in model.features.parameters()) and round(skipped / 1e6, 1) == 3.4

# %% [markdown] slideshow={"slide_type": "notes"}
# Only the classifier's weight and bias got gradients; the 3.4 million frozen feature
# parameters of EfficientNet-Lite0 (MobileNetV2 has 2.2 million) were skipped entirely,
# which is why a frozen backbone trains fast:
#
# ```
# Loss
#   ↓ (backpropagate)
# Classifier weights ← gradient
#   ↓
# Feature weights ← gradient (if not frozen)   ← here: not computed
# ```

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The optimizer
#
# A gradient says which way is uphill; the optimizer takes a step downhill:
#
# $$w_{new} = w_{old} - \eta \cdot \nabla L$$
#
# with $\eta$ the learning rate. That is plain **SGD** (stochastic gradient descent:
# "stochastic" because each step uses the gradient of one random batch, not of the whole
# dataset).

# %% [markdown] slideshow={"slide_type": "notes"}
# To experiment with optimizers cheaply we use a shortcut. Because the features are
# frozen, they turn each image into the same 1280 numbers every time: we compute those
# once for our batch, and train fresh copies of a classifier layer on them. Each step then
# costs almost nothing.

# %% slideshow={"slide_type": "subslide"}
model, (batch_inputs, batch_labels) = untrained_model(), first_batch
model.eval()
with torch.no_grad():
    batch_features = model.features(batch_inputs).mean(dim=(2, 3))   # (32, 1280): what the classifier reads
print("features of the batch:", tuple(batch_features.shape))

torch.manual_seed(1)
start = nn.Linear(model.last_channel, 4).to(DEVICE)   # a fresh classifier layer; we train copies of it

# %% slideshow={"slide_type": "subslide"}
head = copy.deepcopy(start)
criterion(head(batch_features), batch_labels).backward()
w_old = head.weight.detach().clone()
moving = head.weight.grad != 0            # weights whose gradient is not exactly zero
optim.SGD(head.parameters(), lr=0.001).step()
print("SGD's step is w - lr * grad:", torch.allclose(head.weight, w_old - 0.001 * head.weight.grad))
steps = (head.weight - w_old).abs()[moving]
print(f"SGD step sizes:  from under 1e-6 to {steps.max():.1e} (proportional to each gradient)")
assert steps.min() < 1e-6

# %% slideshow={"slide_type": "-"}
head = copy.deepcopy(start)
criterion(head(batch_features), batch_labels).backward()
optim.Adam(head.parameters(), lr=0.001).step()
steps = (head.weight - w_old).abs()[moving]
print(f"Adam step sizes: from {steps.min():.1e} to {steps.max():.1e} (the first step: lr for every weight)")
print(f"({(~moving).sum().item()} of {moving.numel()} weights had a zero gradient and did not move: their feature",
      "is 0 for all 32 images)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# SGD moves each weight in proportion to its gradient, so weights with small gradients
# barely move. **Adam** (the document's choice, `optim.Adam(model.classifier.parameters(),
# lr=0.001)`) divides each gradient by a running average of its own size, so every
# weight moves by roughly the learning rate: an *adaptive learning rate per parameter*.
# It also averages gradients over steps (*momentum*), which smooths the noise of single
# batches. On its first step this gives exactly `lr` per weight, as printed above.
#
# | Optimizer | Description |
# |---|---|
# | SGD | Basic gradient descent |
# | SGD + Momentum | Accelerates in consistent directions |
# | Adam | Adaptive learning rates |
#
# A race: the same start, the same batch, 50 steps each, all with lr 0.001.

# %% slideshow={"slide_type": "subslide"}
optimizers = {
    "SGD": lambda params: optim.SGD(params, lr=0.001),
    "SGD + momentum 0.9": lambda params: optim.SGD(params, lr=0.001, momentum=0.9),
    "Adam": lambda params: optim.Adam(params, lr=0.001),
}


# %% slideshow={"slide_type": "-"}
def race(make_optimizer, steps: int = 50) -> list:
    """Train a copy of `start` on the batch's features; return the loss before each step."""
    head = copy.deepcopy(start)
    optimizer = make_optimizer(head.parameters())
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        step_loss = criterion(head(batch_features), batch_labels)
        step_loss.backward()
        optimizer.step()
        losses.append(step_loss.item())
    return losses


# %% slideshow={"slide_type": "subslide"}
curves = {name: race(make) for name, make in optimizers.items()}
for name, values in curves.items():
    print(f"{name:<20} loss {values[0]:.2f} → {values[-1]:.2f} after 50 steps")
final = {name: values[-1] for name, values in curves.items()}
assert final["SGD"] > final["SGD + momentum 0.9"] > final["Adam"]   # SGD crawls, momentum helps, Adam fastest

# %% slideshow={"slide_type": "subslide"} jupyter={"source_hidden": true}
plt.figure(figsize=(6, 3.5))
for name, values in curves.items():
    plt.plot(range(1, 51), values, label=name)
plt.xlabel("step")
plt.ylabel("training loss on the batch")
plt.title("Same start, same data, lr = 0.001")
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# With the same learning rate, plain SGD crawls, momentum helps, and Adam is fastest.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Can plain SGD catch up? Only with a learning rate tuned for it, here a hundred times
# larger:

# %% slideshow={"slide_type": "-"}
sgd_final = {lr: race(lambda params: optim.SGD(params, lr=lr))[-1] for lr in (0.01, 0.1)}
for lr, value in sgd_final.items():
    print(f"SGD, lr {lr:<5} loss after 50 steps: {value:.2f}")
print(f"Adam, lr 0.001 loss after 50 steps: {final['Adam']:.2f}")
assert sgd_final[0.01] > final["Adam"] + 0.1 and sgd_final[0.1] <= final["Adam"] + 0.01   # 0.1 catches up

# %% [markdown] slideshow={"slide_type": "notes"}
# Ten times SGD's rate (0.01) is still behind Adam; a hundred times (0.1) catches up.
# Each optimizer needs its own learning rate, and Adam "generally works well
# out-of-the-box" with 0.001, which is why the document uses it. (Fitting one batch this
# well is memorising 32 images; real training spreads the steps over all batches, and
# checks on validation images.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. `zero_grad`: gradients accumulate
#
# ```python
# optimizer.zero_grad()  # Reset gradients before backward pass
# ```
#
# `backward()` does not *write* `.grad`, it **adds** to it (on purpose: it lets you sum
# gradients over several small batches when one big batch does not fit in memory). The
# document's illustration, with a real parameter: batch 1 gives the gradient 0.5, batch 2
# gives 0.3.

# %% slideshow={"slide_type": "-"}
w = torch.tensor(1.0, requires_grad=True)
optimizer = optim.SGD([w], lr=0.1)

(0.5 * w).backward()
print("after batch 1:                 w.grad =", w.grad.item())
(0.3 * w).backward()
print(f"after batch 2, no zero_grad:   w.grad = {w.grad.item():.1f}   ← 0.5 + 0.3: wrong!")

optimizer.zero_grad()
print("after optimizer.zero_grad():   w.grad =", w.grad)
(0.3 * w).backward()
print(f"after batch 2, with zero_grad: w.grad = {w.grad.item():.1f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# (`zero_grad()` sets `.grad` to `None` rather than to zeros: it saves memory, and the
# next `backward()` simply creates it.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same on our classifier: backward twice on the same batch, without zeroing, and
# every gradient is exactly doubled. An optimizer step would be twice too large, and over
# an epoch the "gradient" would be a sum over all the batches seen so far.

# %% slideshow={"slide_type": "-"}
head = copy.deepcopy(start)
criterion(head(batch_features), batch_labels).backward()
once = head.weight.grad.clone()
criterion(head(batch_features), batch_labels).backward()
print(f"size of the gradient after 1 backward call:  {once.norm():.2f}")
print(f"size of the gradient after 2 backward calls: {head.weight.grad.norm():.2f}")
print("every entry exactly doubled:", torch.allclose(head.weight.grad, 2 * once))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. One full epoch, by hand
#
# The pieces together: the training phase of the document's Train.py, from a fresh
# classifier, printing one line per batch.

# %% [markdown] slideshow={"slide_type": "notes"}
# `model.train()` switches on the classifier's dropout; notebook 06 explains train and
# eval modes, and why the library calls `leafdl.models.set_train_mode(model)` instead.

# %% slideshow={"slide_type": "-"}
model = untrained_model()
loaders.train.generator.manual_seed(0)     # the same order of photos each time this cell runs
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.classifier.parameters(), lr=0.001)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-ignore-output"]
model.train()
running_loss, running_corrects = 0.0, 0
for batch, (inputs, labels) in enumerate(loaders.train, start=1):
    inputs, labels = inputs.to(DEVICE), labels.to(DEVICE)
    optimizer.zero_grad()                  # 1. forget the last batch's gradients
    outputs = model(inputs)                # 2. forward pass
    loss = criterion(outputs, labels)      # 3. how wrong?
    loss.backward()                        # 4. gradients of the classifier
    optimizer.step()                       # 5. update the classifier
    _, preds = torch.max(outputs, 1)
    running_loss += loss.item() * inputs.size(0)           # per image, not per batch
    running_corrects += (preds == labels).sum().item()
    print(f"batch {batch}/{len(loaders.train)}: loss {loss.item():.2f}")

print(f"epoch 1: train loss {running_loss / n_train:.4f}, train accuracy {running_corrects / n_train:.3f}")
assert len(loaders.train) == 6 and 1.0 < running_loss / n_train < math.log(4)   # 6 updates; a little below ln 4

# %% [markdown] slideshow={"slide_type": "notes"}
# The epoch's average loss is only a little below $\ln 4 = 1.39$: the first batches were
# pure guesses, and only 6 weight updates happened, so the model has barely started.
# (`loss.item() * inputs.size(0)` adds up the loss of every image; dividing by the number
# of images gives the true average even when the last batch is smaller.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. The library version: `run_phase` and `fit`
#
# `leafdl.engine.run_phase` is this loop, for either phase: with `phase="train"` it
# learns as above; with `phase="valid"` it computes no gradients and changes no weight.
# Here it measures the epoch we just trained on the validation images:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.engine import run_phase

model.eval()
valid = run_phase(model, loaders.valid, criterion, DEVICE, "valid", progress=False)
print(f"after 1 epoch: valid loss {valid.loss:.4f}, valid accuracy {valid.accuracy:.3f} ({valid.samples} images)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# `leafdl.engine.fit` is the whole of Train.py's loop: each epoch a training and a
# validation phase, then the scheduler (notebook 07), keeping the best weights (09) and
# early stopping (08). It prints one line per epoch and returns a `History`. Three
# epochs, from a fresh model:

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.config import TrainConfig
from leafdl.engine import fit

fitted_model = untrained_model()
config = TrainConfig(epochs=3, img_size=COURSE_IMG_SIZE)
history = fit(fitted_model, loaders, config, device=DEVICE, progress=False)   # one line per epoch, no progress bars

# %% [markdown] slideshow={"slide_type": "notes"}
# Each line is one epoch: the training phase's loss and accuracy (augmented images,
# dropout on), then the validation phase's (plain images, no dropout), and the learning
# rate. `*best*` marks a new best validation accuracy. The returned `History` keeps it all:

# %% slideshow={"slide_type": "fragment"} tags=["nbval-ignore-output"]
print("train loss:", [round(value, 3) for value in history.train_loss])
print("valid acc: ", [round(value, 3) for value in history.valid_acc])
print("best epoch:", history.best_epoch, f"(valid accuracy {history.best_valid_acc:.3f})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - An **epoch** is one pass over the training set; an **iteration** is one batch;
#   an epoch has ⌈N / batch size⌉ iterations (⌈1000/32⌉ = 32; ours: 6).
# - **Forward**: `outputs = model(inputs)` gives logits of shape (batch, classes);
#   `_, preds = torch.max(outputs, 1)` the predicted classes.
# - **Cross-entropy** = softmax, then −log of the true class's probability, averaged;
#   ln 4 ≈ 1.39 for a 4-class guess; confident mistakes cost the most.
# - **Backward**: `loss.backward()` fills `.grad`, only for parameters that require it
#   (here: the classifier's weight and bias).
# - **Optimizer**: `w ← w − lr·grad` for SGD; Adam adapts the step per parameter and
#   works well with lr = 0.001.
# - **`optimizer.zero_grad()`** before every backward pass: gradients add up otherwise.
# - `leafdl.engine.run_phase` is one phase of the loop; `leafdl.engine.fit` the whole run.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** A dataset has **1,500** training images and you use a batch size of
# **64**. How many iterations (weight updates) does one epoch have?

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_iterations_per_epoch

answer = None  # your answer here
check_iterations_per_epoch(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** A 3-class model outputs the logits `[2.0, 1.0, 0.1]` for an image of
# class **1**. What is its cross-entropy loss? Compute it with softmax and −log (by hand or
# with `torch`), then check it with `nn.CrossEntropyLoss`.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_cross_entropy

answer = None  # your answer here
check_cross_entropy(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3** (code). Write the training phase of one epoch as a function:
# `train_one_epoch(model, loader, criterion, optimizer)` trains the model on every batch
# of `loader` once and returns `(mean_loss, accuracy)` over the **images** of the epoch.
# Careful: the last batch can be smaller than the others, and the model you get may
# still be in evaluation mode from a validation phase. The check runs your function on a
# tiny CNN and 12 demo leaves (batches of 5, 5 and 2), and compares the weights it leaves
# behind and the numbers it returns with the document's loop.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_train_one_epoch


def train_one_epoch(model, loader, criterion, optimizer):
    """Train on every batch of loader once; return (mean loss per image, accuracy)."""
    raise NotImplementedError  # your code here


check_train_one_epoch(train_one_epoch)
