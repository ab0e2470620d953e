"""``latentplay latent ...`` end to end on tiny trained runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.cliargs import parse_condition
from latentplay.errors import UserError
from latentplay.latent.cli import parse_rows, parse_values
from latentplay.latent.traverse import pca_axes, ranked_axes, run_latents
from latentplay.outputs import share_text


def _ok(r, out: Path) -> dict:
    assert r.code == 0, r.err
    image = iio.imread(out)
    assert image.ndim == 3 and image.shape[0] > 50 and image.std() > 5  # a drawn figure
    return json.loads(out.with_suffix(".json").read_text())


def test_parsers() -> None:
    assert parse_values("-3,-1:1:0.5,3") == [-3, -1, -0.5, 0, 0.5, 1, 3]
    assert parse_values("0:1:0.1")[-1] == 1.0 and len(parse_values("0:1:0.1")) == 11
    assert parse_values("0:0.3:0.1") == [0, 0.1, 0.2, 0.3]   # 0.3 / 0.1 is 2.9999999999999996
    # a STEP that does not divide the range stops at the last value within it (went on to 3.3)
    assert parse_values("-3:3:0.7") == [-3, -2.3, -1.6, -0.9, -0.2, 0.5, 1.2, 1.9, 2.6]
    assert parse_values("0:1:0.35") == [0, 0.35, 0.7]
    assert parse_rows("2:5") == [2, 3, 4] and parse_rows("7,1") == [7, 1]
    with pytest.raises(UserError, match="names 10,000,000,000 rows; one START:STOP names at most"):
        parse_rows("0:10000000000")                    # listed every row first: memory filled
    with pytest.raises(UserError, match="--axes '0:2000000' names 2,000,000 axes"):
        parse_rows("0:2000000", "--axes")
    for text in ("0,,1", "3,", ",3"):   # 0,,1 drew rows 0 and 1: the row typed between was lost
        with pytest.raises(UserError, match=f"rows '{text}' has an empty item"):
            parse_rows(text)
    with pytest.raises(UserError, match="--axes '1,,2' has an empty item .* whole numbers"):
        parse_rows("1,,2", "--axes")
    assert parse_condition("smile=0.5,gender=female") == {"smile": 0.5, "gender": "female"}
    with pytest.raises(UserError, match="condition 'smile' is given twice"):
        parse_condition("smile=0,smile=1")             # the last value silently won
    for text, message in (("3:-3:1", "START 3 down to STOP -3"), ("0:1:0", "STEP of 0:1:0"),
                          ("-1:1:0.0001", "20001 values"), ("a", "give numbers"),
                          # NaN or infinity drew a figure of NaN codes (or failed with a traceback)
                          ("nan", "not a finite number"), ("-3,inf", "inf is not a finite"),
                          ("nan:1:0.5", "not a finite number or range"), ("0:inf:1", "0:inf:1 is not"),
                          ("-1e308:1e308:1", "spans more than a float holds")):
        with pytest.raises(UserError, match=message):
            parse_values(text)


def test_a_condition_s_class_may_hold_commas() -> None:
    """``age=[0, 30)`` (``data bin``'s class) was split into ``age=[0`` and ``30)``, refused as
    no attribute=value; a piece without ``=`` now belongs to the class before it, as written."""
    assert parse_condition("age=[0, 30),smile=1") == {"age": "[0, 30)", "smile": 1.0}
    assert parse_condition('smile=0, group=say "hi", ok') == {"smile": 0.0, "group": 'say "hi", ok'}
    with pytest.raises(UserError, match="condition 'x' is not of the form attribute=value"):
        parse_condition("x,smile=1")
    with pytest.raises(UserError, match="has an empty item"):
        parse_condition("age=[0, 30),,smile=1")


def test_a_condition_s_class_may_hold_equals_signs() -> None:
    """An item is split at its first ``=``: the attribute's name holds none, a class may."""
    assert parse_condition("x=a=b") == {"x": "a=b"}
    assert parse_condition("x==b, smile=1") == {"x": "=b", "smile": 1.0}
    with pytest.raises(UserError, match="condition '=b' is not of the form attribute=value"):
        parse_condition("=b")


def test_a_condition_that_is_no_number_is_one_line(cli, cvae_run: Path, tmp_path: Path) -> None:
    r = cli("latent", "sample", cvae_run, "--out", tmp_path / "s.png", "--n", "4",
            "--condition", "smile=abc,gender=male")
    assert r.code == 2 and "condition 'smile' takes a number, got 'abc'" in r.err


def test_a_mistyped_condition_name_is_named(cli, cvae_run: Path, tmp_path: Path) -> None:
    r = cli("latent", "sample", cvae_run, "--out", tmp_path / "s.png", "--n", "4",
            "--condition", "smil=0.5,gender=female")
    assert r.code == 2 and "unknown condition 'smil'; the model takes smile, gender" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_sample_sweep_and_histograms(cli, cvae_run: Path, vae_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample.png"
    r = cli("latent", "sample", cvae_run, "--out", out, "--n", "12", "--condition",
            "smile=2,gender=male")
    numbers = _ok(r, out)
    assert numbers["n"] == 12 and numbers["condition"] == {"smile": 2.0, "gender": "male"}
    assert numbers["made_by"]["command"] == (f"latentplay latent sample {cvae_run} --out {out} --n 12 "
                                             "--condition smile=2,gender=male")
    assert r.out.splitlines()[-1] == (f"two samples differ by {numbers['diversity']:.3f} on average "
                                      "(RMS, pixels 0-1; 0: all alike)") and numbers["diversity"] > 0
    out = tmp_path / "sweep.png"
    numbers = _ok(cli("latent", "sweep", cvae_run, "--attribute", "smile", "--values=-3,-1:1:1,3",
                      "--per", "4", "--condition", "gender=female", "--out", out), out)
    assert numbers["values"] == [-3, -1, 0, 1, 3]
    assert numbers["in_training_range"] == [False, True, True, True, False]
    assert len(numbers["diversity"]) == 5
    assert len(numbers["change"]) == 5 and numbers["change"][0] == 0 < numbers["change"][-1]
    out = tmp_path / "genders.png"
    numbers = _ok(cli("latent", "sweep", cvae_run, "--attribute", "gender",
                      "--condition", "smile=0", "--out", out), out)
    assert numbers["values"] == ["female", "male"]
    out = tmp_path / "hist.png"
    numbers = _ok(cli("latent", "histograms", vae_run, "--out", out), out)
    assert len(numbers["variance"]) == 8


def test_a_sweep_of_many_values_puts_a_value_in_each_column(cli, cvae_run: Path, tmp_path: Path) -> None:
    """21 values of 2 draws: a wide grid (SmileCVAE's all_synthetic), the values named under
    the last row, rather than a strip 21 rows tall; few values keep a row each."""
    from PIL import Image

    wide, tall = tmp_path / "wide.png", tmp_path / "tall.png"
    numbers = _ok(cli("latent", "sweep", cvae_run, "--attribute", "smile", "--values=-1:1:0.1",
                      "--per", "2", "--condition", "gender=female", "--out", wide), wide)
    assert len(numbers["values"]) == 21 and len(numbers["diversity"]) == 21
    _ok(cli("latent", "sweep", cvae_run, "--attribute", "smile", "--values=-1,1", "--per", "2",
            "--condition", "gender=female", "--out", tall), tall)
    with Image.open(wide) as wide_png, Image.open(tall) as tall_png:
        (w, h), (tw, th) = wide_png.size, tall_png.size
    assert w > 4 * h and th > tw


def test_traverse_axes_and_pca(cli, vae_run: Path, faces_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "axes.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--top", "3", "--steps", "5",
                      "--out", out), out)
    assert numbers["axes"] == ranked_axes(run_latents(vae_run))[:3].tolist()
    assert len(numbers["values"]) == 5 and numbers["start"] == "centre"
    assert len(numbers["response"]) == 3
    out = tmp_path / "pca.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--pca", "--axes", "0,1",
                      "--data", faces_store, "--row", "5", "--out", out), out)
    assert numbers["components"] == [0, 1] and numbers["start"].startswith("row 5")
    assert numbers["explained"][0] >= numbers["explained"][1]


