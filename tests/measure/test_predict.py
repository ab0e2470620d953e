"""``data predict``: a classification network's heads as predicted attributes.

The network here is exported to ONNX from PyTorch: its logits are scaled channel means, so the
class it predicts for a coloured image is known (the colour), and its probabilities are
computed again by hand from the PyTorch module.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import store as st
from latentplay.audit.annotate import NetworkAnnotator, NetworkValues
from latentplay.errors import UserError
from latentplay.measure.predict import (
    PRESETS,
    Head,
    HeadNetwork,
    head_columns,
    head_probabilities,
    head_values,
    parse_heads,
    predict_store,
)

COLORS = np.array([[200, 30, 30], [30, 190, 40], [40, 50, 210]])


class ColourNet(torch.nn.Module):
    """Six logits of a 24 x 24 RGB image: 0-2 = 20 x the channel means (red, green, blue),
    3 = a constant, 4-5 = (dark, light) from the mean brightness."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        w = torch.zeros(6, 3)
        w[:3] = 20 * torch.eye(3)
        w[4] = -10 / 3
        w[5] = 10 / 3
        b = torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0, -2.0])
        self.head = torch.nn.Linear(3, 6)
        with torch.no_grad():
            self.head.weight.copy_(w)
            self.head.bias.copy_(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(x))


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("net") / "colour.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ColourNet().eval(), (torch.zeros(2, 3, 24, 24),), str(path),
                          dynamo=False, input_names=["image"], dynamic_axes={"image": {0: "n"}})
    return path


def colour_store(path: Path, n: int = 30, classes: np.ndarray | None = None
                 ) -> tuple[st.Store, np.ndarray]:
    """24 x 24 images, each a patch of one of three colours with noise, labelled ``color``
    (``classes``, by default ``n`` in turn); returns the store and the images."""
    rng = np.random.default_rng(0)
    classes = np.arange(n) % 3 if classes is None else np.asarray(classes)
    n = len(classes)
    images = rng.integers(0, 40, (n, 24, 24, 3)).astype(np.uint8)
    for i, c in enumerate(classes):
        images[i, 4:20, 4:20] = np.clip(COLORS[c] * rng.uniform(0.5, 1.2), 0, 255)
    schema = st.Schema(attributes=[st.Attribute("color", "categorical",
                                                names=["red", "green", "blue"])],
                       provenance=st.Provenance(source="tests", converter="tests"))
    batch = {"image": [st.encode_png(im) for im in images], "color": classes.tolist()}
    return st.build([batch], schema, path), images


def test_heads_parse_and_refuse():
    heads = parse_heads("color=red,green,blue; bright@4=dark,light")
    assert heads == [Head("color", 0, ("red", "green", "blue")), Head("bright", 4, ("dark", "light"))]
    assert parse_heads("a=x,y;b=u,v")[1] == Head("b", 2, ("u", "v"))  # heads follow one another
    seven = parse_heads("fairface7")
    assert [(h.name, h.start, h.stop) for h in seven] == [("race", 0, 7), ("gender", 7, 9),
                                                          ("age", 9, 18)]
    assert seven[0].classes[2] == "Latino_Hispanic" and seven[2].classes[-1] == "more than 70"
    assert [(h.start, h.stop) for h in parse_heads("fairface4")] == [(0, 4), (7, 9), (9, 18)]
    assert set(PRESETS) == {"fairface7", "fairface4", "celeba40", "insightface_genderage"}
    for spec, message in [
        ("color", "write NAME"),
        ("color=red", "two or more distinct"),
        ("color=red,red", "two or more distinct"),
        ("a b=x,y", "write NAME"),
        ("a@x=u,v", "must be a number"),
        ("a=x,y;a=u,v", "names must differ"),
        ("a=x,y,z;b@1=u,v", "read the same outputs"),
        (" ; ", "at least one head"),
    ]:
        with pytest.raises(UserError, match=message):
            parse_heads(spec)


def test_head_probabilities_by_hand():
    logits = np.array([[1.0, 2.0, 3.0, 9.0, 0.0, 0.0], [np.nan] * 6])
    color, bright, odd = head_probabilities(logits, parse_heads("c=r,g,b;l@4=d,l;o@3:sigmoid"))
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(color[0], e / e.sum())
    np.testing.assert_allclose(bright[0], [0.5, 0.5])
    p = 1 / (1 + np.exp(-9.0))
    np.testing.assert_allclose(odd[0], [1 - p, p])
    assert np.isnan(color[1]).all() and np.isnan(odd[1]).all()


