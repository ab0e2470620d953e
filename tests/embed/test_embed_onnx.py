"""The ``onnx:PATH`` embedder and ArcFace's five-point alignment.

Networks are small PyTorch modules exported to ONNX here; their PyTorch outputs on inputs
prepared by hand are the known answers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from skimage import data

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.arcface import (
    TEMPLATE_112,
    align_to_template,
    box_crop,
    five_points,
    similarity,
    template,
)
from latentplay.embed.base import make_embedder
from latentplay.embed.faces import FaceModels
from latentplay.embed.onnxnet import OnnxEmbedder
from latentplay.errors import UserError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
# OpenAI CLIP's image statistics (clip/clip.py, open_clip's OPENAI_DATASET_MEAN and _STD)
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)


class TwoHeads(torch.nn.Module):
    """A small CNN with a ``feat`` and a ``logits`` output; NHWC input when ``nhwc``."""

    def __init__(self, channels: int = 3, nhwc: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.nhwc = nhwc
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(channels, 24, 4, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        self.feat = torch.nn.Linear(24, 16)
        self.logits = torch.nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)
        f = self.feat(self.body(x))
        return f, self.logits(f)


def export(module: torch.nn.Module, path: Path, shape: tuple[int, ...], dynamic: dict | None
           = None) -> Path:
    """Write ``module`` (eval mode) as ONNX with input ``data`` and outputs ``feat``, ``logits``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(shape),), str(path), dynamo=False,
                          input_names=["data"], output_names=["feat", "logits"],
                          dynamic_axes=dynamic)
    return path


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ONNX files: ``nchw`` (any batch, 112), ``batch1`` (fixed batch 1), ``nhwc``, ``gray``
    (one channel, 32) and ``anysize`` (batch and side left open)."""
    d = tmp_path_factory.mktemp("onnx")
    any_batch = {"data": {0: "n"}, "feat": {0: "n"}, "logits": {0: "n"}}
    return {
        "nchw": export(TwoHeads(), d / "nchw.onnx", (2, 3, 112, 112), any_batch),
        "batch1": export(TwoHeads(), d / "batch1.onnx", (1, 3, 112, 112)),
        "nhwc": export(TwoHeads(nhwc=True), d / "nhwc.onnx", (2, 112, 112, 3), any_batch),
        "gray": export(TwoHeads(channels=1), d / "gray.onnx", (2, 1, 32, 32), any_batch),
        "anysize": export(TwoHeads(), d / "anysize.onnx", (2, 3, 64, 64),
                          {"data": {0: "n", 2: "h", 3: "w"}, "feat": {0: "n"}}),
    }


def torch_feat(crops: np.ndarray, prepare) -> np.ndarray:
    """The PyTorch module's ``feat`` of ``(N, H, W, 3)`` uint8 crops prepared by ``prepare``."""
    x = torch.from_numpy(np.ascontiguousarray(prepare(crops.astype(np.float32)))).permute(0, 3, 1, 2)
    with torch.no_grad():
        return TwoHeads()(x)[0].numpy()


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (5, 112, 112, 3), dtype=np.uint8)


# --- alignment -------------------------------------------------------------------------

def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    for _ in range(5):
        angle, scale, shift = rng.uniform(-1, 1), rng.uniform(0.3, 4), rng.uniform(-50, 50, 2)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        src = rng.uniform(0, 200, (5, 2))
        dst = scale * src @ rot.T + shift
        m = similarity(src, dst)
        np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-9)
        np.testing.assert_allclose(m[:, 2], shift, atol=1e-7)
    # mirrored points are fitted by a rotation, never a reflection
    src = TEMPLATE_112.copy()
    mirrored = src * [-1, 1]
    assert np.linalg.det(similarity(src, mirrored)[:, :2]) > 0


def test_template_sizes():
    np.testing.assert_allclose(template(112), TEMPLATE_112)
    np.testing.assert_allclose(template(224), 2 * TEMPLATE_112)
    np.testing.assert_allclose(template(128), TEMPLATE_112 + [8, 0])  # InsightFace's margin
    np.testing.assert_allclose(template(256), 2 * (TEMPLATE_112 + [8, 0]))


