"""SCRFD face detection (``--detector scrfd:PATH``) and its five points in ArcFace's alignment.

The networks are small PyTorch modules with SCRFD's outputs, exported to ONNX here: at stride 16
every place scores how bright its cell is in the red channel, so a bright red square is a
"face" at a known place, with a known box and five known points.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from latentplay import store as st
from latentplay.embed.align import align_faces
from latentplay.embed.arcface import TEMPLATE_112, align_to_template, similarity, template
from latentplay.embed.base import make_embedder
from latentplay.embed.faces import FaceModels, detector_label
from latentplay.embed.scrfd import (
    ScrfdDetector,
    anchor_centres,
    decode,
    load_detector,
    non_maximum_suppression,
)
from latentplay.errors import UserError
from latentplay.measure.run import MeasureConfig, Measurer

BOX = (2.05, 2.0, 3.0, 2.95)  # first anchor: left, top, right, bottom distances in strides
SMALL_BOX = (1.0, 1.0, 1.5, 1.5)  # second anchor: inside the first, overlapping it by 0.25
POINTS = (TEMPLATE_112 - TEMPLATE_112.mean(0)) / 40  # five points about the centre, in strides


class FakeScrfd(torch.nn.Module):
    """SCRFD's outputs (scores, then boxes, then points, by stride) for a red-square "face"."""

    def __init__(self, levels: int = 3, points: bool = True, batched: bool = False) -> None:
        super().__init__()
        self.strides = (8, 16, 32) if levels == 3 else (8, 16, 32, 64, 128)
        self.anchors = 2 if levels == 3 else 1
        self.points, self.batched = points, batched

    def _per_place(self, m: torch.Tensor, values: list[tuple[float, ...]]) -> torch.Tensor:
        """``values`` of each anchor at every place of feature map ``m``: ``(places * A, k)``."""
        maps = [m * 0 + v for anchor in values[:self.anchors] for v in anchor]
        return torch.cat(maps, 1).permute(0, 2, 3, 1).reshape(-1, len(values[0]))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        scores, boxes, points = [], [], []
        for stride in self.strides:
            m = F.avg_pool2d(x[:, :1], stride)
            logit = 40 * (m - 0.5) if stride == 16 else m * 0 - 30
            logits = torch.cat([logit, logit - 2][:self.anchors], 1)
            scores.append(torch.sigmoid(logits).permute(0, 2, 3, 1).reshape(-1, 1))
            boxes.append(self._per_place(m, [BOX, SMALL_BOX]))
            points.append(self._per_place(m, [tuple(POINTS.ravel())] * 2))
        outs = scores + boxes + (points if self.points else [])
        return tuple(o[None] for o in outs) if self.batched else tuple(outs)


def export(module: torch.nn.Module, path: Path, side: int, fixed: bool) -> Path:
    outputs = len(module.strides) * (3 if module.points else 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, side, side),), str(path), dynamo=False,
                          input_names=["input.1"], output_names=[f"out{k}" for k in range(outputs)],
                          dynamic_axes=None if fixed else {"input.1": {2: "h", 3: "w"}})
    return path


class Feat(torch.nn.Module):
    """A tiny embedding network of 112 x 112 crops."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 8, stride=8), torch.nn.ReLU(),
                                       torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``det`` (9 outputs, open input: 640), ``det320`` (fixed 320 input), ``batched`` (a
    leading batch axis), ``fivelevel`` (15 outputs, one anchor), ``nopoints`` (6 outputs),
    ``feat`` (an embedding network)."""
    d = tmp_path_factory.mktemp("scrfd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Feat().eval(), (torch.zeros(2, 3, 112, 112),), str(d / "feat.onnx"),
                          dynamo=False, input_names=["data"], output_names=["feat"],
                          dynamic_axes={"data": {0: "n"}, "feat": {0: "n"}})
    return {
        "det": export(FakeScrfd(), d / "det.onnx", 640, fixed=False),
        "det320": export(FakeScrfd(), d / "det320.onnx", 320, fixed=True),
        "batched": export(FakeScrfd(batched=True), d / "batched.onnx", 640, fixed=False),
        "fivelevel": export(FakeScrfd(levels=5), d / "fivelevel.onnx", 640, fixed=False),
        "nopoints": export(FakeScrfd(points=False), d / "nopoints.onnx", 640, fixed=False),
        "feat": d / "feat.onnx",
    }


