"""Structured configs: dataclass defaults, YAML presets and ``key=value`` overrides (OmegaConf)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from latentplay.errors import UserError, first_line

T = TypeVar("T")


def as_items(items: str | Sequence[str]) -> list[str]:
    """``key=value`` items given as a sequence, or one item given as a plain string (not its
    characters)."""
    return [items] if isinstance(items, str) else list(items)


def resolve(schema: type[T], overrides: str | Sequence[str] = (), preset: str | Path | None = None,
            values: Mapping[str, Any] | None = None) -> T:
    """Build a validated config object of dataclass type ``schema``.

    Args:
        schema: a dataclass type whose fields (and nested dataclasses) define the keys.
        overrides: OmegaConf dot-list items such as ``"skin_tone.weights=[1,1,2]"``.
        preset: optional YAML file merged before the overrides.
        values: optional nested dict (as :func:`to_dict` writes one) merged before them.

    Raises:
        UserError: on an unknown key, a value of the wrong type, or a malformed item.
    """
    if not is_dataclass(schema):
        raise TypeError(f"{schema!r} is not a dataclass")
    overrides = as_items(overrides)
    for item in overrides:
        if "=" not in item:
            raise UserError(f"override {item!r} is not of the form key=value")
    source = "bad config override"
    try:
        conf = OmegaConf.structured(schema)
        if preset is not None:
            source = f"bad value in preset {preset}"
            conf = OmegaConf.merge(conf, load_preset(preset))
        if values is not None:
            source = "bad config value"
            refuse_interpolation(dict(values), "a saved config")
            conf = OmegaConf.merge(conf, OmegaConf.create(dict(values)))
        source = "bad config override"
        conf = OmegaConf.merge(conf, OmegaConf.from_dotlist(list(overrides)))
        obj = OmegaConf.to_object(conf)
    except OmegaConfBaseException as exc:
        msg = first_line(exc)
        for kind, what in (("DictConfig", "mapping"), ("ListConfig", "list")):
            if f"Cannot convert '{kind}' to string" in msg:  # 'scrfd:' read as {scrfd: None}
                msg = (f"the value was read as a YAML {what}, not text: give the text in full, "
                       "and quote it (key='\"...\"') where it ends in ':', holds ': ' or starts "
                       "with '[' or '{'")
        key = getattr(exc, "full_key", None)
        if "is not a ListConfig" in msg and key:  # model.condition=smile
            given = next((i.split("=", 1)[1] for i in overrides if i.split("=", 1)[0] == key), "...")
            msg = f"a list is expected: write {key}=[{given}] (items separated by commas)"
        where = f" ({key})" if key and f"'{key}'" not in msg else ""
        owner = getattr(exc, "object_type", None)
        if isinstance(exc, ConfigKeyError) and isinstance(owner, type) and is_dataclass(owner):
            msg += f" (its keys: {', '.join(f.name for f in fields(owner))})"
        raise UserError(f"{source}{where}: {msg}") from None
    except yaml.YAMLError as exc:   # key=[a,b without its ']'
        item = next(i for i in overrides if _unreadable(i))
        problem = getattr(exc, "problem", None) or first_line(exc)
        raise UserError(f"{source} {item!r} is not valid YAML: {problem}; close each [ and {{, "
                        "or quote the value (key='\"...\"')") from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate()
    return obj  # type: ignore[return-value]


def _unreadable(item: str) -> bool:
    """Whether the ``key=value`` override ``item`` is not valid YAML on its own."""
    try:
        OmegaConf.from_dotlist([item])
    except yaml.YAMLError:
        return True
    return False


def load_preset(preset: str | Path) -> DictConfig:
    """A preset's YAML mapping; a :class:`UserError` naming the file when it cannot be read,
    is not YAML, or holds something other than a mapping of keys to values."""
    try:
        loaded = OmegaConf.load(preset)
    except OSError as exc:
        raise UserError(f"cannot read preset {preset}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or first_line(exc)
        raise UserError(f"preset {preset} is not valid YAML: {problem}{where}") from None
    if not isinstance(loaded, DictConfig):
        raise UserError(f"preset {preset} holds a list; a preset is a mapping of keys to "
                        "values (key: value per line)")
    refuse_interpolation(OmegaConf.to_container(loaded, resolve=False), f"preset {preset}")
    return loaded


def refuse_interpolation(data: Any, where: str, key: str = "") -> None:
    """A :class:`UserError` when a string of ``data`` (a file's mapping) holds an OmegaConf
    interpolation ``${...}``: resolving it would read what the file asks, an environment
    variable (``${oc.env:HOME}``) among them, into the config a run writes out."""
    if isinstance(data, str) and "${" in data:
        raise UserError(f"{where}: {key or 'a value'} holds an interpolation {data!r}; "
                        "configs read from files hold plain values")
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, value in items:
        refuse_interpolation(value, where, f"{key}.{k}" if key else str(k))


def to_dict(config: Any) -> dict[str, Any]:
    """A plain, YAML/JSON-serialisable dict of a config dataclass."""
    return OmegaConf.to_container(OmegaConf.structured(config), resolve=True)  # type: ignore[return-value]