def test_traverse_of_a_run_s_axes_imports_no_scikit_learn(vae_run: Path, tmp_path: Path) -> None:
    """Traversing a run's own axes needs no principal components: scikit-learn, a second of
    the command's four to import, is left for ``--pca``."""
    code = ("import sys\nfrom latentplay.cli import main\ntry:\n"
            f"    main(['latent', 'traverse', {str(vae_run)!r}, '--out', {str(tmp_path / 'a.png')!r}])\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('sklearn' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (tmp_path / "a.png").is_file() and done.stdout.strip().splitlines()[-1] == "False"


def test_traverse_from_a_prior_draw(cli, vae_run: Path, tmp_path: Path) -> None:
    """--seed S --row I starts at image I of `latent sample --seed S`: the middle column
    (offset 0) of every axis is that image."""
    out = tmp_path / "drawn.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--seed", "3", "--row", "2", "--steps", "3",
                      "--top", "2", "--out", out), out)
    assert numbers["start"] == "draw 2 of seed 3" and (numbers["seed"], numbers["draw"]) == (3, 2)
    from latentplay.latent.traverse import axis_frame, axis_traversal, traversal_summary

    model = train.load_model(vae_run)
    base = train.api.prior_draws(model, np.random.default_rng(3), 3)[2]
    rows = axis_traversal(model, numbers["axes"], np.array([-3.0, 0.0, 3.0]), base=base,
                          scale=axis_frame(model, run_latents(vae_run))[1])
    assert all(np.array_equal(row[1], train.sample(model, 3, seed=3)[2]) for row in rows)
    assert numbers["response"] == pytest.approx(traversal_summary(rows))  # what the command drew
    centre = _ok(cli("latent", "traverse", vae_run, "--steps", "3", "--top", "2", "--out", out), out)
    assert centre["response"] != pytest.approx(numbers["response"])
    r = cli("latent", "traverse", vae_run, "--seed", "3", "--data", tmp_path, "--out", out)
    assert r.code == 2 and "not both" in r.err


def test_principal_axes_of_codes_that_do_not_vary_are_refused() -> None:
    mu = np.tile(np.array([[0.5, -1.0, 2.0]], np.float32), (10, 1))
    with pytest.raises(UserError, match="same point"):
        pca_axes(mu)
    mu[3, 1] = 0.0
    axes = pca_axes(mu)
    assert np.isfinite(axes.explained).all() and axes.explained[0] == pytest.approx(1.0)


def test_force_interpolate_blend(cli, cvae_run: Path, vae_run: Path, faces_store: Path,
                                 tmp_path: Path) -> None:
    out = tmp_path / "force.png"
    numbers = _ok(cli("latent", "force", cvae_run, "--data", faces_store, "--attribute", "smile",
                      "--rows", "0:4", "--shifts=0.5,-0.7", "--out", out), out)
    own = st.load(faces_store).labels("smile")[:4]
    np.testing.assert_allclose(numbers["own_values"], own, rtol=1e-6)
    assert numbers["mode"] == "shift" and numbers["amounts"] == [0.5, -0.7]
    # without --rows: the first 8 faces, or all of a smaller store (0:8 named rows 3-7 of 3)
    from latentplay.store.subset import subset

    three = subset(st.load(faces_store), tmp_path / "three", np.arange(3))
    out = tmp_path / "force3.png"
    numbers = _ok(cli("latent", "force", cvae_run, "--data", three.path, "--attribute", "smile",
                      "--shifts=0.5", "--out", out), out)
    assert len(numbers["own_values"]) == 3
    out = tmp_path / "interp.png"
    numbers = _ok(cli("latent", "interpolate", vae_run, "--data", faces_store,
                      "--rows", "1,2,3,4", "--steps", "5", "--out", out), out)
    assert numbers["rows"] == [1, 2, 3, 4] and numbers["method"] == "slerp"
    out = tmp_path / "blend.png"
    numbers = _ok(cli("latent", "blend", cvae_run, "--data", faces_store, "--rows", "1,2",
                      "--weights", "3,1", "--out", out), out)
    assert numbers["weights"] == [0.75, 0.25]


def test_force_cautions_where_the_codes_hold_the_condition(cli, cvae_run: Path, faces_store: Path,
                                                            tmp_path: Path) -> None:
    """latent force reads what latentplay train measured (summary.json's condition_in_codes):
    codes that hold the forced attribute get a caution; codes that do not, none."""
    import shutil

    run = Path(shutil.copytree(cvae_run, tmp_path / "cvae", ignore=shutil.ignore_patterns("checkpoint.pt")))
    summary = json.loads((run / "summary.json").read_text())
    entry = {"attribute": "smile", "measure": "R²", "n": 400, "linear": 0.05, "knn": 0.02,
             "chance": 0.0, "folds": "rows"}
    args = ("latent", "force", run, "--data", faces_store, "--attribute", "smile", "--rows", "0:2",
            "--values=-1,1", "--out", tmp_path / "f.png")
    for linear, cautioned in ((0.05, False), (0.62, True)):
        summary["condition_in_codes"] = [{**entry, "linear": linear}]
        (run / "summary.json").write_text(json.dumps(summary))
        r = cli(*args)
        assert r.code == 0, r.err
        assert ("caution: cvae's codes hold smile too (R² linear 0.620, k-NN 0.020" in r.err) is cautioned


def test_a_store_of_photos_of_several_sizes_is_encoded_and_inverted(cli, vae_run: Path, faces_store: Path,
                                                                     tmp_path: Path) -> None:
    """Photos converted without --resize differ in size: interpolate, edit, invert and blend
    stopped with "images differ in size (...; give a size to resize them)", an option none of
    them has. Each photo is now fitted to the model as encoding it alone fits it."""
    from PIL import Image

    from latentplay.latent.codes import store_codes

    store, model = st.load(faces_store), train.load_model(vae_run)
    images = list(st.load_images(store, range(6)))
    images[1::2] = [np.asarray(Image.fromarray(im).resize((96, 96))) for im in images[1::2]]
    mixed = st.build([{"image": [st.encode_png(im) for im in images]}], store.schema, tmp_path / "mixed")
    codes = store_codes(model, mixed, [0, 1, 3])
    alone = np.concatenate([train.encode(model, [images[r]]) for r in (0, 1, 3)])
    np.testing.assert_allclose(codes.z, alone, atol=1e-6)
    r = cli("latent", "interpolate", vae_run, "--data", mixed.path, "--rows", "0,1",
            "--out", tmp_path / "i.png")
    assert r.code == 0, r.err
    r = cli("latent", "invert", vae_run, "--data", mixed.path, "--rows", "0:2", "--steps", "2",
            "--out", tmp_path / "v.png")
    assert r.code == 0, r.err


