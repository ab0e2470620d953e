"""``synthfaces``: procedurally drawn 64x64 RGB faces with known demographic-style labels.

No real face dataset may be downloaded where latentplay is tested, so this generator is the
embedded default dataset. Every label is drawn into the pixels:

- ``skin_tone``: the 10 steps of the Monk Skin Tone scale (face, ears and neck colour);
- ``gender``: presentation, female or male (long vs short hair, jaw width, lip colour, beard);
- ``age_group``: child, youth, adult, middle_aged, senior as in AI-Face (head proportions and
  eye size for children; forehead lines, nasolabial folds and eye bags growing with age);
- ``smile``: continuous in [-1, 1], the curvature of the mouth (open smile above 0.4);
- ``eyeglasses``: no or yes; ``yaw``: continuous head turn in [-1, 1] (about +-40 degrees,
  positive = turned to the image's right); ``hair_color`` and ``background``: categorical;
- ``identity`` (only with ``identities=K`` > 0): which of K persons a photo shows. A person keeps
  skin tone, gender, age group, hair colour, face shape, skin shade, shirt and beard in all photos;
  smile, yaw, eyeglasses, background, head position, lighting and noise change from photo to photo.

Marginals and correlations are set in :class:`SynthfacesConfig`, e.g. ``skin_tone.weights``,
``confound.smile_gender=0.6`` (non-smiling faces are then more often male, as in UTKFace).
All drawing is vectorised NumPy over a batch, with anti-aliased edges.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import advancing, progress_bar
from latentplay.store.images import encode_png
from latentplay.store.io import Store, build
from latentplay.store.schema import Attribute, Provenance, Schema

SIZE = 64

MONK_HEX = (
    "f6ede4",
    "f3e7db",
    "f7ead0",
    "eadaba",
    "d7bd96",
    "a07e56",
    "825c43",
    "604134",
    "3a312a",
    "292420",
)
SKIN_TONES = tuple(f"monk_{k}" for k in range(1, 11))
GENDERS = ("female", "male")
AGE_GROUPS = ("child", "youth", "adult", "middle_aged", "senior")
EYEGLASSES = ("no", "yes")
HAIR_COLORS = ("black", "brown", "blond", "red", "gray")
BACKGROUNDS = ("white", "gray", "blue", "green", "yellow", "pink")

_HAIR_RGB = np.array(
    [(28, 24, 24), (96, 58, 30), (222, 190, 112), (168, 68, 30), (176, 176, 180)], dtype=np.float32
)
_BG_RGB = np.array(
    [(236, 236, 232), (128, 128, 132), (72, 112, 196), (84, 156, 92), (226, 198, 88), (226, 150, 180)],
    dtype=np.float32,
)
_SKIN_RGB = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in MONK_HEX], dtype=np.float32)
_SHIRT_RGB = np.array(
    [(60, 60, 70), (150, 40, 40), (40, 90, 140), (200, 200, 200), (90, 120, 60), (120, 80, 140)],
    dtype=np.float32,
)


@dataclass
class Weights:
    """Relative frequencies of the classes of a categorical attribute (normalised on use)."""

    weights: list[float]


@dataclass
class Probability:
    """Probability of the positive class of a binary attribute."""

    p: float


@dataclass
class SmileSpec:
    """Smile degree: ``bimodal`` (mass around +-``mode``, like SmileCVAE's annotations) or ``uniform``."""

    distribution: str = "bimodal"
    mode: float = 0.6
    spread: float = 0.25


@dataclass
class YawSpec:
    """Head yaw: normal with standard deviation ``std``, clipped to [-1, 1]."""

    std: float = 0.35


@dataclass
class Confound:
    """Dependencies between attributes (0 = independent).

    smile_gender: in [-1, 1]; P(smile < 0 | male) = (1 + c) / 2 and P(smile < 0 | female) = (1 - c) / 2.
    eyeglasses_age: in [-1, 1]; log-odds of eyeglasses change by ``1.5 c`` per age group from adult.
    eyeglasses_gender: in [-1, 1]; log-odds of eyeglasses are ``1.5 c`` higher for men and lower for women.
    gray_hair_age: in [0, 1]; P(hair forced gray) = c * age_index / 4 (seniors: c).
    """

    smile_gender: float = 0.0
    eyeglasses_age: float = 0.0
    eyeglasses_gender: float = 0.0
    gray_hair_age: float = 0.0


@dataclass
class SynthfacesConfig:
    """Options of ``latentplay data make synthfaces`` (override with ``key=value``)."""

    n: int = 5000
    seed: int = 0
    skin_tone: Weights = field(default_factory=lambda: Weights([1.0] * 10))
    gender: Weights = field(default_factory=lambda: Weights([1.0, 1.0]))
    age_group: Weights = field(default_factory=lambda: Weights([1.0] * 5))
    hair_color: Weights = field(default_factory=lambda: Weights([1.0] * 5))
    background: Weights = field(default_factory=lambda: Weights([1.0] * 6))
    eyeglasses: Probability = field(default_factory=lambda: Probability(0.3))
    smile: SmileSpec = field(default_factory=SmileSpec)
    yaw: YawSpec = field(default_factory=YawSpec)
    confound: Confound = field(default_factory=Confound)
    noise: float = 3.0
    identities: int = 0
    """0 = every face a different person; K > 0 = the n faces are photos of K persons, each person
    getting n // K or n // K + 1 of them (adds the categorical attribute ``identity``)."""

    def validate(self) -> None:
        if self.n < 1:
            raise UserError(f"n (--n) must be at least 1, got {self.n}")
        if not 0 <= self.identities <= self.n:
            raise UserError(
                f"identities must be 0 (every face a different person) or between 1 and n={self.n}, "
                f"got {self.identities}"
            )
        for name, classes in (
            ("skin_tone", SKIN_TONES),
            ("gender", GENDERS),
            ("age_group", AGE_GROUPS),
            ("hair_color", HAIR_COLORS),
            ("background", BACKGROUNDS),
        ):
            w = getattr(self, name).weights
            if len(w) != len(classes):
                raise UserError(
                    f"{name}.weights needs {len(classes)} values ({', '.join(classes)}), got {len(w)}"
                )
            if not np.all(np.isfinite(w)) or min(w) < 0 or sum(w) <= 0:
                raise UserError(f"{name}.weights must be finite and non-negative with a positive sum")
        if not 0.0 <= self.eyeglasses.p <= 1.0:
            raise UserError(f"eyeglasses.p must be in [0, 1], got {self.eyeglasses.p}")
        if self.smile.distribution not in ("bimodal", "uniform"):
            raise UserError(f"smile.distribution must be bimodal or uniform, got {self.smile.distribution!r}")
        for key in ("smile_gender", "eyeglasses_age", "eyeglasses_gender"):
            if not -1.0 <= getattr(self.confound, key) <= 1.0:
                raise UserError(f"confound.{key} must be in [-1, 1]")
        if not 0.0 <= self.confound.gray_hair_age <= 1.0:
            raise UserError("confound.gray_hair_age must be in [0, 1]")
        if not np.isfinite(self.smile.mode):
            raise UserError(f"smile.mode must be a finite number, got {self.smile.mode}")
        for key, value in (("smile.spread", self.smile.spread), ("yaw.std", self.yaw.std),
                           ("noise", self.noise)):
            if not (np.isfinite(value) and value >= 0):
                raise UserError(f"{key} must be a finite number >= 0, got {value}")


CONFIG = SynthfacesConfig


def attributes(identities: int = 0) -> list[Attribute]:
    """The schema attributes of a synthfaces store; ``identities`` > 0 appends ``identity``."""
    attrs = [
        Attribute(
            "skin_tone",
            "categorical",
            names=list(SKIN_TONES),
            description="Monk Skin Tone scale, 1 = lightest",
            ordered=True,
        ),
        Attribute("gender", "categorical", names=list(GENDERS), description="gender presentation"),
        Attribute("age_group", "categorical", names=list(AGE_GROUPS), description="AI-Face age groups",
                  ordered=True),
        Attribute(
            "smile",
            "continuous",
            range=(-1.0, 1.0),
            description="mouth curvature: -1 frown, 0 neutral, +1 broad open smile",
        ),
        Attribute("eyeglasses", "categorical", names=list(EYEGLASSES)),
        Attribute(
            "yaw",
            "continuous",
            range=(-1.0, 1.0),
            description="head turn, 1 = about 40 degrees towards the image's right",
        ),
        Attribute("hair_color", "categorical", names=list(HAIR_COLORS)),
        Attribute("background", "categorical", names=list(BACKGROUNDS)),
    ]
    if identities > 0:
        attrs.append(
            Attribute(
                "identity",
                "categorical",
                names=[f"person_{i:05d}" for i in range(identities)],
                description=f"which of {identities} persons the photo shows (face verification)",
            )
        )
    return attrs


def _choice(rng: np.random.Generator, weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _hair(config: SynthfacesConfig, rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    hair = _choice(rng, config.hair_color.weights, len(age))
    gray = rng.random(len(age)) < config.confound.gray_hair_age * age / 4.0
    return np.where(gray, HAIR_COLORS.index("gray"), hair)


def _photo_labels(
    config: SynthfacesConfig,
    rng: np.random.Generator,
    gender: np.ndarray,
    age: np.ndarray,
    background: np.ndarray,
) -> dict[str, np.ndarray]:
    """Eyeglasses, smile and yaw of each photo, confounded with its person's gender and age."""
    n = len(gender)
    p = config.eyeglasses.p
    male = np.where(gender == GENDERS.index("male"), 1.0, -1.0)
    with np.errstate(divide="ignore"):  # p = 0 or 1: log-odds -inf or +inf, so none or all wear them
        base = np.log(p) - np.log1p(-p)
    logit = (
        base
        + 1.5 * config.confound.eyeglasses_age * (age - 2)
        + 1.5 * config.confound.eyeglasses_gender * male
    )
    glasses = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    if config.smile.distribution == "uniform":
        magnitude = rng.random(n)
    else:
        magnitude = np.abs(rng.normal(config.smile.mode, config.smile.spread, n))
    c = config.confound.smile_gender
    p_frown = (1 + c * male) / 2
    sign = np.where(rng.random(n) < p_frown, -1.0, 1.0)
    smile = np.clip(sign * magnitude, -1.0, 1.0).astype(np.float32)
    yaw = np.clip(rng.normal(0.0, config.yaw.std, n), -1.0, 1.0).astype(np.float32)
    return {"smile": smile, "eyeglasses": glasses, "yaw": yaw, "background": background}


def sample_labels(config: SynthfacesConfig, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` label sets following the config's marginals and confounds.

    Returns a dict of ``(n,)`` arrays: int class codes, and float32 ``smile`` and ``yaw``. With
    ``config.identities = K > 0`` it also holds ``identity`` (person codes ``0..K-1``, each used
    ``n // K`` or ``n // K + 1`` times in random order); skin tone, gender, age group and hair
    colour are then drawn once per person, the other labels once per photo.
    """
    k = config.identities
    if k == 0:
        gender = _choice(rng, config.gender.weights, n)
        age = _choice(rng, config.age_group.weights, n)
        skin = _choice(rng, config.skin_tone.weights, n)
        background = _choice(rng, config.background.weights, n)
        hair = _hair(config, rng, age)
        photo = _photo_labels(config, rng, gender, age, background)
        identity = None
    else:
        if not 1 <= k <= n:
            raise UserError(f"identities must be between 1 and the number of faces ({n}), got {k}")
        person_gender = _choice(rng, config.gender.weights, k)
        person_age = _choice(rng, config.age_group.weights, k)
        person_skin = _choice(rng, config.skin_tone.weights, k)
        person_hair = _hair(config, rng, person_age)
        # round robin over a shuffled list of persons (so who gets n // K + 1 photos is random),
        # then the photos themselves shuffled
        identity = rng.permutation(rng.permutation(k)[np.arange(n) % k])
        gender, age = person_gender[identity], person_age[identity]
        skin, hair = person_skin[identity], person_hair[identity]
        background = _choice(rng, config.background.weights, n)
        photo = _photo_labels(config, rng, gender, age, background)
    labels = {
        "skin_tone": skin,
        "gender": gender,
        "age_group": age,
        "smile": photo["smile"],
        "eyeglasses": photo["eyeglasses"],
        "yaw": photo["yaw"],
        "hair_color": hair,
        "background": background,
    }
    if identity is not None:
        labels["identity"] = identity
    return labels


# per-face render traits; with identities, all but ``hx`` (head offset) belong to the person
PERSON_TRAITS = ("skin_jitter", "rx", "ry", "shirt", "beard")


def _draw_traits(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The nuisance traits of ``n`` faces, drawn in the order :func:`render` always used.

    ``skin_jitter`` ``(n, 1)`` skin brightness factor; ``hx`` head offset; ``rx``, ``ry`` face
    shape offsets; ``shirt`` colour index; ``beard`` whether an adult man wears a beard.
    """
    skin_jitter = rng.uniform(0.94, 1.04, (n, 1)).astype(np.float32)
    hx = rng.normal(0, 0.02, n)
    rx = rng.normal(0, 0.012, n)
    ry = rng.normal(0, 0.012, n)
    shirt = rng.integers(0, len(_SHIRT_RGB), n)
    beard = rng.random(n) < 0.35
    return {"skin_jitter": skin_jitter, "hx": hx, "rx": rx, "ry": ry, "shirt": shirt, "beard": beard}


def person_traits(config: SynthfacesConfig) -> dict[str, np.ndarray] | None:
    """The render traits fixed per person (:data:`PERSON_TRAITS`, ``(K,)`` arrays indexed by
    identity code), or None when ``config.identities`` is 0. Deterministic for ``config.seed``."""
    if config.identities == 0:
        return None
    traits = _draw_traits(np.random.default_rng([config.seed, 2]), config.identities)
    return {key: traits[key] for key in PERSON_TRAITS}


class _Canvas:
    """A batch of RGB images being painted, with anti-aliased shape masks.

    Coordinates are in [-1, 1] across the image, ``y`` pointing down; per-face parameters are
    ``(N, 1, 1)`` arrays so every shape broadcasts over the ``(N, H, W)`` pixel grid.
    """

    def __init__(self, n: int, size: int) -> None:
        self.rgb = np.zeros((3, n, size, size), dtype=np.float32)  # channel-first: fast broadcasts
        centres = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
        self.x = centres[None, None, :]
        self.y = centres[None, :, None]
        self.pixel = 2.0 / size

    def coverage(self, signed_distance: np.ndarray) -> np.ndarray:
        """Soft mask from an approximate signed distance (negative inside), one pixel wide edge."""
        return np.clip(0.5 - signed_distance / self.pixel, 0.0, 1.0)

    def ellipse(self, cx, cy, rx, ry) -> np.ndarray:  # noqa: ANN001 - (N,1,1) or scalars
        q = np.sqrt(((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2)
        return self.coverage((q - 1.0) * np.minimum(rx, ry))

    def ring(self, cx, cy, r, width) -> np.ndarray:  # noqa: ANN001
        d = np.sqrt((self.x - cx) ** 2 + (self.y - cy) ** 2)
        return self.coverage(np.abs(d - r) - width / 2)

    def segment_band(self, x0, x1, y_of_x, half_width) -> np.ndarray:  # noqa: ANN001
        """Band of ``half_width`` around the curve ``y = y_of_x`` for ``x0 <= x <= x1``."""
        inside_x = self.coverage(np.maximum(x0 - self.x, self.x - x1))
        return inside_x * self.coverage(np.abs(self.y - y_of_x) - half_width)

    def paint(self, mask: np.ndarray, colour: np.ndarray, alpha: float | np.ndarray = 1.0) -> None:
        """Blend ``colour`` (``(N, 3)`` or ``(3,)``) over the canvas where ``mask`` (``(N,H,W)``) is set."""
        a = mask * alpha
        col = np.asarray(colour, dtype=np.float32)
        for ch in range(3):
            value = col[:, ch, None, None] if col.ndim == 2 else col[ch]
            self.rgb[ch] += a * (value - self.rgb[ch])

    def scale(self, factor: np.ndarray | float) -> None:
        """Multiply every channel by ``factor`` (broadcast over ``(N, H, W)``)."""
        self.rgb *= factor


def render(
    labels: dict[str, np.ndarray],
    rng: np.random.Generator,
    size: int = SIZE,
    noise: float = 3.0,
    traits: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Draw one face per label set.

    Args:
        labels: ``(N,)`` arrays as returned by :func:`sample_labels`.
        rng: generator for nuisance variation (face shape, shirt, lighting, noise).
        size: output side in pixels.
        noise: standard deviation of added pixel noise (0-255 scale).
        traits: per-face nuisance traits as :func:`_draw_traits` returns them; drawn from
            ``rng`` when None. Lighting and pixel noise always come from ``rng``.

    Returns:
        ``(N, size, size, 3)`` uint8 images.
    """
    n = len(labels["gender"])
    if traits is None:
        traits = _draw_traits(rng, n)

    def col(v: np.ndarray) -> np.ndarray:
        return np.asarray(v, dtype=np.float32).reshape(n, 1, 1)

    male = col(labels["gender"] == 1)
    age = labels["age_group"]
    child = col(age == 0)
    age_f = col(age)
    smile = col(labels["smile"])
    yaw = col(labels["yaw"])
    glasses = col(labels["eyeglasses"])
    skin = _SKIN_RGB[labels["skin_tone"]] * traits["skin_jitter"]
    hair_rgb = _HAIR_RGB[labels["hair_color"]]
    c = _Canvas(n, size)

    # background with a soft vertical gradient
    bg = _BG_RGB[labels["background"]]
    c.rgb[:] = bg.T[:, :, None, None]
    c.scale(1.04 - 0.08 * (c.y + 1) / 2)

    # geometry
    hx = 0.06 * yaw + col(traits["hx"])
    hy = col(np.full(n, -0.02)) + 0.06 * child
    rx = 0.45 + 0.06 * male - 0.03 * child + col(traits["rx"])
    ry = 0.58 + 0.03 * male - 0.11 * child + col(traits["ry"])
    feat_dx = 0.22 * yaw  # features slide across the face with the turn

    # shoulders, neck
    shirt = _SHIRT_RGB[traits["shirt"]]
    c.paint(c.ellipse(hx * 0.5, 1.15, 0.85 + 0.1 * male, 0.45), shirt)
    # long hair falling behind the head to the shoulders (female presentation)
    long_hair = c.ellipse(hx, hy + 0.16, rx * 1.24, ry * 1.08) * (c.y > hy - 0.1)
    c.paint(long_hair * (1 - male), hair_rgb)
    c.paint(c.ellipse(hx * 0.7, hy + ry * 0.95, rx * 0.45 + 0.03 * male, 0.35), skin * 0.86)

    # ears, head
    for side in (-1.0, 1.0):
        ear_x = hx + side * rx * (1.0 - 0.18 * side * yaw)
        c.paint(c.ellipse(ear_x, hy + 0.02, 0.07, 0.12), skin * 0.9)
    head = c.ellipse(hx, hy, rx, ry)
    c.paint(head, skin)
    # jaw: masculine faces get a squarer chin
    c.paint(c.ellipse(hx + 0.3 * feat_dx, hy + ry * 0.5, rx * (0.72 + 0.2 * male), ry * 0.45) * male, skin)
    # shading towards the edge of the face
    r2 = ((c.x - hx) / rx) ** 2 + ((c.y - hy) / ry) ** 2
    c.scale(1.0 - 0.18 * head * np.clip(r2 - 0.45, 0, 1))

    # beard shadow for some adult men
    beard = male * col(traits["beard"]) * col(age >= 2)
    beard_mask = c.ellipse(hx + 0.3 * feat_dx, hy + ry * 0.62, rx * 0.8, ry * 0.42) * (c.y > hy + 0.18)
    c.paint(beard_mask * beard, hair_rgb * 0.8, 0.75)

    # hair on top: hairline lower for long hair, a fringe for children
    hairline = hy - ry * (0.42 - 0.12 * (1 - male)) + 0.05 * child
    cap = c.ellipse(hx, hy - 0.04, rx * 1.08, ry * 1.06) * c.coverage(c.y - hairline)
    c.paint(cap, hair_rgb)

    # age: forehead lines, nasolabial folds and eye bags
    eye_y = hy - 0.06 + 0.1 * child
    wrinkle = np.clip((age_f - 1) / 3, 0, 1) * 0.7 + np.clip(age_f - 3, 0, 1) * 0.3
    line_col = skin * 0.55
    for k in range(3):
        y_line = hy - ry * 0.25 - k * 0.06
        band = c.segment_band(hx - rx * 0.5, hx + rx * 0.5, y_line + 0.02 * ((c.x - hx) / rx) ** 2, 0.008)
        c.paint(band * (age_f >= 3 + (k == 2)), line_col, wrinkle)
    for side in (-1.0, 1.0):
        fx = hx + feat_dx + side * 0.13
        fold = c.segment_band(
            np.minimum(fx, fx + side * 0.06),
            np.maximum(fx, fx + side * 0.06),
            hy + 0.12 + 1.6 * np.abs(c.x - fx),
            0.009,
        )
        c.paint(fold * (age_f >= 2), line_col, wrinkle * 1.2)

    # eyes
    eye_r = 0.085 + 0.035 * child
    iris_r = 0.038 + 0.022 * child
    for side in (-1.0, 1.0):
        ex = hx + feat_dx + side * 0.2 * (1 - 0.25 * side * yaw)
        squeeze = 1.0 - 0.35 * np.clip(side * yaw, 0, 1)
        bag = c.segment_band(ex - eye_r, ex + eye_r, eye_y + 0.075 + 0.5 * (c.x - ex) ** 2, 0.007)
        c.paint(bag * (age_f >= 3), line_col, wrinkle)
        eye_h = (0.05 + 0.01 * child) * (1.0 - 0.4 * np.clip(smile, 0, 1))
        c.paint(c.ellipse(ex, eye_y, eye_r * squeeze, eye_h), np.array([245, 245, 240.0]))
        c.paint(
            c.ellipse(ex + 0.03 * yaw, eye_y, iris_r * squeeze, np.minimum(iris_r, eye_h)),
            np.array([40, 30, 25.0]),
        )
        brow_y = eye_y - 0.11 + 0.03 * np.clip(-smile, 0, 1)
        tilt = 0.25 * np.clip(-smile, 0, 1) * side  # frowning brows slope down to the nose
        brow = c.segment_band(
            ex - eye_r * 1.1,
            ex + eye_r * 1.1,
            brow_y + 0.6 * (c.x - ex) ** 2 + tilt * (c.x - ex),
            0.012 + 0.01 * male,
        )
        c.paint(brow, hair_rgb * 0.7)

    # cheeks lifted and flushed by a smile
    for side in (-1.0, 1.0):
        cheek = c.ellipse(hx + feat_dx + side * 0.24, hy + 0.16, 0.09, 0.06)
        c.paint(cheek, skin * np.array([1.0, 0.82, 0.82], dtype=np.float32), 0.5 * np.clip(smile, 0, 1))

    # nose
    nx = hx + 1.35 * feat_dx
    nose = c.segment_band(nx - 0.012, nx + 0.012, c.y * 0 + eye_y + 0.12, 0.1)
    c.paint(nose, skin * 0.8, 0.6)
    c.paint(c.ellipse(nx + 0.02 * yaw, eye_y + 0.21, 0.05 - 0.01 * child, 0.025), skin * 0.72)

    # mouth: a parabola whose corners rise with the smile; an open mouth for broad smiles
    mx = hx + 1.1 * feat_dx
    my = hy + ry * 0.5 - 0.04 * child
    half_w = 0.17 + 0.05 * np.clip(smile, 0, 1)
    t = ((c.x - mx) / half_w) ** 2
    curve = my + 0.14 * smile * (0.5 - t)
    lip_rgb = np.where(male.reshape(n, 1) > 0, skin * 0.65, np.array([[176.0, 58, 72]]))
    opening = 0.09 * np.clip(smile - 0.35, 0, 1) / 0.65 * np.clip(1 - t, 0, 1)
    c.paint(c.segment_band(mx - half_w, mx + half_w, curve - opening / 2, 0.022 + opening / 2), lip_rgb)
    mouth_open = c.segment_band(
        mx - half_w * 0.85, mx + half_w * 0.85, curve - opening / 2, opening / 2 - 0.004
    )
    c.paint(mouth_open * (opening > 0.01), np.array([70.0, 20, 25]))
    teeth = c.segment_band(mx - half_w * 0.7, mx + half_w * 0.7, curve - opening * 0.8, opening * 0.22)
    c.paint(teeth * (opening > 0.02), np.array([240.0, 240, 235]))

    # eyeglasses: two rims, a bridge and temples
    frame = np.array([20.0, 20, 24])
    for side in (-1.0, 1.0):
        ex = hx + feat_dx + side * 0.2 * (1 - 0.25 * side * yaw)
        c.paint(c.ring(ex, eye_y, 0.125 * (1 - 0.2 * np.clip(side * yaw, 0, 1)), 0.028) * glasses, frame)
        tx0 = ex + side * 0.12
        c.paint(
            c.segment_band(
                np.minimum(tx0, hx + side * rx),
                np.maximum(tx0, hx + side * rx),
                eye_y - 0.02 + 0 * c.x,
                0.012,
            )
            * glasses,
            frame,
        )
    bridge_x = hx + feat_dx
    c.paint(c.segment_band(bridge_x - 0.08, bridge_x + 0.08, eye_y - 0.03 + 0 * c.x, 0.013) * glasses, frame)

    # lighting and sensor noise
    c.scale(rng.uniform(0.92, 1.06, (n, 1, 1)).astype(np.float32))
    if noise > 0:
        c.rgb += rng.normal(0.0, noise, c.rgb.shape).astype(np.float32)
    return np.ascontiguousarray(np.clip(c.rgb + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 3, 0))


def generate(
    config: SynthfacesConfig, chunk: int = 128
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Yield ``(labels, images)`` chunks; ``images`` is ``(B, 64, 64, 3)`` uint8.

    Deterministic for ``config.seed``: labels come from one stream and each chunk's nuisance
    variation from its own stream, so the chunk size does not change the labels. With
    ``config.identities`` > 0 the person-level render traits (:func:`person_traits`) come from a
    third stream, so they do not depend on the chunk size either.
    """
    labels = sample_labels(config, np.random.default_rng([config.seed, 0]), config.n)
    persons = person_traits(config)
    for k, start in enumerate(range(0, config.n, chunk)):
        part = {name: v[start : start + chunk] for name, v in labels.items()}
        rng = np.random.default_rng([config.seed, 1, k])
        traits = None
        if persons is not None:
            traits = _draw_traits(rng, len(part["gender"]))  # per photo: hx
            traits.update({key: v[part["identity"]] for key, v in persons.items()})
        yield part, render(part, rng, noise=config.noise, traits=traits)


def make_store(config: SynthfacesConfig, path: str | os.PathLike[str], overwrite: bool = False) -> Store:
    """Write the synthfaces dataset of ``config`` to a store at ``path``."""
    from latentplay.config import to_dict

    schema = Schema(
        attributes=attributes(config.identities),
        provenance=Provenance(
            source="generated", converter="synthfaces", arguments=to_dict(config), counts={"rows": config.n}
        ),
    )

    def batches() -> Iterator[dict[str, object]]:
        for labels, images in generate(config):
            yield {"image": [encode_png(im) for im in images], **labels}

    with progress_bar() as bar:
        task = bar.add_task("generating synthfaces", total=config.n)
        return build(advancing(batches(), bar, task), schema, path, overwrite=overwrite)
