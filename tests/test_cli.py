import errno
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup

from latentplay.cli import COMMANDS, load_command, main
from latentplay.errors import UserError
from latentplay.train.config import presets


def _one_line_error(result) -> None:  # noqa: ANN001
    assert result.code == 2, (result.code, result.out, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert "Traceback" not in result.err


def test_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for name in (*COMMANDS, "quickstart"):
        assert f"\u2502 {name} " in result.out, name
    data = cli("data", "--help")
    for name in ("make", "info", "export", "grid"):
        assert name in data.out


def test_the_data_listing_names_its_commands_as_typed() -> None:
    """``latentplay --help`` listed data commands that do not exist (inspect, chart bias,
    draw, import vectors); each one it names is a command, and each command is named."""
    listing = COMMANDS["data"][1].split(":", 1)[1].rstrip(".").replace(" and ", ", ")
    named = {word.strip() for word in listing.split(",")}
    assert named == set(load_command("data").commands)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_loads_with_its_name(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help and command.help.strip()
    target = COMMANDS[name][0]
    assert isinstance(command, TyperGroup) == target.endswith(":app"), target
    for sub in getattr(command, "commands", {}).values():  # one-line listings
        assert sub.short_help and "\n" not in sub.short_help, sub.name


def _loaded_after(argvs: list[list[str]]) -> tuple[str, str]:
    """Stdout of running ``latentplay ARGV`` for each of ``argvs`` in a fresh interpreter, and
    the comma-separated heavy libraries it imported."""
    code = (
        "import sys\n"
        "from latentplay.cli import main\n"
        f"for argv in {argvs!r}:\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ['torch', 'datasets', 'sklearn', 'scipy', 'numpy', 'matplotlib', 'PIL']\n"
        "print('loaded:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()
    return done.stdout, lines[-1].removeprefix("loaded:")


def test_root_help_imports_no_library() -> None:
    """``latentplay --help`` (and a mistyped command) load no model or data library."""
    out, loaded = _loaded_after([["--help"], ["no-such-command"]])
    assert "Commands" in out
    assert loaded == ""


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_group_help_imports_no_heavy_library(name: str) -> None:
    """``latentplay GROUP --help`` loads at most numpy: no torch, datasets, sklearn, scipy,
    matplotlib or PIL (a package's ``__init__`` imports its names on first use)."""
    out, loaded = _loaded_after([[name, "--help"]])
    assert "Usage" in out
    assert set(filter(None, loaded.split(","))) <= {"numpy"}, loaded


def test_store_commands_without_a_model_import_no_torch(tmp_path: Path) -> None:
    """Commands that read no trained model do not pay for importing torch: a pixels-pca
    embedding looked for a trained run's embedder by importing it (3 of 13 s on 5,000 faces),
    a store's report imported every kind's page builder (3 of 9 s), and a direction fitted on
    a store's column imported the module that generates stores to read its converter's name,
    and measuring faces on the CPU imported it to resolve ``--device cpu``."""
    from latentplay import sources
    from latentplay import store as st

    faces = sources.make("synthfaces", tmp_path / "faces", n=12).path
    code = ("import sys\nfrom latentplay.embed.column import embed_store\n"
            "from latentplay.report.build import builder\n"
            f"embed_store({str(faces)!r}, 'pixels-pca', 'pix', options=['dim=3'], progress=False)\n"
            "builder('store')\nfrom latentplay.latent.directions import column_run\n"
            f"from latentplay.store import load\nprint(column_run(load({str(faces)!r}), 'pix'))\n"
            "from latentplay.measure.run import MeasureConfig\nMeasureConfig(what=['quality']).validate()\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert st.vectors(st.load(faces), "pix").shape == (12, 3)
    assert done.stdout.strip().splitlines()[-2:] == ["(None, None)", "False"]


def test_openmp_threads_sleep_between_regions_unless_the_user_says(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The command sets OMP_WAIT_POLICY=PASSIVE before any command imports torch (spinning
    OpenMP threads on shared cores slowed training 10-20x), and keeps a policy the user set."""
    import os

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    main(["train", "--list"])
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    main(["train", "--list"])
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert "dcgan" in capsys.readouterr().out


def test_train_command_resolves(cli) -> None:
    result = cli("train", "--list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == presets()
    assert any(line.startswith("dcgan ") and line.endswith("Adam 2e-4 beta1 0.5, batch 64.")
               for line in lines)  # each preset with what it trains: its file's first comment
    result = cli("train", "--list", "ae", "--data", "x")   # was listed, the rest ignored
    assert result.code == 2 and result.err.strip() == "error: --list takes nothing else (given MODEL, --data)"


def test_make_info_export_grid(cli, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    assert (
        cli(
            "data",
            "make",
            "synthfaces",
            "--out",
            out,
            "--n",
            "40",
            "--seed",
            "2",
            "confound.smile_gender=0.5",
        ).code
        == 0
    )
    preset = Path(__file__).parents[1] / "configs" / "datasets" / "synthfaces-smile-bias.yaml"
    biased = tmp_path / "biased"
    assert cli("data", "make", "synthfaces", "--out", biased, "--n", "10", "--preset", preset).code == 0
    assert '"smile_gender": 0.6' in (biased / "latentplay.json").read_text()
    info = cli("data", "info", out, "--json")
    assert info.code == 0 and '"rows": 40' in info.out
    table = cli("data", "info", out, "--crosstab", "gender,smile")
    assert table.code == 0 and "gender x smile" in table.out
    # piped (80 columns), ten classes were folded into "mon|k_1" and "monk_|1"
    table = cli("data", "info", out, "--crosstab", "background,skin_tone")
    header = next(line for line in table.out.splitlines() if "background" in line and "┃" in line)
    assert all(f" monk_{k} " in header for k in range(1, 11)) and len(header) > 80
    assert cli("data", "export", out, "--out", tmp_path / "exp").code == 0
    assert len(list((tmp_path / "exp" / "images").iterdir())) == 40
    for by in ("skin_tone", "smile"):
        png = tmp_path / f"grid_{by}.png"
        assert cli("data", "grid", out, "--out", png, "--by", by).code == 0
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_path_given_from_the_home_folder_is_found_there(cli, tmp_path: Path, monkeypatch) -> None:
    """``--out=~/x`` (which shells leave as it is) and ``~\\x`` on Windows (whose shells never
    expand ``~``) wrote a folder named ``~`` in the current one."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cli("data", "make", "shapes", "--out=~/s", "--n", "5").code == 0
    assert (tmp_path / "home" / "s" / "latentplay.json").is_file() and not (tmp_path / "~").exists()
    assert cli("data", "info", "~/s").code == 0


@pytest.fixture(scope="module")
def shapes_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``data make shapes --n 5``, made once (each error test gets a copy as ``{tmp}/existing``)."""
    path = tmp_path_factory.mktemp("shapes") / "existing"
    assert main(["data", "make", "shapes", "--out", str(path), "--n", "5"]) in (None, 0)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("data", "info", "/no/such/store"),
        ("data", "make", "nosuchdata", "--out", "{tmp}/x"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--n", "5", "nosuch.key=1"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--n", "5", "eyeglasses.p=lots"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--n", "5", "gender.weights=[1]"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--n", "5", "notanoverride"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--full"),
        ("data", "make", "synthfaces", "--out", "{tmp}/a_file/x", "--n", "5"),
        ("data", "grid", "{tmp}/existing", "--out", "{tmp}/g.png", "--by", "nosuchattr"),
        ("data", "info", "{tmp}/existing", "--crosstab", "gender"),
        ("data", "export", "/no/such/store", "--to", "{tmp}/e"),
        ("data", "make", "synthfaces", "--out", "{tmp}/x", "--preset", "{tmp}/nosuch.yaml"),
        # the function commands registered from the COMMANDS table
        ("app", "--data", "{tmp}/nosuch"),
        ("report", "{tmp}/nosuch"),
        ("train", "vae", "--data", "{tmp}/nosuch", "--out", "{tmp}/run"),
        # the parser's own usage errors: a missing option or argument, an unknown command or
        # option, a value of the wrong type
        ("audit", "verify", "{tmp}/existing", "--out", "{tmp}/v"),
        ("data", "bin"),
        ("nosuch",),
        ("data", "make", "shapes", "--out", "{tmp}/x", "--n", "many"),
        ("data", "info", "{tmp}/existing", "--no-such-option"),
        # an --out the system refuses (it cannot be made in /proc): an OSError naming a path
        ("data", "make", "shapes", "--out", "/proc/latentplay-no-such/x", "--n", "5"),
        ("data", "grid", "{tmp}/existing", "--out", "/proc/latentplay-no-such/g.png"),
        # a negative --seed (NumPy refused it with a traceback), checked for every command
        ("data", "make", "shapes", "--out", "{tmp}/x", "--n", "5", "--seed", "-1"),
        ("data", "grid", "{tmp}/existing", "--out", "{tmp}/g.png", "--seed", "-1"),
        ("viz", "projection", "{tmp}/existing", "--embedding", "e", "--out", "{tmp}/v", "--seed", "-2"),
        ("data", "grid", "{tmp}/existing", "--out", "{tmp}/g.png", "--per-row", "-3"),
        ("data", "grid", "{tmp}/existing", "--out", "{tmp}/g.png", "--per-row", "0"),
        ("viz", "projection", "{tmp}/existing", "--embedding", "", "--out", "{tmp}/v"),
        ("viz", "projection", "{tmp}/existing", "--embedding", " , ", "--out", "{tmp}/v"),
    ],
)
def test_user_errors_are_one_line_exit_2(cli, tmp_path: Path, shapes_store: Path,
                                        args: tuple[str, ...]) -> None:
    shutil.copytree(shapes_store, tmp_path / "existing")
    (tmp_path / "a_file").write_text("")
    _one_line_error(cli(*[a.format(tmp=tmp_path) for a in args]))


def test_usage_errors_name_the_help_and_a_bare_group_prints_its_help(cli) -> None:
    r = cli("data", "bin")
    assert r.err.strip() == ("error: Missing argument 'store'. (see `latentplay data bin --help`)")
    r = cli("data")
    assert r.code == 2 and "Usage: latentplay data" in r.out and "error" not in r.err
    assert cli("data", "bin", "--help").code == 0


def test_a_misspelt_command_is_answered_with_close_names(cli) -> None:
    """The root's commands are imported when used, and Typer suggested only among those
    imported (`daat` got no 'data'); -h is --help and --version prints the version."""
    from latentplay import __version__

    r = cli("daat", "info", "s")
    assert r.code == 2 and r.err.strip() == ("error: No such command 'daat'. Did you mean "
                                             "'data'? (see `latentplay --help`)")
    assert "Did you mean 'metrics'?" in cli("metrcs").err
    assert "Did you mean 'info'" in cli("data", "inf", "s").err
    assert "Usage: latentplay data info" in cli("data", "info", "-h").out
    r = cli("--version")
    assert r.code == 0 and r.out.strip() == f"latentplay {__version__}"


def test_missing_parent_directories_are_made(cli, tmp_path: Path) -> None:
    out = tmp_path / "data" / "new" / "faces"
    assert cli("data", "make", "synthfaces", "--out", out, "--n", "5").code == 0
    assert cli("data", "grid", out, "--out", tmp_path / "figs" / "g.png").code == 0
    assert (tmp_path / "figs" / "g.png").is_file()


def test_existing_target_needs_overwrite(cli, tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert cli("data", "make", "shapes", "--out", out, "--n", "10").code == 0
    _one_line_error(cli("data", "make", "shapes", "--out", out, "--n", "12"))
    assert cli("data", "make", "shapes", "--out", out, "--n", "12", "--overwrite").code == 0
    assert '"rows": 12' in cli("data", "info", out, "--json").out


def test_path_errors_name_the_given_path_and_bugs_keep_their_traceback(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written through a hidden build folder beside --out named that folder
    (``/proc/.x.build-...``) in the error; an OSError about a path the user never gave (a file
    latentplay itself misplaced) is a bug, not a one-line "cannot use"."""
    res = cli("data", "make", "shapes", "--out", "/proc/latentplay-no-such", "--n", "5")
    assert res.code == 2 and res.err.strip().startswith("error: cannot use /proc/latentplay-no-such:")
    import latentplay.quickstart

    def misplaced(**_: object) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/latentplay-internal/x.bin")

    monkeypatch.setattr(latentplay.quickstart, "run", misplaced)
    with pytest.raises(FileNotFoundError):
        main(["quickstart", "--out", str(tmp_path / "q")])


def test_a_full_disk_is_one_line_and_keeps_the_previous_store(cli, tmp_path: Path,
                                                              file_size_limit) -> None:
    """A store remade where its shard outgrows what the disk takes ended with a traceback of
    70 lines (an OSError while writing names no file); now one line, exit status 2, and the
    previous store is there as it was, with nothing beside it."""
    from latentplay.store import load

    out = tmp_path / "s"
    assert cli("data", "make", "shapes", "--out", out, "--n", "10").code == 0
    file_size_limit(100_000)  # the 2,000 rows take about 500 kB
    res = cli("data", "make", "shapes", "--out", out, "--n", "2000", "--overwrite")
    _one_line_error(res)
    assert "File too large" in res.err
    assert len(load(out).dataset) == 10 and [p.name for p in tmp_path.iterdir()] == ["s"]


def test_a_full_disk_behind_another_library_s_error_is_one_line(cli, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A library that meets a full disk may raise its own error from it (torch's "unexpected
    pos"): the full disk found in the error's chain is the one line; an error with none in its
    chain keeps its traceback."""
    import latentplay.quickstart

    def full(**_: object) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704") from None

    monkeypatch.setattr(latentplay.quickstart, "run", full)
    res = cli("quickstart", "--out", tmp_path / "q")
    _one_line_error(res)
    assert res.err == "error: cannot write the outputs: No space left on device\n"

    def bug(**_: object) -> None:
        raise RuntimeError("unexpected pos 704")

    monkeypatch.setattr(latentplay.quickstart, "run", bug)
    with pytest.raises(RuntimeError):
        main(["quickstart", "--out", str(tmp_path / "q")])


def test_ctrl_c_says_interrupted_in_one_line(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C ended a command with exit status 130 and nothing on standard error (a batch
    job's log did not say why it ended); now the one line ``interrupted``."""
    import latentplay.quickstart

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(latentplay.quickstart, "run", interrupted)
    res = cli("quickstart", "--out", tmp_path / "q")
    assert (res.code, res.out, res.err) == (130, "", "interrupted\n")


@pytest.mark.parametrize("scratch", [".report.html.tmp-0123abcd-42-0123abcd", ".report.html.tmp"])
def test_a_path_error_names_the_output_not_its_scratch_file(cli, tmp_path: Path, scratch: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A report into a run on a read-only disk said "cannot use RUN/.report.html.tmp-a30b842f-
    14648-6efc6ff8"; the file it names is the output that scratch file stands for."""
    import latentplay.quickstart

    def read_only(**_: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "q" / scratch))

    monkeypatch.setattr(latentplay.quickstart, "run", read_only)
    res = cli("quickstart", "--out", tmp_path / "q")
    assert res.err == f"error: cannot use {tmp_path / 'q' / 'report.html'}: Read-only file system\n"


def test_a_path_error_about_the_json_beside_a_figure_names_it(cli, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure's JSON (OUT's ``.json``, written first) in a folder that refuses new files was
    no path the user gave: a traceback; it is named in one line."""
    import latentplay.quickstart

    def refused(**_: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted",
                              str(tmp_path / ".s.json.tmp-0123abcd-42-0123abcd"))

    monkeypatch.setattr(latentplay.quickstart, "run", refused)
    res = cli("quickstart", "--out", tmp_path / "s.png")
    assert res.err == f"error: cannot use {tmp_path / 's.json'}: Operation not permitted\n"


def test_seed_check_reaches_every_seeded_command() -> None:
    """Every command with a --seed option refuses a negative one before it runs."""
    from latentplay.cli import _leaves

    for name in COMMANDS:
        for leaf in _leaves(load_command(name)):
            if any(p.name == "seed" for p in leaf.params):
                with pytest.raises(UserError, match="--seed must be at least 0"):
                    leaf.callback(seed=-1)


def test_train_refuses_a_non_empty_out_that_is_no_run(cli, tmp_path: Path) -> None:
    """``train --out`` a folder holding other files wrote the run among them; now it refuses and
    leaves the folder as it was (a store given as --out is not touched)."""
    store = tmp_path / "s"
    assert cli("data", "make", "shapes", "--out", store, "--n", "5").code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("keep")
    before = sorted(p.name for p in store.iterdir())
    for out in (other, store, other / "keep.txt"):
        _one_line_error(cli("train", "vae", "--data", store, "--out", out, "--epochs", "1"))
    assert sorted(p.name for p in other.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in store.iterdir()) == before


def _commands(command):  # noqa: ANN001, ANN202 - click commands
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_texts_survive_rich_markup(name: str) -> None:
    """Help is drawn with rich markup: a bracket such as ``hog[@T]`` or ``NAME[@FIRST]`` is read
    as a markup tag and silently left out of ``--help``, so every help text must come out of
    the markup as written (``\\[`` escapes a bracket)."""
    from rich.text import Text

    for command in _commands(load_command(name)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            assert Text.from_markup(text).plain == text.replace("\\[", "["), (command.name, text)


def test_help_quotes_in_single_backticks() -> None:
    """The help printed reStructuredText's double backticks as typed (metrics concepts showed
    its metrics.json's flag between two pairs); the other commands quote with one."""
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            for text in [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]:
                assert "``" not in text, (command.name, text)


def test_an_option_states_its_default_as_typer_does() -> None:
    """Options whose default is worked out when they are left out state it in their help as
    Typer shows the others, `default: X` (half of them wrote `(default 0)`, half `(default: 0)`)."""
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            for param in command.params:
                assert not re.search(r"\bdefault [^\s]", getattr(param, "help", None) or ""), (
                    command.name, param.name, param.help)


def test_a_command_without_sub_commands_names_none_in_its_usage(cli) -> None:  # noqa: ANN001
    """``embed`` is a Typer app of one callback: its usage said ``{store} COMMAND [ARGS]...``."""
    line = next(x for x in cli("embed", "--help").out.splitlines() if "Usage:" in x)
    assert "latentplay embed" in line and "COMMAND" not in line
    assert "COMMAND" in next(x for x in cli("data", "--help").out.splitlines() if "Usage:" in x)


def test_later_paragraphs_of_a_help_are_not_wrapped_twice(cli) -> None:  # noqa: ANN001
    """Typer prints the line breaks of a docstring's later paragraphs as written, and the
    terminal wraps those lines again; the commands' help has each paragraph on one line."""
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            assert all("\n" not in p for p in (command.help or "").split("\n\n")), command.name
    text = " ".join(cli("leakage", "run", "--help").out.split())
    assert "probed on sprites in two opposite corners (target: which corner)" in text
    lines = [x.strip(" │") for x in cli("leakage", "run", "--help").out.splitlines()]
    start = next(i for i, x in enumerate(lines) if x.startswith("dsprites is"))
    assert len(lines[start]) > 70 and len(lines[start + 1]) > 70


def test_no_help_is_cut_short_at_80_columns(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """Rich cuts a word wider than its column with an ellipsis: at 80 columns `match run` listed
    `--propensity-covaria…` and `attribute=TREATED,CONT…`, and `metrics disentanglement` its
    metrics up to `modular…`, none of which a reader could type."""
    monkeypatch.setenv("COLUMNS", "80")
    assert "\u2026" not in cli("--help").out
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            path = [name, *([command.name] if command.name != name else [])]
            text = cli(*path, "--help").out
            assert max(map(len, text.splitlines())) <= 80 and "\u2026" not in text, (path, text)


def test_a_flag_on_by_default_says_so_and_names_its_off_switch(cli) -> None:  # noqa: ANN001
    """The --no-X of a flag on by default is not listed beside it (its column cut `match run`'s
    longer option names short): its help names it, and says the flag is the default."""
    flags = 0
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            for param in command.params:
                if getattr(param, "is_flag", False) and param.default and param.secondary_opts:
                    flags += 1
                    assert "the default" in param.help and param.secondary_opts[0] in param.help, (
                        command.name, param.help)
    assert flags >= 2   # data measure --detect, match run --scale
    text = " ".join(cli("match", "run", "--help").out.replace("\u2502", " ").split())
    assert "--propensity-covariates" in text and "(the default; --no-scale: take" in text
    assert "[default: True]" not in text and "[default: scale]" not in text


@pytest.fixture(scope="module")
def pix_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 synthfaces with a 3-d pixels-pca column ``pix``."""
    from latentplay import sources
    from latentplay.embed.column import embed_store

    path = sources.make("synthfaces", tmp_path_factory.mktemp("pix") / "faces", n=30).path
    embed_store(path, "pixels-pca", "pix", options=["dim=3"], progress=False)
    return path


@pytest.mark.parametrize("args", [
    ["audit", "sample-groups", "{tmp}/run", "--data", "{store}", "--by", "gender", "--out", "{tmp}/g",
     "--n", "201"],
    ["data", "grid", "{store}", "--out", "{tmp}/g.png", "--per-row", "201"]])
def test_faces_per_row_are_capped_as_a_figure_holds_them(cli, pix_store: Path, tmp_path: Path,  # noqa: ANN001
                                                          args: list[str]) -> None:
    """audit sample-groups --n 100000 fitted and drew every group's faces and then failed with
    matplotlib's traceback (an image 10,800,192 pixels wide); the latent figures cap at 200."""
    r = cli(*(a.format(store=pix_store, tmp=tmp_path) for a in args))
    _one_line_error(r)
    assert "must be at most 200 (a figure shows at most 200 columns of faces), got 201" in r.err


@pytest.mark.parametrize(("args", "message"), [
    # each said "n", "upsample", "batch size", "cross-validation", "fallback", "template" or
    # "device": no option of that name
    (["data", "make", "synthfaces", "--out", "{tmp}/new", "--n", "0"], "n (--n) must be at least 1, got 0"),
    (["data", "measure", "{store}", "--upsample", "9"], "upsample (--upsample) must be in [-1, 4], got 9"),
    (["data", "measure", "{store}", "--batch-size", "0"], "batch_size (--batch-size) must be at least 1"),
    (["data", "align", "{store}", "--out", "{tmp}/a", "--upsample", "5"],
     "upsample (--upsample) must be in [-1, 4], got 5"),
    (["embed", "{store}", "--with", "pixels-pca", "--column", "q", "--batch-size", "0"],
     "batch_size (--batch-size) must be at least 1, got 0"),
    (["latent", "direction", "{store}", "--attribute", "gender", "--column", "pix", "--out",
      "{tmp}/d.json", "--cv", "1"], "cv (--cv, the cross-validation folds) must be at least 2, got 1"),
    (["data", "measure", "{store}", "--fallback", "zero"],
     "fallback (--fallback) must be one of median, whole, nan, got 'zero'"),
    (["data", "align", "{store}", "--out", "{tmp}/a", "--template", "mtcnn"],
     "template (--template) must be one of dlib, arcface, ffhq, got 'mtcnn'"),
    (["data", "align", "{store}", "--out", "{tmp}/a", "--device", "tpu"],
     "--device must be cpu, cuda or auto, got 'tpu'"),
    (["data", "measure", "{store}", "--detector", "cnn", "--device", "tpu"],
     "--device must be cpu, cuda or auto, got 'tpu'"),
    # one message named every limit of several options at once, and no value
    (["audit", "sample-groups", "{tmp}/run", "--data", "{store}", "--by", "gender", "--out", "{tmp}/g",
      "--measure", "0"], "--measure must be at least 1, got 0"),
    (["match", "simulate", "--out", "{tmp}/m", "--relevant", "0"], "--relevant must be at least 1, got 0"),
    (["match", "simulate", "--out", "{tmp}/m", "--n", "5"], "--n must be at least 10, got 5"),
    (["import", "stylegan2", "{tmp}/g.pkl", "--out", "{tmp}/i", "--w-samples", "1"],
     "w_samples (--w-samples) must be at least 2, got 1"),
])
def test_an_option_out_of_range_is_named_as_typed(cli, pix_store: Path, tmp_path: Path,  # noqa: ANN001
                                                  args: list[str], message: str) -> None:
    r = cli(*(a.format(store=pix_store, tmp=tmp_path) for a in args))
    _one_line_error(r)
    assert r.err.startswith(f"error: {message}"), r.err


def test_flags_are_shown_without_a_type(cli) -> None:  # noqa: ANN001
    """Every flag read ``<bool>`` in the help, as if it took a value (``--json true`` is refused);
    options that take a value keep their type."""
    assert "<bool>" not in cli("--help").out and "<bool>" not in cli("quickstart", "--help").out
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            path = [name, *([command.name] if command.name != name else [])]
            text = cli(*path, "--help").out
            assert "<bool>" not in text, path
    assert "<str>" in cli("data", "info", "--help").out


def test_dash_o_is_an_option_of_the_network_wherever_such_options_exist() -> None:
    """`-o key=value` sets embedder and network options across data, embed and audit; `audit
    versus -o dim=64` wrote a folder named `dim=64`. Only `report`, which takes no options,
    keeps -o for its --out."""
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            for param in command.params:
                if "-o" in getattr(param, "opts", []) and name != "report":
                    assert "--option" in param.opts, (name, command.name, param.opts)


@pytest.mark.parametrize("path, listed, unlisted", [
    (("latent", "probe"), ["--column", "--attribute", "--overwrite"],
     ["--columns", "--attributes", "--no-overwrite"]),
    (("viz", "projection"), ["--column"], ["--embedding"]),
    (("audit", "sample-groups"), ["--by"], ["--attribute"]),
    (("audit", "versus"), ["--names"], ["--name "]),
    (("audit", "annotator"), ["--test-fraction"], ["--test-size"]),
    (("data", "export"), ["--out"], ["--to "]),
    (("audit", "verify"), ["--persons"], ["--identity"]),
    (("audit", "counterfactual"), ["--alphas"], ["--steps "]),
    (("match", "run"), ["--replace", "--scale", "--no-scale"], ["--no-replace", "--no-verify"]),
])
def test_help_lists_each_option_under_its_one_name(cli, path: tuple[str, ...], listed: list[str],
                                                   unlisted: list[str]) -> None:  # noqa: ANN001
    """One concept, one name in every command (--column, --by, --names, --test-fraction,
    --out, --persons, --alphas); an option's earlier name still runs but is not listed, nor
    the --no-X of a flag off by default (audit, probe and match listed --overwrite
    --no-overwrite where the other commands list --overwrite)."""
    text = cli(*path, "--help").out
    for name in listed:
        assert name in text, (path, name)
    for name in unlisted:
        assert name not in text, (path, name)


@pytest.mark.parametrize(("args", "offered"), [
    (["viz", "projection", "s", "--embeding", "z"], "(Possible options: --column, --seed)"),
    (["audit", "annotator", "s", "--test-siz", "0.3"], "(Possible options: --test-fraction)"),
    (["audit", "verify", "s", "--identit", "x"], "(Possible options: --persons)"),
    (["data", "export", "s", "--t", "e"], "(Possible options: --out)"),
])
def test_a_misspelt_option_is_answered_with_the_names_the_help_lists(cli, args: list[str],  # noqa: ANN001
                                                                     offered: str) -> None:
    """The parser offered an option's earlier name (`--embeding`: `--embedding`), which the help
    no longer lists, or both names of one option (`--test-fraction, --test-size`)."""
    r = cli(*args)
    _one_line_error(r)
    assert f"No such option: {args[3]} {offered} (see `latentplay {args[0]} {args[1]} --help`)" in r.err


@pytest.mark.parametrize(("args", "parsed"), [
    (["latent", "probe", "s", "--columns", "a,b", "--attributes", "x", "--out", "o"],
     {"columns": "a,b", "attributes": "x"}),
    (["viz", "projection", "s", "--embedding", "e", "--out", "o"], {"embedding": "e"}),
    (["audit", "sample-groups", "r", "--data", "d", "--attribute", "a", "--out", "o"], {"attribute": "a"}),
    (["audit", "versus", "a", "b", "--name", "x,y", "--out", "o"], {"name": "x,y"}),
    (["audit", "annotator", "s", "--attribute", "a", "--out", "o.npz", "--test-size", "0.3"],
     {"test_size": 0.3}),
    (["data", "export", "s", "--to", "o"], {"to": Path("o")}),
    (["audit", "verify", "s", "--column", "z", "--identity", "person", "--out", "o"], {"column": "z"}),
    (["audit", "counterfactual", "r", "--data", "d", "--classifier", "c.npz", "--direction", "x.json",
      "--steps=-1,1", "--out", "o"], {"steps": "-1,1"}),
    (["match", "run", "s", "--treatment", "t", "--covariates", "c", "--out", "o", "--overwrite",
      "--no-overwrite"], {"overwrite": False}),
])
def test_earlier_option_names_still_parse(args: list[str], parsed: dict[str, object]) -> None:
    """Scripts written with an option's earlier name keep working: its value reaches the option."""
    command, parent, rest = load_command(args[0]), None, args[1:]
    if isinstance(command, TyperGroup):
        parent = command.make_context(args[0], [rest[0]], resilient_parsing=True)
        command, rest = command.commands[rest[0]], rest[1:]
    params = command.make_context(command.name, rest, parent=parent).params
    assert {name: params[name] for name in parsed} == parsed


def test_a_store_argument_is_named_store_in_every_usage() -> None:
    """Usage lines named a store {path} (data), {data} (latent direction, audit verify) or
    {store} (embed, match run); every positional store is {store}."""
    for name in COMMANDS:
        for command in _commands(load_command(name)):
            for param in command.params:
                words = (getattr(param, "help", None) or "").lower().split()[:3]
                if param.param_type_name == "argument" and "store" in words:
                    assert (param.metavar or param.name) == "store", (name, command.name, param.name)


def test_characters_the_font_lacks_are_named_in_one_warning_line(cli, tmp_path: Path) -> None:
    """Matplotlib warned once per character and place drawn: three class names in Chinese
    printed 60 lines of ``UserWarning: Glyph ... missing from font(s) DejaVu Sans``."""
    import numpy as np

    from latentplay import store as st
    from latentplay.store import Attribute, Provenance, Schema

    names = ["鹦鹉", "鸵鸟", "鹌鹑"]   # characters DejaVu Sans lacks, drawn nowhere else
    schema = Schema(attributes=[Attribute("bird", "categorical", names=names),
                                Attribute("side", "categorical", names=["l", "r"])],
                    image_column=None, provenance=Provenance(source="test", converter="test"))
    st.build([{"bird": np.arange(60) % 3, "side": np.arange(60) // 30}], schema, tmp_path / "s")
    r = cli("data", "bias", tmp_path / "s", "--by", "side", "--of", "bird", "--out", tmp_path / "b.png")
    assert r.code == 0, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "UserWarning" not in r.err, r.err
    assert lines[0].startswith("warning: the figures' font (DejaVu Sans) lacks 6 characters"), r.err
    assert set(lines[0].split(": ")[-1].split(" (")[0].split()) == set("".join(names))


def test_matplotlib_layout_warnings_come_once_and_others_as_they_are(capsys) -> None:
    import warnings

    import matplotlib.pyplot as plt

    from latentplay.cli import figure_warnings_gathered
    from latentplay.viz.style import tight_layout

    with pytest.warns(UserWarning, match="^another$"):
        shown = warnings.showwarning
        with figure_warnings_gathered():
            for _ in range(2):   # labels far taller than the figure
                fig, ax = plt.subplots(figsize=(2, 1))
                ax.set_ylabel("\n".join("tall" for _ in range(40)))
                tight_layout(fig)
                plt.close(fig)
            warnings.warn("another", UserWarning, stacklevel=1)
            assert capsys.readouterr().err == ""   # said when the block ends
        assert warnings.showwarning is shown      # later warnings shown as before
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("warning: 2 figures drawn with labels that may overlap: "
                               "Tight layout not applied."), lines


def test_the_missing_characters_line_names_twenty_and_counts_the_rest() -> None:
    from latentplay.cli import missing_glyphs_line

    many = {chr(0x4E00 + k): {"DejaVu Sans"} for k in range(25)}
    line = missing_glyphs_line(many)
    assert line.startswith("warning: the figures' font (DejaVu Sans) lacks 25 characters")
    assert " ".join(chr(0x4E00 + k) for k in range(20)) + " and 5 more (" in line
    assert chr(0x4E00 + 20) not in line
    one = missing_glyphs_line({"鹦": {"DejaVu Sans", "Other"}})
    assert "(DejaVu Sans, Other) lacks 1 character of their text, drawn as boxes: 鹦 (" in one