def test_blend_decodes_the_mean_code(cvae_run: Path, faces_store: Path) -> None:
    from latentplay.latent.codes import store_codes

    model = train.load_model(cvae_run)
    codes = store_codes(model, st.load(faces_store), [3, 9])
    again = train.encode(model, st.load_images(st.load(faces_store), [3, 9]),
                         condition=codes.condition)
    np.testing.assert_allclose(codes.z, again, atol=1e-6)
    assert codes.condition.shape == (2, 3)  # smile + gender one-hot


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "{vae}", "--attribute", "smile"], "not conditional"),
        (["sweep", "{cvae}", "--attribute", "smile", "--values", "a:b"], "START:STOP:STEP"),
        (["sweep", "{cvae}", "--attribute", "smile"], "gender"),
        (["traverse", "{cvae}"], "--condition"),
        (["sample", "{cvae}"], "give --condition smile=...,gender=..."),
        (["sample", "{cvae}", "--condition", "smile=0"], "give --condition smile=...,gender=..."),
        (["traverse", "{cvae}", "--condition", "smile=0"], "give --condition smile=...,gender=..."),
        (["traverse", "{cvae}", "--condition", "smil=0"],
         "unknown condition 'smil'; the model takes smile, gender"),
        (["sweep", "{cvae}", "--attribute", "smile", "--condition", "gendr=female"],
         "unknown condition 'gendr'; the model takes smile, gender"),
        (["sweep", "{cvae}", "--attribute", "gender", "--condition", "smil=0"],
         "unknown condition 'smil'; the model takes smile, gender"),
        (["sample", "{vae}", "--condition", "smile=0"], "this model is not conditional; pass no "
         "condition"),
        (["traverse", "{vae}", "--condition", "smile=0"], "this model is not conditional"),
        (["traverse", "{vae}", "--axes", "9"], "out of range"),
        # each names the one option out of range, with its value (one message named every
        # limit of several options at once: "need --steps >= 2, --range > 0 and --top >= 1")
        (["traverse", "{vae}", "--top", "-2"], "--top must be at least 1, got -2"),
        (["traverse", "{vae}", "--pca", "--top", "0"], "--top must be at least 1, got 0"),
        # a NaN range drew NaN codes
        (["traverse", "{vae}", "--range", "nan"], "--range must be a number above 0, got nan"),
        (["traverse", "{vae}", "--range", "inf"], "--range must be a number above 0, got inf"),
        (["traverse", "{vae}", "--steps", "1"], "--steps must be at least 2, got 1"),
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "1,2,3"],
         "give --rows as pairs (an even number of rows), got 3"),
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "1,2", "--steps", "1"],
         "--steps must be at least 2, got 1"),
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "1,2", "--method", "cubic"],
         "--method must be slerp or lerp, got 'cubic'"),
        (["sample", "{vae}", "--n", "0"], "--n must be at least 1, got 0"),
        (["stylespace", "{vae}", "--data", "{faces}", "--column", "mu", "--attribute", "gender",
          "--alpha", "nan"], "--alpha must be a number above 0, got nan"),
        (["force", "{cvae}", "--data", "{faces}", "--attribute", "gender", "--values", "1"],
         "'gender' is not a continuous condition of this model; its continuous conditions: smile"),
        # names and classes were printed as Python lists (['smile', 'gender'])
        (["sweep", "{cvae}", "--attribute", "smile"],
         "give a value for the other condition(s) gender (e.g. --condition gender=...)"),
        (["sweep", "{cvae}", "--attribute", "smil"], "'smil' is not a condition of this model; it "
         "takes smile, gender"),
        (["sample", "{cvae}", "--condition", "smile=0,gender=femal"],
         "gender: unknown class 'femal'; classes: female, male"),
        (["sample", "{cvae}", "--condition", "smile=0,gender=0.5"],
         "gender: a class code is a whole number, got 0.5; classes: female, male"),
        (["force", "{cvae}", "--data", "{faces}", "--attribute", "smile"], "exactly one"),
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "1,2,3"], "pairs"),
        (["blend", "{vae}", "--data", "{faces}", "--rows", "1,99999"], "out of range"),
        (["sample", "{faces}"], "not a run directory"),
        (["traverse", "{vae}", "--sefa", "--layers", "coarse"], "--layers needs a generator"),
        # options that only matter with another were silently ignored without it
        (["traverse", "{vae}", "--row", "3"], "--row is a row of --data or a draw of --seed; give one"),
        (["traverse", "{faces}", "--row", "3"], "--row is a row of --data"),  # before any work
        (["traverse", "{vae}", "--layers", "coarse"], "--layers chooses the layers of --sefa"),
        (["traverse", "{vae}", "--axes", "0,1", "--top", "3"], "--top counts the axes chosen "
         "when --axes is not given"),
        (["traverse", "{vae}", "--pca", "--axes", "0", "--top", "2"], "give one of them"),
        # a seed of no random draw: an encoder model's codes are its encoder means
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "0,1", "--seed", "3"],
         "a vae encodes them (no random draw), so leave --seed out"),
        (["blend", "{cvae}", "--data", "{faces}", "--rows", "0,1", "--seed", "0"],
         "a cvae encodes them"),
        (["invert", "{vae}", "--data", "{faces}", "--restarts", "2"],
         "--init auto starts from this vae's encoder means"),
        (["invert", "{vae}", "--data", "{faces}", "--seed", "1", "--init", "encoder"],
         "leave them out (or give --init random)"),
        (["invert", "{faces}", "--data", "{faces}", "--seed", "1"], "not a run directory"),
        (["invert", "{vae}", "--data", "{faces}", "--init", "pca"],
         "--init must be one of auto, encoder, random, mean; got 'pca'"),
        (["mix", "{vae}", "--rows", "0:2"], "--rows and --sources are rows of --data"),
        (["mix", "{vae}", "--sources", "2:4"], "--rows and --sources are rows of --data"),
        (["mix", "{vae}", "--data", "{faces}", "--n", "2"], "--n counts prior samples"),
        # the inversion's settings named as the options (they were named as invert's arguments)
        (["invert", "{vae}", "--data", "{faces}", "--init", "random", "--restarts", "0"],
         "--restarts must be at least 1, got 0"),
        (["invert", "{vae}", "--data", "{faces}", "--lr", "0"], "--lr must be positive, got 0"),
        (["invert", "{vae}", "--data", "{faces}", "--prior", "nan"], "--prior must be a finite number"),
        (["mix", "{vae}", "--n", "41"], "--n must be at most 40 (a figure shows at most 40 x 40"),
        (["mix", "{vae}", "--data", "{faces}", "--sources", "0:41"], "--sources must be at most 40"),
        (["mix", "{vae}", "--restarts", "2", "--reinvert"],
         "--reinvert, --restarts set how the faces of --data are inverted: give --data STORE"),
        (["invert", "{vae}", "--data", "{faces}", "--identity-net", "dlib"],
         "give --identity-weight too"),
        (["invert", "{vae}", "--data", "{faces}", "--identity-option", "detect=true"],
         "give --identity too"),
        # a figure taller or wider than any viewer opens, after minutes and gigabytes of decoding
        (["sample", "{vae}", "--n", "100000000"],
         "--n must be at most 1600 (a figure shows at most 200 rows of 8), got 100000000"),
        (["traverse", "{vae}", "--steps", "100000"], "--steps must be at most 200 (a figure shows"),
        (["interpolate", "{vae}", "--data", "{faces}", "--rows", "0,1", "--steps", "5000"],
         "--steps must be at most 200 (a figure shows at most 200 columns of faces), got 5000"),
    ],
)
def test_bad_input_exits_2(cli, vae_run: Path, cvae_run: Path, faces_store: Path,
                           tmp_path: Path, args: list[str], message: str) -> None:
    paths = {"{vae}": str(vae_run), "{cvae}": str(cvae_run), "{faces}": str(faces_store)}
    argv = [paths.get(a, a) for a in args]
    r = cli("latent", *argv, "--out", tmp_path / "x.png")
    assert r.code == 2, r.err
    assert r.err.startswith("error: ") and message in r.err
    assert len(r.err.strip().splitlines()) == 1  # one line, no traceback
    assert not (tmp_path / "x.png").exists()


def test_the_direction_histogram_counts_distances_in_sds_of_the_codes(
        cli, coded_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit `latent edit` moves codes by: each code's signed distance over the SD of the
    codes' distances."""
    import latentplay.viz.latent as viz_latent
    from latentplay.latent.directions import Direction

    drawn: dict = {}
    real = viz_latent.distance_histogram

    def spy(distances: np.ndarray, *args: object, **kwargs: object) -> object:
        drawn.update(distances=distances, unit=kwargs.get("unit"))
        return real(distances, *args, **kwargs)

    monkeypatch.setattr(viz_latent, "distance_histogram", spy)
    out = tmp_path / "gender.json"
    assert cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
               "--positive", "male", "--out", out).code == 0
    found = Direction.from_json(out)
    want = found.project(st.vectors(st.load(coded_store), "mu")) / found.sd
    assert drawn["unit"] == "SDs of the codes along it" and abs(found.sd - 1) > 0.01
    np.testing.assert_allclose(drawn["distances"], want, rtol=1e-5, atol=1e-6)


