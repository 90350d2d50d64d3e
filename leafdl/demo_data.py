"""The demo leaves: a synthetic stand-in for PlantVillage's apple leaf photos.

The course trains on PlantVillage's apple classes: photos of one detached leaf lying on a
plain grey-blue board, taken indoors, sorted into four folders::

    Apple_scab/  Black_rot/  Cedar_apple_rust/  Healthy/

The real photos are a download of hundreds of megabytes, and students often work offline,
on a laptop, without a GPU. So this module *draws* a look-alike data set in a few seconds:
same folder layout, same kind of picture (256x256 RGB JPEG), the same four classes:

* **Apple scab**: olive-brown to black velvety blotches with feathery edges;
* **Black rot** ("frog-eye leaf spot"): round lesions with a tan-brown centre,
  concentric rings and a purple margin, and sometimes a large brown patch at the edge;
* **Cedar apple rust**: bright yellow-orange spots with a reddish border, a yellow
  halo and tiny dark dots in the centre;
* **Healthy**: a clean leaf, now and then with a harmless pale speck.

Everything a real photo varies in is varied too, and *independently of the class*:
the leaf's outline, size, angle and position, its green (fresh to yellowing), its veins,
the board's tone, the light and the shadow. That matters: if, say, all rust leaves were
yellower, a model could learn "yellow means rust" instead of looking at the spots. A
check in the tests makes sure that a model which sees only each image's average colour
cannot tell the classes apart; a pretrained CNN, which sees the lesions, can.

Each image gets its own random generator, made from ``(seed, class, index)``. So the
same seed always gives the same files, and asking for more images per class only adds
files: ``per_class=10`` gives exactly the first ten files of ``per_class=100``.

Example:
    >>> from leafdl.demo_data import make_demo_dataset
    >>> make_demo_dataset("data/demo", per_class=100)      # a few seconds
    PosixPath('data/demo')

    >>> import numpy as np
    >>> from leafdl.demo_data import draw_leaf
    >>> image = draw_leaf("Black_rot", np.random.default_rng(0))
    >>> image.size, image.mode
    ((256, 256), 'RGB')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from leafdl.progress import tqdm

from leafdl.errors import LeafdlError, OptionError
from leafdl.files import atomic_write, atomic_write_json, remove_stale_temporaries
from leafdl.locks import output_lock

DEMO_CLASSES: tuple[str, ...] = ("Apple_scab", "Black_rot", "Cedar_apple_rust", "Healthy")

# File names inside each class folder: Apple_scab/scab_0000.jpg, ...
FILE_PREFIXES: dict[str, str] = {
    "Apple_scab": "scab",
    "Black_rot": "black_rot",
    "Cedar_apple_rust": "rust",
    "Healthy": "healthy",
}

# The marker that says "this folder was made by make_demo_dataset, it may be redrawn".
MARKER_FILE = ".leafdl-demo.json"

# Raised whenever the drawing code changes what it draws, so folders drawn by an older
# version are recognised (leafdl.course redraws them).
DRAWING_VERSION = 1

# Pinned, so that the same seed gives byte-identical files.
JPEG_QUALITY = 90

Colour = tuple[float, float, float]


# --------------------------------------------------------------------------------------
# Small helpers: random numbers, random fields, soft steps, colour mixing
# --------------------------------------------------------------------------------------
# Pictures are float32 arrays of colour *planes*, shape (3, height, width), values 0..1:
# red, green and blue each as one (height, width) plane. Multiplying a picture by a
# (height, width) map of brightness then needs no [..., None] and is many times faster
# than with the usual (height, width, 3) layout. A single colour is a (3, 1, 1) array.
# Random scalars become Python floats (_between): a NumPy float64 scalar would quietly
# turn float32 arrays into slower float64 ones.


def _between(rng: np.random.Generator, low: float, high: float) -> float:
    """A uniform random number in [low, high), as a plain Python float."""
    return float(rng.uniform(low, high))


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], feature: float) -> np.ndarray:
    """A soft random field in [-1, 1] whose blobs are about ``feature`` pixels across.

    A coarse grid of random numbers, blown up to ``shape`` with bicubic interpolation
    (as 8-bit grey levels: plenty for noise, and several times faster than floats).
    """
    height, width = shape
    coarse = rng.integers(0, 256, (max(2, round(height / feature)), max(2, round(width / feature))), np.uint8)
    smooth = Image.fromarray(coarse).resize((width, height), Image.BICUBIC)
    return np.asarray(smooth, dtype=np.float32) * (2 / 255) - 1.0


def _ramp(x: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 at ``start``, 1 at ``end``, linear in between (works for start > end too)."""
    return np.clip((x - start) * (1.0 / (end - start)), 0.0, 1.0)