def test_a_sigmoid_head_reads_extreme_logits_without_overflow():
    import warnings

    logits = np.array([[-1000.0], [1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # exp(1000) overflowed with a RuntimeWarning
        (odd,) = head_probabilities(logits, parse_heads("o@0:sigmoid"))
    np.testing.assert_array_equal(odd, [[1.0, 0.0], [0.0, 1.0]])


def test_sigmoid_heads_and_the_celeba_layout():
    heads = parse_heads("Smiling@31:sigmoid; glasses:sigmoid=without,with; hair=dark,light")
    assert heads == [Head("Smiling", 31, ("no", "yes"), True),
                     Head("glasses", 32, ("without", "with"), True),
                     Head("hair", 33, ("dark", "light"))]
    assert [h.stop for h in heads] == [32, 33, 35]
    celeba = parse_heads("celeba40")
    assert len(celeba) == 40 and all(h.sigmoid for h in celeba)
    assert (celeba[0].name, celeba[0].start) == ("5_o_Clock_Shadow", 0)
    assert (celeba[31].name, celeba[31].start, celeba[-1].name) == ("Smiling", 31, "Young")
    for spec, message in [("a:softmax", "write NAME"), ("a:sigmoid=x,y,z", "two classes"),
                          ("a:sigmoid=x,x", "distinct")]:
        with pytest.raises(UserError, match=message):
            parse_heads(spec)


def test_value_heads():
    heads = parse_heads("gender=female,male;age:value*100;score@4:value")
    assert heads[1] == Head("age", 2, (), scale=100.0) and heads[1].stop == 3
    assert heads[2] == Head("score", 4, (), scale=1.0) and heads[2].is_value
    logits = np.array([[0.0, 1.0, 0.25, 7.0, -2.0], [np.nan] * 5])
    np.testing.assert_allclose(head_values(logits, heads[1]), [25.0, np.nan])
    with pytest.raises(UserError, match="gives values, not classes"):
        head_probabilities(logits, heads)
    columns = head_columns(heads, logits, "predicted_", "onnx:n.onnx")
    assert list(columns) == ["predicted_gender", "predicted_gender_p", "predicted_age",
                             "predicted_score"]
    attr, values = columns["predicted_age"]
    assert attr.kind == "continuous" and "output 2 times 100" in attr.description
    np.testing.assert_allclose(values, [25.0, np.nan])
    for spec in ("age:value=a,b", "age:value*x", "age:values", "age:value/2", "yaw:expect",
                 "yaw:expect66*", "yaw:expectx", "yaw:expect66-"):
        with pytest.raises(UserError, match="write"):
            parse_heads(spec)


def test_expected_bin_heads():
    heads = parse_heads("yaw:expect66*3-99;age@70:expect4;shift:value*2+0.5")
    yaw, age, shift = heads
    assert (yaw.start, yaw.stop, yaw.scale, yaw.offset, yaw.bins) == (0, 66, 3.0, -99.0, 66)
    assert (age.start, age.stop, shift.start, shift.offset) == (70, 74, 74, 0.5) and age.is_value
    small = parse_heads("ms:value*1e-3;neg:value*-2.5e1-1E2")
    assert [(h.scale, h.offset) for h in small] == [(0.001, 0.0), (-25.0, -100.0)]
    logits = np.full((3, 75), -50.0)
    logits[0, 33] = 10.0              # all weight on bin 33: 33 * 3 - 99 = 0 degrees
    logits[1, [10, 20]] = 5.0         # two equal bins: their mean, 15 -> -54
    logits[2, :66] = 0.0              # uniform: bin 32.5 -> -1.5
    logits[:, 70:74] = np.log([1.0, 1.0, 2.0, 4.0])  # p = 1/8, 1/8, 2/8, 4/8: 0 + 1/8 + 4/8 + 12/8
    logits[:, 74] = [1.0, -1.0, 0.0]
    np.testing.assert_allclose(head_values(logits, yaw), [0.0, -54.0, -1.5], atol=1e-9)
    np.testing.assert_allclose(head_values(logits, age), 17 / 8, atol=1e-12)
    np.testing.assert_allclose(head_values(logits, shift), [2.5, -1.5, 0.5])
    logits[1] = np.nan
    assert np.isnan(head_values(logits, yaw)[1])
    columns = head_columns(heads, logits, "p_", "onnx:hopenet.onnx")
    assert "the expected bin of outputs 0-65 times 3 minus 99" in columns["p_yaw"][0].description
    assert "output 74 times 2 plus 0.5" in columns["p_shift"][0].description
    with pytest.raises(UserError, match="two or more outputs"):
        parse_heads("yaw:expect1")


def test_value_heads_predicted_and_compared_with_a_label(net, tmp_path, cli):
    """``red:value*0.05`` reads output 0 (20 x the red channel's mean) back as that mean; a
    store labelled with it agrees exactly."""
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (12, 24, 24, 3)).astype(np.uint8)
    red = images[..., 0].mean(axis=(1, 2)) / 255
    schema = st.Schema(attributes=[st.Attribute("red", "continuous", range=(0.0, 1.0))],
                       provenance=st.Provenance(source="tests", converter="tests"))
    store = st.build([{"image": [st.encode_png(im) for im in images], "red": red.tolist()}],
                     schema, tmp_path / "reds")
    r = cli("data", "predict", store.path, "--with", f"onnx:{net}", "--heads",
            "red:value*0.05;bright@4=dark,light", "-o", "align=none", "-o", "pixels=unit")
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "predicted_red differs from red by" in out and "(correlation 1.000) over 12 rows" in out
    again = st.load(store.path)
    np.testing.assert_allclose(again.labels("predicted_red"), red, atol=1e-5)
    assert "predicted_red_p" not in again.columns and "predicted_bright_p" in again.columns
    network = HeadNetwork(f"onnx:{net}", "red:value;bright@4=dark,light",
                          ["align=none", "pixels=unit"])
    with pytest.raises(UserError, match="an annotator needs classes"):
        NetworkAnnotator(network, "red")


def _reds(path: Path, seed: int, lift: int = 0) -> st.Store:
    """12 noise images labelled with their red channel's mean (0-1); ``lift`` adds red."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 200, (12, 24, 24, 3)).astype(np.uint8)
    images[..., 0] += np.uint8(lift)
    schema = st.Schema(attributes=[st.Attribute("red", "continuous", range=(0.0, 1.0))],
                       provenance=st.Provenance(source="tests", converter="tests"))
    red = (images[..., 0].mean(axis=(1, 2)) / 255).tolist()
    return st.build([{"image": [st.encode_png(im) for im in images], "red": red}], schema, path)


def test_value_heads_in_audit_compare(net, tmp_path, cli):
    """A value head reads training and generated images alike; the comparison is of values,
    with the reader's error against the training labels beside it."""
    train, redder = _reds(tmp_path / "train", 1), _reds(tmp_path / "gen", 2, lift=50)
    r = cli("audit", "compare", "--images", redder.path, "--data", train.path, "--annotator",
            f"onnx:{net}", "--heads", "red:value*0.05;bright@4=dark,light", "-o", "align=none",
            "-o", "pixels=unit", "--out", tmp_path / "audit")
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "against red's labels on 12 train images: mean absolute difference" in out
    assert "correlation 1.000" in out
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    red = summary["attributes"]["red"]
    assert list(summary["attributes"]) == ["red"]  # bright is no attribute of the training set
    assert red["kind"] == "continuous" and red["annotator"]["kind"] == "network values"
    np.testing.assert_allclose(red["mean_training"], np.mean(train.labels("red")), atol=1e-5)
    np.testing.assert_allclose(red["mean_generated"], np.mean(redder.labels("red")), atol=1e-5)
    assert red["smd"] > 2 and red["annotator"]["error"]["mae"] < 1e-5
    assert cli("report", tmp_path / "audit").code == 0
    html = (tmp_path / "audit" / "report.html").read_text()
    assert "read by" in html and "against the labels of train" in html  # the --data store
    network = HeadNetwork(f"onnx:{net}", "red:value;bright@4=dark,light",
                          ["align=none", "pixels=unit"])
    with pytest.raises(UserError, match="gives classes; it is an annotator"):
        NetworkValues(network, "bright")


def test_predictions_are_the_colours_with_their_probabilities(net, tmp_path, cli):
    store, images = colour_store(tmp_path / "colours")
    r = cli("data", "predict", store.path, "--with", f"onnx:{net}", "--heads",
            "color=red,green,blue;bright@4=dark,light", "-o", "align=none", "-o", "pixels=unit")
    assert r.code == 0, r.err
    assert "predicted_color equals color in 1.000 of 30 rows" in r.out
    out = st.load(store.path)
    np.testing.assert_array_equal(out.labels("predicted_color"), out.labels("color"))
    x = torch.from_numpy(images.astype(np.float32) / 255).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits = ColourNet()(x).numpy()
    e = np.exp(logits[:, :3] - logits[:, :3].max(1, keepdims=True))
    np.testing.assert_allclose(out.labels("predicted_color_p"), (e / e.sum(1, keepdims=True)).max(1),
                               atol=1e-5)
    bright = logits[:, 5] > logits[:, 4]
    np.testing.assert_array_equal(out.labels("predicted_bright"), bright.astype(int))
    assert out.schema.attribute("predicted_bright").names == ["dark", "light"]
    entry = out.schema.history[-1]
    assert entry["op"] == "predict" and entry["attributes"] == [
        "predicted_color", "predicted_color_p", "predicted_bright", "predicted_bright_p"]
    assert entry["heads"][1] == {"name": "bright", "start": 4, "classes": ["dark", "light"],
                                 "sigmoid": False, "scale": None, "offset": 0.0, "bins": 0}
    # one output read with a sigmoid: present when its logit is above 0
    r = cli("data", "predict", store.path, "--with", f"onnx:{net}", "--heads", "lit@5:sigmoid",
            "-o", "align=none", "-o", "pixels=unit")
    assert r.code == 0, r.err
    out = st.load(store.path)
    np.testing.assert_array_equal(out.labels("predicted_lit"), (logits[:, 5] > 0).astype(int))
    p = 1 / (1 + np.exp(-logits[:, 5]))
    np.testing.assert_allclose(out.labels("predicted_lit_p"), np.maximum(p, 1 - p), atol=1e-5)
    # again: refused without --overwrite, replaced with it, kept apart with --prefix
    again = ("data", "predict", store.path, "--with", f"onnx:{net}", "--heads", "color=red,green,blue",
             "-o", "align=none")
    r = cli(*again)
    assert r.code == 2 and "pass --overwrite" in r.err and len(r.err.strip().splitlines()) == 1
    assert cli(*again, "--overwrite").code == 0
    assert cli(*again, "--prefix", "net2_").code == 0
    assert {"net2_color", "net2_color_p"} <= set(st.load(store.path).columns)


def test_refusals(net, tmp_path):
    store, _ = colour_store(tmp_path / "colours", n=6)
    for network, heads, options, message in [
        (f"onnx:{net}", "a=x,y;b=u,v;c@5=p,q", ["align=none"], "gives 6 outputs; the heads read 7"),
        (f"onnx:{net}", "a=x,y", ["align=none", "normalize=true"], "not scaled to unit length"),
        ("dlib", "a=x,y", [], "give a classification network as onnx:PATH"),
        (f"onnx:{net}", "a=x,y", ["pixels=bad"], "pixels must be one of"),
    ]:
        with pytest.raises(UserError, match=message):
            predict_store(store, network, heads, options=options, progress=False)
    assert "predicted_a" not in st.load(store.path).columns  # nothing written


def test_faces_not_found_are_unknown(net, tmp_path):
    """Aligning (dlib's chip) finds no face in a colour patch: with ``fallback=nan`` every row
    is ``unknown`` with no probability; with the default they are classified and listed."""
    store, _ = colour_store(tmp_path / "colours", n=6)
    out = predict_store(store, f"onnx:{net}", "color=red,green,blue",
                        options=["align=dlib", "fallback=nan"], progress=False)
    assert out.schema.attribute("predicted_color").names == ["red", "green", "blue", "unknown"]
    assert (out.labels("predicted_color") == 3).all()
    assert np.isnan(out.labels("predicted_color_p")).all()
    assert out.schema.history[-1]["not_found"] == list(range(6))
    out = predict_store(out, f"onnx:{net}", "color=red,green,blue", options=["align=dlib"],
                        overwrite=True, progress=False)
    assert out.schema.attribute("predicted_color").names == ["red", "green", "blue"]
    assert np.isfinite(out.labels("predicted_color_p")).all()


def test_network_annotator_in_audit_compare(net, tmp_path, cli):
    """A classifier network as the audit's annotator: its confusion is measured on the
    training store (perfect here), and the images' shares are the colours they have."""
    train, _ = colour_store(tmp_path / "train", n=30)
    skewed, _ = colour_store(tmp_path / "skewed", classes=[0] * 16 + [1] * 4 + [2] * 4)
    heads = "color=red,green,blue;bright@4=dark,light"
    r = cli("audit", "compare", "--images", skewed.path, "--data", train.path, "--annotator",
            f"onnx:{net}", "--heads", heads, "-o", "align=none", "-o", "pixels=unit",
            "--out", tmp_path / "audit")
    assert r.code == 0, r.err
    # its accuracy on the 30 calibration rows beside naming the commonest of 3 equal classes
    assert "color (annotator accuracy 1.000 on 30 labelled images; naming the commonest class " \
           "every time: 0.333)" in r.out
    assert "red: train 0.333 (10), skewed 0.667 (16)" in r.out  # each store by its folder
    assert "on these" in r.out and "unlike the images" not in r.out  # as sure as on the labelled
    # grey patches: the network cannot tell their colour, and the audit says so
    grey = st.build([{"image": [st.encode_png(np.full((24, 24, 3), 90 + i, np.uint8))
                                for i in range(12)]}],
                    st.Schema(attributes=[], provenance=st.Provenance(source="t", converter="t")),
                    tmp_path / "grey")
    r = cli("audit", "compare", "--images", grey.path, "--data", train.path, "--annotator",
            f"onnx:{net}", "--heads", heads, "-o", "align=none", "-o", "pixels=unit",
            "--out", tmp_path / "audit_grey")
    assert r.code == 0, r.err
    assert "unlike the images its confusion was measured on" in r.out
    grey_summary = json.loads((tmp_path / "audit_grey" / "summary.json").read_text())
    annotator_grey = grey_summary["attributes"]["color"]["annotator"]
    assert annotator_grey["confidence_generated"] < 0.4 < 0.9 < annotator_grey["evaluation"]["confidence"]
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert list(summary["attributes"]) == ["color"]  # bright is no attribute of the training set
    annotator = summary["attributes"]["color"]["annotator"]
    assert annotator["kind"] == "network" and annotator["head"]["classes"] == ["red", "green", "blue"]
    for args, message in [
        (("--annotator", f"onnx:{net}"), "needs --heads"),
        (("--annotator", "labels", "--heads", heads), "describe an onnx: network annotator"),
        (("--annotator", "clip:w.bin", "--heads", heads), "describes an onnx: network annotator"),
        (("--annotator", f"onnx:{net}", "--heads", heads, "--attribute", "brightness"),
         "no attribute"),
    ]:
        r = cli("audit", "compare", "--images", skewed.path, "--data", train.path, *args,
                "-o", "align=none", "--out", tmp_path / "bad", "--overwrite")
        assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_network_annotator_in_audit_fidelity(net, tmp_path, cli):
    """Per-class precision needs the generated images' classes: a network annotates them."""
    train, _ = colour_store(tmp_path / "train", n=60)
    skewed, _ = colour_store(tmp_path / "skewed", classes=[0] * 30 + [1] * 10)
    args = ["audit", "fidelity", "--images", skewed.path, "--data", train.path, "--by", "color",
            "-o", "dim=4", "--k", "3", "--annotator", f"onnx:{net}",
            "--heads", "color=red,green,blue;bright@4=dark,light"]
    r = cli(*args, "--annotator-option", "align=none", "--annotator-option", "pixels=unit",
            "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    groups = {g["class"]: g for g in
              json.loads((tmp_path / "fid" / "fidelity.json").read_text())["groups"]["color"]}
    # the annotated shares are the colours drawn: 30 red, 10 green, no blue
    assert [groups[c]["n_generated"] for c in ("red", "green", "blue")] == [30, 10, 0]
    assert groups["red"]["precision"] is not None and groups["blue"]["precision"] is None
    r = cli(*args, "--by", "constant", "--out", tmp_path / "bad")
    assert r.code == 2 and "no attribute 'constant'" in r.err
    r = cli("audit", "fidelity", "--images", skewed.path, "--data", train.path, "--by", "color",
            "--heads", "color=red,green,blue", "--out", tmp_path / "bad")
    assert r.code == 2 and "describe an onnx: network --annotator" in r.err


def test_heads_share_one_pass_of_the_network(net, tmp_path):
    _, images = colour_store(tmp_path / "c", n=9)
    network = HeadNetwork(f"onnx:{net}", "color=red,green,blue;bright@4=dark,light",
                          ["align=none", "pixels=unit"])
    calls = []
    run = network.embedder.embed_rows
    network.embedder.embed_rows = lambda *a, **k: calls.append(1) or run(*a, **k)
    color = NetworkAnnotator(network, "color").predict_proba(images)
    bright = NetworkAnnotator(network, "bright").predict_proba(images)
    assert len(calls) == 1 and color.shape == (9, 3) and bright.shape == (9, 2)
    np.testing.assert_allclose(color.sum(1), 1, rtol=1e-6)
    NetworkAnnotator(network, "color").predict_proba(images[:4])  # other images: another pass
    assert len(calls) == 2
    with pytest.raises(UserError, match="no head 'age'; its heads: color, bright"):
        NetworkAnnotator(network, "age")
    with pytest.raises(UserError, match="drop -o fallback=nan"):
        HeadNetwork(f"onnx:{net}", "color=red,green,blue", ["fallback=nan"])


def test_network_annotator_measures_sampled_groups(net, tmp_path, cli, vae_run, faces_store):
    """``sample-groups --annotator onnx:`` takes a network head named like the attribute (here
    a network that cannot tell gender: the command runs, and the shares are reported)."""
    r = cli("audit", "sample-groups", vae_run, "--data", faces_store, "--attribute", "gender",
            "--annotator", f"onnx:{net}", "--heads", "gender=female,male", "-o", "align=none",
            "-o", "pixels=unit", "--n", "4", "--measure", "20", "--out", tmp_path / "groups")
    assert r.code == 0, r.err
    groups = json.loads((tmp_path / "groups" / "groups.json").read_text())["groups"]
    assert [g["class"] for g in groups] == ["female", "male"]
    assert all(0 <= g["share_annotated"] <= 1 for g in groups)
    r = cli("audit", "sample-groups", vae_run, "--data", faces_store, "--attribute", "gender",
            "--heads", "gender=female,male", "--out", tmp_path / "bad")
    assert r.code == 2 and "none was given" in r.err


def test_fairface_preset_brings_its_preprocessing(tmp_path):
    """A network of FairFace's shape (224 px in, 18 out) under ``fairface7``: dlib's CNN
    detector and chip, ImageNet statistics, logits kept; the user's options come after."""
    from latentplay.measure.predict import classifier

    module = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                 torch.nn.Linear(3, 18))
    path = tmp_path / "fairface.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False,
                          input_names=["image"], dynamic_axes={"image": {0: "n"}})
    embedder, heads = classifier(f"onnx:{path}", "fairface7")
    cfg = embedder.config
    assert (cfg.align, cfg.detector, cfg.pixels, cfg.normalize) == ("dlib", "cnn", "imagenet", False)
    assert [h.name for h in heads] == ["race", "gender", "age"] and embedder.dim == 18
    assert classifier(f"onnx:{path}", "fairface7", ["detector=hog"])[0].config.detector == "hog"
    with pytest.raises(UserError, match="gives 18 outputs; the heads read 40"):
        classifier(f"onnx:{path}", "celeba40")
    # InsightFace's genderage: 96 px, three outputs, the box crop, pixels by the file's graph
    module = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                 torch.nn.Linear(3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, 96, 96),), str(path), dynamo=False,
                          input_names=["data"])
    embedder, heads = classifier(f"onnx:{path}", "insightface_genderage")
    cfg = embedder.config
    assert (cfg.align, cfg.padding, cfg.pixels, embedder.pixels) == ("box", 0.25, "auto", "arcface")
    assert [(h.name, h.classes, h.scale) for h in heads] == [
        ("gender", ("female", "male"), None), ("age", (), 100.0)]


