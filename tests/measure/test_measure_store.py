"""measure_store and ``latentplay data measure``: the attributes it adds, resume, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from latentplay import store as st
from latentplay.embed.faces import FaceModels
from latentplay.errors import UserError
from latentplay.measure import run as measure_run
from latentplay.measure.run import measure_store, scratch_dir
from latentplay.measure.skin import ITA_GROUPS, ita_group
from latentplay.store.subset import subset


@pytest.fixture
def faces(turned_faces: Path, tmp_path: Path):
    """A fresh copy of the first ``n`` synthfaces (they are measured in place)."""
    def copy(name: str = "faces", n: int = 300) -> Path:
        path = tmp_path / name
        subset(st.load(turned_faces), path, np.arange(n))
        return path
    return copy


def test_every_measure_becomes_an_attribute(faces) -> None:
    path = faces(n=60)
    out = measure_store(path, progress=False)  # every measure
    kinds = {a.name: a.kind for a in out.schema.attributes}
    for name in ("brightness", "contrast", "sharpness", "pose_yaw", "pose_pitch", "pose_roll",
                 "skin_ita", "face_score", "mouth_lift", "mouth_open"):
        assert kinds[name] == "continuous"
        assert out.labels(name).dtype == np.float32
    assert kinds["skin_group"] == kinds["face_found"] == "categorical"
    found = out.labels("face_found")
    entry = out.schema.history[-1]
    assert entry["op"] == "measure" and entry["faces_found"] == int(found.sum())
    assert 0 < found.sum() < len(out)  # synthfaces: the HOG detector misses the darker faces
    ita = out.labels("skin_ita")
    names = out.schema.attribute("skin_group").names
    expected = ita_group(ita)
    np.testing.assert_array_equal(out.labels("skin_group"), expected)
    assert names[: len(ITA_GROUPS)] == list(ITA_GROUPS)
    assert (names[-1] == "unknown") == bool(np.isnan(ita).any())
    # pose only where a face was found; skin everywhere (from the median box when missed)
    np.testing.assert_array_equal(np.isfinite(out.labels("pose_yaw")), found == 1)
    np.testing.assert_array_equal(np.isfinite(out.labels("mouth_lift")), found == 1)
    score = out.labels("face_score")
    np.testing.assert_array_equal(np.isfinite(score), found == 1)
    assert (score[found == 1] >= 0).all()
    assert len(entry["fallback_box"]) == 4
    assert not scratch_dir(path).exists()
    # the other columns are kept, and a plain datasets reader sees the new ones
    assert {"image", "gender", "yaw"} <= set(out.columns)
    assert out.dataset.features["skin_group"].names == names


def test_median_box_places_the_landmarks_of_undetected_faces(faces) -> None:
    """The faces the detector misses (mostly dark ones) still get their skin tone read."""
    out = {fb: measure_store(faces(fb, n=120), ["skin"], fallback=fb, progress=False)
           for fb in ("median", "whole")}
    missed = out["median"].labels("face_found") == 0
    tone = out["median"].labels("skin_tone")[missed]
    left, top, right, bottom = out["median"].schema.history[-1]["fallback_box"]
    assert 0.1 < left < right < 0.9 and 0.1 < top < bottom < 0.95  # the face, not the frame
    rho = {fb: spearmanr(tone, s.labels("skin_ita")[missed], nan_policy="omit")[0]
           for fb, s in out.items()}
    assert rho["median"] < -0.95 and rho["median"] < rho["whole"] - 0.1  # 120 faces: -0.98, -0.84


def test_median_box_needs_faces_to_start_from(tmp_path, faces) -> None:
    lender = faces("lender", n=80)  # 17 faces found, 10 needed
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    blank = [st.encode_png(np.full((64, 64, 3), 200, np.uint8))] * 12
    path = st.build([{"image": blank}], schema, tmp_path / "blank").path
    with pytest.raises(UserError, match="found 0 faces in 12 sample images"):
        measure_store(path, ["skin"], progress=False)
    lent = measure_store(path, ["skin"], box_from=lender, progress=False)
    entry = lent.schema.history[-1]
    assert entry["box_from"] == str(lender) and len(entry["fallback_box"]) == 4
    assert np.isnan(lent.labels("skin_ita")).all()  # grey has no skin hue
    with pytest.raises(UserError, match="--box-from places the median fallback box"):
        measure_store(path, ["pose"], box_from=lender, overwrite=True, progress=False)
    out = measure_store(path, ["pose", "skin"], fallback="nan", overwrite=True, progress=False)
    assert np.isnan(out.labels("pose_yaw")).all() and np.isnan(out.labels("skin_ita")).all()
    assert out.labels("skin_group").tolist() == [len(ITA_GROUPS)] * 12  # all "unknown"


def test_nan_fallback_leaves_undetected_faces_without_skin(faces) -> None:
    path = faces(n=60)
    out = measure_store(path, ["skin"], fallback="nan", progress=False)
    missed = out.labels("face_found") == 0
    assert np.isnan(out.labels("skin_ita")[missed]).all()
    assert out.schema.attribute("skin_group").names[-1] == "unknown"
    assert "pose_yaw" not in out.columns and "brightness" not in out.columns


def test_without_detection_every_image_is_a_face_crop(faces) -> None:
    out = measure_store(faces(n=12), ["pose", "skin"], detect=False, progress=False)
    assert "face_found" not in out.columns and "face_score" not in out.columns
    assert np.isfinite(out.labels("pose_yaw")).all()


def test_quality_without_detection_beside_measured_faces(faces) -> None:
    """Quality reads no face: taken with --no-detect after pose it leaves the faces' columns
    as they are (it was refused as pose measured on other faces)."""
    path = faces(n=10)
    first = measure_store(path, ["pose"], progress=False)
    out = measure_store(path, ["quality"], detect=False, progress=False)
    np.testing.assert_array_equal(out.labels("face_found"), first.labels("face_found"))
    assert np.isfinite(out.labels("brightness")).all()


def test_a_given_upsampling_reaches_the_cnn_detector(monkeypatch) -> None:
    """dlib's CNN detector looks at a batch at once: it takes the upsampling given, or picks
    one by image size (None) under the automatic -1."""
    seen = []

    def found(images, detector, upsample, device):  # noqa: ANN001, ANN202
        seen.append((detector, upsample))
        return [None] * len(images)

    monkeypatch.setattr(measure_run, "faces_first", found)
    for upsample in (1, -1):
        measurer = measure_run.Measurer(measure_run.MeasureConfig(what=["pose"], detector="cnn",
                                                                  upsample=upsample))
        measurer._with_faces([np.zeros((8, 8, 3), np.uint8)])
    assert seen == [("cnn", 1), ("cnn", None)]


def test_quality_alone_needs_no_face_models(faces, monkeypatch) -> None:
    monkeypatch.setattr("latentplay.embed.faces.FaceModels.load",
                        lambda: (_ for _ in ()).throw(AssertionError("dlib loaded")))
    out = measure_store(faces(n=20), ["quality"], progress=False)
    assert "face_found" not in out.columns and np.isfinite(out.labels("sharpness")).all()


def test_interrupted_measure_resumes_to_the_same_values(faces, monkeypatch) -> None:
    reference = measure_store(faces("reference", n=50), ["quality"], batch_size=8, progress=False)
    path = faces("interrupted", n=50)
    calls = {"n": 0}
    original = measure_run.image_quality

    def interrupting(image):
        calls["n"] += 1
        if calls["n"] == 21:
            raise KeyboardInterrupt
        return original(image)

    monkeypatch.setattr(measure_run, "image_quality", interrupting)
    with pytest.raises(UserError, match="interrupted after 16 of 50 rows"):
        measure_store(path, ["quality"], batch_size=8, progress=False)
    assert "brightness" not in st.load(path).columns  # the store is untouched
    monkeypatch.setattr(measure_run, "image_quality", original)
    out = measure_store(path, ["quality"], batch_size=8, progress=False)
    for name in ("brightness", "contrast", "sharpness"):
        np.testing.assert_array_equal(out.labels(name), reference.labels(name))


def test_measures_taken_one_after_another(faces) -> None:
    """Pose, then skin: the detector's columns are rewritten, the first measure's kept."""
    path = faces(n=60)
    first = measure_store(path, ["pose"], progress=False)
    second = measure_store(path, ["skin"], fallback="nan", progress=False)
    np.testing.assert_array_equal(second.labels("pose_yaw"), first.labels("pose_yaw"))
    np.testing.assert_array_equal(second.labels("face_found"), first.labels("face_found"))
    assert [a.name for a in second.schema.attributes].count("face_found") == 1
    assert "skin_ita" in second.columns


def test_face_measures_of_other_faces_are_not_left_beside_new_ones(faces, cli) -> None:
    """Pose on the faces found at automatic upsampling, then skin at upsampling 1: the run is
    refused (it would rewrite face_found under pose measured on other faces) until pose is
    measured again with it, and then the store equals one measured at upsampling 1 alone."""
    path = faces("twice", n=40)
    first = measure_store(path, ["pose"], progress=False)
    with pytest.raises(UserError, match=r"pose_yaw, pose_pitch, pose_roll of .* were measured on "
                       r"the faces of dlib's HOG face detector, this run on the faces of dlib's "
                       r"HOG face detector \(upsample 1\): measure them again with it "
                       r"\(--what skin,pose --overwrite\) or keep both with --prefix"):
        measure_store(path, ["skin"], upsample=1, fallback="nan", progress=False)
    untouched = st.load(path)
    np.testing.assert_array_equal(untouched.labels("face_found"), first.labels("face_found"))
    assert "skin_ita" not in untouched.columns
    crops = cli("data", "measure", path, "--what", "skin", "--no-detect")
    assert crops.code == 2 and crops.err.count("\n") == 1
    assert "face_found, face_score of" in crops.err and "--what" not in crops.err
    both = measure_store(path, ["skin", "pose"], upsample=1, fallback="nan", overwrite=True,
                         progress=False)
    alone = measure_store(faces("alone", n=40), ["skin", "pose"], upsample=1, fallback="nan",
                          progress=False)
    for name in ("face_found", "pose_yaw", "skin_ita"):
        np.testing.assert_array_equal(both.labels(name), alone.labels(name), err_msg=name)
    assert (first.labels("face_found") != alone.labels("face_found")).any()  # other faces indeed
    kept = measure_store(path, ["skin"], detect=False, prefix="crop_", progress=False)
    assert "crop_skin_ita" in kept.columns and "crop_face_found" not in kept.columns
    np.testing.assert_array_equal(kept.labels("skin_ita"), alone.labels("skin_ita"))


def test_names_taken_prefix_and_overwrite(faces) -> None:
    path = faces(n=10)
    measure_store(path, ["quality"], progress=False)
    with pytest.raises(UserError, match="already has brightness, contrast, sharpness"):
        measure_store(path, ["quality"], progress=False)
    out = measure_store(path, ["quality"], prefix="again_", progress=False)
    np.testing.assert_array_equal(out.labels("again_brightness"), out.labels("brightness"))
    out = measure_store(path, ["quality"], overwrite=True, progress=False)
    assert [a.name for a in out.schema.attributes].count("brightness") == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"what": ["age"]}, "unknown measure"),
    ({"what": ["pose", "pose"]}, "named twice"),
    ({"what": ["pose"], "fallback": "zero"}, r"fallback \(--fallback\) must be"),
    ({"what": ["quality"], "prefix": "a b"}, "prefix"),
    ({"what": ["quality"], "batch_size": 0}, r"batch_size \(--batch-size\) must be at least 1"),
    ({"what": ["pose"], "detector": "mtcnn"}, "detector must be one of hog, cnn"),
    ({"what": ["pose"], "detector": "cnn", "device": "tpu"}, "--device must be cpu, cuda or auto"),
])
def test_bad_options_are_refused_before_any_work(faces, kwargs, message) -> None:
    path = faces(n=5)
    with pytest.raises(UserError, match=message):
        measure_store(path, **kwargs, progress=False)


@pytest.mark.parametrize(("what", "fallback", "said"), [
    (["skin"], "median", "median face box"),
    (["skin"], "whole", "whole image"),
    (["skin"], "nan", None),
    (["pose", "size"], "median", None),  # no skin: nothing is read from a missed face
])
def test_face_found_says_what_a_missed_face_got(what: list[str], fallback: str,
                                                said: str | None) -> None:
    """The stored description of ``face_found`` names the fallback box only where the run read
    skin in one."""
    config = measure_run.MeasureConfig(what=what, fallback=fallback)
    values = np.full((3, len(config.names)), np.nan, np.float32)
    columns = measure_run._columns(config, values, np.array([True, False, True]), "")
    text = columns["face_found"][0].description
    if said is None:
        assert "fallback" not in text and "box" not in text and "no face measure" in text
    else:
        assert said in text and "skin" in text


def test_face_found_rewritten_later_still_names_the_skin_kept(faces) -> None:
    """Skin read in the whole image where no face was found, then size: the rewritten
    ``face_found`` still says what the missed faces' kept ``skin_ita`` was read in."""
    path = faces(n=10)
    measure_store(path, ["skin"], fallback="whole", progress=False)
    out = measure_store(path, ["size"], progress=False)
    assert "whole image" in out.schema.attribute("face_found").description
    assert np.isfinite(out.labels("skin_ita")[out.labels("face_found") == 0]).any()
    for what in (["skin", "size"], ["size"]):   # then the latest skin's, read nowhere, not the first's
        out = measure_store(path, what, fallback="nan", overwrite=True, progress=False)
        text = out.schema.attribute("face_found").description
        assert "no face measure" in text and "box" not in text, text