def _rgb(rgb) -> np.ndarray:
    """An (r, g, b) colour as a (3, 1, 1) array, ready to combine with colour planes."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return rgb.reshape(3, 1, 1) if rgb.ndim == 1 else rgb


def _mix(a, b, t) -> np.ndarray:
    """Linear blend of two colours: ``t=0`` gives ``a``, ``t=1`` gives ``b``.

    ``a`` and ``b`` are (r, g, b) colours or colour planes; ``t`` is a number or a map
    of weights, one per pixel.
    """
    a, b = _rgb(a), _rgb(b)
    blend = (b - a) * np.asarray(t, dtype=np.float32)
    blend += a
    return blend


def _paint(canvas: np.ndarray, where: tuple[slice, slice], colour, alpha: np.ndarray) -> None:
    """Paint ``colour`` over the pixels ``where`` of ``canvas``, with opacity ``alpha`` (in place).

    ``where`` is a pair of slices (rows, columns); ``alpha`` has that region's shape.
    """
    region = canvas[(slice(None), *where)]
    change = _rgb(colour) - region
    change *= alpha
    region += change


def _paint_spot(canvas: np.ndarray, where, halo_colour, halo_alpha, colour, alpha) -> None:
    """Paint a spot and the halo around it in one go (in place).

    The result is the spot where it is stronger than its halo and the halo elsewhere,
    which looks like painting the halo first and the spot over it, at half the cost.
    """
    total = np.maximum(halo_alpha, alpha)
    _paint(canvas, where, _mix(halo_colour, colour, alpha / np.maximum(total, 1e-6)), total)


def _patch(x: float, y: float, reach: float, canvas: np.ndarray):
    """The square of pixels within ``reach`` of ``(x, y)``, clipped to the canvas.

    Returns ``(where, dx, dy)``: the rows and columns (slices) of the square and the
    offsets of its pixels from ``(x, y)`` (a row and a column; they broadcast), or
    ``None`` when the square lies outside the canvas.
    """
    height, width = canvas.shape[-2:]
    x0, x1 = max(int(x - reach), 0), min(int(x + reach) + 2, width)
    y0, y1 = max(int(y - reach), 0), min(int(y + reach) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return None
    dx = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(x)
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(y)
    return (slice(y0, y1), slice(x0, x1)), dx, dy


_ANGLES = 256  # an irregular outline is stored as its radius at this many angles


def _irregular_outline(
    rng: np.random.Generator, harmonics: int, roughness: float, decay: float = 1.0
) -> np.ndarray:
    """Radius (around 1) of an irregular blob at ``_ANGLES`` angles.

    ``1 + sum_k a_k cos(k angle + phase_k)``: a few harmonics give a lumpy round spot;
    many, slowly decaying ones give a ragged, feathery edge.
    """
    k = np.arange(1, harmonics + 1, dtype=np.float32)
    angle = np.linspace(0.0, 2 * np.pi, _ANGLES, endpoint=False, dtype=np.float32)
    amplitude = (rng.normal(0.0, roughness, harmonics) / k**decay).astype(np.float32)
    phase = rng.uniform(0.0, 2 * np.pi, harmonics).astype(np.float32)
    return np.maximum(1.0 + np.cos(angle[:, None] * k + phase) @ amplitude, 0.3)


def _relative_radius(dx: np.ndarray, dy: np.ndarray, radius: float, outline: np.ndarray) -> np.ndarray:
    """Each pixel's distance from a spot's centre as a fraction of the spot's (irregular)
    radius in that direction: below 1 inside the spot, 1 on its edge."""
    index = (np.arctan2(dy, dx) * (_ANGLES / (2 * np.pi))).astype(np.int32) % _ANGLES
    return np.sqrt(dx * dx + dy * dy) / (radius * outline[index])


# --------------------------------------------------------------------------------------
# The board the leaf lies on, and the light
# --------------------------------------------------------------------------------------

# PlantVillage boards (measured on the reference photos): lavender, blue-lavender,
# a neutral grey and a warm grey.
_BOARD_TONES: tuple[Colour, ...] = (
    (0.56, 0.53, 0.65),
    (0.50, 0.50, 0.62),
    (0.50, 0.49, 0.51),
    (0.52, 0.48, 0.45),
)


def _board_background(rng: np.random.Generator, grain: np.ndarray) -> np.ndarray:
    """A plain board: one random tone, a faint blotchy unevenness and a fine grain.

    ``grain`` is a fine random texture in [0, 1], one value per pixel.
    """
    size = grain.shape[0]
    weights = rng.dirichlet(np.full(len(_BOARD_TONES), 0.5))
    tone = _rgb(weights @ np.asarray(_BOARD_TONES)) * _between(rng, 0.72, 1.35)
    unevenness = 1.0 + _between(rng, 0.02, 0.06) * _smooth_noise(rng, (size, size), size / 5)
    unevenness += 0.05 * (grain - 0.5)
    return tone * unevenness


def _cast_shadow(board: np.ndarray, leaf: _Leaf, rng: np.random.Generator) -> None:
    """Darken the board under a soft, shifted copy of the leaf's silhouette (in place)."""
    size = board.shape[-1]
    angle = _between(rng, 0.0, 2 * np.pi)
    distance = _between(rng, 1.0, 12.0) * size / 256
    blur = _between(rng, 2.0, 7.0) * size / 256
    strength = _between(rng, 0.2, 0.7)
    silhouette = Image.fromarray((leaf.alpha * 255).astype(np.uint8))
    shift_x, shift_y = round(distance * math.cos(angle)), round(distance * math.sin(angle))
    shadow = Image.new("L", (size, size), 0)
    shadow.paste(silhouette, (leaf.box[1].start + shift_x, leaf.box[0].start + shift_y))
    # A blurred shadow has no fine detail: blur it at half size (four times faster).
    shadow = shadow.reduce(2).filter(ImageFilter.GaussianBlur(blur / 2)).resize((size, size), Image.BILINEAR)
    board *= 1.0 - (strength / 255.0) * np.asarray(shadow, dtype=np.float32)