def test_group_bounds_read_published_and_binned_names():
    from latentplay.store.binning import group_bounds, group_names

    fairface = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69",
                "more than 70"]
    bounds = group_bounds(fairface)
    assert bounds[:2].tolist() == [[0, 3], [3, 10]] and bounds[-1].tolist() == [70, np.inf]
    assert group_bounds(group_names([20, 40.5])).tolist() == [[-np.inf, 20], [20, 40.5],
                                                              [40.5, np.inf]]
    assert group_bounds(["under 18", "18 to 64", "65+"]).tolist() == [[-np.inf, 18], [18, 65],
                                                                     [65, np.inf]]
    for names in (["child", "adult"], ["0-10", "5-20"], ["10-19", "0-9"]):
        assert group_bounds(names) is None, names


def test_group_agreement_by_hand():
    from latentplay.measure.predict import error_text, group_agreement

    names = ["0-2", "3-9", "10-19", "unknown"]
    readings = np.array([1.0, 2.9, 3.0, 12.0, 25.0, 5.0, np.nan])
    codes = np.array([0, 0, 0, 1, 2, 3, 1])   # the unknown and the unread rows do not count
    found = group_agreement(readings, codes, names)
    # 1.0 and 2.9 in 0-2; 3.0 one group late; 12 read for a 3-9 is one late; 25 is outside
    # 10-19 but beyond the last group, so no group off
    assert found == {"n": 5, "in_group": 0.4, "within_one": 1.0, "offset": pytest.approx(0.4)}
    assert "inside the labelled group for 0.400" in error_text(found)
    assert group_agreement(readings, codes, ["a", "b", "c", "unknown"]) is None