def test_a_full_disk_at_a_directions_figure_keeps_the_previous_direction(
        cli, coded_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The direction was moved into place before its figure was drawn: a disk full at the
    figure left the new direction beside the previous one's figure; now both are the
    previous ones."""
    import errno

    from matplotlib.figure import Figure

    out = tmp_path / "d.json"
    assert cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
               "--out", out).code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    r = cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "smile",
            "--out", out)
    assert (r.code, r.err) == (2, "error: cannot write the outputs: No space left on device\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert sorted(before) == ["d.json", "d.png"]


def test_direction_and_edit(cli, coded_store: Path, vae_run: Path, tmp_path: Path) -> None:
    from latentplay.latent.directions import Direction

    out = tmp_path / "gender.json"
    r = cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
            "--positive", "male", "--out", out)
    assert r.code == 0, r.err
    assert "held-out balanced accuracy" in r.out
    assert "; chance 0.5)" in r.out        # two sides: a balanced accuracy's chance is a half
    gender = Direction.from_json(out)
    assert gender.label == "gender: male vs female" and gender.n == 400 and gender.dim == 8
    assert out.with_suffix(".png").exists()
    smile = tmp_path / "smile.json"
    r = cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "smile",
            "--orthogonal-to", out, "--out", smile)
    assert r.code == 0 and "cosine with gender: male vs female: normals" in r.out
    held = Direction.from_json(smile)
    assert held.conditioned_on == [gender.label]
    assert abs(float(held.pattern @ gender.pattern)) < 1e-5
    png = tmp_path / "edit.png"
    numbers = _ok(cli("latent", "edit", vae_run, "--data", coded_store, "--direction", smile,
                      "--rows", "0:3", "--alphas=-2,0,2", "--out", png), png)
    np.testing.assert_allclose(numbers["alphas_latent"],
                               np.array([-2, 0, 2]) * held.pattern_sd, rtol=1e-5)
    assert numbers["along"] == "pattern" and len(numbers["distance_before_sd"]) == 3
    numbers = _ok(cli("latent", "edit", vae_run, "--data", coded_store, "--direction", smile,
                      "--rows", "0:3", "--alphas=-1,1", "--to-distance", "--along", "normal",
                      "--out", png), png)
    assert numbers["to_distance"] and numbers["along"] == "normal"
    # the target distances, and each face's own step to them (it starts at its own distance)
    np.testing.assert_allclose(numbers["distances_latent"], np.array([-1, 1]) * held.sd, rtol=1e-5)
    assert "alphas_latent" not in numbers
    # along the pattern too, the distances are in SDs of the codes' distances (not along it)
    assert abs(held.sd - held.pattern_sd) > 0.01 * held.sd
    along = _ok(cli("latent", "edit", vae_run, "--data", coded_store, "--direction", smile,
                    "--rows", "0:3", "--alphas=-1,1", "--to-distance", "--out", png), png)
    np.testing.assert_allclose(along["distances_latent"], np.array([-1, 1]) * held.sd, rtol=1e-5)
    steps = np.array(numbers["steps_latent"])                      # (3 faces, 2 distances)
    start = np.array(numbers["distance_before_sd"]) * held.sd
    rate = float(held.axis("normal") @ held.vector)
    np.testing.assert_allclose(steps, (np.array([-1, 1])[None] * held.sd - start[:, None]) / rate,
                               rtol=1e-3, atol=1e-4)


def test_direction_says_when_no_conditioned_pattern_is_left(cli, faces_store: Path,
                                                            tmp_path: Path) -> None:
    # anisotropic codes whose gender pattern, held off the eyeglasses pattern, points to the
    # female side of the conditioned boundary: the direction falls back to its normal and says so
    from latentplay.latent.directions import Direction

    data = st.load(faces_store)
    gender, glasses = (np.asarray(data.labels(a)) for a in ("gender", "eyeglasses"))
    pool = np.random.default_rng(0).standard_normal((20_000, 3)) * np.array([1.0, 4.0, 0.25])
    sides = 2 * (pool @ np.array([-0.5, -0.75, 0.45]) > 0) + (pool @ np.array([0.55, 0.4, 0.75]) > 0)
    codes = np.zeros((len(data), 3), np.float32)
    for side in range(4):
        rows = np.flatnonzero(2 * gender + glasses == side)
        codes[rows] = pool[sides == side][:len(rows)]
    path = Path(st.save(st.add_column(data, "aniso", codes), tmp_path / "faces").path)
    glasses_json, gender_json = tmp_path / "glasses.json", tmp_path / "gender.json"
    r = cli("latent", "direction", path, "--column", "aniso", "--attribute", "eyeglasses",
            "--out", glasses_json)
    assert r.code == 0, r.err
    r = cli("latent", "direction", path, "--column", "aniso", "--attribute", "gender",
            "--orthogonal-to", glasses_json, "--out", gender_json)
    assert r.code == 0, r.err
    assert "caution: no way the codes move" in r.err
    held = Direction.from_json(gender_json)
    np.testing.assert_array_equal(held.pattern, held.vector)


def test_edit_at_layers_of_a_model_without_styles_names_layers(cli, coded_store: Path, vae_run: Path,
                                                               tmp_path: Path) -> None:
    """``edit --layers`` on a VAE is refused naming ``--layers``, not style mixing (a command the
    user did not run)."""
    out = tmp_path / "g.json"
    assert cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
               "--out", out).code == 0
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", out, "--rows", "0:2",
            "--layers", "coarse", "--out", tmp_path / "e.png")
    assert r.code == 2 and r.err.startswith("error: --layers needs a generator"), r.err
    assert "style mixing" not in r.err and "this run is a vae" in r.err
    assert not (tmp_path / "e.png").exists()


def test_edit_refuses_a_direction_of_another_latent(cli, coded_store: Path, cvae_run: Path,
                                                    dcgan_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    assert cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
               "--out", out).code == 0
    r = cli("latent", "edit", dcgan_run, "--data", coded_store, "--direction", out,
            "--out", tmp_path / "e.png")
    assert r.code == 2 and "fit it on codes of this run" in r.err
    r = cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
            "--out", tmp_path / "g.txt")
    assert r.code == 2 and ".json" in r.err


def test_a_direction_records_its_run_and_edit_refuses_another_runs(cli, coded_store: Path,
                                                                   vae_run: Path, cvae_run: Path,
                                                                     tmp_path: Path) -> None:
    """A direction fitted on another run's codes of the same size (the CVAE's 8-d encoder
    means) edited a VAE's faces without complaint; a copy of the run it was fitted on, and an
    older file that records no run, are still accepted."""
    import shutil

    from latentplay.latent.directions import run_sha256

    assert cli("embed", coded_store, "--with", f"vae:{cvae_run}", "--column", "cmu").code == 0
    mine, theirs = tmp_path / "mine.json", tmp_path / "theirs.json"
    for column, out in (("mu", mine), ("cmu", theirs)):
        r = cli("latent", "direction", coded_store, "--column", column, "--attribute", "gender",
                "--out", out)
        assert r.code == 0, r.err
    recorded = json.loads(mine.read_text())
    assert recorded["column"] == "mu" and recorded["run"] == str(vae_run.resolve())
    assert recorded["run_sha256"] == run_sha256(vae_run) is not None
    png = tmp_path / "e.png"
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", theirs,
            "--rows", "0:2", "--out", png)
    assert r.code == 2 and f"fitted on codes of run {cvae_run.resolve()} (column 'cmu')" in r.err
    assert len(r.err.strip().splitlines()) == 1 and not png.exists()
    r = cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "smile",
            "--orthogonal-to", theirs, "--out", tmp_path / "held.json")
    assert r.code == 2 and "fit it on codes of this run" in r.err
    assert not (tmp_path / "held.json").exists()
    copy = Path(shutil.copytree(vae_run, tmp_path / "copied_run"))  # same weights elsewhere
    r = cli("latent", "edit", copy, "--data", coded_store, "--direction", mine, "--rows", "0:2",
            "--alphas=-1,1", "--out", png)
    assert r.code == 0 and "was fitted on" not in r.err, r.err  # no run caution
    old = {k: v for k, v in recorded.items() if k not in ("column", "run", "run_sha256")}
    mine.write_text(json.dumps(old))  # written before directions recorded their run
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", mine, "--rows", "0:2",
            "--alphas=-1,1", "--out", png)
    assert r.code == 0 and "was fitted on" not in r.err, r.err  # no run caution
    mine.write_text(json.dumps({**recorded, "run": str(tmp_path / "gone"), "run_sha256": None}))
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", mine, "--rows", "0:2",
            "--alphas=-1,1", "--out", png)
    assert r.code == 0 and "caution: direction 'gender: male vs female' was fitted on codes of run" in r.err


def test_edit_refuses_a_seed_and_prints_a_weak_directions_caution(cli, drawn: list[dict],
                                                                   coded_store: Path,
                                                                   vae_run: Path,
                                                                     tmp_path: Path) -> None:
    """``edit`` cautions, on standard error, in its JSON and in its figure's title
    (which showed no sign of it), that a direction near chance is no edit of its attribute
    (``audit counterfactual`` does); a ``--seed`` for a VAE,
    whose codes are encoder means, is refused rather than ignored."""
    codes = np.random.default_rng(0).standard_normal((len(st.load(coded_store)), 8))
    noisy = Path(st.save(st.add_column(st.load(coded_store), "noise", codes.astype(np.float32)),
                         tmp_path / "noisy").path)
    out, png = tmp_path / "noise.json", tmp_path / "e.png"
    r = cli("latent", "direction", noisy, "--column", "noise", "--attribute", "gender",
            "--out", out)
    assert r.code == 0 and "caution: near chance" in r.err, r.err
    numbers = _ok(cli("latent", "edit", vae_run, "--data", noisy, "--direction", out, "--rows",
                      "0:2", "--alphas=-1,1", "--out", png), png)
    weak = [c for c in numbers["cautions"] if "is near chance" in c]
    assert len(weak) == 1 and "barely predicts gender" in weak[0]
    assert f"; near chance (held-out balanced accuracy {numbers['score']:.3f}): no edit of gender" \
        in drawn[-1]["title"]
    r = cli("latent", "edit", vae_run, "--data", noisy, "--direction", out, "--rows", "0:2",
            "--alphas=-1,1", "--out", png)
    assert weak[0] in r.err and "caution:" not in r.out
    r = cli("latent", "edit", vae_run, "--data", noisy, "--direction", out, "--rows", "0:2",
            "--seed", "1", "--out", tmp_path / "seeded.png")
    assert r.code == 2 and "leave --seed out" in r.err and len(r.err.strip().splitlines()) == 1
    assert "caution" not in r.out   # a refused edit prints its error alone
    assert not (tmp_path / "seeded.png").exists()


def test_invert_takes_restarts_of_random_starts(cli, vae_run: Path, faces_store: Path,
                                                tmp_path: Path) -> None:
    """A VAE's faces inverted from random starts use ``--restarts`` and ``--seed``, and the
    JSON records both; from its encoder means (the default) there are none, and it records
    none."""
    png = tmp_path / "inv.png"
    runs = {}
    for seed in ("0", "5"):
        runs[seed] = _ok(cli("latent", "invert", vae_run, "--data", faces_store, "--rows", "0:2",
                             "--steps", "2", "--init", "random", "--restarts", "2", "--seed",
                             seed, "--out", png), png)
    assert runs["0"]["restarts"] == 2 and runs["0"]["init_loss"] != runs["5"]["init_loss"]
    assert (runs["0"]["seed"], runs["5"]["seed"]) == (0, 5)
    numbers = _ok(cli("latent", "invert", vae_run, "--data", faces_store, "--rows", "0:2",
                      "--steps", "2", "--out", png), png)
    assert numbers["restarts"] is None and numbers["seed"] is None


def test_invert_command_and_embedder(cli, dcgan_run: Path, tmp_path: Path) -> None:
    from latentplay import sources

    small = sources.make("synthfaces", tmp_path / "small", n=6, seed=3)
    png = tmp_path / "inv.png"
    numbers = _ok(cli("latent", "invert", dcgan_run, "--data", small.path, "--rows", "0:3",
                      "--steps", "30", "--restarts", "2", "--prior", "0", "--out", png), png)
    assert len(numbers["loss"]) == 3
    assert all(a <= b for a, b in zip(numbers["loss"], numbers["init_loss"], strict=True))
    r = cli("latent", "invert", dcgan_run, "--data", small.path, "--rows", "0:3", "--steps", "5",
            "--restarts", "1", "--identity", "dlib", "--out", png)
    assert r.code == 0 and "identity (dlib, cosine similarity to the photo)" in r.out, r.err
    found = json.loads(png.with_suffix(".json").read_text())["identity"]
    assert found["embedder"] == "dlib" and len(found["similarity"]) == 3
    assert all(-1 <= v <= 1 for v in found["similarity"]) and -1 < found["between"] < 1
    r = cli("latent", "invert", dcgan_run, "--data", small.path, "--rows", "0:2", "--steps", "3",
            "--restarts", "1", "--identity-weight", "0.05", "--out", png)
    assert r.code == 0 and json.loads(png.with_suffix(".json").read_text())["identity_weight"] == 0.05
    r = cli("latent", "invert", dcgan_run, "--data", small.path, "--rows", "0:2", "--identity-weight", "-1",
            "--out", png)
    assert r.code == 2 and r.err.strip() == "error: --identity-weight must be at least 0, got -1"
    r = cli("latent", "invert", dcgan_run, "--data", small.path, "--rows", "0:2", "--identity-weight", "0.1",
            "--identity-net", "arcface", "--out", png)
    assert r.code == 2 and "identity network must be dlib or onnx:PATH" in r.err
    r = cli("latent", "invert", dcgan_run, "--data", small.path, "--identity", "nosuch",
            "--out", png)
    assert r.code == 2
    r = cli("embed", small.path, "--with", f"invert:{dcgan_run}", "--column", "gz",
            "-o", "steps=5", "-o", "restarts=1")
    assert r.code == 0, r.err
    z = st.vectors(st.load(small.path), "gz")
    assert z.shape == (6, 16) and np.isfinite(z).all()
    r = cli("embed", small.path, "--with", f"invert:{dcgan_run}", "--column", "gz3",
            "-o", "steps=2", "-o", "restarts=1", "-o", "identity=0.05")
    assert r.code == 0, r.err
    assert not np.allclose(st.vectors(st.load(small.path), "gz3"), z)  # the identity term moved the codes
    r = cli("embed", small.path, "--with", f"invert:{dcgan_run}", "--column", "gz2",
            "-o", "init=encoder")
    assert r.code == 2 and "encoder" in r.err


def test_generator_traversal_without_an_encoded_training_set(cli, dcgan_run: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "axes.png"
    numbers = _ok(cli("latent", "traverse", dcgan_run, "--top", "3", "--steps", "4",
                      "--out", out), out)
    assert numbers["axes"] == [0, 1, 2] and numbers["variance"] is None  # prior order, no data
    r = cli("latent", "traverse", dcgan_run, "--pca", "--out", tmp_path / "pca.png")
    assert r.code == 2 and "latents.npy" in r.err


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The titles and captions of every image grid a command draws (still drawn and written)."""
    from latentplay.viz import grid

    seen: list[dict] = []
    original = grid.image_grid

    def record(rows, row_labels, captions=None, title=None, **kwargs):
        seen.append({"labels": list(row_labels), "captions": captions, "title": title})
        return original(rows, row_labels, captions=captions, title=title, **kwargs)

    monkeypatch.setattr(grid, "image_grid", record)
    return seen