def test_new_columns_scales_and_classes() -> None:
    """Brightness keeps its whole 0-100 L* scale and the ITA its -90 to 90 degrees, whatever
    the values measured (the others span their values); skin groups run in order, light to
    dark, with no ``unknown`` where every row has a value; ``face_found`` 1 reads ``yes``."""
    config = measure_run.MeasureConfig(what=["quality", "skin"])
    values = np.zeros((2, len(config.names)), np.float32)
    columns = measure_run._columns(config, values, np.array([True, False]), "")
    assert columns["brightness"][0].range == (0.0, 100.0)
    assert columns["skin_ita"][0].range == (-90.0, 90.0) and columns["sharpness"][0].range is None
    groups = columns["skin_group"][0]
    assert groups.ordered and groups.names == list(ITA_GROUPS)
    found, codes = columns["face_found"]
    assert [found.names[c] for c in codes] == ["yes", "no"]


def test_pose_columns_name_their_method() -> None:
    """Pose columns say which fit made them ("pose v2: eyes and nose"), so a reader can tell
    them from those of stores measured with the mouth-and-chin fit of pose v1."""
    config = measure_run.MeasureConfig(what=["pose"])
    values = np.zeros((2, len(config.names)), np.float32)
    columns = measure_run._columns(config, values, np.array([True, True]), "cnn_")
    for name in ("cnn_pose_yaw", "cnn_pose_pitch", "cnn_pose_roll"):
        assert "pose v2: eyes and nose" in columns[name][0].description