def _lighting(photo: np.ndarray, rng: np.random.Generator) -> None:
    """The lamp and the camera: exposure, white balance, uneven light, vignetting (in place).

    Applied to the whole photo, leaf and board alike, and drawn the same way for every
    class, so that brightness and tint say nothing about the disease.
    """
    size = photo.shape[-1]
    coords = (np.arange(size, dtype=np.float32) - size / 2) / size
    angle = _between(rng, 0.0, 2 * np.pi)
    tilt = _between(rng, 0.0, 0.4)
    light = 1.0 + tilt * (coords[None, :] * math.cos(angle) + coords[:, None] * math.sin(angle))
    light -= _between(rng, 0.0, 0.4) * (coords[None, :] ** 2 + coords[:, None] ** 2)
    white_balance = 1.0 + rng.normal(0.0, 0.035, 3)
    exposure = _between(rng, 0.75, 1.25)
    photo *= light
    photo *= _rgb(white_balance * exposure)


# --------------------------------------------------------------------------------------
# The leaf: outline, colour, veins
# --------------------------------------------------------------------------------------


@dataclass
class _Leaf:
    """Where one leaf lies in the picture, and the leaf's own coordinates for each pixel.

    The leaf is painted on a *canvas*: the part of the picture inside the leaf's bounding
    box (painting only there saves time). On the canvas, ``u`` runs along the midrib (0 at
    the base of the blade, 1 at the tip, negative on the stalk), ``v`` across it (0 on the
    midrib, in leaf lengths, signed) and ``edge`` says how far out a pixel lies (0 on the
    midrib, 1 on the edge). Veins, shading and lesions are drawn in these coordinates.
    """

    size: int  # width and height of the whole picture
    box: tuple[slice, slice]  # the canvas: its rows and columns in the picture
    # Canvas-shaped maps, one value per pixel:
    alpha: np.ndarray  # 1 on the leaf, 0 on the board, in between along the edge
    u: np.ndarray
    v: np.ndarray
    edge: np.ndarray
    length: float  # of the blade, in pixels
    half_width: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (u, v) -> |v| of the edge
    to_canvas: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (u, v) -> (x, y)

    @property
    def pixel(self) -> float:
        """One pixel of a 256-pixel picture, in this picture's pixels."""
        return self.size / 256


