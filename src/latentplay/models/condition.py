"""Condition vectors of conditional models: continuous values as-is, categories one-hot.

A :class:`ConditionSpec` is built from a store's schema and saved in ``model.json``, so a
trained model can be conditioned later by attribute name without the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.store.schema import UNKNOWN

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class ConditionPart:
    """One attribute of the condition: ``size`` = 1 (continuous) or its number of classes
    (``ordered`` as the training store's attribute was, so generated stores keep it;
    ``untrained`` the classes no row trained on held, whose one-hot column training never set:
    a categorical part's counterpart of a continuous one's ``range``)."""

    name: str
    kind: str  # "continuous" | "categorical"
    size: int
    names: list[str] | None = None
    range: tuple[float, float] | None = None
    ordered: bool = False
    untrained: list[str] = field(default_factory=list)


@dataclass
class ConditionSpec:
    """The layout of a condition vector of dimension :attr:`dim` (empty = unconditional)."""

    parts: list[ConditionPart] = field(default_factory=list)

    @property
    def dim(self) -> int:
        return sum(p.size for p in self.parts)

    def part(self, name: str) -> ConditionPart:
        """The part of attribute ``name``; a :class:`UserError` when the model has none."""
        for part in self.parts:
            if part.name == name:
                return part
        if not self.parts:
            raise UserError(f"this model is not conditional; it has no condition {name!r}")
        raise UserError(f"{name!r} is not a condition of this model; it takes "
                        f"{', '.join(p.name for p in self.parts)}")

    def column(self, name: str) -> int:
        """First column of attribute ``name``'s part in the condition vector."""
        part = self.part(name)
        return sum(p.size for p in self.parts[:self.parts.index(part)])

    @classmethod
    def from_store(cls, store: Any, names: Sequence[str]) -> ConditionSpec:
        """Spec for attributes ``names`` of ``store`` (a :class:`latentplay.store.Store`); a
        continuous attribute without a documented range (a measured one) spans its values; the
        class ``unknown`` (rows without a value) is no class of a categorical one."""
        from latentplay.store.summary import finite_span

        repeated = sorted({n for n in names if list(names).count(n) > 1})
        if repeated:  # a second copy would keep its value when the first one is forced or edited
            raise UserError(f"condition {repeated} is listed more than once; list each attribute once")
        parts = []
        for name in names:
            try:
                attr = store.schema.attribute(name)
            except KeyError:
                raise UserError(
                    f"condition {name!r} is not an attribute of the store; attributes: "
                    + ", ".join(a.name for a in store.schema.attributes)
                ) from None
            if attr.kind == "continuous":
                rng = tuple(attr.range) if attr.range else finite_span(store.labels(attr.name))
                parts.append(ConditionPart(attr.name, "continuous", 1, range=rng))
            else:
                labels = [n for n in attr.level_names if n != UNKNOWN]
                held = np.unique(np.asarray(store.labels(attr.name), dtype=np.int64))
                untrained = [n for k, n in enumerate(attr.level_names)
                             if n != UNKNOWN and k not in held]
                parts.append(ConditionPart(attr.name, "categorical", len(labels), names=labels,
                                           ordered=attr.ordered, untrained=untrained))
        return cls(parts)

    def encode_store(self, store: Any) -> np.ndarray:
        """``(N, dim)`` float32 condition matrix of every row of ``store``.

        Classes are matched by name (a spec naming none: by its codes ``"0"``, ``"1"``, ..., as
        the stores such a run generates name them), so a store whose class list differs from
        the one the spec was made from (another order, fewer classes) is encoded correctly; a
        class the spec does not know, a row without a value (a NaN, a class code of -1, the
        class ``unknown`` unless the spec has it: a model saved before it was left out) and an
        attribute whose kind differs from the spec's (class codes read as a continuous value)
        are errors.
        """
        cols = []
        for part in self.parts:
            values = store.labels(part.name)
            if part.kind == "continuous":
                kind = store.schema.attribute(part.name).kind
                if kind != "continuous":
                    raise UserError(f"condition {part.name!r} is continuous in the model but {kind} "
                                    "in this store; its class codes are no condition values")
                missing = int((~np.isfinite(values)).sum())
                if missing:
                    raise UserError(f"condition {part.name!r} has no value in {missing} rows; keep "
                                    "the rows with one: latentplay data subset --where "
                                    f"{part.name}=: (an open range)")
                cols.append(np.asarray(values, dtype=np.float32)[:, None])
                continue
            names = store.schema.attribute(part.name).level_names
            if not names:
                raise UserError(f"condition {part.name!r} has classes in the model but is "
                                "continuous in this store")
            store_codes = np.asarray(values, dtype=np.int64)
            known = class_names(part)
            # the class unknown is a class only of a model that has it (one saved before it was
            # left out, trained on those rows as a class)
            read = [k for k, n in enumerate(names) if n != UNKNOWN or n in known]
            # a ClassLabel's -1 (indexing would pick the last class) or the class unknown
            missing = int((~np.isin(store_codes, read)).sum())
            if missing:
                raise UserError(f"condition {part.name!r} has no class in {missing} rows; keep "
                                f"the rows with one: latentplay data subset --where "
                                f"{part.name}={','.join(names[k] for k in read)}")
            to_spec = np.array([known.index(n) if n in known else -1 for n in names], np.int64)
            codes = to_spec[store_codes]
            if (codes < 0).any():
                unknown = sorted({names[c] for c in store_codes[codes < 0]})
                raise UserError(f"condition {part.name!r}: the model does not know class(es) "
                                f"{unknown}; it knows {known}" + ("" if part.names else
                                " (its model.json names no classes: they are its codes)"))
            cols.append(np.eye(part.size, dtype=np.float32)[codes])
        if not cols:
            return np.zeros((len(store), 0), dtype=np.float32)
        return np.concatenate(cols, axis=1)

    def check_names(self, values: Mapping[str, Any]) -> None:
        """A :class:`UserError` naming the keys of ``values`` that are no attribute of the
        spec, beside the spec's names."""
        names = [p.name for p in self.parts]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise UserError(f"unknown condition {', '.join(map(repr, unknown))}; the model takes "
                            f"{', '.join(names)}")

    def vector(self, values: Mapping[str, float | int | str]) -> np.ndarray:
        """``(dim,)`` float32 condition for ``{attribute: value}``: a number for a continuous
        attribute (finite and within float32's range); for a categorical one a class name, an
        integer code, or a float, which is the class of that name where the names are numbers
        (a factor's levels: ``shape=1`` as the CLI reads it is the class ``"1"``), else a code."""
        self.check_names(values)
        out = []
        for part in self.parts:
            if part.name not in values:
                raise UserError(f"condition {part.name!r} needs a value")
            value = values[part.name]
            if part.kind == "continuous":
                try:
                    number = float(value)
                except (TypeError, ValueError, OverflowError):  # 10**400: no float
                    raise UserError(f"condition {part.name!r} takes a number, got {value!r}") from None
                # beyond float32's range the condition would be inf
                if not abs(number) <= _FLOAT32_MAX:
                    raise UserError(f"condition {part.name!r} takes a finite number (at most "
                                    f"{_FLOAT32_MAX:.3g} in size), got {value!r}")
                out.append(np.array([number], dtype=np.float32))
                continue
            code = class_code(part, value)
            out.append(np.eye(part.size, dtype=np.float32)[code])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def values(self, vector: np.ndarray) -> dict[str, float | str]:
        """``{attribute: value}`` of a ``(dim,)`` condition vector, the inverse of
        :meth:`vector`: a continuous attribute's number, a categorical one's class name (its
        code where the classes have no names) of the largest entry."""
        out: dict[str, float | str] = {}
        start = 0
        for part in self.parts:
            block = np.asarray(vector[start:start + part.size], dtype=float)
            start += part.size
            if part.kind == "continuous":
                out[part.name] = float(block[0])
            else:
                code = int(np.argmax(block))
                out[part.name] = part.names[code] if part.names else str(code)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"parts": [asdict(p) for p in self.parts]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConditionSpec:
        parts = []
        for p in data.get("parts", []):
            rng = tuple(p["range"]) if p.get("range") is not None else None
            parts.append(ConditionPart(p["name"], p["kind"], int(p["size"]), p.get("names"), rng,
                                       bool(p.get("ordered", False)), list(p.get("untrained", []))))
        return cls(parts)