def test_template_is_insightfaces_arcface_dst():
    """The 112-px template is InsightFace's ``arcface_dst`` (insightface/utils/face_align.py):
    left eye, right eye, nose tip, left and right mouth corners."""
    published = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                 [41.5493, 92.3655], [70.7299, 92.2041]]
    np.testing.assert_array_equal(TEMPLATE_112, published)


def test_five_points_follow_the_ibug_68_point_markup():
    """Eye centres are the means of the six contour points of each eye (iBUG 37-42 and 43-48,
    numbered from 1), the nose tip is point 31, the mouth corners 49 and 55."""
    marks = np.zeros((68, 2))
    marks[36:42] = [[0, 0], [2, 0], [4, 0], [6, 0], [4, 6], [2, 6]]     # centre (3, 2)
    marks[42:48] = [[10, 0], [12, 0], [14, 0], [16, 0], [14, 3], [12, 3]]  # centre (13, 1)
    marks[30], marks[33], marks[48], marks[54] = [8, 10], [8, 12], [3, 20], [13, 21]
    np.testing.assert_allclose(five_points(marks), [[3, 2], [13, 1], [8, 10], [3, 20], [13, 21]])


def test_similarity_of_mirrored_points_is_the_best_rotation_and_its_scale():
    """Points mirrored left to right have no exact similarity; the least-squares one is the
    rotation maximising trace(R^T cov) (here the identity: cov = diag(-0.5, 2)) scaled by
    trace(R^T cov) / var(src) = (2 - 0.5) / 2.5, not by the sum of the singular values."""
    src = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    m = similarity(src, src * [-1, 1])
    np.testing.assert_allclose(m, [[0.6, 0, 0], [0, 0.6, 0]], atol=1e-12)


@pytest.mark.parametrize("size", [112, 128, 64])
def test_alignment_puts_the_points_on_the_template(size):
    """Five dots placed by a rotated, scaled, shifted template land on the template (within a
    fifth of a pixel: the dots' rasterisation)."""
    angle, scale = 0.35, 2.3
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = TEMPLATE_112 @ rot.T * scale + [60, 40]
    yy, xx = np.mgrid[:400, :400]
    image = np.zeros((400, 400, 3), np.uint8)
    for x, y in points:
        image[(xx - x) ** 2 + (yy - y) ** 2 < 20] = 255
    chip = align_to_template(image, points, size)
    assert chip.shape == (size, size, 3) and chip.dtype == np.uint8
    labels, n = ndimage.label(chip[..., 0] > 40)
    assert n == 5
    found = np.array(ndimage.center_of_mass(chip[..., 0].astype(float), labels,
                                            range(1, 6)))[:, ::-1]
    order = [int(np.argmin(np.linalg.norm(found - t, axis=1))) for t in template(size)]
    assert sorted(order) == list(range(5))
    np.testing.assert_allclose(found[order], template(size), atol=0.25 * max(1, size / 112))


def test_astronaut_crop_has_her_landmarks_where_the_fit_put_them():
    """Landmarks found again on the 112-px crop (upsampled for the detector) are where the
    fitted transform sends the photo's landmarks: within 1.5 pixels."""
    faces = FaceModels.load()
    image = data.astronaut()
    points = five_points(faces.landmarks68(image, faces.detect(image)))
    chip = align_to_template(image, points, 112)
    mapped = points @ similarity(points, template(112))[:, :2].T + similarity(points, template(112))[:, 2]
    big = np.asarray(Image.fromarray(chip).resize((448, 448), Image.BICUBIC))
    again = (five_points(faces.landmarks68(big, faces.detect(big))) + 0.5) / 4 - 0.5
    np.testing.assert_allclose(again, mapped, atol=1.5)
    # and the eyes are level and where the template has them (the fit favours no point)
    assert abs(again[0, 1] - again[1, 1]) < 1.5
    np.testing.assert_allclose(again[:2], TEMPLATE_112[:2], atol=4)


# --- the network -----------------------------------------------------------------------