def _half_width_profile(rng: np.random.Generator) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The blade's half-width along the midrib: ovate to elliptic, with a pointed tip.

    ``u**a * (1 - u)**b`` is round at the base (small ``a``) and blunt at the tip
    (``b`` below 1); the factor ``1 - exp(-(1 - u) / tip)`` then draws the tip out to a
    short point. The two halves differ a little, and a few slow waves make every
    leaf's outline its own. ``v`` only says which half (its sign).
    """
    a = _between(rng, 0.3, 0.75)
    b = _between(rng, 0.45, 0.95)
    tip = _between(rng, 0.04, 0.14)
    t = np.linspace(0.0, 1.0, 201)
    peak = float(np.max(t**a * (1 - t) ** b * (1 - np.exp(-(1 - t) / tip))))
    widths = _between(rng, 0.27, 0.42) * (1.0 + rng.uniform(-0.07, 0.07, 2))
    left, right = np.float32(widths[0] / peak), np.float32(widths[1] / peak)
    waves = [(float(rng.normal(0.0, 0.03)), k * np.pi, _between(rng, 0, 2 * np.pi)) for k in (1, 2, 3)]

    def half_width(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        t = np.clip(u, 0.0, 1.0)
        shape = t**a * (1.0 - t) ** b * (1.0 - np.exp((t - 1.0) * (1.0 / tip)))
        for amount, frequency, phase in waves:
            shape = shape * (1.0 + amount * np.sin(frequency * t + phase))
        return np.where(v > 0, right, left) * shape

    return half_width


def _leaf_outline(
    rng: np.random.Generator, half_width: Callable, midrib_bend: float
) -> tuple[np.ndarray, np.ndarray]:
    """The blade's outline in leaf coordinates ``(u, v)``, with a serrated edge.

    Apple leaves are serrate: small teeth that point towards the tip. Walking along the
    edge, the outline creeps outwards and drops back at each tooth (a sawtooth); some
    leaves have rounder teeth (crenate). Teeth fade out at the base and at the tip.
    """
    teeth = int(rng.integers(28, 50))
    depth = _between(rng, 0.005, 0.012)
    rounded = rng.random() < 0.3
    u = np.linspace(0.0, 1.0, teeth * 10 + 1)
    sides = []
    for side, shift in ((1.0, 0.0), (-1.0, float(rng.random()))):
        along = (u * teeth + shift) % 1.0
        saw = np.sin(np.pi * along) ** 0.7 if rounded else (1.0 - along) ** 1.5
        fade = _ramp(u, 0.03, 0.15) * _ramp(u, 0.995, 0.93)
        edge = np.maximum(half_width(u, np.full_like(u, side)) - depth * saw * fade, 0.0)
        sides.append(midrib_bend * np.sin(np.pi * u) + side * edge)
    return np.concatenate([u, u[::-1]]), np.concatenate([sides[0], sides[1][::-1]])


def _petiole(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """The leaf stalk behind the base, slightly curved, in leaf coordinates.

    Returns its points and its width (in leaf lengths); now and then it was snapped off.
    """
    length = _between(rng, 0.12, 0.35) if rng.random() < 0.85 else _between(rng, 0.02, 0.06)
    curve = float(rng.normal(0.0, 0.6))
    u = np.linspace(0.03, -length, 12)
    return u, curve * u**2, _between(rng, 0.011, 0.02)


def _place_leaf(rng: np.random.Generator, size: int) -> _Leaf:
    """Choose the leaf's shape, size, angle and place; rasterise its silhouette.

    The silhouette is drawn at twice the size and shrunk, which smooths its edge.
    """
    half_width = _half_width_profile(rng)
    bend = float(rng.normal(0.0, 0.025))
    blade_u, blade_v = _leaf_outline(rng, half_width, bend)
    stalk_u, stalk_v, stalk_width = _petiole(rng)

    length = _between(rng, 0.74, 0.98) * size
    angle = _between(rng, 0.0, 2 * np.pi)
    cos, sin = math.cos(angle), math.sin(angle)

    def rotate(u, v):
        return length * (u * cos - v * sin), length * (u * sin + v * cos)

    xs, ys = rotate(np.concatenate([blade_u, stalk_u]), np.concatenate([blade_v, stalk_v]))
    x0, y0 = _leaf_offset(rng, xs, ys, size)

    # The canvas: the leaf's bounding box, clipped to the picture.
    margin = stalk_width * length + 2
    left, right = max(int(xs.min() + x0 - margin), 0), min(int(xs.max() + x0 + margin) + 1, size)
    top, bottom = max(int(ys.min() + y0 - margin), 0), min(int(ys.max() + y0 + margin) + 1, size)
    box = (slice(top, bottom), slice(left, right))
    x0 -= left
    y0 -= top

    def to_canvas(u, v):
        x, y = rotate(u, v)
        return x + x0, y + y0

    def twice(u, v):  # canvas points at twice the size, as a list for ImageDraw
        x, y = to_canvas(u, v)
        return list(zip((2 * x).tolist(), (2 * y).tolist()))

    # The silhouette, drawn at twice the size and shrunk: that smooths its edge.
    big = Image.new("L", (2 * (right - left), 2 * (bottom - top)), 0)
    draw = ImageDraw.Draw(big)
    draw.polygon(twice(blade_u, blade_v), fill=255)
    draw.line(twice(stalk_u, stalk_v), fill=255, width=max(2, round(2 * stalk_width * length)), joint="curve")
    if rng.random() < 0.2:  # an insect bite or a tear at the edge, on any class
        bite_u = np.asarray(_between(rng, 0.25, 0.9))
        side = np.asarray(float(rng.choice([-1.0, 1.0])))
        ((cx, cy),) = twice(bite_u[None], bend * np.sin(np.pi * bite_u[None]) + side * half_width(bite_u, side))
        r = 2 * length * _between(rng, 0.02, 0.05)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=0)
    alpha = np.asarray(big.reduce(2), dtype=np.float32) * (1 / 255)

    u, v, edge = _leaf_coordinates((bottom - top, right - left), (x0, y0), angle, length, bend, half_width)
    return _Leaf(size, box, alpha, u, v, edge, length, half_width, to_canvas)


def _leaf_offset(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, size: int) -> tuple[float, float]:
    """Where to move the leaf's points ``(xs, ys)`` so that it lies in a ``size`` picture.

    Inside the picture with a random margin where it fits, else centred (and cut off a bit).
    """
    shift = []
    for low, high in ((xs.min(), xs.max()), (ys.min(), ys.max())):
        slack = size - 4 - (high - low)
        start = 2 + _between(rng, 0.0, slack) if slack > 0 else (size - (high - low)) / 2
        shift.append(float(start - low))
    return shift[0], shift[1]


def _leaf_coordinates(shape: tuple[int, int], origin: tuple[float, float], angle: float, length: float,
                      bend: float, half_width: Callable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leaf coordinates ``u``, ``v`` and ``edge`` (see :class:`_Leaf`) of every canvas pixel.

    ``shape`` is the canvas's (rows, columns); ``origin`` is where the leaf's base lies on
    it, ``angle`` its direction and ``bend`` the curve of its midrib. This undoes the
    placement and the rotation of :func:`_place_leaf`.
    """
    cos, sin = math.cos(angle), math.sin(angle)
    dx = np.arange(shape[1], dtype=np.float32)[None, :] - origin[0]
    dy = np.arange(shape[0], dtype=np.float32)[:, None] - origin[1]
    u = (dx * cos + dy * sin) * (1 / length)
    v = (dy * cos - dx * sin) * (1 / length)
    v -= bend * np.sin(np.pi * np.clip(u, 0.0, 1.0))

    # How far out each pixel lies, 0 on the midrib and 1 on the edge. The half-width is
    # looked up in a table of 1024 steps along the midrib: much faster than the formula.
    steps = np.linspace(0.0, 1.0, 1025, dtype=np.float32)
    table = np.stack([half_width(steps, -steps), half_width(steps, steps)])
    step = (np.clip(u, 0.0, 1.0) * 1024.0 + 0.5).astype(np.int32)
    edge = np.minimum(np.abs(v) / np.maximum(table[(v > 0).astype(np.int32), step], 1e-3), 1.0)
    return u, v, edge


# Leaf greens (measured on the reference photos), chosen independently of the disease:
# a dark green, a mid green, the bluish green of a cool lamp or a glossy leaf, and the
# yellow-green of an ageing leaf.
_DARK_GREEN: Colour = (0.19, 0.29, 0.18)
_MID_GREEN: Colour = (0.31, 0.46, 0.25)
_BLUE_GREEN: Colour = (0.33, 0.47, 0.44)
_YELLOWING: Colour = (0.46, 0.52, 0.16)
_SHEEN: Colour = (0.62, 0.70, 0.72)
_PALE_VEIN: Colour = (0.66, 0.74, 0.45)