def test_measure_cli(cli, faces) -> None:
    path = faces(n=40)
    result = cli("data", "measure", path, "--what", "quality,skin")
    assert result.code == 0, result.err
    assert "skin_group: " in result.out and "measured 40 rows" in result.out
    # the counts of faces found name the detector (audit detection's CNN finds others)
    (found,) = [line for line in result.out.splitlines() if line.startswith("face_found: ")]
    assert found.endswith(" (dlib's HOG face detector)"), found
    bad = cli("data", "measure", path, "--what", "quality,colour")
    assert bad.code == 2
    assert bad.err.count("\n") == 1 and "unknown measure(s) colour" in bad.err
    taken = cli("data", "measure", path, "--what", "quality")
    assert taken.code == 2 and "--overwrite" in taken.err


def test_measure_cli_cautions_on_mouth_lift_and_pitch(cli, faces) -> None:
    """The printed summary warns that mouth_lift reads head pitch (docs/measure.md), only when
    it is measured, prefixed or not."""
    path = faces(n=20)
    result = cli("data", "measure", path, "--what", "expression", "--prefix", "m_")
    assert result.code == 0, result.err
    assert "m_mouth_lift: " in result.out and "reads head pitch" in result.err
    other = cli("data", "measure", path, "--what", "quality")
    assert other.code == 0 and "reads head pitch" not in other.out + other.err