def scene(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``(0.75 side, 0.5625 side)`` photo with a red square where the detector's input has
    one stride-16 cell (the input is 4/3 of the photo), five green dots where the detector
    will place the points; and the expected box ``(4,)`` and points ``(5, 2)`` in the photo."""
    h, w = side * 3 // 4, side * 9 // 16
    row, col = (15, 12) if side == 640 else (8, 6)
    centre = np.array([col, row]) * 16 * 0.75  # the anchor's place, in photo pixels
    image = np.zeros((h, w, 3), np.uint8)
    image[int(centre[1]):int(centre[1]) + 12, int(centre[0]):int(centre[0]) + 12, 0] = 255
    box = np.concatenate([centre - np.array(BOX[:2]) * 12, centre + np.array(BOX[2:]) * 12])
    points = centre + POINTS * 12
    yy, xx = np.mgrid[:h, :w]
    for x, y in points:
        image[(xx - x) ** 2 + (yy - y) ** 2 < 3, 1] = 255
    return image, box, points


@pytest.mark.parametrize("name,side", [("det", 640), ("det320", 320), ("batched", 640)])
def test_detector_finds_the_square_with_its_box_and_points(nets, name, side):
    image, box, points = scene(side)
    detector = ScrfdDetector(nets[name])
    assert detector.side == side and detector.has_points
    found = detector.detect(image)
    # both anchors of the square's place fire; their boxes overlap by 0.25 (< 0.4): both kept
    assert len(found.scores) == 2 and found.scores[0] > found.scores[1] > 0.5
    assert found.largest() == 0
    np.testing.assert_allclose(found.boxes[0], box, atol=1e-3)
    small = np.concatenate([box[:2] + (np.array(BOX[:2]) - SMALL_BOX[:2]) * 12,
                            box[2:] - (np.array(BOX[2:]) - SMALL_BOX[2:]) * 12])
    np.testing.assert_allclose(found.boxes[1], small, atol=1e-3)
    np.testing.assert_allclose(found.points[0], points, atol=1e-3)
    empty = detector.detect(np.zeros_like(image))
    assert empty.boxes.shape == (0, 4) and empty.points.shape == (0, 5, 2)
    assert empty.largest() is None


def test_a_landscape_photo_scales_by_its_width(nets):
    """The same square in the photo turned on its side (wider than high): the width fills the
    input, and the box and points come back where the anchor puts them."""
    image, _, _ = scene(640)
    wide = np.ascontiguousarray(image.transpose(1, 0, 2)[..., :1].repeat(3, axis=-1) * [1, 0, 0])
    wide = wide.astype(np.uint8)
    centre = np.array([180.0, 144.0])  # the square's corner: (x, y) of the tall photo swapped
    found = ScrfdDetector(nets["det"]).detect(wide)
    box = np.concatenate([centre - np.array(BOX[:2]) * 12, centre + np.array(BOX[2:]) * 12])
    np.testing.assert_allclose(found.boxes[0], box, atol=1e-3)
    np.testing.assert_allclose(found.points[0], centre + POINTS * 12, atol=1e-3)


def test_five_level_and_pointless_layouts(nets):
    image, box, points = scene(640)
    found = ScrfdDetector(nets["fivelevel"]).detect(image)  # one anchor per place
    assert len(found.scores) == 1
    np.testing.assert_allclose(found.boxes[0], box, atol=1e-3)
    np.testing.assert_allclose(found.points[0], points, atol=1e-3)
    bare = ScrfdDetector(nets["nopoints"])
    assert not bare.has_points and bare.detect(image).points is None


def test_anchor_order_and_decoding_by_hand():
    """Place (row 1, column 2) of a 4 x 4 grid at stride 8, second anchor: index (1*4+2)*2+1."""
    centres = anchor_centres(32, 8, 2)
    assert centres.shape == (32, 2)
    np.testing.assert_array_equal(centres[(1 * 4 + 2) * 2 + 1], [16, 8])
    np.testing.assert_array_equal(centres[(1 * 4 + 2) * 2], [16, 8])
    sizes = {8: 32, 16: 8, 32: 2}  # anchors per stride for a 32-px input
    scores = [np.zeros(n, np.float32) for n in sizes.values()]
    scores[0][13] = 0.9
    boxes = [np.ones((n, 4), np.float32) for n in sizes.values()]
    points = [np.tile(np.arange(10, dtype=np.float32) / 10, (n, 1)) for n in sizes.values()]
    b, s, p = decode(scores + boxes + points, 32)
    np.testing.assert_allclose(b, [[8, 0, 24, 16]])  # centre (16, 8), one stride each side
    np.testing.assert_allclose(s, [0.9])
    np.testing.assert_allclose(p[0], [16, 8] + np.arange(10).reshape(5, 2) / 10 * 8)
    with pytest.raises(UserError, match="6, 9, 10 or 15 outputs"):
        decode(scores + boxes[:2], 32)
    with pytest.raises(UserError, match="has 31 scores"):
        decode([scores[0][:31]] + scores[1:] + boxes + points, 32)


def test_non_maximum_suppression():
    boxes = np.array([[0, 0, 9, 9], [1, 1, 10, 10], [20, 20, 29, 29], [0, 0, 4, 4]], float)
    scores = np.array([0.6, 0.9, 0.7, 0.8])
    # box 1 (0.9) removes box 0 (IoU 81/119 = 0.68); box 3 overlaps box 1 by 16/116: kept
    assert non_maximum_suppression(boxes, scores).tolist() == [1, 3, 2]
    assert non_maximum_suppression(boxes, scores, iou=0.7).tolist() == [1, 3, 2, 0]


class _Outputs:
    """An onnxruntime session stand-in answering with fixed SCRFD outputs."""

    def __init__(self, outputs: list[np.ndarray]) -> None:
        self.outputs = outputs

    def run(self, names: object, feeds: object) -> list[np.ndarray]:
        return self.outputs


def test_overlaps_are_measured_in_the_photos_pixels(nets):
    """InsightFace divides the boxes by the input's scale before its NMS, whose areas count
    both end pixels: two 10-px boxes of the input 4.55 px apart overlap by 0.41 there, but by
    0.39 as the 40-px boxes of a photo four times larger, so both faces are kept."""
    detector = ScrfdDetector(nets["det"])
    scores = [np.zeros((n, 1), np.float32) for n in (12800, 3200, 800)]
    boxes = [np.zeros((n, 4), np.float32) for n in (12800, 3200, 800)]
    points = [np.zeros((n, 10), np.float32) for n in (12800, 3200, 800)]
    scores[0][[0, 2]] = [[0.9], [0.8]]  # stride 8: places (0, 0) and (8, 0), anchor 0
    boxes[0][0] = np.array([0, 0, 10, 10]) / 8  # input box (0, 0, 10, 10)
    boxes[0][2] = np.array([8 - 4.55, 0, 14.55 - 8, 10]) / 8  # input box (4.55, 0, 14.55, 10)
    detector.session = _Outputs(scores + boxes + points)
    found = detector.detect(np.zeros((2560, 2560, 3), np.uint8))
    np.testing.assert_allclose(found.boxes, [[0, 0, 40, 40], [18.2, 0, 58.2, 40]], atol=1e-4)
    np.testing.assert_allclose(found.scores, [0.9, 0.8])


def _dots(channel: np.ndarray) -> np.ndarray:
    """Centres of the five bright dots of ``channel``: ``(5, 2)`` (x, y), in no set order."""
    labels, n = ndimage.label(channel > 40)
    assert n == 5
    return np.array(ndimage.center_of_mass(channel.astype(float), labels, range(1, 6)))[:, ::-1]


def test_arcface_crops_put_scrfds_points_on_the_template(nets):
    """The green dots the detector's points sit on land on ArcFace's template (where the fit
    sends the dots' drawn centres: within a tenth of a pixel)."""
    image, _, points = scene(640)
    chips, found = align_faces([image, np.zeros_like(image)], size=112, template="arcface",
                               detector=f"scrfd:{nets['det']}")
    assert found.tolist() == [True, False] and len(chips) == 1
    dots = _dots(chips[0][..., 1])
    order = [int(np.argmin(np.linalg.norm(dots - t, axis=1))) for t in template(112)]
    assert sorted(order) == list(range(5))
    drawn = _dots(image[..., 1])
    drawn = drawn[[int(np.argmin(np.linalg.norm(drawn - p, axis=1))) for p in points]]
    fit = similarity(points, template(112))
    np.testing.assert_allclose(dots[order], drawn @ fit[:, :2].T + fit[:, 2], atol=0.1)
    np.testing.assert_allclose(dots[order], template(112), atol=1.0)


def test_onnx_embedder_with_scrfd(nets):
    image, _, points = scene(640)
    emb = make_embedder(f"onnx:{nets['feat']}", [f"detector=scrfd:{nets['det']}", "fallback=nan"])
    vectors, found = emb.embed_rows([image, np.zeros_like(image)])
    assert found.tolist() == [True, False] and np.isnan(vectors[1]).all()
    want = emb.embed_crops(align_to_template(image, points, 112)[None])[0]
    np.testing.assert_allclose(vectors[0], want, atol=1e-5)
    # the detector's file is part of the column's state: a different file, a different state
    other = make_embedder(f"onnx:{nets['feat']}", [f"detector=scrfd:{nets['det320']}"])
    assert other.state_digest() != emb.state_digest()
    # a file without points: the five points come from dlib's landmarks in SCRFD's box
    bare = make_embedder(f"onnx:{nets['feat']}", [f"detector=scrfd:{nets['nopoints']}"])
    assert bare.embed_rows([image])[1].tolist() == [True]


def test_dlib_embedder_and_measures_use_scrfds_box(nets):
    image, box, _ = scene(640)
    detector = f"scrfd:{nets['det']}"
    face = FaceModels.load().find(image, detector=detector)
    assert [face.box.left(), face.box.top(), face.box.right(), face.box.bottom()] == \
        [int(round(v)) for v in box]
    assert face.score > 0.99 and face.points.shape == (5, 2)
    np.testing.assert_allclose(face.bounds, box, atol=1e-3)  # the box as found, unrounded
    _, found = make_embedder("dlib", [f"detector={detector}", "fallback=nan"]).embed_rows(
        [image, np.zeros_like(image)])
    assert found.tolist() == [True, False]
    measurer = Measurer(MeasureConfig(what=["pose"], detector=detector, fallback="nan"))
    values, found = measurer.embed_rows([image, np.zeros_like(image)])
    assert found.tolist() == [True, False] and values[0, -1] > 0.99 and np.isnan(values[1, -1])
    assert detector_label(detector) == "SCRFD (det.onnx)"


def test_refusals(nets, tmp_path):
    with pytest.raises(UserError, match="is not an SCRFD face detector"):
        ScrfdDetector(nets["feat"])
    with pytest.raises(UserError, match="SCRFD detector file .* does not exist"):
        make_embedder("dlib", [f"detector=scrfd:{tmp_path / 'missing.onnx'}"])
    with pytest.raises(UserError, match="does not exist"):
        load_detector(str(tmp_path / "missing.onnx"))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a network")
    with pytest.raises(UserError, match="could not load .* as an ONNX network"):
        ScrfdDetector(bad)


def test_data_align_with_scrfd_from_the_cli(cli, nets, blob_store, tmp_path):
    image, _, _ = scene(640)
    s = blob_store(images=[image, np.zeros_like(image)], name="photos")
    r = cli("data", "align", s.path, "--out", tmp_path / "arc", "--template", "arcface",
            "--detector", f"scrfd:{nets['det']}")
    assert r.code == 0, r.err
    aligned = st.load(tmp_path / "arc")
    assert len(aligned) == 1
    assert aligned.schema.provenance.arguments["detector"] == f"scrfd:{nets['det']}"
    r = cli("data", "align", s.path, "--out", tmp_path / "no", "--detector", "scrfd:nowhere.onnx")
    assert r.code == 2 and "SCRFD detector file nowhere.onnx does not exist" in r.err


def test_input_side_can_be_asked_for(nets, tmp_path):
    """``scrfd:PATH@SIDE`` sets an open-input file's side (InsightFace's det_size); the face
    comes back at the same place in the photo."""
    image, box, points = scene(320)  # a photo whose square fills a cell of a 320-px input
    assert ScrfdDetector(nets["det"], side=320).side == 320
    face = FaceModels.load().find(image, detector=f"scrfd:{nets['det']}@320")
    np.testing.assert_allclose(face.bounds, box, atol=1e-3)
    np.testing.assert_allclose(face.points, points, atol=1e-3)
    at640 = FaceModels.load().find(image, detector=f"scrfd:{nets['det']}")  # other cells fire
    assert not np.allclose(at640.bounds, box, atol=1)
    assert detector_label(f"scrfd:{nets['det']}@320") == "SCRFD (det.onnx at 320 px)"
    with pytest.raises(UserError, match="takes 320-px images, not @640"):
        ScrfdDetector(nets["det320"], side=640)
    with pytest.raises(UserError, match="multiple of 32"):
        ScrfdDetector(nets["det"], side=300)
    with pytest.raises(UserError, match="multiple of 128"):
        ScrfdDetector(nets["fivelevel"], side=320)
    # a file whose name has an @ is still found
    odd = tmp_path / "det@2.onnx"
    odd.write_bytes(nets["det"].read_bytes())
    assert ScrfdDetector(odd).side == 640
    assert FaceModels.load().find(scene(640)[0], detector=f"scrfd:{odd}") is not None


def test_detection_sweep_with_scrfd(nets, tmp_path):
    from latentplay.audit.detection import best_scores, detection_sweep

    photo, _, _ = scene(640)
    blank = np.zeros_like(photo)
    spec = f"scrfd:{nets['det']}"
    scores = best_scores([photo, blank], spec, lowest=0.05)
    assert scores[0] == pytest.approx(ScrfdDetector(nets["det"]).detect(photo).scores.max())
    assert scores[0] > 0.5 and not scores[1] > 0.5
    schema = st.Schema(attributes=[st.Attribute("kind", "categorical", names=["photo", "blank"])],
                       provenance=st.Provenance(source="tests", converter="tests"))
    store = st.build([{"image": [st.encode_png(im) for im in (photo, blank, photo)], "kind": [0, 1, 0]}],
                     schema, tmp_path / "scenes")
    sweep = detection_sweep(store, "kind", detector=spec, steps=20)
    assert sweep["cut"] == 0.5 and sweep["thresholds"][0] == 0.05 and 0.5 in sweep["thresholds"]
    assert sweep["groups"]["photo"]["at_cut"] == 1.0 and sweep["groups"]["blank"]["at_cut"] == 0.0
    assert sweep["groups"]["photo"]["matched_at"] >= 0.5 and sweep["groups"]["blank"]["matched_at"] is None
    assert sweep["label"] == detector_label(spec)
    with pytest.raises(UserError, match="the detector's own cut, 0.5"):
        detection_sweep(store, "kind", detector=spec, lowest=0.6)
    with pytest.raises(UserError, match="does not exist"):
        detection_sweep(store, "kind", detector="scrfd:missing.onnx")