def _leaf_colour(leaf: _Leaf, rng: np.random.Generator) -> np.ndarray:
    """The blade's colour on the canvas, before veins, lesions and relief.

    A base green (fresh to yellowing, independent of the class), patchy yellowing and a
    glossy sheen where the leaf catches the lamp.
    """
    shape = leaf.u.shape
    green = _mix(_DARK_GREEN, _MID_GREEN, float(rng.random()))
    green = _mix(green, _BLUE_GREEN, _between(rng, 0.0, 0.7) * (rng.random() < 0.6))
    yellowing = float(rng.beta(1.0, 3.0)) * 0.9
    patchy = yellowing + _between(rng, 0.0, 0.25) * _smooth_noise(rng, shape, 40 * leaf.pixel)
    colour = _mix(green, _YELLOWING, np.clip(patchy, 0.0, 1.0))
    sheen = _between(rng, 0.0, 0.35) * np.square(np.maximum(_smooth_noise(rng, shape, 60 * leaf.pixel), 0.0))
    colour += (_rgb(_SHEEN) - green) * sheen
    return colour


def _leaf_relief(leaf: _Leaf, rng: np.random.Generator, texture: np.ndarray) -> np.ndarray:
    """Brightness factor of the leaf's surface (around 1), to multiply the colour with.

    One half is a bit brighter than the other (the leaf is folded along its midrib), the
    rim is darker or lighter (curl), and the surface is mottled, bumpy and grainy.
    """
    fold = _between(rng, -0.15, 0.15) * np.tanh(leaf.v * (leaf.length / 5.0))
    curl = _between(rng, -0.15, 0.12) * np.square(np.square(leaf.edge))
    mottle = _between(rng, 0.03, 0.08) * _smooth_noise(rng, leaf.u.shape, 20 * leaf.pixel)
    bumps = _between(rng, 0.02, 0.06) * _smooth_noise(rng, leaf.u.shape, 3 * leaf.pixel)
    return 1.0 + fold + curl + mottle + bumps + 0.06 * (texture - 0.5)


def _draw_veins(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator) -> np.ndarray:
    """Midrib, lateral veins and the fine net of small veins, in a pale green (in place).

    Lateral veins leave the midrib at 40-60 degrees and curve towards the tip: they are
    the lines where the phase ``(u - k|v| - c v^2) * n`` is a whole number, with a little
    noise in the phase so that they do not look ruled. The fine net of small veins is
    where a random field crosses zero.

    Returns the quilting: how much darker the blade is near the veins, as it bulges
    slightly between them (multiply it in with the relief).
    """
    u, v, edge, length, pixel = leaf.u, leaf.v, leaf.edge, leaf.length, leaf.pixel
    across = np.abs(v)
    on_blade = _ramp(u, 0.0, 0.03) * _ramp(u, 1.0, 0.9)

    midrib_width = (_between(rng, 0.9, 1.7) * (1.0 - 0.7 * np.clip(u, 0.0, 1.0)) + 0.35) * pixel
    midrib = np.exp(-np.square(across * length / midrib_width)) * on_blade

    count = _between(rng, 6.0, 10.0)
    slope = _between(rng, 0.6, 1.2)
    sweep = _between(rng, 0.5, 3.0)
    phase = (u - slope * across - sweep * v * v) * count
    phase += np.where(v > 0, np.float32(0.0), np.float32(_between(rng, 0.3, 0.7)))  # sides alternate
    phase += 0.2 * _smooth_noise(rng, u.shape, 35 * pixel)
    offset = np.abs(phase - np.round(phase))  # 0 on a vein, 0.5 half-way between two
    spacing = length / count / (1.0 + slope * slope) ** 0.5  # pixels from vein to vein
    laterals = np.exp(-np.square(offset * (spacing / (_between(rng, 0.5, 0.9) * pixel))))
    laterals *= on_blade * _ramp(u, 0.0, 0.1) * (1.0 - edge * edge) * _ramp(across * length, 0.5, 2.5)

    net = np.exp(-np.square(_smooth_noise(rng, u.shape, 10 * pixel) * 9.0)) * (1.0 - edge)

    strength = np.maximum(_between(rng, 0.4, 0.75) * midrib, _between(rng, 0.15, 0.35) * laterals)
    strength = np.maximum(strength, _between(rng, 0.03, 0.1) * net)
    _paint(colour, np.s_[:, :], _PALE_VEIN, strength)  # the whole canvas

    return _between(rng, 0.0, 0.1) * (np.cos(2 * np.pi * offset) - 0.3) * (1.0 - edge)


def _draw_stalk(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator) -> None:
    """Colour the leaf stalk (petiole): pale green, sometimes reddish-brown (in place).

    Drawn after the lesions, so that no lesion sits on the stalk.
    """
    stalk = _ramp(leaf.u, 0.015, -0.01)
    rows, columns = np.flatnonzero(stalk.any(axis=1)), np.flatnonzero(stalk.any(axis=0))
    reddish = _between(rng, 0.0, 0.5) * (rng.random() < 0.4)
    stalk_colour = _mix(_PALE_VEIN, (0.50, 0.34, 0.22), reddish) * _between(rng, 0.75, 1.0)
    if len(rows):  # paint only the stalk's own small box
        where = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
        _paint(colour, where, stalk_colour, stalk[where])


