"""Config overrides: a text value that YAML reads as structure is one clear line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from latentplay.config import resolve
from latentplay.errors import UserError


@dataclass
class _Named:
    name: str = "hog"


@pytest.mark.parametrize(("item", "what"), [("name=scrfd:", "mapping"), ("name=[a]", "list")])
def test_text_read_as_yaml_structure_says_to_quote_it(item: str, what: str) -> None:
    with pytest.raises(UserError, match=rf"^bad config override \(name\): the value was read as "
                                        rf"a YAML {what}, not text: .*quote it"):
        resolve(_Named, [item])


def test_quoted_text_is_text() -> None:
    assert resolve(_Named, ['name="scrfd:"']).name == "scrfd:"
    assert resolve(_Named, ["name='[a]'"]).name == "[a]"


@dataclass
class _Listed:
    condition: list[str] | None = None


def test_a_list_given_one_bare_item_says_how_to_write_the_list() -> None:
    """``model.condition=smile`` said "AnyNode is not a ListConfig, TupleConfig, list, or tuple";
    it now shows the list to write."""
    with pytest.raises(UserError, match=r"^bad config override \(condition\): a list is expected: "
                                        r"write condition=\[smile\]"):
        resolve(_Listed, ["condition=smile"])
    assert resolve(_Listed, ["condition=[smile]"]).condition == ["smile"]


@pytest.mark.parametrize("item", ["condition=[smile", "condition=[smile, gender", 'condition="smile'])
def test_an_override_that_is_not_yaml_is_one_line_naming_it(item: str) -> None:
    """A list without its ``]`` or an unclosed quote (``model.condition=[smile``) ended in a
    yaml ParserError traceback; it is one line naming the item, after good ones too."""
    with pytest.raises(UserError, match=rf"^bad config override {re.escape(repr(item))} is not "
                                        r"valid YAML: .*; close each \[ and \{, or quote the value"):
        resolve(_Listed, ["condition=[a]", item])


@pytest.mark.parametrize(("text", "says"), [
    ("name: [a,\n", r"is not valid YAML: did not find expected node content at line 2, column 1"),
    ("- a\n- b\n", r"holds a list; a preset is a mapping"),
    ("nose: 1\n", r"^bad value in preset .*p\.yaml: Key 'nose' not in '_Named' \(its keys: name\)"),
])
def test_a_broken_preset_is_one_line_naming_the_file(tmp_path, text: str, says: str) -> None:
    """A preset that was not YAML, or a list, ended in a traceback; a bad key in one was
    called an override."""
    preset = tmp_path / "p.yaml"
    preset.write_text(text)
    with pytest.raises(UserError, match=says) as caught:
        resolve(_Named, preset=preset)
    assert str(preset) in str(caught.value)


def test_an_override_after_a_preset_is_still_called_an_override(tmp_path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text("name: pca\n")
    assert resolve(_Named, preset=preset).name == "pca"
    with pytest.raises(UserError, match=r"^bad config override: Key 'nose'"):
        resolve(_Named, ["nose=1"], preset=preset)


def test_an_interpolation_in_a_file_is_refused(tmp_path) -> None:  # noqa: ANN001
    """A downloaded preset (or a run's model.json) holding ``${oc.env:HOME}`` had the value of
    the environment read into the config a run writes out; files hold plain values."""
    from latentplay import sources

    preset = tmp_path / "p.yaml"
    preset.write_text('smile:\n  distribution: "${oc.env:HOME}"\n')
    with pytest.raises(UserError, match=r"smile\.distribution holds an interpolation"):
        sources.make("synthfaces", tmp_path / "s", n=4, preset=preset)
    assert not (tmp_path / "s").exists()

    from latentplay.config import resolve
    from latentplay.models.vae import VAEConfig

    with pytest.raises(UserError, match="a saved config: likelihood holds an interpolation"):
        resolve(VAEConfig, values={"likelihood": "${oc.env:HOME}"})


def test_a_train_preset_or_run_config_with_an_interpolation_is_refused_unresolved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``latentplay train shared.yaml`` read the preset's family resolved, so ``family:
    ${oc.env:SECRET}`` printed the variable's value ("unknown model family 'hunter2'"), and
    ``train --resume`` of a run whose config held one that did not resolve ended in a traceback."""
    from latentplay.train.config import build_config, load_run_config

    monkeypatch.setenv("LATENTPLAY_TEST_SECRET", "hunter2")
    preset = tmp_path / "shared.yaml"
    preset.write_text("family: ${oc.env:LATENTPLAY_TEST_SECRET}\n")
    with pytest.raises(UserError, match="family holds an interpolation") as caught:
        build_config(None, preset_file=preset)
    assert "hunter2" not in str(caught.value)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("family: vae\nseed: ${oc.env:LATENTPLAY_TEST_UNSET}\n")
    with pytest.raises(UserError, match="seed holds an interpolation"):
        load_run_config(run / "config.yaml")