def test_histograms_and_probe_refuse_bad_out_and_max_rows(cli, vae_run: Path, faces_store: Path,
                                                         tmp_path: Path) -> None:
    """``histograms --out DIR`` wrote DIR.png and DIR.json and said it wrote DIR; ``probe
    --max-rows 0`` failed inside scikit-learn with a long message about folds."""
    folder = tmp_path / "figs"
    r = cli("latent", "histograms", vae_run, "--out", folder)
    assert r.code == 2, r.err
    assert r.err.strip() == "error: --out must name a .png, .pdf or .svg file, got figs", r.err
    assert list(tmp_path.iterdir()) == []
    r = cli("latent", "probe", faces_store, "--columns", "mu", "--out", tmp_path / "p",
            "--max-rows", "0")
    assert r.code == 2 and r.err.strip() == ("error: --max-rows must be at least 10 (two rows per fold "
                                             "of --cv 5), got 0"), r.err


def test_histograms_title_names_training_and_test_rows(cli, vae_run: Path, tmp_path: Path) -> None:
    from latentplay.viz.latent import latent_histograms

    split = np.load(vae_run / "latents.npy")["split"]
    out = tmp_path / "hist.png"
    numbers = _ok(cli("latent", "histograms", vae_run, "--out", out), out)
    assert numbers["n_test"] == int(split.sum()) > 0
    assert numbers["n_train"] == len(split) - numbers["n_test"]
    mu = np.zeros((5, 2), np.float32)
    title = " ".join(latent_histograms(mu, split=np.array([0, 0, 0, 1, 1])).texts[0].get_text().split())
    assert title.startswith("encoder means of 3 training and 2 test images")  # as broken to fit
    assert " ".join(latent_histograms(mu).texts[0].get_text().split()).startswith(
        "encoder means of 5 store images")


def test_blend_figure_shows_its_weights(cli, drawn: list[dict], vae_run: Path, faces_store: Path,
                                        tmp_path: Path) -> None:
    out = tmp_path / "blend.png"
    _ok(cli("latent", "blend", vae_run, "--data", faces_store, "--rows", "1,2,3",
            "--weights", "1,2,1", "--out", out), out)
    assert "weights 0.25, 0.5, 0.25" in drawn[-1]["title"]
    assert drawn[-1]["captions"][0] == ["row 1\nw 0.25", "row 2\nw 0.5", "row 3\nw 0.25"]
    _ok(cli("latent", "blend", vae_run, "--data", faces_store, "--rows", "1,2", "--out", out), out)
    assert "equal weights" in drawn[-1]["title"]