def _spots_on_leaf(
    leaf: _Leaf, rng: np.random.Generator, count: int, inset: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random points on the blade (canvas pixels), spread evenly over its area."""
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < count:
        u = rng.uniform(0.03, 0.97, 4 * count)
        v = rng.uniform(-0.4, 0.4, 4 * count)
        inside = np.abs(v) < inset * leaf.half_width(u, v)
        x, y = leaf.to_canvas(u[inside], v[inside])
        xs.extend(x.tolist())
        ys.extend(y.tolist())
    return np.asarray(xs[:count]), np.asarray(ys[:count])


# --------------------------------------------------------------------------------------
# The diseases. Each painter draws its lesions onto the leaf's canvas, in place.
# Sizes are in "scale" units: pixels of a leaf 180 pixels long.
# --------------------------------------------------------------------------------------

_SCAB_OLIVE: Colour = (0.28, 0.27, 0.11)
_SCAB_BLACK: Colour = (0.07, 0.07, 0.04)
_SCAB_HALO: Colour = (0.38, 0.41, 0.17)


def _scab_blotch(colour, x, y, radius, age, rng, texture) -> None:
    """One scab blotch: a ragged outline, a soft speckled (velvety) edge, a dark core."""
    found = _patch(x, y, 1.9 * radius, colour)
    if found is None:
        return
    where, dx, dy = found
    r = _relative_radius(dx, dy, radius, _irregular_outline(rng, 32, _between(rng, 0.08, 0.2), decay=0.7))
    body = _ramp(r, 1.3, 0.5) ** (0.4 + 1.2 * texture[where]) * _between(rng, 0.88, 0.98)
    tint = _mix(_SCAB_OLIVE, _SCAB_BLACK, age * _ramp(r, 1.1, 0.3))
    _paint_spot(colour, where, _SCAB_HALO, 0.3 * _ramp(r, 1.8, 0.9), tint, body)


def _draw_scab(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator, texture: np.ndarray) -> None:
    """Apple scab: olive-brown to black, velvety blotches with feathery edges.

    The fungus grows under the leaf's skin in radiating strands, so a blotch has a
    ragged, feathery edge and a speckled, velvety surface. Young blotches are olive, old
    ones almost black; they come in small clusters, and in heavy infections run together.
    """
    severity = float(rng.random())
    scale = leaf.length / 180.0
    for x, y in zip(*_spots_on_leaf(leaf, rng, int(4 + round(severity**1.3 * 10)))):
        radius = scale * _between(rng, 5.5, 8.0 + 7.0 * severity)
        age = _between(rng, 0.55, 1.0)
        for _ in range(int(rng.integers(1, 4))):  # a cluster of one to three blotches
            _scab_blotch(colour, x, y, radius, age, rng, texture)
            x, y = x + float(rng.normal(0, 1.3 * radius)), y + float(rng.normal(0, 1.3 * radius))
            radius *= _between(rng, 0.5, 0.9)


_ROT_TAN: Colour = (0.63, 0.50, 0.33)
_ROT_BROWN: Colour = (0.38, 0.24, 0.13)
_ROT_PURPLE: Colour = (0.30, 0.11, 0.19)
_ROT_HALO: Colour = (0.40, 0.27, 0.24)


def _frog_eye(colour, x, y, radius, rng, texture) -> None:
    """One black-rot lesion: tan-brown centre, concentric rings, purple margin."""
    found = _patch(x, y, 1.4 * radius, colour)
    if found is None:
        return
    where, dx, dy = found
    r = _relative_radius(dx, dy, radius, _irregular_outline(rng, 7, 0.09))
    rings = 0.5 + 0.5 * np.cos(2 * np.pi * (r * _between(rng, 1.8, 3.5) + float(rng.random())))
    darkness = _between(rng, 0.1, 0.5)
    centre = _mix(_ROT_TAN, _ROT_BROWN, np.clip(darkness + 0.4 * rings * _ramp(r, 0.1, 0.35) + 0.25 * r, 0, 1))
    tint = _mix(centre, _ROT_PURPLE, 0.85 * np.exp(-np.square((r - 0.94) * (1 / 0.09))))
    body = _ramp(r, 1.05, 0.93) * (0.85 + 0.15 * texture[where])
    _paint_spot(colour, where, _ROT_HALO, 0.4 * _ramp(r, 1.35, 1.0), tint, body)


def _draw_black_rot(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator, texture: np.ndarray) -> None:
    """Black rot, "frog-eye leaf spot": round lesions with rings and a purple margin.

    Spots start as small purple specks and grow into lesions with a tan to brown
    centre, concentric rings and a dark purple border. Some leaves also carry one large
    brown patch that has spread in from the edge.
    """
    severity = float(rng.random())
    scale = leaf.length / 180.0
    for x, y in zip(*_spots_on_leaf(leaf, rng, int(3 + round(severity * 8)))):
        _frog_eye(colour, x, y, scale * _between(rng, 5.5, 8.0 + 7.0 * severity), rng, texture)
    if rng.random() < 0.35:  # a large lesion at the edge of the leaf
        u = np.asarray(_between(rng, 0.3, 0.9))
        v = np.asarray(float(rng.choice([-1.0, 1.0])))
        x, y = leaf.to_canvas(u, v * leaf.half_width(u, v))
        _frog_eye(colour, float(x), float(y), scale * _between(rng, 14.0, 28.0), rng, texture)
    for x, y in zip(*_spots_on_leaf(leaf, rng, int(rng.integers(0, 6)))):  # young purple specks
        found = _patch(x, y, 4.0 * scale, colour)
        if found is not None:
            where, dx, dy = found
            speck = _ramp(np.sqrt(dx * dx + dy * dy), scale * _between(rng, 1.5, 2.8), scale)
            _paint(colour, where, _ROT_PURPLE, 0.9 * speck)


_RUST_YELLOW: Colour = (0.98, 0.72, 0.15)
_RUST_ORANGE: Colour = (0.90, 0.42, 0.09)
_RUST_RED: Colour = (0.58, 0.17, 0.08)
_RUST_HALO: Colour = (0.74, 0.72, 0.22)
_RUST_DOT: Colour = (0.18, 0.08, 0.04)


def _draw_rust(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator, texture: np.ndarray) -> None:
    """Cedar apple rust: bright yellow-orange spots, reddish border, dark dots.

    Each spot is yellow-orange, turning orange and then red-brown towards its edge, in a
    soft pale-yellow halo; in its centre sit a few tiny black dots (the fungus's
    spermogonia). Leaves carry a handful to dozens of spots.
    """
    severity = float(rng.random())
    scale = leaf.length / 180.0
    for x, y in zip(*_spots_on_leaf(leaf, rng, int(5 + round(severity**1.2 * 22)))):
        radius = scale * _between(rng, 3.0, 4.5 + 4.0 * severity)
        found = _patch(x, y, 2.0 * radius, colour)
        if found is None:
            continue
        where, dx, dy = found
        r = _relative_radius(dx, dy, radius, _irregular_outline(rng, 5, 0.08))
        tint = _mix(_RUST_YELLOW, _RUST_ORANGE, np.clip(r * r + _between(rng, 0.0, 0.5), 0.0, 1.0))
        tint = _mix(tint, _RUST_RED, _between(rng, 0.3, 0.75) * _ramp(r, 0.6, 1.0))
        if radius > 3.0 * scale:  # one to four dark dots near the centre
            ox, oy = rng.normal(0.0, 0.22 * radius, (2, int(rng.integers(1, 5)), 1, 1)).astype(np.float32)
            nearest = np.sqrt(np.min(np.square(dx - ox) + np.square(dy - oy), axis=0))
            tint = _mix(tint, _RUST_DOT, 0.85 * _ramp(nearest, 1.2 * scale, 0.3 * scale))
        body = _ramp(r, 1.1, 0.9) * (0.85 + 0.15 * texture[where])
        _paint_spot(colour, where, _RUST_HALO, _between(rng, 0.2, 0.45) * _ramp(r, 1.8, 1.0), tint, body)


def _draw_healthy(colour: np.ndarray, leaf: _Leaf, rng: np.random.Generator, texture: np.ndarray) -> None:
    """A healthy leaf: nothing to draw, apart from an occasional harmless pale speck."""
    if rng.random() < 0.3:
        scale = leaf.length / 180.0
        for x, y in zip(*_spots_on_leaf(leaf, rng, int(rng.integers(1, 3)))):
            found = _patch(x, y, 3.0 * scale, colour)
            if found is not None:
                where, dx, dy = found
                speck = _ramp(np.sqrt(dx * dx + dy * dy), scale * _between(rng, 1.0, 2.2), 0.5 * scale)
                _paint(colour, where, (0.70, 0.72, 0.55), 0.6 * speck)


_DISEASE_PAINTERS = {
    "Apple_scab": _draw_scab,
    "Black_rot": _draw_black_rot,
    "Cedar_apple_rust": _draw_rust,
    "Healthy": _draw_healthy,
}


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def draw_leaf(class_name: str, rng: np.random.Generator, size: int = 256) -> Image.Image:
    """Draw one synthetic photo of an apple leaf with the given disease.

    The picture is built the way the photo was taken: a board, the leaf's shadow on it,
    the leaf (outline, colour, veins, lesions, relief), then the lamp and the camera.
    Everything random comes from ``rng``: the same generator state gives the same
    picture, and for different classes the same leaf with different lesions.

    Args:
        class_name: one of :data:`DEMO_CLASSES`.
        rng: a NumPy random generator, e.g. ``np.random.default_rng(0)``.
        size: width and height in pixels.

    Returns:
        A ``size`` x ``size`` RGB :class:`PIL.Image.Image`.

    Example:
        >>> import numpy as np
        >>> draw_leaf("Cedar_apple_rust", np.random.default_rng(7)).size
        (256, 256)
    """
    if class_name not in _DISEASE_PAINTERS:
        raise ValueError(f"Unknown class {class_name!r}: expected one of {', '.join(DEMO_CLASSES)}.")
    if size < 32:
        raise ValueError(f"size={size} is too small to show a leaf's lesions: use 32 pixels or more (256 is usual).")
    # The lesions get their own generator, so that everything else (leaf, board, light)
    # comes out the same for every class: the same rng state gives the same leaf, with
    # the disease's signs (or none) painted on.
    lesion_rng = np.random.default_rng(rng.integers(2**63))
    # A fine random texture in [0, 1], used by several layers (board, leaf surface,
    # lesions, sensor noise). Its grains are about 1.5 pixels across, so the picture has
    # the slight softness of a real lens without the cost of blurring it.
    grain = 0.5 + 0.5 * _smooth_noise(rng, (size, size), 1.5 * size / 256)

    leaf = _place_leaf(rng, size)
    photo = _board_background(rng, grain)
    _cast_shadow(photo, leaf, rng)

    texture = grain[leaf.box]
    colour = _leaf_colour(leaf, rng)
    quilting = _draw_veins(colour, leaf, rng)
    relief = _leaf_relief(leaf, rng, texture) - quilting
    _DISEASE_PAINTERS[class_name](colour, leaf, lesion_rng, texture)
    _draw_stalk(colour, leaf, rng)
    colour *= relief
    _paint(photo, leaf.box, colour, leaf.alpha)  # lay the leaf on the board

    _lighting(photo, rng)
    photo *= 255.0
    photo += 5.0 * grain[::-1] - 2.0  # sensor noise (and +0.5 to round down to the nearest level)
    planes = np.clip(photo, 0.0, 255.0).astype(np.uint8)
    return Image.merge("RGB", [Image.fromarray(plane) for plane in planes])


class DemoDataError(LeafdlError, ValueError):
    """The demo data set cannot be written where it was asked for; the message says why."""


def _image_rng(seed: int, class_index: int, index: int) -> np.random.Generator:
    """The generator for one image: depends on (seed, class, index) and nothing else."""
    return np.random.default_rng([seed, class_index, index])


def _check_output_folder(out_dir: Path) -> None:
    """Refuse to write into a folder that holds something other than a demo data set."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoDataError(f"{out_dir} is a file, not a folder: choose a folder for the demo data set.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER_FILE).is_file():
        raise DemoDataError(
            f"{out_dir} is not empty and was not made by make_demo_dataset (it has no {MARKER_FILE}). "
            "To protect your files nothing was written. Choose a new or empty folder, "
            "for example data/demo, or delete this one yourself if you no longer need it."
        )


