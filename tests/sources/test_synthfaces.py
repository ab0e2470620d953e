from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentplay import sources
from latentplay.config import resolve
from latentplay.errors import UserError
from latentplay.sources import synthfaces
from latentplay.sources.synthfaces import SynthfacesConfig


def _all(config: SynthfacesConfig) -> tuple[dict[str, np.ndarray], np.ndarray]:
    parts = list(synthfaces.generate(config))
    labels = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return labels, np.concatenate([p[1] for p in parts])


def test_deterministic_for_a_seed() -> None:
    a_labels, a = _all(SynthfacesConfig(n=40, seed=5))
    b_labels, b = _all(SynthfacesConfig(n=40, seed=5))
    _, c = _all(SynthfacesConfig(n=40, seed=6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert all(np.array_equal(a_labels[k], b_labels[k]) for k in a_labels)
    assert a.shape == (40, 64, 64, 3) and a.dtype == np.uint8


def test_marginals_and_confounds_follow_the_config() -> None:
    weights = [7, 7, 7, 7, 2, 1, 1, 1, 1, 1]  # mostly light, like AI-Face
    config = resolve(
        SynthfacesConfig,
        ["n=20000", f"skin_tone.weights={weights}", "confound.smile_gender=0.6", "eyeglasses.p=0.1"],
    )
    labels = synthfaces.sample_labels(config, np.random.default_rng(0), config.n)
    light = np.isin(labels["skin_tone"], [0, 1, 2, 3]).mean()
    assert abs(light - 28 / 35) < 0.02
    male = labels["gender"] == 1
    frown = labels["smile"] < 0
    assert abs(frown[male].mean() - 0.8) < 0.02 and abs(frown[~male].mean() - 0.2) < 0.02
    assert abs(male[frown].mean() - 0.8) < 0.02  # non-smiling faces are mostly male
    assert abs(labels["eyeglasses"].mean() - 0.1) < 0.01
    assert labels["smile"].min() >= -1 and labels["smile"].max() <= 1
    independent = synthfaces.sample_labels(SynthfacesConfig(), np.random.default_rng(0), 20000)
    assert abs((independent["smile"][independent["gender"] == 1] < 0).mean() - 0.5) < 0.02
    glasses = resolve(SynthfacesConfig, ["confound.eyeglasses_gender=0.5"])
    labels = synthfaces.sample_labels(glasses, np.random.default_rng(0), 20000)
    male, worn = labels["gender"] == 1, labels["eyeglasses"] == 1
    base = np.log(0.3 / 0.7)
    assert abs(worn[male].mean() - expit(base + 0.75)) < 0.02
    assert abs(worn[~male].mean() - expit(base - 0.75)) < 0.02
    assert np.array_equal(labels["gender"], independent["gender"])  # same draws, only glasses differ


def test_bad_config_values_are_user_errors() -> None:
    with pytest.raises(UserError, match="skin_tone.weights needs 10"):
        resolve(SynthfacesConfig, ["skin_tone.weights=[1,2]"])
    with pytest.raises(UserError, match="confound.smile_gender"):
        resolve(SynthfacesConfig, ["confound.smile_gender=3"])
    with pytest.raises(UserError, match="confound.eyeglasses_gender"):
        resolve(SynthfacesConfig, ["confound.eyeglasses_gender=-2"])
    with pytest.raises(UserError, match="bad config override"):
        resolve(SynthfacesConfig, ["confound.nonsense=1"])
    with pytest.raises(UserError, match="bad config override"):
        resolve(SynthfacesConfig, ["eyeglasses.p=abc"])


def test_a_size_given_twice_is_refused(tmp_path) -> None:
    """`data make synthfaces --n 200 n=300` made one of the two sizes, without a word."""
    from latentplay import sources

    for given in ({"n": 20, "overrides": ["n=30"]}, {"seed": 1, "overrides": [" seed=2"]}):
        with pytest.raises(UserError, match="both set (n|seed); give it once"):
            sources.make("synthfaces", tmp_path / "f", **given)
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("skin_tone.weights=[nan,1,1,1,1,1,1,1,1,1]", "skin_tone.weights must be finite"),
        ("gender.weights=[inf,1]", "gender.weights must be finite"),
        ("smile.spread=-0.1", "smile.spread must be a finite number >= 0"),
        ("smile.mode=nan", "smile.mode must be a finite number"),
        ("yaw.std=nan", "yaw.std must be a finite number >= 0"),
        ("noise=inf", "noise must be a finite number >= 0"),
        ("background.weights=[0,0,0,0,0,0]", "background.weights must be .* with a positive sum"),
    ],
)
def test_non_finite_or_negative_options_are_user_errors(override: str, message: str) -> None:
    # before, these drew NaN labels / pixels silently or ended in a NumPy traceback
    with pytest.raises(UserError, match=message):
        resolve(SynthfacesConfig, [override])


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_eyeglasses_probability_zero_or_one_is_exact(p: float) -> None:
    config = resolve(SynthfacesConfig, [f"eyeglasses.p={p}", "confound.eyeglasses_gender=1",
                                        "confound.eyeglasses_age=1"])
    labels = synthfaces.sample_labels(config, np.random.default_rng(0), 300_000)
    assert np.all(labels["eyeglasses"] == int(p))