def test_titles_say_which_store_the_faces_come_from(cli, drawn: list[dict], vae_run: Path,
                                                    cvae_run: Path, faces_store: Path,
                                                    tmp_path: Path) -> None:
    out, named = tmp_path / "x.png", f"store '{faces_store.name}'"
    _ok(cli("latent", "interpolate", vae_run, "--data", faces_store, "--rows", "1,2",
            "--steps", "3", "--out", out), out)
    assert drawn[-1]["title"] == f"slerp between faces of {named}"
    _ok(cli("latent", "blend", vae_run, "--data", faces_store, "--rows", "1,2", "--out", out), out)
    assert drawn[-1]["title"] == f"blend of 2 faces of {named} (equal weights)"
    _ok(cli("latent", "force", cvae_run, "--data", faces_store, "--attribute", "smile",
            "--rows", "0:2", "--shifts=0.5", "--out", out), out)
    assert drawn[-1]["title"].startswith(f"smile shifted on rows of {named}; change: ")
    _ok(cli("latent", "traverse", vae_run, "--top", "1", "--steps", "3", "--data", faces_store,
            "--row", "4", "--out", out), out)
    assert drawn[-1]["title"].endswith(f"prior) from row 4 of {named}")  # not "from the row 4"
    _ok(cli("latent", "traverse", vae_run, "--top", "1", "--steps", "3", "--out", out), out)
    assert drawn[-1]["title"].endswith("prior) from the centre")


def test_traverse_labels_small_shares_of_variance_as_they_are(cli, drawn: list[dict], vae_run: Path,
                                                              tmp_path: Path) -> None:
    """A principal axis with 0.4% of the variance was labelled "0% var" (and 99.5% "100%"),
    as if the codes did not vary along it at all."""
    out = tmp_path / "pca.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--pca", "--top", "8", "--steps", "3",
                      "--out", out), out)
    shares = np.array(numbers["explained"])
    assert (shares < 0.01).any()  # the shared run's small axes
    shown = [float(re.search(r"([\d.]+)% var", label)[1]) for label in drawn[-1]["labels"]]
    within = np.where(shares < 0.01, 0.05, 0.5)  # half the last digit shown
    assert (np.abs(np.array(shown) - 100 * shares) <= within).all(), (shown, shares)
    assert share_text(0.004) == "0.4%" and share_text(0.9952) == "99.5%" and share_text(0.27) == "27%"


def test_traverse_gif_sweeps_the_steps_and_back(cli, drawn: list[dict], vae_run: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "axes.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--top", "2", "--steps", "5", "--gif",
                      "--out", out), out)
    frames = iio.imread(out.with_suffix(".gif"), index=None)  # (F, H, W, C)
    assert len(frames) == 2 * 5 - 2   # steps -3, -1.5, 0, 1.5, 3 and back through 1.5, 0, -1.5
    for k in (1, 2, 3):
        np.testing.assert_array_equal(frames[k], frames[8 - k])
    gif_grid = drawn[-2]   # drawn before the figure, which is saved after it
    assert gif_grid["labels"][0].startswith("step\n")   # the layout's, of the widest step
    assert len(gif_grid["captions"][0]) == len(numbers["axes"]) == 2
    assert frames[0].std() > 5 and np.abs(frames[0].astype(int) - frames[4]).max() > 0


def test_traverse_gif_failing_leaves_the_earlier_figure_numbers_and_gif(
        cli, vae_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GIF that failed to be written (a full disk) left a new figure and numbers beside the
    earlier run's GIF: the three are replaced together or not at all."""
    from latentplay.viz import grid

    out = tmp_path / "axes.png"
    earlier = {out: b"png", out.with_suffix(".json"): b"{}", out.with_suffix(".gif"): b"GIF89a"}
    for path, data in earlier.items():
        path.write_bytes(data)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(grid, "write_palette_gif", full_disk)
    r = cli("latent", "traverse", vae_run, "--top", "2", "--steps", "3", "--gif", "--out", out)
    assert r.code != 0
    assert {path: path.read_bytes() for path in earlier} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["axes.gif", "axes.json", "axes.png"]


def test_traversal_frames_hold_the_centre_decoding_at_step_zero(vae_run: Path) -> None:
    from latentplay.latent.traverse import axis_traversal
    from latentplay.viz.grid import grid_frames
    from latentplay.viz.latent import FRAME_DPI, traversal_frames

    model = train.load_model(vae_run)
    values = np.linspace(-3, 3, 5)
    rows = axis_traversal(model, [0, 5, 2], values)  # (3, 5, S, S, C)
    frames = traversal_frames(rows, values, ["z0", "z5", "z2"], "t")
    assert frames.shape[0] == 8 and frames.shape[-1] == 3
    centre = np.repeat(train.decode(model, np.zeros((1, model.latent_dim), np.float32)), 3, axis=0)
    # the centre drawn at step 0 in the frames' layout (that of the widest step, +1.5)
    expected = grid_frames([[centre]] * 2, [["step\n+0"], ["step\n+1.5"]],
                           captions=[["z0", "z5", "z2"]], title="t", dpi=FRAME_DPI)[0]
    np.testing.assert_array_equal(frames[2], expected)
    np.testing.assert_array_equal(frames[6], expected)
    assert not np.array_equal(frames[0], expected)


def test_traversal_and_edit_captions_show_steps_exactly(cli, drawn: list[dict], vae_run: Path,
                                                        coded_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "axes.png"
    _ok(cli("latent", "traverse", vae_run, "--top", "1", "--range", "3", "--steps", "9",
            "--out", out), out)
    assert drawn[-1]["captions"][0] == ["-3", "-2.25", "-1.5", "-0.75", "+0", "+0.75", "+1.5",
                                        "+2.25", "+3"]
    assert drawn[-1]["title"] == ("traversals of latent axes (raw units of z: SDs of the N(0, 1) "
                                  "prior) from the centre")
    direction = tmp_path / "g.json"
    assert cli("latent", "direction", coded_store, "--column", "mu", "--attribute", "gender",
               "--out", direction).code == 0
    _ok(cli("latent", "edit", vae_run, "--data", coded_store, "--direction", direction,
            "--rows", "0:1", "--alphas=-2.25,1.25", "--out", out), out)
    assert drawn[-1]["captions"][0] == ["original", "a=-2.25", "a=+1.25"]
    assert drawn[-1]["labels"][0].startswith("row 0\nd ")
    from latentplay.latent.directions import Direction

    side = Direction.from_json(direction).positive
    assert side and drawn[-1]["title"].endswith("Left: each face's signed distance d to the boundary "
                                                f"before the edit (SDs; + on the {side} side)")


def test_invert_leaves_only_its_report_on_stdout(cli, dcgan_run: Path, faces_store: Path,
                                                 tmp_path: Path) -> None:
    png = tmp_path / "inv.png"
    r = cli("latent", "invert", dcgan_run, "--data", faces_store, "--rows", "0:2", "--steps", "2",
            "--restarts", "1", "--out", png)
    assert r.code == 0, r.err
    assert r.out == f"wrote {png}, inv.json\n"   # the figure and its numbers


def test_direction_cautions_when_holding_others_leaves_little_pattern(cli, faces_store: Path,
                                                                      tmp_path: Path) -> None:
    # smile moves the codes mostly along dimension 0, as gender does; held off gender's pattern
    # only dimension 1 (SD about 0.1 of smile's) is left, so edits along it barely move the codes
    from latentplay.latent.directions import Direction

    data = st.load(faces_store)
    gender = np.asarray(data.labels("gender"), np.float64)
    smile = np.asarray(data.labels("smile"), np.float64)
    rng = np.random.default_rng(0)
    codes = np.stack([3 * (gender - gender.mean()) + smile + 0.3 * rng.standard_normal(len(data)),
                      0.1 * smile + 0.01 * rng.standard_normal(len(data))], 1).astype(np.float32)
    path = Path(st.save(st.add_column(data, "c", codes), tmp_path / "faces").path)
    gender_json, smile_json = tmp_path / "gender.json", tmp_path / "smile.json"
    assert cli("latent", "direction", path, "--column", "c", "--attribute", "smile",
               "--out", smile_json).code == 0
    alone = Direction.from_json(smile_json)
    assert cli("latent", "direction", path, "--column", "c", "--attribute", "gender",
               "--out", gender_json).code == 0
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "smile",
            "--orthogonal-to", gender_json, "--out", smile_json)
    assert r.code == 0, r.err
    held = Direction.from_json(smile_json)
    assert held.pattern_sd < alone.pattern_sd / 10
    assert "caution: the codes' SD along the pattern left is" in r.err, r.err
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "smile",
            "--out", tmp_path / "again.json")
    assert r.code == 0 and "caution:" not in r.err