@pytest.mark.parametrize("options, prepare", [
    (["pixels=arcface"], lambda x: (x - 127.5) / 127.5),
    (["pixels=imagenet"], lambda x: (x / 255 - IMAGENET_MEAN) / IMAGENET_STD),
    (["pixels=clip"], lambda x: (x / 255 - CLIP_MEAN) / CLIP_STD),
    (["pixels=facenet"], lambda x: (x - 127.5) / 128),
    (["pixels=unit"], lambda x: x / 255),
    (["pixels=raw"], lambda x: x),
    (["pixels=imagenet", "bgr=true"], lambda x: ((x / 255 - IMAGENET_MEAN) / IMAGENET_STD)[..., ::-1]),
])
def test_embeddings_equal_the_network_on_inputs_prepared_by_hand(nets, crops, options, prepare):
    emb = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "normalize=false", *options])
    assert isinstance(emb, OnnxEmbedder)
    assert emb.dim == 16 and emb.image_size == 112 and not emb.detects_faces
    # float32 sums: pixels=raw gives outputs near 70, where onnxruntime and torch part at 5e-5
    np.testing.assert_allclose(emb.embed(crops), torch_feat(crops, prepare), rtol=2e-5, atol=2e-5)


def test_normalize_flip_and_output(nets, crops):
    prep = lambda x: (x - 127.5) / 127.5  # noqa: E731
    plain = torch_feat(crops, prep)
    emb = make_embedder(f"onnx:{nets['nchw']}", ["align=none"])
    np.testing.assert_allclose(emb.embed(crops), unit(plain), atol=1e-5)
    flipped = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "flip=true"]).embed(crops)
    mirror = torch_feat(crops[:, :, ::-1], prep)
    np.testing.assert_allclose(flipped, unit(plain + mirror), atol=1e-5)
    logits = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "output=logits"])
    assert logits.dim == 3 and logits.embed(crops).shape == (5, 3)
    with pytest.raises(UserError, match="no output 'pool'; the network's outputs: feat, logits"):
        make_embedder(f"onnx:{nets['nchw']}", ["output=pool"])


def test_fixed_batch_nhwc_and_open_sizes_give_the_same_vectors(nets, crops):
    want = make_embedder(f"onnx:{nets['nchw']}", ["align=none"]).embed(crops)
    for name, options in [("batch1", []), ("nhwc", []), ("anysize", ["size=112"])]:
        emb = make_embedder(f"onnx:{nets[name]}", ["align=none", *options])
        np.testing.assert_allclose(emb.embed(crops), want, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(emb.embed(list(crops[:3])), want[:3], atol=1e-5)
    assert make_embedder(f"onnx:{nets['batch1']}", ["align=none"]).layout.batch == 1
    with pytest.raises(UserError, match="give a square size with -o size=N"):
        make_embedder(f"onnx:{nets['anysize']}", ["align=none"])
    with pytest.raises(UserError, match="takes 112x112 images, not size=64"):
        make_embedder(f"onnx:{nets['nchw']}", ["size=64"])


def test_gray_network_reads_gray_images(nets):
    from latentplay.embed.base import embed_images

    emb = make_embedder(f"onnx:{nets['gray']}", ["align=none", "pixels=unit", "normalize=false"])
    assert emb.image_mode == "L" and emb.image_size == 32 and emb.layout.channels == 1
    images = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 1), dtype=np.uint8)
    x = torch.from_numpy(images.astype(np.float32) / 255).permute(0, 3, 1, 2)
    with torch.no_grad():
        want = TwoHeads(channels=1)(x)[0].numpy()
    np.testing.assert_allclose(emb.embed(images), want, atol=2e-5)
    # aligned faces are made grey as the store's images are read for it: PIL's luma
    aligned = make_embedder(f"onnx:{nets['gray']}", ["detect=false", "pixels=unit"])
    photo = data.astronaut()[::8, ::8]
    chip = align_to_template(photo, five_points(FaceModels.load().landmarks68(
        photo, FaceModels.load().whole_image_box(photo))), 32)
    grey = np.asarray(Image.fromarray(chip).convert("L"))[None, ..., None]
    np.testing.assert_allclose(aligned.embed([photo]), aligned.embed_crops(grey), atol=1e-6)
    # the face is looked for in the colour photo: the store's images are read in RGB for it
    assert aligned.image_mode == "RGB"
    np.testing.assert_allclose(embed_images(aligned, [photo])[0], aligned.embed([photo]), atol=1e-6)