def test_every_attribute_is_recoverable_from_pixels() -> None:
    """A linear model on PCA of raw pixels beats chance by a wide margin for each attribute."""
    labels, images = _all(SynthfacesConfig(n=1600, seed=1))
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    train, test = slice(0, 1200), slice(1200, None)
    z = PCA(120, random_state=0).fit(x[train]).transform(x)
    scores = {}
    for name, y in labels.items():
        if y.dtype.kind == "f":
            model = make_pipeline(StandardScaler(), Ridge(10.0)).fit(z[train], y[train])
            scores[name] = model.score(z[test], y[test])  # R^2; chance is 0
            assert scores[name] > 0.35, (name, scores[name])
        else:
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
            model.fit(z[train], y[train])
            chance = np.bincount(y[train]).max() / len(y[train])
            scores[name] = model.score(z[test], y[test])
            assert scores[name] > chance + 0.2, (name, scores[name], chance)
    assert sorted(scores) == sorted(a.name for a in synthfaces.attributes())


def test_store_has_schema_and_labels(tmp_path: Path) -> None:
    store = sources.make("synthfaces", tmp_path / "f", n=30, overrides=["confound.smile_gender=0.6"])
    assert store.schema.attribute("skin_tone").names[0] == "monk_1"
    assert store.schema.attribute("smile").range == (-1.0, 1.0)
    assert store.schema.provenance.arguments["confound"]["smile_gender"] == 0.6
    labels, _ = _all(resolve(SynthfacesConfig, ["n=30", "confound.smile_gender=0.6"]))
    for name in ("skin_tone", "gender", "age_group", "eyeglasses", "hair_color", "background"):
        assert np.array_equal(store.labels(name), labels[name])
    assert np.allclose(store.labels("smile"), labels["smile"])


def _persons(identity: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(identity == p) for p in np.unique(identity)]


def _shirt_index(images: np.ndarray) -> np.ndarray:
    """Nearest shirt colour of the bottom row's centre (below the neck whatever the yaw, gender
    or face shape; up to lighting)."""
    region = images[:, 63:64, 20:44].reshape(len(images), -1, 3).astype(np.float64).mean(axis=1)
    palette = synthfaces._SHIRT_RGB.astype(np.float64)
    # compare chromaticity and brightness separately of lighting (+-7 %): scale-fit each colour
    scale = (region @ palette.T) / (palette**2).sum(axis=1)
    residual = ((region[:, None, :] - scale[:, :, None] * palette[None]) ** 2).sum(axis=2)
    residual += 50.0 * (np.log(scale) ** 2 > np.log(1.12) ** 2)  # reject far-off brightness
    return residual.argmin(axis=1)


def test_identities_give_balanced_persons_with_fixed_traits() -> None:
    config = SynthfacesConfig(n=103, seed=2, identities=10, noise=0.0)
    labels, images = _all(config)
    identity = labels["identity"]
    counts = np.bincount(identity, minlength=10)
    assert sorted(set(counts.tolist())) == [10, 11] and counts.sum() == 103
    assert not np.array_equal(identity, np.sort(identity))  # shuffled, not in blocks
    traits = synthfaces.person_traits(config)
    assert traits is not None and set(traits) == set(synthfaces.PERSON_TRAITS)
    shirts = _shirt_index(images)
    assert np.array_equal(shirts, traits["shirt"][identity])  # the pixels show the person's shirt
    assert len(np.unique(traits["shirt"])) > 1
    for rows in _persons(identity):
        for name in ("skin_tone", "gender", "age_group", "hair_color"):
            assert len(np.unique(labels[name][rows])) == 1, name
        assert len(np.unique(shirts[rows])) == 1
        for name in ("smile", "yaw", "background"):
            assert len(np.unique(labels[name][rows])) > 1, name
    for name in ("skin_tone", "gender", "age_group", "hair_color"):  # persons still differ
        assert len(np.unique(labels[name])) > 1, name


