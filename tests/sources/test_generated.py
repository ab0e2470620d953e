"""data generate: a run's samples as a store, with their codes and conditions."""

from __future__ import annotations

import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.errors import UserError
from latentplay.latent.codes import store_codes
from latentplay.sources.generated import generate_store


def test_images_are_the_decoded_codes(dcgan_run: Path, tmp_path: Path) -> None:
    out = generate_store(dcgan_run, tmp_path / "gen", 10, seed=3, batch_size=4)
    z = st.vectors(out, "z")
    assert z.shape == (10, 16)
    np.testing.assert_array_equal(z, np.random.default_rng(3).standard_normal((10, 16)).astype(np.float32))
    expected = train.decode(dcgan_run, z)
    np.testing.assert_array_equal(st.load_images(out, range(10)), expected)  # PNG is lossless
    assert out.schema.attributes == []
    assert out.schema.provenance.converter == "generated"
    assert datasets.load_from_disk(str(out.path)).num_rows == 10
    again = generate_store(dcgan_run, tmp_path / "again", 10, seed=3)
    np.testing.assert_array_equal(st.vectors(again, "z"), z)  # seeded
    # run again once finished: said so (it was "already exists", beside help's "run the same
    # command again to continue", true of a stopped one); other settings: the store is in the way
    with pytest.raises(UserError, match="already holds these 10 images, finished .* nothing to "
                                        "continue; pass --overwrite"):
        generate_store(dcgan_run, tmp_path / "again", 10, seed=3)
    with pytest.raises(UserError, match="again already exists; pass --overwrite"):
        generate_store(dcgan_run, tmp_path / "again", 10, seed=4)


def test_edits_read_the_stored_codes_instead_of_inverting(dcgan_run: Path, tmp_path: Path) -> None:
    out = generate_store(dcgan_run, tmp_path / "gen", 6, seed=1)
    model = train.load_model(dcgan_run)
    codes = store_codes(model, out, [4, 1])
    np.testing.assert_array_equal(codes.z, st.vectors(out, "z")[[4, 1]])
    assert codes.loss is None  # nothing was inverted
    other = shutil.copytree(dcgan_run, tmp_path / "copy")  # the same model, another run
    inverted = store_codes(train.load_model(other), out, [0], invert_steps=2)
    assert inverted.loss is not None  # another run's samples are inverted as usual