def test_direction_leaves_out_non_finite_codes_and_measures_sds_on_fitted_rows(
        cli, faces_store: Path, tmp_path: Path) -> None:
    # the embedder failed on 6 faces (NaN codes); hair colour black vs blond, held off gender:
    # its SDs are measured on the black and blond rows it was fitted on, as an unheld fit's are
    from latentplay.latent.directions import Direction

    data = st.load(faces_store)
    gender, hair = (np.asarray(data.labels(a)) for a in ("gender", "hair_color"))
    codes = np.random.default_rng(0).standard_normal((len(data), 3))
    codes[:, 0] += 2 * gender
    codes[:, 1] += 3 * (hair == 0) + 0.5 * gender
    codes[:6] = np.nan
    codes = codes.astype(np.float32)
    path = Path(st.save(st.add_column(data, "c", codes), tmp_path / "faces").path)
    gender_json, hair_json = tmp_path / "gender.json", tmp_path / "hair.json"
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "gender",
            "--out", gender_json)
    assert r.code == 0, r.err
    assert "left out: 6 of 400 rows whose 'c' codes hold non-finite values" in r.out
    assert Direction.from_json(gender_json).n == 394
    r = cli("latent", "direction", path, "--column", "c", "--attribute", "hair_color",
            "--positive", "black", "--negative", "blond", "--orthogonal-to", gender_json,
            "--out", hair_json)
    assert r.code == 0, r.err
    held = Direction.from_json(hair_json)
    coded = np.isfinite(codes).all(1)
    fitted = coded & np.isin(hair, [0, 2])
    assert held.n == fitted.sum() and held.conditioned_on == ["gender: male vs female"]
    on_fitted = held.spread_on(codes[fitted])
    assert held.sd == pytest.approx(on_fitted.sd)
    assert held.pattern_sd == pytest.approx(on_fitted.pattern_sd)
    on_all = held.spread_on(codes[coded])
    assert abs(on_all.sd - held.sd) > 0.05 * held.sd  # the rows chosen make a difference


def test_force_captions_own_values_and_marks_values_outside_training(
        cli, drawn: list[dict], cvae_run: Path, faces_store: Path, tmp_path: Path) -> None:
    """The force figure showed neither a face's own value nor that a shift took it beyond the
    trained range (a smile of 1.0 shifted +0.5 decodes at 1.5)."""
    out = tmp_path / "force.png"
    shifts = [0.5, -0.7]
    numbers = _ok(cli("latent", "force", cvae_run, "--data", faces_store, "--attribute", "smile",
                      "--rows", "0:6", f"--shifts={shifts[0]},{shifts[1]}", "--out", out), out)
    own = st.load(faces_store).labels("smile")[:6].astype(np.float64)
    lo, hi = train.load_model(cvae_run).condition_spec.part("smile").range
    captions = drawn[-1]["captions"]
    assert captions[0] == [f"smile={v:.2g}" for v in np.float32(own)] and captions[1] == [""] * 6
    outside = [[not lo - 1e-6 <= v + s <= hi + 1e-6 for v in own] for s in shifts]
    assert any(map(any, outside)) and not all(map(all, outside))  # both kinds shown
    for row, marks, s in zip(captions[2:], outside, shifts, strict=True):
        assert [c.endswith("(outside training)") for c in row] == marks
        assert [c.split("\n")[0] for c in row] == [f"smile={np.float32(v + s):.2g}" for v in own]
    assert numbers["in_training_range"] == [[not m for m in marks] for marks in outside]
    np.testing.assert_allclose(numbers["values"], [own + s for s in shifts], atol=1e-6)
    # each shift's change from the faces redrawn at their own values, in its row's label
    assert len(numbers["change"]) == 2 and min(numbers["change"]) > 0
    labels = drawn[-1]["labels"]
    assert labels[:2] == ["original", "own value"]
    assert labels[2] == f"smile\n+0.5\nchange {numbers['change'][0]:.3f}"
    numbers = _ok(cli("latent", "force", cvae_run, "--data", faces_store, "--attribute", "smile",
                      "--rows", "0:3", "--shifts=0,1", "--out", out), out)
    assert numbers["change"][0] == 0 < numbers["change"][1]  # no shift: the own-value faces
    _ok(cli("latent", "force", cvae_run, "--data", faces_store, "--attribute", "smile",
            "--rows", "0:2", "--values=1,3", "--out", out), out)
    assert ["(outside training)" in c for c in drawn[-1]["captions"][3]] == [True, True]
    assert ["(outside training)" in c for c in drawn[-1]["captions"][2]] == [False, False]


def test_sweep_counts_the_training_faces_near_each_value(cli, drawn: list[dict], cvae_run: Path,
                                                         tmp_path: Path) -> None:
    """SmileCVAE: a row's diversity follows how many training faces had its value; the sweep
    counts the run's training rows (its latents.npy marks them) near each value."""
    table = np.load(cvae_run / "latents.npy")
    training = table[table["split"] == 0]
    out = tmp_path / "sweep.png"
    r = cli("latent", "sweep", cvae_run, "--attribute", "smile", "--values=-3,-1:1:1,3",
            "--per", "5", "--condition", "gender=female", "--out", out)   # a row per value
    numbers = _ok(r, out)
    windows = numbers["training_windows"]
    assert windows[0] == [-4.0, -2.0] and windows[2] == [-0.5, 0.5]  # half the gaps 2 and 1
    expected = [int(((training["smile"] >= a) & (training["smile"] < b)).sum()) for a, b in windows]
    assert numbers["training_faces"] == expected and sum(expected) == len(training)
    assert drawn[-1]["labels"][2].endswith(f"\n{expected[2]} training faces")
    assert "training faces: the run's training rows" in drawn[-1]["title"]
    # the same codes in every row: each row's change from the first, where the last one's
    # faces differ from the first's drawn as a last row, and one line comparing the two
    labels = drawn[-1]["labels"]
    assert len(labels) == 6 and f"\nchange {numbers['change'][2]:.3f}\n" in labels[2]
    assert labels[5].startswith("where smile=-3\n-> smile=3\nchanges them")
    assert "last row: |last - first value|" in drawn[-1]["title"]
    change = f"{numbers['change'][-1]:.3f}"
    assert f"smile -3 -> 3 changes a face by {change} (RMS, pixels 0-1)" in r.out
    r = cli("latent", "sweep", cvae_run, "--attribute", "smile", "--per", "5", "--new-codes",
            "--condition", "gender=female", "--out", out)
    numbers = _ok(r, out)
    assert numbers["change"] is None and len(drawn[-1]["labels"]) == 5 and "changes" not in r.out
    numbers = _ok(cli("latent", "sweep", cvae_run, "--attribute", "gender", "--condition", "smile=0",
                      "--out", out), out)
    assert numbers["training_faces"] == [int((training["gender"] == k).sum()) for k in (0, 1)]
    # a run whose store is gone: the sweep is drawn without the counts
    moved = tmp_path / "run"
    moved.mkdir()
    for name in ("model.json", "model.safetensors"):
        (moved / name).write_bytes((cvae_run / name).read_bytes())
    config, found = re.subn(r"(?m)^  store: .*$", f"  store: {tmp_path / 'gone'}",
                            (cvae_run / "config.yaml").read_text())
    assert found == 1
    (moved / "config.yaml").write_text(config)
    r = cli("latent", "sweep", moved, "--attribute", "smile", "--condition", "gender=female",
            "--out", out)
    numbers = _ok(r, out)
    assert numbers["training_faces"] is None and "training faces" not in drawn[-1]["labels"][0]
    assert r.err == ""


