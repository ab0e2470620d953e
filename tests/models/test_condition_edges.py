"""Edge cases of condition vectors: numeric class names (factor levels) and the class ``unknown``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.models import ConditionPart, ConditionSpec
from latentplay.store.schema import Attribute, Provenance, Schema


@dataclass
class LabelStore:
    """The part of a store a condition spec reads: a schema and ``(N,)`` labels per attribute."""

    schema: Schema
    columns: dict[str, np.ndarray]

    def labels(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


def _store(attributes: list[Attribute], **columns: list[float]) -> LabelStore:
    schema = Schema(attributes, Provenance("test", "test"))
    return LabelStore(schema, {k: np.asarray(v) for k, v in columns.items()})


def test_a_number_that_is_a_class_name_picks_that_class() -> None:
    # dSprites' shape levels are named "1", "2", "3": --condition shape=1 (read as the float 1.0)
    # means the class named "1" (code 0), not code 1 (the class named "2")
    shapes = _store([Attribute("shape", "factor", values=[1.0, 2.0, 3.0]),
                     Attribute("scale", "factor", values=[0.5, 0.75, 1.0])],
                    shape=[0, 1, 2], scale=[0, 1, 2])
    spec = ConditionSpec.from_store(shapes, ["shape", "scale"])
    assert spec.parts[0].names == ["1", "2", "3"]
    vec = spec.vector({"shape": 1.0, "scale": 0.75})
    assert vec.tolist() == [1, 0, 0, 0, 1, 0]
    assert spec.vector({"shape": 3.0, "scale": 1.0}).tolist() == [0, 0, 1, 0, 0, 1]
    # the same class as its name and as the store's row of it
    assert (spec.vector({"shape": "1", "scale": "0.75"}) == vec).all()
    assert (spec.encode_store(shapes)[0, :3] == vec[:3]).all()
    # integer codes stay codes
    assert spec.vector({"shape": 1, "scale": 0}).tolist() == [0, 1, 0, 1, 0, 0]
    # a float naming no level is no code either: shape=0 would have drawn the class "1"
    with pytest.raises(UserError, match="shape: no class 0.0; its classes are the values 1, 2, 3"):
        spec.vector({"shape": 0.0, "scale": 0.75})


def test_rows_of_class_unknown_are_refused_with_their_count() -> None:
    attrs = [Attribute("gender", "categorical", names=["female", "male", "unknown"])]
    store = _store(attrs, gender=[0, 2, 1, 2])
    spec = ConditionSpec.from_store(store, ["gender"])
    assert spec.parts[0].names == ["female", "male"]  # unknown is no class to sample under
    with pytest.raises(UserError, match=r"'gender' has no class in 2 rows.*gender=female,male$"):
        spec.encode_store(store)
    known = _store(attrs, gender=[0, 1, 1])
    assert spec.encode_store(known).tolist() == [[1, 0], [0, 1], [0, 1]]
    # a model saved before kept unknown among its classes and was trained on those rows as
    # one: it still encodes them (its own training store stays embeddable), a -1 stays refused
    old = ConditionSpec([ConditionPart("gender", "categorical", 3, names=["female", "male", "unknown"])])
    assert old.encode_store(store).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    with pytest.raises(UserError, match="no class in 1 rows"):
        old.encode_store(_store(attrs, gender=[0, -1, 2]))


def test_column_of_each_part_among_mixed_kinds() -> None:
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=["female", "male"]),
                          ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0)),
                          ConditionPart("tone", "categorical", 3, names=["a", "b", "c"])])
    vec = spec.vector({"gender": "male", "smile": 0.5, "tone": "c"})
    assert vec[spec.column("smile")] == 0.5
    assert vec[spec.column("gender") + 1] == 1 and vec[spec.column("tone") + 2] == 1
    # values() reads each categorical part's hot column back: the inverse of vector()
    assert spec.values(vec) == {"gender": "male", "smile": 0.5, "tone": "c"}
    assert spec.values(spec.vector({"gender": 0, "smile": -1.0, "tone": 1})) == {
        "gender": "female", "smile": -1.0, "tone": "b"}
    # codes run 0 .. size - 1: the size itself is one past the last class
    with pytest.raises(UserError, match="^tone: class code 3 out of range 0..2$"):
        spec.vector({"gender": 0, "smile": 0.0, "tone": 3})


@pytest.mark.parametrize("value", [10**400, 1e300, float("inf"), "-inf"])
def test_a_continuous_value_beyond_float32_is_refused(value: object) -> None:
    # 10**400 is no float (OverflowError); 1e300 is one, but the float32 condition was inf
    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(0.0, 1.0))])
    with pytest.raises(UserError, match="'smile' takes a"):
        spec.vector({"smile": value})
    assert spec.vector({"smile": 3e38}).tolist() == [pytest.approx(3e38, rel=1e-6)]


@pytest.mark.parametrize("value", [10**400, -(10**400), float("inf"), 1e400, float("nan")])
def test_a_class_code_beyond_float_range_is_refused(value: object) -> None:
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=["female", "male"])])
    with pytest.raises(UserError, match="^gender: "):
        spec.vector({"gender": value})


def test_a_run_without_class_names_reads_its_codes_as_names() -> None:
    # the stores such a run generates and the app's dropdown name its classes "0", "1"
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=None)])
    assert spec.vector({"gender": "1"}).tolist() == spec.vector({"gender": 1}).tolist() == [0, 1]
    generated = _store([Attribute("gender", "categorical", names=["0", "1"])], gender=[1, 0, 1])
    assert spec.encode_store(generated).tolist() == [[0, 1], [1, 0], [0, 1]]
    named = _store([Attribute("gender", "categorical", names=["female", "male"])], gender=[1, 0])
    with pytest.raises(UserError, match=r"knows \['0', '1'\] \(its model.json names no classes"):
        spec.encode_store(named)


def test_a_class_no_training_row_held_is_outside_training() -> None:
    """A CVAE trained on women only was sampled at male with no word (`outside_training` []):
    the spec records the classes without rows, and values of them are outside training; the
    record survives model.json, and a spec saved before it has none."""
    from latentplay.latent.sampling import in_training_range

    women = _store([Attribute("gender", "categorical", names=["female", "male", "unknown"])],
                   gender=[0, 0, 2, 0])
    part = ConditionSpec.from_store(women, ["gender"]).parts[0]
    assert part.names == ["female", "male"] and part.untrained == ["male"]
    unseen = _store([Attribute("gender", "categorical", names=["female", "male", "unknown"])],
                    gender=[0, 0, 0])  # no row without a value: unknown is still no class
    assert ConditionSpec.from_store(unseen, ["gender"]).parts[0].untrained == ["male"]
    assert in_training_range(part, "female") and not in_training_range(part, "male")
    assert not in_training_range(part, 1)   # by code too
    again = ConditionSpec.from_dict(ConditionSpec([part]).to_dict()).parts[0]
    assert again.untrained == ["male"]
    old = ConditionSpec.from_dict({"parts": [{"name": "gender", "kind": "categorical", "size": 2,
                                              "names": ["female", "male"]}]}).parts[0]
    assert old.untrained == [] and in_training_range(old, "male")


def test_a_continuous_condition_spans_its_documented_range_and_needs_every_value() -> None:
    """A continuous attribute's documented range is the condition's training range (its values
    may cover less of it; a measured one without a range spans its values), and a row without a
    value cannot be conditioned on."""
    smiles = _store([Attribute("smile", "continuous", range=(-1.0, 1.0)),
                     Attribute("age", "continuous")],
                    smile=[-0.5, 0.0, 0.5], age=[20.0, 35.0, 60.0])
    spec = ConditionSpec.from_store(smiles, ["smile", "age"])
    assert [p.range for p in spec.parts] == [(-1.0, 1.0), (20.0, 60.0)]
    assert spec.encode_store(smiles).tolist() == [[-0.5, 20.0], [0.0, 35.0], [0.5, 60.0]]
    gap = _store([Attribute("smile", "continuous", range=(-1.0, 1.0))], smile=[-0.5, np.nan, 0.5])
    with pytest.raises(UserError, match="'smile' has no value in 1 rows"):
        ConditionSpec.from_store(smiles, ["smile"]).encode_store(gap)
