"""dlib's CNN face detector in PyTorch against dlib's own: the same boxes and confidences."""

from __future__ import annotations

import dlib
import numpy as np
import pytest
import torch
from skimage import data

from latentplay.embed.dlib_mmod import (
    MMODNet,
    dlib_mmod,
    read_dlib_mmod,
    suppressed,
    tiled_layout,
    tiled_pyramid,
)
from latentplay.embed.faces import (
    CNN_DETECTOR_MODEL,
    check_detector,
    cnn_faces,
    cnn_threshold,
    detector_label,
    model_dir,
)
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def reference() -> dlib.cnn_face_detection_model_v1:
    return dlib.cnn_face_detection_model_v1(str(model_dir() / CNN_DETECTOR_MODEL))


def _mosaic() -> np.ndarray:
    """Three astronaut faces of two sizes, one mirrored, on grey: ``(400, 600, 3)`` uint8."""
    face = data.astronaut()[30:230, 150:320]
    out = np.full((400, 600, 3), 90, np.uint8)
    out[10:210, 10:180] = face
    out[220:320, 250:335] = face[::2, ::2]
    out[50:150, 400:485] = face[::2, ::2][:, ::-1]
    return out


def _dlib_found(reference, image: np.ndarray, upsample: int) -> tuple[np.ndarray, np.ndarray]:
    found = reference(image, upsample)
    boxes = [(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()) for d in found]
    return np.array(boxes, np.int64).reshape(-1, 4), np.array([d.confidence for d in found])


@pytest.mark.slow  # ~25 s, dlib's own detector on a 400 x 600 mosaic; the batch test below compares too
def test_the_detector_finds_what_dlib_finds(reference, faces_store) -> None:
    astronaut = data.astronaut()
    from latentplay import store as st

    drawn = list(st.load_images(st.load(faces_store), range(8)))
    cases = [(astronaut[20:260, 120:330].copy(), 0), (astronaut[20:260, 120:330].copy(), 1),
             (_mosaic(), 1), (np.repeat(data.camera()[::2, ::2, None], 3, 2), 1),
             (np.full((90, 120, 3), 128, np.uint8), 0)] + [(image, 2) for image in drawn]
    detector = dlib_mmod()
    faces = 0
    for image, upsample in cases:
        boxes, scores = _dlib_found(reference, image, upsample)
        found = detector.detect([image], upsample)[0]
        np.testing.assert_array_equal(found.boxes, boxes)
        np.testing.assert_allclose(found.scores, scores, atol=1e-4)
        faces += len(boxes)
    assert faces >= 6  # the mosaic's three, the crop's two, the camera man, some drawn faces


def test_a_batch_of_images_of_two_sizes_finds_what_one_at_a_time_finds(reference, faces_store) -> None:
    from latentplay import store as st

    images = list(st.load_images(st.load(faces_store), range(4, 8))) + [_mosaic()]
    detector = dlib_mmod()
    together = detector.detect(images, upsample=1, batch_size=3)  # the drawn faces: batches of 3 and 1
    for image, found in zip(images, together, strict=True):
        alone = detector.detect([image], upsample=1)[0]
        np.testing.assert_array_equal(found.boxes, alone.boxes)
        np.testing.assert_allclose(found.scores, alone.scores, atol=1e-5)
    faces = cnn_faces(images)  # automatic upsampling: the drawn faces twice, the mosaic not
    for image, face in zip(images, faces, strict=True):
        boxes, scores = _dlib_found(reference, image, 2 if len(image) < 100 else 0)
        if face is None:
            assert len(boxes) == 0
        else:
            k = np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
            box = face.box
            assert (box.left(), box.top(), box.right(), box.bottom()) == tuple(boxes[k])
            assert face.score == pytest.approx(scores[k], abs=1e-4)
    assert faces[-1] is not None and sum(f is not None for f in faces) >= 2


def test_a_lower_threshold_keeps_every_face_of_the_higher(faces_store) -> None:
    from latentplay import store as st

    images = list(st.load_images(st.load(faces_store), range(4, 12)))  # faces in 3 of them, 5 looser
    detector = dlib_mmod()
    for image in images:
        strict, loose = detector.detect([image], 2)[0], detector.detect([image], 2, threshold=-0.5)[0]
        above = loose.scores > 0  # suppression runs highest first: the extra boxes come last
        np.testing.assert_array_equal(loose.boxes[above], strict.boxes)
        assert np.all(loose.scores > -0.5)
    found = [f is not None for f in cnn_faces(images)]
    looser = [f is not None for f in cnn_faces(images, threshold=-0.5)]
    assert all(b for a, b in zip(found, looser, strict=True) if a) and sum(looser) > sum(found)
    assert (cnn_threshold("cnn"), cnn_threshold("cnn@-0.5"), cnn_threshold("hog")) == (0.0, -0.5, None)
    assert "scores above -0.5" in detector_label("cnn@-0.5") and detector_label("cnn") == (
        "dlib's CNN face detector")
    for bad in ("cnn@x", "cnn@nan", "cnn[@THRESHOLD]", "cnn@"):
        with pytest.raises(UserError, match="cnn@THRESHOLD|detector must be one of"):
            check_detector(bad)