def test_arcface_alignment_finds_faces_and_flags_the_rest(nets):
    photo = data.astronaut()
    blank = np.full((200, 200, 3), 128, np.uint8)
    emb = make_embedder(f"onnx:{nets['nchw']}")
    assert emb.detects_faces and emb.image_size is None
    vectors, found = emb.embed_rows([photo, blank])
    assert found.tolist() == [True, False] and np.isfinite(vectors).all()
    faces = FaceModels.load()
    chip = align_to_template(photo, five_points(faces.landmarks68(photo, faces.detect(photo))))
    np.testing.assert_allclose(vectors[0], emb.embed_crops(chip[None])[0], atol=1e-6)
    vectors, found = make_embedder(f"onnx:{nets['nchw']}", ["fallback=nan"]).embed_rows([photo, blank])
    assert found.tolist() == [True, False]
    assert np.isfinite(vectors[0]).all() and np.isnan(vectors[1]).all()
    undetected = make_embedder(f"onnx:{nets['nchw']}", ["detect=false"])
    assert not undetected.detects_faces
    assert undetected.embed_rows([photo, blank])[1].tolist() == [True, True]


def test_refusals(nets, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a network" * 10)
    cases = [
        ("onnx", [], "needs a network file: --with onnx:PATH"),
        (f"onnx:{tmp_path / 'missing.onnx'}", [], "does not exist"),
        (f"onnx:{tmp_path}", [], f"^onnx network file {tmp_path} is a folder, not a file: give the"),
        (f"onnx:{garbage}", [], "could not load"),
        (f"onnx:{nets['nchw']}", ["align=mtcnn"], "align must be one of arcface, dlib, box, none"),
        (f"onnx:{nets['nchw']}", ["pixels=vgg"], "pixels must be one of"),
        (f"onnx:{nets['nchw']}", ["fallback=skip"], "fallback must be"),
    ]
    for name, options, message in cases:
        with pytest.raises(UserError, match=message):
            make_embedder(name, options)
    flat = tmp_path / "flat.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(torch.nn.Linear(10, 4), (torch.zeros(2, 10),), str(flat), dynamo=False,
                          input_names=["x"])
    with pytest.raises(UserError, match=r"has shape \[2, 10\]; expected \(N, C, H, W\)"):
        make_embedder(f"onnx:{flat}")


def test_a_nan_padding_is_refused(nets):
    """``padding=nan`` passed the ``< 0`` check: the box crop's scale was NaN and every face
    was embedded from a black crop, flagged as found."""
    for align in ("box", "dlib"):
        with pytest.raises(UserError, match="padding and threads must be >= 0"):
            make_embedder(f"onnx:{nets['nchw']}", [f"align={align}", "padding=nan"])


def test_a_gray_network_refuses_three_channel_statistics(nets):
    """ImageNet's or CLIP's three means made a one-channel input three channels: an
    onnxruntime traceback about the input's dimensions."""
    for pixels in ("imagenet", "clip"):
        with pytest.raises(UserError, match=f"reads one .gray. channel; pixels={pixels}"):
            make_embedder(f"onnx:{nets['gray']}", [f"pixels={pixels}"])


def test_embed_a_store_from_the_cli(cli, nets, tmp_path):
    images = np.random.default_rng(3).integers(0, 256, (12, 40, 40, 3), dtype=np.uint8)
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="tests", converter="tests"))
    s = st.build([{"image": [st.encode_png(im) for im in images]}], schema, tmp_path / "s")
    r = cli("embed", s.path, "--with", f"onnx:{nets['nchw']}", "--column", "net",
            "-o", "align=none", "-o", "pixels=imagenet", "--batch-size", "5")
    assert r.code == 0, r.err
    out = st.load(s.path)
    vectors = st.vectors(out, "net")
    assert vectors.shape == (12, 16)
    resized = np.stack([np.asarray(Image.fromarray(im).resize((112, 112), Image.BILINEAR))
                        for im in images])
    direct = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "pixels=imagenet"]).embed(resized)
    np.testing.assert_allclose(vectors, direct, atol=1e-5)
    record = col.embed_entry(out, "net")
    assert record["embedder"] == f"onnx:{nets['nchw']}" and record["config"]["pixels"] == "imagenet"
    assert not record["detects_faces"]
    r = cli("embed", s.path, "--with", f"onnx:{nets['nchw']}", "--column", "x", "-o", "pixels=bad")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1