def test_a_sweep_of_one_value_says_why_no_training_faces_are_counted(cli, cvae_run: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "sweep.png"
    r = cli("latent", "sweep", cvae_run, "--attribute", "smile", "--values=0.5,0.5", "--per", "2",
            "--condition", "gender=female", "--out", out)
    assert _ok(r, out)["training_faces"] is None
    assert "training faces not counted" in r.err and "sweep two or more" in r.err


def test_sample_draws_its_seed_and_traverse_shows_eight_axes_by_default(cli, vae_run: Path,
                                                                       tmp_path: Path) -> None:
    """--seed S draws the images `train.sample(RUN, N, seed=S)` draws; without --axes or --top,
    the 8 dimensions of largest variance are traversed."""
    from latentplay.latent.sampling import pairwise_diversity

    out = tmp_path / "s.png"
    numbers = _ok(cli("latent", "sample", vae_run, "--n", "6", "--seed", "5", "--out", out), out)
    assert numbers["seed"] == 5
    assert numbers["diversity"] == pytest.approx(pairwise_diversity(train.sample(vae_run, 6, seed=5)))
    assert numbers["diversity"] != pytest.approx(pairwise_diversity(train.sample(vae_run, 6, seed=0)))
    out = tmp_path / "t.png"
    numbers = _ok(cli("latent", "traverse", vae_run, "--steps", "2", "--out", out), out)
    assert numbers["axes"] == ranked_axes(run_latents(vae_run))[:8].tolist()   # all 8 of this run


def test_interpolate_lines_run_from_the_first_face_to_the_second(cli, vae_run: Path,
                                                                 faces_store: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """Each pair's line: face A as the model sees it, the steps, then face B."""
    import latentplay.latent.cli as latent_cli

    drawn: dict = {}
    monkeypatch.setattr(latent_cli, "_write",
                        lambda out, rows, labels, *args, **kwargs: drawn.update(rows=rows, labels=labels))
    r = cli("latent", "interpolate", vae_run, "--data", faces_store, "--rows", "3,17,5,9",
            "--steps", "3", "--out", tmp_path / "i.png")
    assert r.code == 0, r.err
    seen = train.model_input(train.load_model(vae_run), st.load_images(st.load(faces_store), [3, 17, 5, 9]))
    assert drawn["labels"] == ["3 -> 17", "5 -> 9"]
    for line, (a, b) in zip(drawn["rows"], [(0, 1), (2, 3)], strict=True):
        assert len(line) == 3 + 2 and np.array_equal(line[0], seen[a]) and np.array_equal(line[-1], seen[b])


def test_traverse_says_when_top_asks_for_more_axes_than_there_are(cli, vae_run: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    dim = len(ranked_axes(run_latents(vae_run)))
    r = cli("latent", "traverse", vae_run, "--top", str(dim + 5), "--steps", "2", "--out", out)
    assert len(_ok(r, out)["axes"]) == dim
    assert f"--top {dim + 5}: there are {dim} axes" in r.err
    r = cli("latent", "traverse", vae_run, "--top", str(dim), "--steps", "2", "--out", out)
    assert r.code == 0 and r.err == "", r.err


def test_a_value_beyond_training_never_reads_as_its_edge() -> None:
    """1.004 read "smile=1 (outside training)" beside a row "smile=1" inside it."""
    from latentplay.latent.sampling import beyond_text

    assert beyond_text(1.004, (-1, 1)) == "1.004" and beyond_text(1.0236, (-1, 1), 2) == "1.02"
    assert beyond_text(3.0, (-1, 1)) == "3" and beyond_text(-1.5, (-1, 1)) == "-1.5"
    assert beyond_text(-1.0004, (-1, 1)) == "-1.0004"


def test_axes_are_named_as_axes_and_json_is_standard(cli, vae_run: Path, tmp_path: Path) -> None:
    r = cli("latent", "traverse", vae_run, "--axes", "1.5", "--out", tmp_path / "t.png")
    assert r.code == 2 and r.err.startswith("error: --axes '1.5': give START:STOP"), r.err
    r = cli("latent", "sample", vae_run, "--n", "1", "--out", tmp_path / "s.png")
    assert r.code == 0, r.err
    text = (tmp_path / "s.json").read_text()
    assert "NaN" not in text and json.loads(text)["diversity"] is None


def test_an_autoencoder_is_drawn_without_a_prior(cli, faces_store: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain autoencoder's histograms carried an N(0, 1) prior line over codes of variance
    3-16, and its N(0, I) decodings were titled "prior samples"; training's samples.png still
    decoded N(0, I) draws, unlike ``latent sample``, ``data generate`` and the playground."""
    from latentplay import train
    from latentplay.report import build_report
    from latentplay.train import engine
    from latentplay.viz import latent as viz_latent

    grids: dict[str, tuple[list[np.ndarray], str]] = {}
    save_rows = engine.save_image_rows
    monkeypatch.setattr(engine, "save_image_rows", lambda rows, labels, path, title: grids.update(
        {Path(path).name: (rows, title)}) or save_rows(rows, labels, path, title))
    run = train.train("ae", data=faces_store, out=tmp_path / "ae", epochs=1, batch_size=16,
                      seed=3, progress=False, overrides=["data.size=32", "data.limit=64", "model.width=16",
                                                         "model.latent_dim=4", "log.recon_images=8",
                                                         "log.samples=16"])
    rows, title = grids["samples.png"]
    np.testing.assert_array_equal(np.concatenate(rows), train.sample(run, 16, seed=3))
    assert "N(mean, SD) of the training codes" in title
    seen = {}
    drawn = viz_latent.latent_histograms
    monkeypatch.setattr(viz_latent, "latent_histograms",
                        lambda *a, **k: seen.update(k) or drawn(*a, **k))
    assert cli("latent", "histograms", run, "--out", tmp_path / "h.png").code == 0
    assert seen["prior"] is False
    assert cli("latent", "sample", run, "--n", "4", "--out", tmp_path / "s.png").code == 0
    assert "draws from the N(mean, SD) of the training codes (an autoencoder has no prior), drawn " \
        "when training finished" in build_report(run).read_text()


def test_sample_and_traverse_mark_and_record_a_condition_beyond_training(
        cli, cvae_run: Path, tmp_path: Path) -> None:
    """sample at smile=3 said nothing of the trained range; traverse's title and JSON did not
    name its condition at all, so two traversals at smile=-1 and smile=5 read alike."""
    r = cli("latent", "sample", cvae_run, "--n", "4", "--condition", "smile=3,gender=female",
            "--out", tmp_path / "s.png")
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "s.json").read_text())["outside_training"] == ["smile"]
    r = cli("latent", "traverse", cvae_run, "--top", "2", "--condition",
            "smile=5,gender=female", "--out", tmp_path / "t.png")
    assert r.code == 0, r.err
    numbers = json.loads((tmp_path / "t.json").read_text())
    assert numbers["condition"] == {"smile": 5.0, "gender": "female"}
    assert numbers["outside_training"] == ["smile"]
    r = cli("latent", "traverse", cvae_run, "--top", "2", "--condition",
            "smile=0.5,gender=female", "--out", tmp_path / "u.png")
    assert json.loads((tmp_path / "u.json").read_text())["outside_training"] == []


def test_a_traversal_from_a_row_names_the_rows_own_condition(cli, cvae_run: Path,
                                                             faces_store: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --condition a traversal from --row decodes at the row's own condition: the
    title and JSON name it (they said nothing, so a row's smile beyond training went unmarked)."""
    from latentplay import store
    from latentplay.latent import cli as latent_cli

    faces = store.load(faces_store)
    smile, gender = float(faces.labels("smile")[3]), faces.schema.attribute("gender").names[
        int(faces.labels("gender")[3])]
    titles: list[str] = []
    real = latent_cli._write

    def spy(out, rows, labels, title, numbers, **kw):  # type: ignore[no-untyped-def]
        titles.append(title)
        return real(out, rows, labels, title, numbers, **kw)

    monkeypatch.setattr(latent_cli, "_write", spy)
    r = cli("latent", "traverse", cvae_run, "--top", "2", "--data", faces_store, "--row", "3",
            "--out", tmp_path / "t.png")
    assert r.code == 0, r.err
    numbers = json.loads((tmp_path / "t.json").read_text())
    assert numbers["condition"]["gender"] == gender
    assert numbers["condition"]["smile"] == pytest.approx(smile, abs=1e-4)
    assert f"from row 3 of store 'faces' at smile={smile:.3g}, gender={gender} (its own)" in titles[0]


def test_a_sweep_takes_condition_classes_that_hold_commas(cli, tmp_path: Path) -> None:
    """A run conditioned on binned classes (``data bin``'s ``[0, 30)`` holds a comma): ``--values
    "[30, 90],[0, 30)"`` was split at every comma into four classes the run does not know."""
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("age", "categorical", names=["[0, 30)", "[30, 90]"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    data = st.build([{"image": [st.encode_png(im) for im in images], "age": np.arange(64) % 2}],
                    schema, tmp_path / "ages")
    run = train.train("cvae", data=data.path, out=tmp_path / "run", epochs=1, batch_size=32,
                      seed=0, progress=False,
                      overrides=["data.size=32", "model.width=16", "model.hidden=64",
                                 "model.latent_dim=4", "model.condition=[age]", "trainer.threads=1",
                                 "log.recon_images=8", "log.samples=16", "log.figures_every=100"])
    out = tmp_path / "sweep.png"
    numbers = _ok(cli("latent", "sweep", run, "--attribute", "age", "--values", "[30, 90],[0, 30)",
                      "--out", out), out)
    assert numbers["values"] == ["[30, 90]", "[0, 30)"]
