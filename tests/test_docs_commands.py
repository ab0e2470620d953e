"""Every ``latentplay ...`` command line in the documentation still parses against the real CLI.

Guards against docs drifting from the CLI: renamed or removed options and sub-commands, missing
required arguments or options, and values of the wrong type. Each documented command line is
parsed with Click's ``make_context`` (what ``latentplay`` does before it runs a command), which
raises on all of these but never calls a command's callback, so nothing is trained or written.

Command lines come from fenced shell blocks (```bash / ```sh / ```console / bare ```) and from
inline code spans in prose that hold a whole command. Doc conventions are undone first: optional
groups such as ``[--json]`` or ``vae_mu[,smile]`` lose their brackets, ALL-CAPS placeholders
(``STORE``, ``RUN``, ``N``) become ``1`` (valid for any int, float, str or path parameter), and
``...`` becomes a dummy value after an option and is dropped elsewhere (``[key=value ...]``).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from latentplay.cli import app

try:  # Typer >= 0.29 parses with its own copy of Click
    from typer._click.exceptions import UsageError
except ImportError:  # older Typer: Click itself
    from click.exceptions import UsageError

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "configs/models/README.md",
        ROOT / "DEVELOPERS.md"]

FENCE = re.compile(r"^\s*```\s*(\S*)")
SHELL_LANGS = {"", "bash", "sh", "shell", "console"}
INLINE = re.compile(r"`(latentplay [^`]+)`")
OPTIONAL = re.compile(r"(?:(?<=\s)|^)\[([^\[\]]*)\]|\[(,[^\[\]]*)\]")  # [--json], ANN[,ANN2]
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*")
SEPARATORS = {"&&", "||", ";", "|"}


def _commands(text: str) -> list[list[str]]:
    """Shell text -> the ``latentplay`` commands in it, each as tokens (comments dropped)."""
    text = OPTIONAL.sub(lambda m: m.group(1) or m.group(2), text)
    tokens = shlex.split(text, comments=True)
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token in SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s[:1] == ["latentplay"]]


def extract(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line number, command text, tokens)`` for every documented command in ``path``."""
    found: list[tuple[int, str, list[str]]] = []
    prose: list[str] = []  # the file with fenced blocks blanked, so line numbers still match
    fence: str | None = None
    pending: tuple[int, str] | None = None  # a backslash-continued line being joined
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if match := FENCE.match(line):
            fence = match.group(1) if fence is None else None
            prose.append("")
            continue
        if fence is None:
            prose.append(line)
            continue
        prose.append("")
        if fence not in SHELL_LANGS:
            continue
        text = line.strip().removeprefix("$ ")
        start, text = (pending[0], pending[1] + " " + text) if pending else (number, text)
        if text.endswith("\\"):
            pending = (start, text[:-1])
            continue
        pending = None
        found += [(start, shlex.join(tokens), tokens) for tokens in _commands(text)]
    text = "\n".join(prose)
    for match in INLINE.finditer(text):
        span = " ".join(match.group(1).split())
        number = text.count("\n", 0, match.start()) + 1
        found += [(number, shlex.join(tokens), tokens) for tokens in _commands(span) if _is_whole(tokens)]
    return found


def _is_whole(tokens: list[str]) -> bool:
    """A span is a whole command, not just a name such as `latentplay match run`, when it
    carries at least one argument or option after the (sub-)command names."""
    command = typer.main.get_command(app)
    rest = tokens[1:]
    while isinstance(command, TyperGroup) and rest:
        sub = command.get_command(typer.Context(command), rest[0])
        if sub is None:
            break
        command, rest = sub, rest[1:]
    return bool(rest)


def _args(tokens: list[str]) -> list[str]:
    """Replace placeholders: ALL-CAPS -> ``1``; ``...`` -> a value after an option, else dropped."""
    args: list[str] = []
    for token in tokens[1:]:
        if token == "...":
            if args and args[-1].startswith("-"):
                args.append("x")
        else:
            args.append("1" if PLACEHOLDER.fullmatch(token) else token)
    return args


def parse(args: list[str]) -> typer.Context:
    """Parse ``latentplay ARGS`` as ``TyperGroup.invoke`` would, without invoking any callback."""
    command = typer.main.get_command(app)
    name, parent = "latentplay", None
    while True:
        ctx = command.make_context(name, args, parent=parent)
        if not isinstance(command, TyperGroup):
            return ctx
        rest = [*ctx._protected_args, *ctx.args]  # what follows the group's own parameters
        if not rest:
            if not command.invoke_without_command:
                ctx.fail("Missing command.")
            return ctx
        name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command, parent = sub, ctx


CASES = [(str(path.relative_to(ROOT)), number, text, tokens)
         for path in DOCS if path.exists() for number, text, tokens in extract(path)]


@pytest.mark.parametrize(("doc", "line", "text", "tokens"), CASES,
                         ids=[f"{doc}:{line}" for doc, line, _, _ in CASES])
def test_documented_command_parses(doc: str, line: int, text: str, tokens: list[str]) -> None:
    error = ""
    try:
        parse(_args(tokens))
    except typer.Exit as exc:  # --help
        assert exc.exit_code == 0, f"{doc}:{line}: {text}"
    except UsageError as exc:
        error = exc.format_message()
    if error:
        pytest.fail(f"{doc}:{line}: {text}\n  -> {error}", pytrace=False)


def test_extraction_finds_the_documented_commands() -> None:
    per_file = {doc: sum(1 for d, *_ in CASES if d == doc) for doc, *_ in CASES}
    assert len(CASES) >= 80, per_file
    assert per_file.get("README.md", 0) >= 40, per_file
    assert set(per_file) >= {"README.md", "docs/audit.md", "docs/latent.md", "docs/matching.md"}


def test_parsing_rejects_bad_lines_without_running_anything(tmp_path: Path) -> None:
    out, missing = tmp_path / "faces", str(tmp_path / "missing")
    # Run, each of these would write `out` or raise UserError on the missing store.
    parse(["data", "make", "synthfaces", "--out", str(out), "--n", "5"])
    parse(["train", "vae", "--data", missing, "--out", str(out)])
    parse(["embed", missing, "--with", "pixels-pca", "--column", "c"])  # a group's callback
    assert not out.exists()
    for bad in (["data", "make", "synthfaces", "--out", str(out), "--no-such-option"],
                ["data", "no-such-command"], ["data", "info"], ["data", "make", "synthfaces", "--n", "x"]):
        with pytest.raises(UsageError):
            parse(bad)