def test_an_arcface_aligned_store_embeds_like_the_photos(cli, nets, blob_store, tmp_path):
    """``data align --template arcface`` then ``align=none`` gives the vectors ``align=arcface``
    gives on the photos (the same crops)."""
    photo = data.astronaut()
    s = blob_store(images=[photo[30:330, 100:360], photo], name="photos")
    assert cli("data", "align", s.path, "--out", tmp_path / "arc", "--template", "arcface").code == 0
    aligned = col.embed_store(tmp_path / "arc", f"onnx:{nets['nchw']}", "net", options=["align=none"],
                              progress=False)
    direct = col.embed_store(s, f"onnx:{nets['nchw']}", "net", progress=False)
    np.testing.assert_allclose(st.vectors(aligned, "net"), st.vectors(direct, "net"), atol=1e-5)


def test_dlib_alignment_feeds_dlibs_chip(nets):
    """``align=dlib`` (FairFace's classifiers) embeds dlib's upright chip with the padding."""
    photo = data.astronaut()
    faces = FaceModels.load()
    for padding in (0.25, 0.5):
        emb = make_embedder(f"onnx:{nets['nchw']}", ["align=dlib", f"padding={padding}"])
        assert emb.detects_faces and emb.image_size is None
        chip = faces.align(photo, faces.detect(photo), 112, padding)
        np.testing.assert_allclose(emb.embed([photo])[0], emb.embed_crops(chip[None])[0], atol=1e-6)


def test_box_crop_centres_the_box_with_its_margin():
    """A 40 x 20 box drawn in a photo fills the middle 1 / 1.5 of the crop's width (InsightFace's
    attribute crop), centred, upright."""
    image = np.zeros((200, 300, 3), np.uint8)
    image[70:91, 100:141] = 255  # columns 100..140, rows 70..90: a 40 x 20 box
    crop = box_crop(image, (100, 70, 140, 90), 96)
    cols = np.flatnonzero(crop[..., 0].max(0) > 127)
    rows = np.flatnonzero(crop[..., 0].max(1) > 127)
    # the box's 40 px (from pixel centre to centre) are 64 crop pixels, the crop's middle
    assert abs(cols[0] - 16) <= 1 and abs(cols[-1] - 80) <= 1, cols
    assert abs(rows[0] - 32) <= 1 and abs(rows[-1] - 64) <= 1, rows
    assert crop[5, 5].max() == 0 and box_crop(image, (0, 0, 40, 20), 96)[0, 0].max() == 0


def test_box_alignment_and_pixels_auto(nets, tmp_path):
    """``align=box`` embeds the box crop of the detected face; ``pixels=auto`` feeds raw pixels
    to a file whose first nodes normalise (InsightFace's rule) and ArcFace's scaling otherwise."""
    photo = data.astronaut()
    faces = FaceModels.load()
    emb = make_embedder(f"onnx:{nets['nchw']}", ["align=box", "padding=0.3"])
    chip = faces.box_chip(photo, faces.find(photo), 112, 0.3)
    np.testing.assert_allclose(emb.embed([photo])[0], emb.embed_crops(chip[None])[0], atol=1e-6)

    class Normalising(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = TwoHeads()

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.net((x - 127.5) * (1 / 127.5))

    path = export(Normalising(), tmp_path / "normalising.onnx", (2, 3, 112, 112),
                  {"data": {0: "n"}, "feat": {0: "n"}, "logits": {0: "n"}})
    inside = make_embedder(f"onnx:{path}", ["align=none", "pixels=auto"])
    outside = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "pixels=auto"])
    assert (inside.pixels, outside.pixels) == ("raw", "arcface")
    crops = np.random.default_rng(4).integers(0, 256, (3, 112, 112, 3), dtype=np.uint8)
    np.testing.assert_allclose(inside.embed(crops), outside.embed(crops), atol=1e-5)
    with pytest.raises(UserError, match="pixels must be one of .* or auto"):
        make_embedder(f"onnx:{path}", ["pixels=automatic"])