def test_photos_of_any_size_measure_alike(astronaut, tmp_path) -> None:
    """A store of one photo at three sizes (and a blank image): the measures agree across
    sizes, and the blank image has no face."""
    from PIL import Image

    sizes = (512, 360, 256)
    photos = [np.asarray(Image.fromarray(astronaut).resize((s, s), Image.Resampling.LANCZOS))
              for s in sizes]
    blank = np.full((300, 200, 3), 128, np.uint8)
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    path = st.build([{"image": [st.encode_png(im) for im in [*photos, blank]]}], schema,
                    tmp_path / "photos").path
    out = measure_store(path, ["quality", "pose", "skin", "size"], fallback="nan",
                        progress=False)
    assert out.labels("face_found").tolist() == [1, 1, 1, 0]
    for name, tolerance in (("pose_yaw", 3.0), ("pose_roll", 2.0), ("skin_ita", 3.0),
                            ("brightness", 0.5), ("sharpness", 0.2)):
        values = out.labels(name)
        assert np.ptp(values[:3]) < tolerance, (name, values)
    assert np.isnan(out.labels("pose_yaw")[3]) and np.isnan(out.labels("skin_ita")[3])
    # the face's pixels follow the photo's size; its share of the photo does not
    iod, fill = out.labels("face_iod"), out.labels("face_fill")
    np.testing.assert_allclose(iod[:3] / np.array(sizes), iod[0] / sizes[0], rtol=0.05)
    assert np.ptp(fill[:3]) < 0.01 and np.isnan(iod[3]) and np.isnan(fill[3])