def test_value_head_against_interval_groups(net, tmp_path, cli):
    """A value head named like groups of intervals (FairFace's ages and an age regressor) is
    scored by whether its reading falls in the labelled group."""
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (20, 24, 24, 3)).astype(np.uint8)
    red = images[..., 0].mean(axis=(1, 2)) / 255 * 100          # what red:value*5 reads
    names = ["<40", "40-59", "60+"]
    codes = np.searchsorted([40, 60], red, side="right")
    codes[:4] = (codes[:4] + 1) % 3                               # four labels are wrong
    schema = st.Schema(attributes=[st.Attribute("red", "categorical", names=names, ordered=True)],
                       provenance=st.Provenance(source="tests", converter="tests"))
    store = st.build([{"image": [st.encode_png(im) for im in images], "red": codes}], schema,
                     tmp_path / "groups")
    r = cli("data", "predict", store.path, "--with", f"onnx:{net}", "--heads", "red:value*5",
            "-o", "align=none", "-o", "pixels=unit", "--prefix", "read_")
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "read_red against the groups of red over 20 rows: inside the labelled group for " \
           "0.800" in out
    # audit compare's reader: its error against the training store's groups
    network = HeadNetwork(f"onnx:{net}", "red:value*5", ["align=none", "pixels=unit"])
    reader = NetworkValues(network, "red").evaluate(st.load(store.path))
    assert reader.error["n"] == 20 and reader.error["in_group"] == pytest.approx(0.8)