def make_demo_dataset(
    out_dir: str | Path,
    per_class: int = 100,
    seed: int = 0,
    size: int = 256,
    progress: bool = True,
) -> Path:
    """Write the synthetic apple-leaf data set: one folder of JPEG images per class.

    The layout is the one :class:`torchvision.datasets.ImageFolder` reads::

        out_dir/
            .leafdl-demo.json          # marker: seed, per_class, size, classes
            Apple_scab/scab_0000.jpg ...
            Black_rot/black_rot_0000.jpg ...
            Cedar_apple_rust/rust_0000.jpg ...
            Healthy/healthy_0000.jpg ...

    The same ``seed`` gives byte-identical files, and a smaller ``per_class`` gives the
    first files of a larger one. A folder made here may be made again (its class
    folders are redrawn); any other non-empty folder is refused, so your own files are
    never overwritten.

    Args:
        out_dir: where to write; created if missing.
        per_class: images per class.
        seed: change it for a different set of leaves.
        size: width and height of each image in pixels.
        progress: show a progress bar.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        DemoDataError: if ``out_dir`` is not empty and was not made by this function.

    Example:
        >>> make_demo_dataset("data/demo", per_class=20, progress=False)
        PosixPath('data/demo')
    """
    out_dir = Path(out_dir)
    _check_request(out_dir, per_class, size, seed)
    with output_lock(out_dir):   # a second drawing into out_dir stops with a clear error
        _check_output_folder(out_dir)
        # The marker goes first, saying "not complete": an interrupted run leaves a folder that
        # may be redrawn, and that nobody mistakes for a finished one. It also remembers how
        # many files per class leafdl may have drawn, so a redraw removes those and no others.
        drawn_before = _files_drawn_before(out_dir)
        marker = {"seed": int(seed), "per_class": int(per_class), "size": int(size), "classes": list(DEMO_CLASSES),
                  "version": DRAWING_VERSION, "complete": False, "drawn": max(per_class, drawn_before)}
        _write_marker(out_dir, marker)
        with tqdm(total=per_class * len(DEMO_CLASSES), desc="Drawing demo leaves", disable=not progress) as bar:
            for class_index, class_name in enumerate(DEMO_CLASSES):
                _draw_class_folder(out_dir / class_name, class_index, per_class, seed, size, bar.update,
                                   drawn_before)
        _write_marker(out_dir, {**marker, "complete": True, "drawn": per_class})
    return out_dir