def test_cnn_detector_option(nets):
    photo = data.astronaut()
    emb = make_embedder(f"onnx:{nets['nchw']}", ["detector=cnn", "fallback=nan"])
    vectors, found = emb.embed_rows([photo, np.full((120, 120, 3), 128, np.uint8)])
    assert found.tolist() == [True, False] and np.isnan(vectors[1]).all()
    with pytest.raises(UserError, match="detector must be one of hog, cnn"):
        make_embedder(f"onnx:{nets['nchw']}", ["detector=retina"])


def test_crop_keeps_the_centre(nets):
    from latentplay.embed.base import embed_images

    images = np.random.default_rng(4).integers(0, 256, (3, 40, 40, 3), dtype=np.uint8)
    cropped = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "crop=0.5"])
    assert cropped.image_crop == 0.5
    whole = make_embedder(f"onnx:{nets['nchw']}", ["align=none"])
    np.testing.assert_allclose(embed_images(cropped, images)[0],
                               embed_images(whole, images[:, 10:30, 10:30])[0], atol=1e-6)
    with pytest.raises(UserError, match=r"crop must be in \(0, 1\]"):
        make_embedder(f"onnx:{nets['nchw']}", ["crop=0"])


def test_align_none_squashes_a_non_square_image_unless_cropped(nets):
    """As documented: with ``align=none`` and ``crop=1`` a non-square photo is resized whole to
    the input (squashed), not centre-cropped; ``crop`` < 1 keeps the centred square first."""
    from latentplay.embed.base import embed_images

    image = np.random.default_rng(5).integers(0, 256, (112, 224, 3), dtype=np.uint8)
    emb = make_embedder(f"onnx:{nets['nchw']}", ["align=none"])
    squashed = np.asarray(Image.fromarray(image).resize((112, 112), Image.BILINEAR))
    np.testing.assert_allclose(embed_images(emb, [image])[0], emb.embed(squashed[None]), atol=1e-6)
    square = make_embedder(f"onnx:{nets['nchw']}", ["align=none", "crop=0.999"])
    np.testing.assert_allclose(embed_images(square, [image])[0], emb.embed(image[None, :, 56:168]),
                               atol=1e-6)


def test_align_centre_keeps_the_centred_square_as_clip_does(nets):
    """``align=centre``: the shorter side resized to the input (bicubic), the centred square kept
    (CLIP's preprocessing), neither squashed nor cut by ``crop``."""
    from latentplay.embed.base import embed_images
    from latentplay.embed.onnxnet import centre_square

    wide = np.random.default_rng(6).integers(0, 256, (112, 224, 3), dtype=np.uint8)
    plain = make_embedder(f"onnx:{nets['nchw']}", ["align=none"])
    centre = make_embedder(f"onnx:{nets['nchw']}", ["align=centre"])
    np.testing.assert_allclose(embed_images(centre, [wide])[0], plain.embed(wide[None, :, 56:168]),
                               atol=1e-6)
    tall = np.repeat(np.repeat(wide.transpose(1, 0, 2), 2, axis=0), 2, axis=1)   # (448, 224)
    square = centre_square(tall, 112)
    expected = np.asarray(Image.fromarray(tall).resize((112, 224), Image.BICUBIC))[56:168]
    assert square.shape == (112, 112, 3) and np.array_equal(square, expected)
    assert centre_square(np.zeros((5, 9, 1), np.uint8), 3).shape == (3, 3, 1)
    assert centre_square(np.zeros((2, 3, 3), np.uint8), 4).shape == (4, 4, 3)   # upscaled