def test_a_retrained_run_inverts_its_old_samples(dcgan_run: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored codes decoded to the images under the weights the store records; a run
    whose weights changed since (another SHA-256) decodes them to other images, so its codes
    of those images are found again, and the store's column still names the old weights."""
    from latentplay.latent import directions
    from latentplay.latent.directions import column_run

    out = generate_store(dcgan_run, tmp_path / "gen", 3)
    recorded = out.schema.provenance.arguments["run_sha256"]
    monkeypatch.setattr(directions, "run_sha256", lambda run: "0" * 64)  # retrained since
    assert store_codes(train.load_model(dcgan_run), out, [0], invert_steps=2).loss is not None
    assert column_run(out, "z") == (str(dcgan_run.resolve()), recorded)


def test_a_store_written_before_it_recorded_the_weights_is_the_runs_while_they_draw_it(
        dcgan_run: Path, tmp_path: Path) -> None:
    """A store of samples without the weights' SHA-256 (written before stores recorded it):
    its codes were taken for the run's own even once the run was trained on, and edits
    started from codes its weights decode to other faces. Its codes are used while the run
    decodes them to its images; other weights find the faces' codes again."""
    import json

    import torch

    out = generate_store(dcgan_run, tmp_path / "gen", 3)
    saved = json.loads((out.path / "latentplay.json").read_text())
    del saved["provenance"]["arguments"]["run_sha256"]  # the layout before it was recorded
    (out.path / "latentplay.json").write_text(json.dumps(saved))
    old = st.load(out.path)
    model = train.load_model(dcgan_run)
    codes = store_codes(model, old, [2, 0])
    np.testing.assert_array_equal(codes.z, st.vectors(old, "z")[[2, 0]])
    assert codes.loss is None  # nothing was inverted
    with torch.no_grad():  # the run's weights as a later training left them
        for weight in model.parameters():
            weight.add_(0.5 * torch.randn_like(weight))
    assert store_codes(model, old, [0], invert_steps=2).loss is not None


def test_conditions_fixed_or_lent_by_a_store(cvae_run: Path, faces_store: Path,
                                             tmp_path: Path) -> None:
    fixed = generate_store(cvae_run, tmp_path / "fixed", 8,
                           condition={"smile": 0.7, "gender": "male"})
    assert {a.name: a.kind for a in fixed.schema.attributes} == {"smile": "continuous",
                                                                 "gender": "categorical"}
    assert not fixed.schema.attribute("gender").ordered
    assert fixed.labels("smile").tolist() == pytest.approx([0.7] * 8)
    male = fixed.schema.attribute("gender").names.index("male")
    assert fixed.labels("gender").tolist() == [male] * 8
    z = st.vectors(fixed, "z")
    expected = train.decode(cvae_run, z, condition={"smile": 0.7, "gender": "male"})
    np.testing.assert_array_equal(st.load_images(fixed, range(8)), expected)

    lent = generate_store(cvae_run, tmp_path / "lent", 200, like=faces_store, seed=0)
    source = st.load(faces_store)
    assert set(np.round(lent.labels("smile"), 5)) <= set(np.round(source.labels("smile"), 5))
    shares = np.bincount(lent.labels("gender"), minlength=2) / 200
    assert shares == pytest.approx(np.bincount(source.labels("gender"), minlength=2) / len(source),
                                   abs=0.1)
    from latentplay.store.subset import subset

    few = subset(source, tmp_path / "few", np.arange(5))  # fewer rows than images: rows lent again
    again = generate_store(cvae_run, tmp_path / "again", 12, like=few.path, seed=1)
    assert len(again) == 12
    assert set(np.round(again.labels("smile"), 5)) <= set(np.round(few.labels("smile"), 5))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "conditional on smile, gender: pass --condition"),
    ({"condition": {"smile": 0.1, "gender": "male"}, "like": "x"}, "give --condition or --like, not both"),
    ({"condition": {"smile": 0.1}}, "--condition needs exactly smile, gender"),
    ({"condition": {"smile": 0.1, "gender": "other"}}, "gender: unknown class 'other'"),
    ({"condition": {"smile": 0.1, "gender": 1.5}}, "gender: a class code is a whole number, got 1.5"),
    ({"condition": {"smile": 0.1, "gender": "male"}, "column": "smile"}, "name of another column"),
    ({"n": 0}, "at least 1"),
    ({"condition": {"smile": "wide", "gender": "male"}}, "condition 'smile' takes a number, got 'wide'"),
    ({"condition": {"smile": "nan", "gender": "male"}}, "condition 'smile' takes a finite number"),
    ({"condition": {"smile": 10**400, "gender": "male"}}, "condition 'smile' takes a number"),
    ({"condition": {"smile": 1e300, "gender": "male"}}, "condition 'smile' takes a finite number"),
])
def test_conditional_refusals(cvae_run: Path, tmp_path: Path, kwargs, message) -> None:
    args = {"n": 4, **kwargs}
    with pytest.raises(UserError, match=message):
        generate_store(cvae_run, tmp_path / "x", **args)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("smile", "gender", "message"), [
    ([0.5, float("nan")], [0, 1], "'smile' has no value in 1 rows; keep the rows with one: "
                                  "latentplay data subset --where smile=:"),
    ([0.5, 0.1], [0, -1], "'gender' has no class in 1 rows"),
])
def test_rows_lent_without_a_value_are_refused(cvae_run: Path, tmp_path: Path, smile, gender,
                                               message) -> None:
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1.0, 1.0)),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    cells = [st.encode_png(np.zeros((4, 4, 3), np.uint8)) for _ in smile]
    like = st.build([{"image": cells, "smile": np.array(smile, np.float32), "gender": np.array(gender)}],
                    schema, tmp_path / "like")
    with pytest.raises(UserError, match=message):
        generate_store(cvae_run, tmp_path / "x", 50, like=like.path)
    assert not (tmp_path / "x").exists()