def test_a_grey_store_has_faces_but_no_skin_tone(astronaut, tmp_path) -> None:
    """One-channel photos: the face is found and measured, but a grey image has no hue."""
    from PIL import Image

    grey = np.asarray(Image.fromarray(astronaut).convert("L").resize((256, 256)))
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    path = st.build([{"image": [st.encode_png(grey)] * 2}], schema, tmp_path / "grey").path
    out = measure_store(path, ["pose", "skin", "size"], progress=False, fallback="nan")
    assert out.labels("face_found").tolist() == [1, 1]
    assert np.isfinite(out.labels("pose_yaw")).all() and np.isfinite(out.labels("face_iod")).all()
    assert np.isnan(out.labels("skin_ita")).all()
    assert out.labels("skin_group").tolist() == [len(ITA_GROUPS)] * 2  # all "unknown"


def test_a_measure_without_values_is_no_condition_to_train_on(faces) -> None:
    from latentplay.models.condition import ConditionSpec

    out = measure_store(faces(n=60), ["expression"], progress=False)
    missing = int(np.isnan(out.labels("mouth_lift")).sum())
    assert missing
    spec = ConditionSpec.from_store(out, ["mouth_lift"])
    values = out.labels("mouth_lift")  # no documented range: the condition spans the values
    assert spec.parts[0].range == (np.nanmin(values), np.nanmax(values))
    with pytest.raises(UserError, match=f"no value in {missing} rows"):
        spec.encode_store(out)
    found = subset(out, out.path.with_name("found"), np.flatnonzero(out.labels("face_found")))
    assert np.isfinite(spec.encode_store(found)).all()


def test_cnn_detector_measures_the_same_face(astronaut, tmp_path) -> None:
    """dlib's CNN detector finds the astronaut and not the blank image; pose from its box
    agrees with the HOG box's within 3 degrees, and the attributes say which detector ran."""
    blank = np.full((300, 300, 3), 128, np.uint8)
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    path = st.build([{"image": [st.encode_png(im) for im in [astronaut, blank]]}], schema,
                    tmp_path / "photos").path
    out = measure_store(path, ["pose"], progress=False)
    out = measure_store(out, ["pose"], detector="cnn", device="auto", prefix="cnn_", progress=False)
    assert out.labels("cnn_face_found").tolist() == [1, 0]
    one = FaceModels.load().find(astronaut, detector="cnn")  # the batched detection is one image's
    assert out.labels("cnn_face_score")[0] == pytest.approx(one.score, abs=1e-5)
    assert abs(out.labels("cnn_pose_yaw")[0] - out.labels("pose_yaw")[0]) < 3
    assert "CNN" in out.schema.attribute("cnn_face_found").description
    assert "HOG" in out.schema.attribute("face_found").description
    assert out.schema.history[-1]["config"]["detector"] == "cnn"