def test_age_group_heads_are_ordered():
    logits = np.random.default_rng(0).normal(size=(4, 18)).astype(np.float32)
    columns = head_columns(parse_heads("fairface7"), logits, "p_", "net")
    assert [name for name, (attr, _) in columns.items() if attr.ordered] == ["p_age"]


def test_a_file_that_is_neither_network_nor_annotator_is_named(tmp_path, cli):
    """An .npy given to --with (no onnx:, no .npz) is refused for what it is, not for lacking --heads."""
    store, _ = colour_store(tmp_path / "colours", n=6)
    result = cli("data", "predict", store.path, "--with", tmp_path / "v.npy")
    assert result.code == 2 and "give onnx:PATH (a network), clip:WEIGHTS or an annotator file" in result.err


def test_a_second_predict_on_one_store_is_refused(tmp_path: Path, net: Path, cli) -> None:  # noqa: ANN001
    """Two `data predict --with onnx:` runs on one store shared `.S.predict/` (one removed the
    other's partial logits): while one holds its lock another is refused in one line."""
    from latentplay.measure.predict import scratch_dir
    from latentplay.store.io import held_lock

    store, _ = colour_store(tmp_path / "colours", n=12)
    scratch = scratch_dir(store.path)
    args = ("data", "predict", store.path, "--with", f"onnx:{net}", "--heads",
            "red:value;bright@4=dark,light", "-o", "align=none", "-o", "pixels=unit")
    with held_lock(scratch.with_name(f"{scratch.name}.lock")):
        r = cli(*args)
    assert r.code == 2 and "another data predict is running on" in r.err, r.err
    assert cli(*args).code == 0