def test_tiny_and_wrong_images() -> None:
    detector = dlib_mmod()
    for shape in ((3, 3, 3), (6, 6, 3), (12, 40, 3)):  # dlib's own fails on a 6 x 6 image
        assert len(detector.detect([np.zeros(shape, np.uint8)])[0].boxes) == 0
    with pytest.raises(UserError, match=r"reads \(H, W, 3\) uint8 images, got uint8 \(8, 8\)"):
        detector.detect([np.zeros((8, 8), np.uint8)])
    assert detector.detect([]) == []


def test_the_tiled_pyramid_is_dlibs_layout() -> None:
    layout = tiled_layout(100, 120)
    tiles = layout.tiles
    assert tuple(tiles[0]) == (11, 11, 130, 110)  # the image, 11 px from the border
    widths, heights = tiles[:, 2] - tiles[:, 0] + 1, tiles[:, 3] - tiles[:, 1] + 1
    assert widths[1] == 100 and heights[1] == 83  # floor(5/6 of each side)
    assert heights.min() >= 5 and np.all(np.diff(widths) < 0)
    for i in range(len(tiles)):  # no two tiles meet (dlib keeps 10 px between neighbours)
        for j in range(i + 1, len(tiles)):
            apart = max(tiles[j, 0] - tiles[i, 2], tiles[i, 0] - tiles[j, 2],
                        tiles[j, 1] - tiles[i, 3], tiles[i, 1] - tiles[j, 3])
            assert apart > 1
    first_column = tiles[tiles[:, 0] == 11]
    assert np.all(first_column[1:, 1] - first_column[:-1, 3] == 11)  # 10 px between
    assert (layout.cols, layout.rows) == (120 + 22, tiles[:, 3].max() + 1 + 11)
    image = torch.full((1, 3, 100, 120), 200.0)
    pyramid = tiled_pyramid(image, layout, (100.0, 100.0, 100.0))
    assert torch.allclose(pyramid[0, :, 11:111, 11:131], torch.tensor(100 / 256))
    assert pyramid[0, :, :11].abs().max() == 0 and pyramid.shape[2:] == (layout.rows, layout.cols)


def test_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 79, 79], [5, 5, 84, 84], [200, 0, 279, 79], [60, 60, 139, 139]])
    scores = np.array([0.5, 0.9, 0.3, 0.2])
    # box 1 beats box 0 (shares 75 x 75 of an 85 x 85 enclosure); box 3 shares 25 x 25 with box 1
    assert suppressed(boxes, scores, iou=0.338, covered=1.0).tolist() == [1, 2, 3]
    assert suppressed(boxes, scores, iou=0.03, covered=1.0).tolist() == [1, 2]  # 625 / 135²
    # a box inside another: covered entirely
    inner = np.array([[0, 0, 99, 99], [10, 10, 29, 29]])
    assert suppressed(inner, np.array([1.0, 2.0]), iou=0.9, covered=0.99).tolist() == [1]


def test_the_file_is_read_and_checked(tmp_path) -> None:
    state, options = read_dlib_mmod(model_dir() / CNN_DETECTOR_MODEL)
    assert options.window == (80, 80) and 0.3 < options.nms_iou < 0.4 and options.nms_covered == 1.0
    assert options.means == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    net = MMODNet()
    net.load_state_dict(state)  # every tensor, of the right shape
    assert sum(p.numel() for p in state.values()) == sum(
        t.numel() for t in net.state_dict().values())
    assert net.output_to_input(np.array([[0, 0], [1, 2]])).tolist() == [[14, 14], [22, 30]]
    with pytest.raises(UserError, match="no such dlib network file"):
        read_dlib_mmod(tmp_path / "missing.dat")
    other = tmp_path / "resnet.dat"
    other.write_bytes((model_dir() / "dlib_face_recognition_resnet_model_v1.dat").read_bytes()[:5000])
    with pytest.raises(UserError, match="is not dlib's CNN face detector"):
        read_dlib_mmod(other)
    cut = tmp_path / "cut.dat"
    cut.write_bytes((model_dir() / CNN_DETECTOR_MODEL).read_bytes()[:100_000])
    with pytest.raises(UserError, match="cut.dat ends inside a layer"):
        read_dlib_mmod(cut)


def test_loading_the_detector_leaves_torchs_generator_as_it_was() -> None:
    """Building the layers drew their first weights from torch's generator: the first CNN
    detection of a session changed the draws a notebook made after it."""
    torch.manual_seed(3)
    want = torch.rand(4)
    torch.manual_seed(3)
    dlib_mmod.__wrapped__()  # built afresh, not the cached detector
    assert torch.equal(torch.rand(4), want)