def class_code(part: ConditionPart, value: float | int | str) -> int:
    """The code of categorical ``part``'s class ``value``: a class name, an integer code, or a
    float, which is the class of that name where the names are numbers (one of those values
    only: a float that names none of them is refused), else a code."""
    names = class_names(part)
    if isinstance(value, str):
        if value not in names:
            raise UserError(f"{part.name}: unknown class {value!r}; classes: {', '.join(names)}")
        return names.index(value)
    if isinstance(value, (int, np.integer)):  # a code as it is (float() fails on 10**400)
        code = int(value)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise UserError(f"{part.name}: takes a class name or code, got {value!r}") from None
        # a float: a numeric class name comes first (a run naming none: its codes' names)
        named = [k for k, name in enumerate(names) if _number(name) == number]
        if named:
            return named[0]
        if part.names and all(_number(name) is not None for name in names):  # a factor's levels:
            # 0 would be read as the code of the class "1", as 1 is that class's name
            raise UserError(f"{part.name}: no class {value!r}; its classes are the values "
                            f"{', '.join(names)}")
        if not number.is_integer():  # int() would truncate 1.5 to class 1 (and fail on NaN, inf)
            raise UserError(f"{part.name}: a class code is a whole number, got {value!r}; "
                            f"classes: {', '.join(names)}")
        code = int(number)
    if not 0 <= code < part.size:
        raise UserError(f"{part.name}: class code {code} out of range 0..{part.size - 1}")
    return code


def class_names(part: ConditionPart) -> list[str]:
    """Categorical ``part``'s ``part.size`` class names by code: its codes (``"0"``, ``"1"``,
    ...) where the run's ``model.json`` names none, as the stores it generates name them; a
    :class:`UserError` when it names another number of classes."""
    if not part.names:
        return [str(k) for k in range(part.size)]
    if len(part.names) != part.size:
        raise UserError(f"condition {part.name!r}: the run's model.json names {len(part.names)} "
                        f"classes of its {part.size}; the file was edited or is damaged")
    return list(part.names)


def _number(name: str) -> float | None:
    """The number a class name reads as (a factor level's ``"0.5"``); None for a word."""
    try:
        return float(name)
    except ValueError:
        return None