def test_presets_follow_the_published_layouts():
    """Class by class as the published code reads them: FairFace's predict.py (race 0-6 or 0-3,
    gender 7-8 with 0 Male, age 9-17 from 0-2 to 70+), InsightFace's attribute.py (argmax of
    outputs 0-1, 1 being male; age output 2 times 100) and CelebA's list_attr_celeba.txt."""
    race7 = ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian",
             "Middle Eastern"]
    ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
    for preset, races in [("fairface7", race7), ("fairface4", ["White", "Black", "Asian", "Indian"])]:
        race, gender, age = parse_heads(preset)
        assert (race.start, list(race.classes)) == (0, races)
        assert (gender.start, gender.classes) == (7, ("Male", "Female"))
        assert (age.start, list(age.classes)) == (9, ages)
    gender, age = parse_heads("insightface_genderage")
    assert (gender.start, gender.classes, gender.sigmoid) == (0, ("female", "male"), False)
    logits = np.array([[0.2, 1.5, 0.31]])
    assert gender.classes[int(head_probabilities(logits, [gender])[0].argmax())] == "male"
    np.testing.assert_allclose(head_values(logits, age), [31.0])
    celeba = ("5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips "
              "Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin "
              "Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open "
              "Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
              "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
              "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young").split()
    assert [(h.name, h.start, h.classes) for h in parse_heads("celeba40")] == [
        (name, k, ("no", "yes")) for k, name in enumerate(celeba)]