def test_unconditional_run_takes_no_condition(dcgan_run: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not conditional"):
        generate_store(dcgan_run, tmp_path / "x", 4, condition={"smile": 1.0})


def test_generate_cli(cli, cvae_run: Path, faces_store: Path, tmp_path: Path) -> None:
    result = cli("data", "generate", cvae_run, "--out", tmp_path / "g", "--n", "5",
                 "--condition", "smile=-0.5,gender=female", "--column", "code")
    assert result.code == 0, result.err
    assert "generated 5 images" in result.out
    assert st.vectors(st.load(tmp_path / "g"), "code").shape == (5, 8)
    bad = cli("data", "generate", cvae_run, "--out", tmp_path / "h", "--n", "5")
    assert bad.code == 2 and bad.err.count("\n") == 1


def test_ordered_conditions_stay_ordered(faces_store: Path) -> None:
    from latentplay.models import ConditionSpec

    spec = ConditionSpec.from_store(st.load(faces_store), ["skin_tone", "gender"])
    assert [p.ordered for p in spec.parts] == [True, False]


def test_interrupted_generation_resumes_to_the_same_store(dcgan_run: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from latentplay.sources import generated

    whole = generate_store(dcgan_run, tmp_path / "whole", 40, seed=3, batch_size=8)
    real_decode, calls = generated.train.decode, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(generated.train, "decode", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_store(dcgan_run, tmp_path / "resumed", 40, seed=3, batch_size=8)
    scratch = tmp_path / ".resumed.generating"
    assert sorted(p.name for p in scratch.glob("batch_*.npz")) == ["batch_000000.npz",
                                                                   "batch_000001.npz"]
    assert not (tmp_path / "resumed").exists()          # nothing half-written in its place
    calls.clear()
    monkeypatch.setattr(generated.train, "decode", lambda *a, **k: (calls.append(1),
                                                                    real_decode(*a, **k))[1])
    resumed = generate_store(dcgan_run, tmp_path / "resumed", 40, seed=3, batch_size=8)
    assert len(calls) == 3                               # two batches were read back
    np.testing.assert_array_equal(st.load_images(resumed, range(40)),
                                  st.load_images(whole, range(40)))
    np.testing.assert_array_equal(st.vectors(resumed, "z"), st.vectors(whole, "z"))
    assert not scratch.exists()
    # a partial run of another seed is discarded, not mixed in
    monkeypatch.setattr(generated.train, "decode", failing)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        generate_store(dcgan_run, tmp_path / "other", 40, seed=3, batch_size=8)
    monkeypatch.setattr(generated.train, "decode", real_decode)
    other = generate_store(dcgan_run, tmp_path / "other", 40, seed=4, batch_size=8)
    fresh = generate_store(dcgan_run, tmp_path / "fresh", 40, seed=4, batch_size=8)
    np.testing.assert_array_equal(st.load_images(other, range(40)),
                                  st.load_images(fresh, range(40)))


def test_a_number_names_the_class_of_that_name_where_names_are_numbers() -> None:
    """A factor's classes are named by their levels ("1", "2", "3"): ``shape=1`` as the CLI
    reads it (a float) is the class "1", as training and sampling read it, not code 1 ("2")."""
    from latentplay.models.condition import ConditionPart
    from latentplay.sources.generated import _conditions

    shape = ConditionPart("shape", "categorical", 3, names=["1", "2", "3"])
    codes = [_conditions([shape], 2, {"shape": v}, None, np.random.default_rng(0))["shape"].tolist()
             for v in (1.0, 3.0, "2", 0)]
    assert codes == [[0, 0], [2, 2], [1, 1], [0, 0]]


def test_a_run_without_class_names_is_generated_under_its_codes(
        cvae_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A categorical condition whose names the run's model.json lacks takes its codes as
    names (a code once raised an IndexError); one naming too few classes is refused in a line."""
    from latentplay.sources import generated

    real_load = generated.train.load_model

    def without_names(run):
        model = real_load(run)
        model.condition_spec.parts[1].names = names
        return model

    monkeypatch.setattr(generated.train, "load_model", without_names)
    names = None
    made = generate_store(cvae_run, tmp_path / "codes", 4, condition={"smile": 0.2, "gender": 1.0})
    assert made.schema.attribute("gender").names == ["0", "1"]
    assert made.labels("gender").tolist() == [1] * 4
    expected = train.decode(cvae_run, st.vectors(made, "z"), condition={"smile": 0.2, "gender": 1})
    np.testing.assert_array_equal(st.load_images(made, range(4)), expected)
    with pytest.raises(UserError, match="class code 2 out of range 0..1"):
        generate_store(cvae_run, tmp_path / "x", 4, condition={"smile": 0.2, "gender": 2.0})
    names = ["female"]
    with pytest.raises(UserError, match="names 1 classes of its 2"):
        generate_store(cvae_run, tmp_path / "x", 4, condition={"smile": 0.2, "gender": 0.0})
    assert not (tmp_path / "x").exists()


def test_the_store_records_the_sha256_of_the_weights(dcgan_run: Path, tmp_path: Path) -> None:
    """As ``embed`` does for a vae: column, so that a run retrained since is told apart."""
    from latentplay.latent.directions import run_sha256

    made = generate_store(dcgan_run, tmp_path / "gen", 2)
    assert made.schema.provenance.arguments["run_sha256"] == run_sha256(dcgan_run) is not None
    assert st.load(made.path).schema.provenance.arguments["run_sha256"] == run_sha256(dcgan_run)


def test_numpy_arguments_are_recorded_as_plain_values(cvae_run: Path, tmp_path: Path) -> None:
    """NumPy scalars (a count, a seed, condition values from an array) once made the schema
    no JSON: a TypeError after every image was decoded."""
    made = generate_store(cvae_run, tmp_path / "g", np.int64(3), seed=np.int64(1),
                          condition={"smile": np.float32(0.5), "gender": np.int64(1)})
    arguments = st.load(made.path).schema.provenance.arguments
    assert (arguments["n"], arguments["seed"], arguments["condition"]) == (3, 1, {"smile": 0.5,
                                                                                  "gender": 1})
    assert made.labels("gender").tolist() == [1] * 3


def test_out_naming_the_like_store_is_refused(cli, cvae_run: Path, faces_store: Path,
                                              tmp_path: Path) -> None:
    """``--like S --out S --overwrite`` replaced the training store it read with the samples
    (every labelled row lost); it is refused in one line, the store untouched, as ``data
    subset``, ``concat`` and ``align`` refuse theirs (also through ``a/../S``)."""
    copy = st.save(st.load(faces_store), tmp_path / "faces")
    before = sorted(p.name for p in copy.path.iterdir())
    for out in (copy.path, tmp_path / "x" / ".." / "faces"):
        r = cli("data", "generate", cvae_run, "--like", copy.path, "--out", out, "--n", "4",
                "--overwrite")
        assert r.code == 2 and r.err.count("\n") == 1 and "--like store" in r.err, r.err
    again = st.load(copy.path)
    assert len(again) == 400 and again.schema.provenance.converter != "generated"
    assert sorted(p.name for p in copy.path.iterdir()) == before
    assert not (tmp_path / ".faces.generating").exists()


def test_like_messages_name_the_like_store_and_record_it_absolute(
        cli, cvae_run: Path, dcgan_run: Path, faces_store: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A --like store without the condition's attribute said "no attribute 'smile'; attributes:
    none" without naming the --like store; ``like`` was recorded as given (relative) while
    ``source`` was absolute."""
    plain = generate_store(dcgan_run, tmp_path / "plain", 2)
    r = cli("data", "generate", cvae_run, "--like", plain.path, "--out", tmp_path / "x", "--n", "2")
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert f"--like {plain.path}: no attribute 'smile'" in r.err
    monkeypatch.chdir(faces_store.parent)
    made = generate_store(cvae_run, tmp_path / "lent", 2, like=faces_store.name)
    recorded = made.schema.provenance.arguments["like"]
    assert Path(recorded).is_absolute() and Path(recorded) == faces_store.absolute()


def test_a_condition_outside_the_trained_range_is_warned_of(cli, cvae_run: Path,
                                                            tmp_path: Path) -> None:
    """``--condition smile=100`` (smile trained on -1..1) was taken silently; it is decoded
    all the same (SmileCVAE samples beyond the range on purpose), with a warning naming the range."""
    lo, hi = train.load_model(cvae_run).condition_spec.part("smile").range
    r = cli("data", "generate", cvae_run, "--out", tmp_path / "far", "--n", "2",
            "--condition", "smile=100,gender=female")
    assert r.code == 0, r.err
    assert "warning: --condition smile=100" in r.err and f"({lo:g}..{hi:g})" in r.err
    assert st.load(tmp_path / "far").labels("smile").tolist() == [100.0, 100.0]
    near = cli("data", "generate", cvae_run, "--out", tmp_path / "near", "--n", "2",
               "--condition", f"smile={hi},gender=female")
    assert near.code == 0 and "warning" not in near.err


def test_a_run_saved_while_its_samples_are_drawn_records_the_weights_that_drew_them(
        dcgan_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run whose training saved its next epoch while ``data generate`` drew its samples: the
    store recorded the new weights' SHA-256 beside images of the earlier ones, and passed for
    the run's own samples once it had those weights; it records the weights that drew them."""
    import json

    import torch

    from latentplay.sources import generated
    from latentplay.train import checkpoint as ckpt

    run = tmp_path / "run"
    shutil.copytree(dcgan_run, run)
    drew = json.loads((run / "model.json").read_text())
    real_draws = generated.prior_draws

    def saved_meanwhile(*args, **kwargs):
        model = train.load_model(run)
        with torch.no_grad():
            next(model.parameters()).add_(1.0)         # the next epoch's weights
        ckpt.save_model(run, model, {k: drew[k] for k in (*ckpt.META_KEYS, "epoch", "step", "crop")})
        return real_draws(*args, **kwargs)

    monkeypatch.setattr(generated, "prior_draws", saved_meanwhile)
    made = generate_store(run, tmp_path / "gen", n=4, seed=0, progress=False)
    now = json.loads((run / "model.json").read_text())["sha256"]
    assert made.schema.provenance.arguments["run_sha256"] == drew["sha256"] != now


def test_a_second_generate_into_one_store_is_refused_while_the_first_runs(
        dcgan_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ``data generate`` into one --out at once shared the scratch batches beside it: the
    second, of another seed, wiped the first's finished batches (what an interrupted first
    resumes from) for its own and wrote its store there, and the first, its hours of decoding
    done, was refused at its end. The second is refused in one line while the first runs; the
    first's store holds the decodings of its own codes."""
    from latentplay.sources import generated

    out, decode, second = tmp_path / "gen", train.decode, []

    def second_meanwhile(*args, **kwargs):
        if not second:
            second.append("not refused")
            try:
                generate_store(dcgan_run, out, n=4, seed=1, batch_size=2, progress=False)
            except UserError as refused:
                second[0] = str(refused)
        return decode(*args, **kwargs)

    monkeypatch.setattr(generated.train, "decode", second_meanwhile)
    made = generate_store(dcgan_run, out, n=4, seed=0, batch_size=2, progress=False)
    monkeypatch.undo()
    assert second == [f"another data generate is writing {out}; wait for it or stop it"]
    codes = np.stack(made.dataset["z"]).astype(np.float32)
    own = train.decode(train.load_model(dcgan_run), codes)
    assert np.array_equal(st.load_images(made, np.arange(4)), own)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen"]