def _files_drawn_before(out_dir: Path) -> int:
    """How many images per class an earlier call may have drawn into ``out_dir`` (its marker says)."""
    try:
        marker = json.loads((out_dir / MARKER_FILE).read_text(encoding="utf-8"))
        return int(marker.get("drawn", marker.get("per_class", 0)))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _check_request(out_dir: Path, per_class: int, size: int, seed: int) -> None:
    """Refuse impossible settings, and a folder that holds something other than a demo data set."""
    if per_class < 1:
        raise OptionError(f"per_class must be at least 1, got {per_class}.")
    if not (isinstance(seed, int) and 0 <= seed < 2**32):
        raise OptionError(f"seed (command line: --seed) must be a whole number from 0 to 2**32 - 1, not {seed!r}.")
    if size < 32:
        raise OptionError(f"size={size} is too small to show a leaf's lesions: use 32 pixels or more (256 is usual).")
    _check_output_folder(out_dir)


def _draw_class_folder(class_dir: Path, class_index: int, per_class: int, seed: int, size: int,
                       drawn: Callable[[], object], drawn_before: int = 0) -> None:
    """Draw one class's ``per_class`` images into ``class_dir``, calling ``drawn()`` after each.

    Each file is written atomically (:func:`leafdl.files.atomic_write`): it is either
    complete or absent. Images that an earlier, larger or interrupted call drew (numbers
    ``per_class`` to ``drawn_before - 1``) are removed afterwards; nothing else in the
    folder is touched, not even a photo of yours called ``scab_extra.jpg``.
    """
    class_name = DEMO_CLASSES[class_index]
    prefix = FILE_PREFIXES[class_name]
    for index in range(per_class):
        image = draw_leaf(class_name, _image_rng(seed, class_index, index), size)
        path = class_dir / f"{prefix}_{index:04d}.jpg"
        atomic_write(path, lambda temporary: image.save(temporary, format="JPEG", quality=JPEG_QUALITY,
                                                        subsampling=0))
        drawn()
    for index in range(per_class, drawn_before):
        (class_dir / f"{prefix}_{index:04d}.jpg").unlink(missing_ok=True)
    # Temporaries of a run killed mid-write (leafdl.files' naming, for a family of files).
    remove_stale_temporaries(class_dir, (), patterns=(f"{prefix}_[0-9][0-9][0-9][0-9]*.jpg",))


def _write_marker(out_dir: Path, marker: dict) -> None:
    """Write the marker file that describes the data set, atomically."""
    atomic_write_json(marker, out_dir / MARKER_FILE)