def test_align_centre_needs_no_face_models_and_detects_no_faces(nets, monkeypatch):
    """``align=centre`` (the ONNX CLIP annotator's, for machines without open_clip) looks for no
    face: it loads no dlib models and its column does not claim to have looked for faces."""
    def no_dlib(cls):
        raise UserError("dlib is not installed")

    monkeypatch.setattr(FaceModels, "load", classmethod(no_dlib))
    centre = make_embedder(f"onnx:{nets['nchw']}", ["align=centre"])
    wide = np.random.default_rng(7).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    vectors, found = centre.embed_rows([wide])
    assert not centre.detects_faces and found.tolist() == [True] and np.isfinite(vectors).all()


def test_box_alignment_of_a_one_pixel_image_falls_back_to_the_whole_image(nets):
    """A one-pixel image (a web placeholder) has no face; ``fallback=whole`` crops its whole-image
    box, which has no extent: the row is flagged and embedded, not a ZeroDivisionError."""
    dot = np.full((1, 1, 3), 200, np.uint8)
    crop = box_crop(dot, (0, 0, 0, 0), 16)
    assert crop.shape == (16, 16, 3) and crop[8, 8].tolist() == [200, 200, 200]
    emb = make_embedder(f"onnx:{nets['nchw']}", ["align=box"])
    vectors, found = emb.embed_rows([dot, data.astronaut()])
    assert found.tolist() == [False, True] and np.isfinite(vectors).all()


def test_centre_square_rounds_an_odd_margin_as_torchvision_does():
    """CenterCrop's left edge is round((W - side) / 2): an image 3 columns wider than the input
    (at the input's height, so not resized) keeps columns 2..113, 2 spare ones on the left."""
    from latentplay.embed.onnxnet import centre_square

    image = np.random.default_rng(7).integers(0, 256, (112, 115, 3), dtype=np.uint8)
    np.testing.assert_array_equal(centre_square(image, 112), image[:, 2:114])
    np.testing.assert_array_equal(centre_square(image.transpose(1, 0, 2), 112),
                                  image.transpose(1, 0, 2)[2:114])


def test_a_graph_normalises_itself_only_when_it_subtracts_and_multiplies():
    """InsightFace's rule: a Sub and a Mul among the first eight nodes (or bn_data among the
    first three) mean the file takes raw 0-255 pixels; either alone does not."""
    from types import SimpleNamespace

    from latentplay.embed.onnxnet import nodes_normalise

    def graph(*names: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=n) for n in names]

    assert nodes_normalise(graph("/Sub", "Conv_0", "Mul_1"))
    assert nodes_normalise(graph("_minus0", "_mul0"))
    assert not nodes_normalise(graph("Sub_0", "Conv_0", "Relu_0"))
    assert not nodes_normalise(graph("Conv_0", "Mul_0"))
    assert not nodes_normalise(graph(*[f"Conv_{k}" for k in range(8)], "Sub_0", "Mul_0"))
    assert nodes_normalise(graph("data", "bn_data")) and not nodes_normalise(graph(*"abc", "bn_data"))


def test_a_fixed_batch_of_two_pads_an_odd_last_batch(nets, crops, tmp_path):
    """A file exported for batches of exactly 2 runs 5 images as 2 + 2 + 1, the last padded
    with a blank image whose row is dropped: the vectors of the network taking any batch."""
    emb = make_embedder(f"onnx:{export(TwoHeads(), tmp_path / 'two.onnx', (2, 3, 112, 112))}",
                        ["align=none"])
    want = make_embedder(f"onnx:{nets['nchw']}", ["align=none"]).embed(crops)
    assert emb.layout.batch == 2 and len(crops) == 5
    np.testing.assert_allclose(emb.embed(crops), want, atol=1e-5)


def test_crop_is_align_nones_alone(nets):
    """``crop`` cuts the image only with ``align=none``: ``align=centre`` keeps its own square
    of the whole image, whatever ``crop`` says."""
    from latentplay.embed.base import embed_images

    wide = np.random.default_rng(8).integers(0, 256, (112, 224, 3), dtype=np.uint8)
    centre = make_embedder(f"onnx:{nets['nchw']}", ["align=centre"])
    cropped = make_embedder(f"onnx:{nets['nchw']}", ["align=centre", "crop=0.5"])
    np.testing.assert_array_equal(embed_images(cropped, [wide])[0], embed_images(centre, [wide])[0])