def test_reading_error_by_hand():
    from latentplay.measure.predict import group_agreement, reading_error

    readings = np.array([10.0, 20.0, 33.0, 50.0, np.nan])
    labels = np.array([12.0, 18.0, 30.0, np.nan, 40.0])     # three rows have both
    found = reading_error(readings, labels)
    # differences, reading minus label: -2, +2, +3
    r = np.corrcoef([10.0, 20.0, 33.0], [12.0, 18.0, 30.0])[0, 1]
    assert found == {"n": 3, "mae": pytest.approx(7 / 3), "bias": pytest.approx(1.0),
                     "r": pytest.approx(r)}
    assert reading_error(readings[:2], labels[:2]) is None                  # two rows: none
    assert group_agreement(np.array([1.0, 4.0]), np.array([0, 1]), ["0-2", "3-9"]) is None


def test_agreement_counts_the_rows_labelled_with_a_head_class(net, tmp_path):
    """A head of red and green on red, green and blue faces: the blue rows are not compared;
    a prediction written over the label itself (no prefix) is not compared with itself."""
    from latentplay.measure.predict import agreement_lines

    store, _ = colour_store(tmp_path / "colours", n=9)
    heads = "color=red,green"
    out = predict_store(store, f"onnx:{net}", heads, options=["align=none", "pixels=unit"],
                        progress=False)
    assert agreement_lines(out, parse_heads(heads), "predicted_") == [
        "predicted_color equals color in 1.000 of 6 rows whose label is one of the head's classes"]
    out = predict_store(out, f"onnx:{net}", heads, options=["align=none", "pixels=unit"],
                        prefix="", overwrite=True, progress=False)
    assert agreement_lines(out, parse_heads(heads), "") == []


def test_head_network_keeps_the_latest_batches(net):
    """With room for two batches' logits, a third evicts the oldest, not itself."""
    network = HeadNetwork(f"onnx:{net}", "color=red,green,blue", ["align=none", "pixels=unit"],
                          cache=2)
    batches = [np.full((1, 24, 24, 3), v, np.uint8) for v in (10, 100, 200)]
    for batch, v in zip(batches, (10, 100, 200), strict=True):
        np.testing.assert_allclose(network.logits(batch)[0, :3], 20 * v / 255, rtol=1e-5)
    np.testing.assert_allclose(network.logits(batches[1])[0, :3], 20 * 100 / 255, rtol=1e-5)