def test_measures_on_two_threads_equal_one(faces, monkeypatch) -> None:
    values = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LATENTPLAY_FACE_THREADS", threads)
        out = measure_store(faces(f"t{threads}", n=40), ["pose", "skin", "quality"],
                            progress=False)
        values[threads] = {n: out.labels(n) for n in ("pose_yaw", "skin_ita", "face_found",
                                                      "sharpness")}
    for name, v in values["1"].items():
        np.testing.assert_array_equal(v, values["2"][name], err_msg=name)
    assert values["1"]["face_found"].sum() > 5


def test_a_small_store_whose_faces_are_all_found_needs_no_ten(astronaut, tmp_path) -> None:
    """The median fallback box wants 10 faces, or every sample image's face in a smaller store:
    three photos whose faces are all found are measured, not refused."""
    from PIL import Image

    photo = np.asarray(Image.fromarray(astronaut).resize((256, 256), Image.Resampling.LANCZOS))
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    path = st.build([{"image": [st.encode_png(photo)] * 3}], schema,
                    tmp_path / "three").path
    out = measure_store(path, ["skin"], progress=False)
    assert out.labels("face_found").tolist() == [1, 1, 1]
    assert np.isfinite(out.labels("skin_ita")).all()
    blank = np.full((256, 256, 3), 128, np.uint8)
    path = st.build([{"image": [st.encode_png(im) for im in [photo] * 2 + [blank]]}],
                    schema, tmp_path / "missed").path
    with pytest.raises(UserError, match="found 2 faces in 3 sample images"):
        measure_store(path, ["skin"], progress=False)
    one = st.build([{"image": [st.encode_png(blank)]}], schema, tmp_path / "one").path
    with pytest.raises(UserError, match=r"found 0 faces in 1 sample image, .*\(--box-from\)"):
        measure_store(one, ["skin"], progress=False)


def test_a_single_measure_may_be_a_plain_string(tmp_path: Path) -> None:
    """``measure_store(path, "quality")`` was read as the measures q, u, a, l, ..."""
    from latentplay.measure.quality import QUALITY_NAMES
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    st.build([{"image": [st.encode_png(im) for im in images], "gender": np.arange(3) % 2}],
             schema, tmp_path / "s")
    out = measure_store(tmp_path / "s", "quality", progress=False)
    assert set(QUALITY_NAMES) <= set(out.columns) and "pose_yaw" not in out.columns


def test_an_upsampling_given_as_what_automatic_chose_is_the_same_faces(faces) -> None:
    """Pose at the automatic upsampling (2 for these 64-px faces), then skin at --upsample 2:
    the same faces, so the run goes on (it was refused as faces of another detector)."""
    path = faces("auto", n=40)
    first = measure_store(path, ["pose"], progress=False)
    second = measure_store(path, ["skin"], upsample=2, progress=False)
    np.testing.assert_array_equal(second.labels("face_found"), first.labels("face_found"))
    np.testing.assert_array_equal(second.labels("pose_yaw"), first.labels("pose_yaw"))
    with pytest.raises(UserError, match=r"this run on the faces of dlib's HOG face detector "
                                        r"\(upsample 1\)"):
        measure_store(path, ["skin"], upsample=1, overwrite=True, progress=False)


def test_median_box_is_placed_in_fractions_of_each_images_sides(monkeypatch) -> None:
    """Ten faces found at (40, 20)-(120, 80) in 200 x 100 images and one spanning the whole
    image: the fallback box is their median, (0.2, 0.2)-(0.6, 0.8) of the width and height (the
    one outlier does not pull it), placed in a 400 x 300 image at (80, 60)-(240, 240)."""
    from types import SimpleNamespace

    import dlib

    from latentplay.embed.faces import Face

    boxes = [dlib.rectangle(40, 20, 120, 80)] * 10 + [dlib.rectangle(0, 0, 200, 100)]
    monkeypatch.setattr(measure_run, "faces_first", lambda images, *a: [Face(b, 1.0) for b in boxes])
    measurer = measure_run.Measurer(measure_run.MeasureConfig(what=["skin"]))
    measurer.fit([np.zeros((100, 200, 3), np.uint8)] * 11)
    assert measurer.box == pytest.approx((0.2, 0.2, 0.6, 0.8))
    models = SimpleNamespace(dlib=dlib, landmarks68=lambda image, box: box)
    placed = measurer._face(models, np.zeros((300, 400, 3), np.uint8), None)
    assert (placed.left(), placed.top(), placed.right(), placed.bottom()) == (80, 60, 240, 240)