def test_identities_are_deterministic_and_independent_of_chunk_size() -> None:
    config = SynthfacesConfig(n=60, seed=4, identities=7)
    a_labels, a = _all(config)
    b_labels, b = _all(SynthfacesConfig(n=60, seed=4, identities=7))
    assert np.array_equal(a, b) and all(np.array_equal(a_labels[k], b_labels[k]) for k in a_labels)
    parts = list(synthfaces.generate(config, chunk=16))
    c_labels = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    assert list(c_labels) == list(a_labels) and list(a_labels)[-1] == "identity"
    assert all(np.array_equal(a_labels[k], c_labels[k]) for k in a_labels)
    c = np.concatenate([p[1] for p in parts])
    assert np.array_equal(_shirt_index(a), _shirt_index(c))  # person traits do not follow chunks
    other, _ = _all(SynthfacesConfig(n=60, seed=5, identities=7))
    assert not np.array_equal(other["identity"], a_labels["identity"])


def test_identities_change_nothing_when_zero(tmp_path: Path) -> None:
    """identities=0 draws exactly what the config drew before the option existed."""
    labels, images = _all(SynthfacesConfig(n=20, seed=9))
    assert np.array_equal(synthfaces.render(labels, np.random.default_rng([9, 1, 0])), images)
    rng = np.random.default_rng([9, 1, 0])  # traits drawn first from the same stream: same faces
    traits = synthfaces._draw_traits(rng, 20)
    assert np.array_equal(synthfaces.render(labels, rng, traits=traits), images)
    traits["shirt"] = (traits["shirt"] + 1) % len(synthfaces._SHIRT_RGB)
    changed = synthfaces.render(labels, np.random.default_rng([9, 1, 0]), traits=traits)
    assert not np.array_equal(changed[:, 60:], images[:, 60:])  # render uses the given traits
    store = sources.make("synthfaces", tmp_path / "f", n=12)
    assert "identity" not in [a.name for a in store.schema.attributes]
    assert [a.name for a in synthfaces.attributes()] == [a.name for a in synthfaces.attributes(0)]
    store = sources.make("synthfaces", tmp_path / "g", n=12, overrides=["identities=4"])
    names = [a.name for a in store.schema.attributes]
    assert names[-1] == "identity" and store.schema.attribute("identity").names[3] == "person_00003"
    assert np.array_equal(np.bincount(store.labels("identity")), [3, 3, 3, 3])


def test_bad_identities_are_user_errors() -> None:
    for value in ("-1", "31"):
        with pytest.raises(UserError, match="identities must be 0"):
            resolve(SynthfacesConfig, ["n=30", f"identities={value}"])
    assert resolve(SynthfacesConfig, ["n=30", "identities=30"]).identities == 30


def test_age_confounds_follow_their_formulas() -> None:
    """eyeglasses_age c: log-odds base + 1.5 c (age index - 2); gray_hair_age c: hair forced
    gray with probability c x age index / 4, else drawn (gray 1 in 5 of the default weights)."""
    config = resolve(SynthfacesConfig, ["confound.eyeglasses_age=0.5", "confound.gray_hair_age=0.8"])
    labels = synthfaces.sample_labels(config, np.random.default_rng(1), 40000)
    base = np.log(0.3 / 0.7)
    for age in range(5):
        rows = labels["age_group"] == age
        assert abs(labels["eyeglasses"][rows].mean() - expit(base + 0.75 * (age - 2))) < 0.025
        forced = 0.8 * age / 4
        gray = labels["hair_color"][rows] == synthfaces.HAIR_COLORS.index("gray")
        assert abs(gray.mean() - (forced + (1 - forced) / 5)) < 0.025


def test_skin_tones_are_the_monk_scale() -> None:
    """The ten colours of the Monk Skin Tone scale (Monk 2019), lightest first."""
    assert synthfaces.MONK_HEX == ("f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56",
                                   "825c43", "604134", "3a312a", "292420")


def test_a_full_confound_and_a_wide_yaw_reach_their_bounds() -> None:
    """smile_gender 1: every man frowns and every woman smiles (no mode's draw crosses 0);
    a yaw spread far beyond 1 is clipped at both ends of [-1, 1]."""
    config = resolve(SynthfacesConfig, ["confound.smile_gender=1", "smile.spread=0.5", "yaw.std=3"])
    labels = synthfaces.sample_labels(config, np.random.default_rng(2), 4000)
    male = labels["gender"] == 1
    assert (labels["smile"][male] <= 0).all() and (labels["smile"][~male] >= 0).all()
    assert labels["yaw"].min() == -1.0 and labels["yaw"].max() == 1.0
