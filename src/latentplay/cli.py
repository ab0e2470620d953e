"""The ``latentplay`` command: one Typer app; each command group lives with its package.

Commands are imported on first use: ``latentplay --help`` lists them from :data:`COMMANDS`
without importing any package, and ``latentplay match run ...`` imports only the match
package. Mistakes a user can cause raise :class:`~latentplay.errors.UserError`; :func:`main`
prints them as one line on stderr and exits with status 2.
"""

from __future__ import annotations

import errno
import functools
import importlib
import inspect
import io
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from latentplay import cliargs
from latentplay.cliargs import at_least
from latentplay.errors import UserError, full_disk, full_disk_line

# command name -> ("module:attribute", one-line help); the attribute is a Typer app (a group
# of sub-commands) or a Typer command function.
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("latentplay.store.cli:app",
             "Stores (datasets on disk): make, convert, align, generate, measure, predict, info, "
             "subset, bin, combine, regroup, order, split, persons, concat, import-vectors, bias, "
             "grid, export."),
    "embed": ("latentplay.embed.cli:app",
              "Add an embedding column: pixels-pca, dlib, vae:RUN, invert:RUN, clip:PATH, "
              "fisher:STORE, onnx:PATH, concepts:DIR."),
    "viz": ("latentplay.viz.cli:app", "Figures: t-SNE / UMAP / PCA projections per attribute."),
    "train": ("latentplay.train.cli:train_command",
              "Train MODEL on --data into --out, or continue a run with --resume RUN."),
    "export": ("latentplay.train.cli:export_command",
               "Export a trained run's encoder and decoder (or generator) to ONNX."),
    "import": ("latentplay.train.cli:import_command",
               "Import a pretrained generator (a StyleGAN2 or StyleGAN3 checkpoint) as a run directory."),
    "latent": ("latentplay.latent.cli:app",
               "Sample, sweep, traverse, force, interpolate, blend, mix, invert latent codes; fit "
               "directions and edit along them, probe, histograms, StyleSpace channels."),
    "metrics": ("latentplay.metrics.cli:app",
                "Disentanglement metrics (disentanglement_lib defaults), also tracked over a run's "
                "checkpoints; concept models (CBM, GlanceNet) trained and scored on shapes or on "
                "a store's faces, with their concept leakage."),
    "leakage": ("latentplay.metrics.leakage_cli:app",
                "Concept-leakage tests of VAE, CBM and GlanceNet."),
    "audit": ("latentplay.audit.cli:app",
              "Annotate generated faces and compare them with a dataset; fidelity, versus, sample "
              "groups, face verification, detection, accuracy, reconstruction and counterfactuals "
              "per group."),
    "match": ("latentplay.match.cli:app",
              "Match units across an attribute; balance table, love plot; simulated stores."),
    "report": ("latentplay.report.cli:report_command",
               "Write one self-contained HTML report of a run directory or store."),
    "app": ("latentplay.app.cli:app_command",
            "Serve the Gradio playground for a trained run and/or a store."),
}


@functools.cache
def load_command(name: str) -> TyperCommand | TyperGroup:
    """The Click command of ``latentplay NAME``, importing its module; built once per process
    (building a group of many commands takes tens of milliseconds, every call of :func:`main`)."""
    target, help_text = COMMANDS[name]
    module, attribute = target.split(":")
    obj: Any = getattr(importlib.import_module(module), attribute)
    command: TyperCommand | TyperGroup
    if isinstance(obj, typer.Typer):
        command = typer.main.get_group(obj)
        command.help = command.help or help_text
        for sub in command.commands.values():  # listings show a docstring's first paragraph
            if sub.short_help is None and sub.help:  # as one line, as wrapped in the source
                sub.short_help = " ".join(sub.help.split("\n\n")[0].split())
        if not command.commands:  # a callback alone (embed): its usage names no COMMAND
            command.subcommand_metavar = ""
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        command = typer.main.get_command(single)  # one command and no callback: the command
    command.name = name
    for leaf in _leaves(command):
        if leaf.help:
            leaf.help = joined_paragraphs(leaf.help)
        _flags_without_type(leaf)
        _one_name_each(leaf)
        if leaf.callback is not None and any(p.name == "seed" for p in leaf.params):
            leaf.callback = _seed_checked(leaf.callback)
    return command


def _no_value_shown(param: Any) -> Any:
    """``param`` with no type beside it in the help when it is a flag (Typer shows ``<bool>``,
    as if it took a value); returned for chaining."""
    if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""
    return param


def _flags_without_type(command: Any) -> Any:
    """``command`` (a click command) with its flags and ``--help`` shown without a type."""
    if not getattr(command, "_flags_untyped", False):
        for param in command.params:
            _no_value_shown(param)
        make = command.get_help_option
        command.get_help_option = lambda ctx: _no_value_shown(make(ctx))
        command._flags_untyped = True
    return command


def _one_name_each(command: Any) -> Any:
    """``command`` (a click command) with each option listed in its help under one name, the
    first declared: its other long names (an earlier name, kept so that scripts still run) and
    a flag's ``--no-X`` are accepted but not listed (a flag on by default says so and names its
    ``--no-X`` in its help: listed, the ``--no-X`` took a column of its own that cut longer
    option names short at 80 columns); returned for chaining."""
    draw = command.format_help

    def format_help(ctx: Any, formatter: Any) -> None:
        declared = [(p, p.opts, p.secondary_opts, p.show_default) for p in command.params]
        for param, opts, _, _ in declared:
            longs = [o for o in opts if o.startswith("--")]
            param.opts = [o for o in opts if not o.startswith("--") or o == longs[0]]
            if getattr(param, "is_flag", False):
                param.secondary_opts = []
                param.show_default = False  # without its --no-X Typer shows the default as True
        try:
            draw(ctx, formatter)
        finally:
            for param, opts, secondary, show in declared:
                param.opts, param.secondary_opts, param.show_default = opts, secondary, show

    command.format_help = format_help
    return command


def listed_names(command: Any, names: list[str]) -> list[str]:
    """``names`` (the options the parser offers for a misspelt one) with an option's earlier
    name, accepted but not listed (:func:`_one_name_each`), made the name its help lists, once:
    ``--embeding`` was answered with ``--embedding`` alone, not viz projection's ``--column``."""
    listed = {name: longs[0] for param in command.params
              if (longs := [o for o in getattr(param, "opts", []) if o.startswith("--")])
              for name in longs}
    return list(dict.fromkeys(listed.get(name, name) for name in names))


def joined_paragraphs(text: str) -> str:
    """``text`` (a docstring) with each paragraph on one line: Typer joins the first paragraph's
    lines but prints the others' line breaks as written, and the terminal wraps those lines
    again into ragged ones."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


def _leaves(command: Any) -> Iterator[Any]:
    """``command`` and every sub-command below it (click commands)."""
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _leaves(sub)


def _seed_checked(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` refusing a negative ``--seed`` as a :class:`UserError` (NumPy and PyTorch
    take seeds of 0 and up only, and otherwise fail with a traceback)."""

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        seed = kwargs.get("seed")
        if isinstance(seed, int):
            at_least(seed, 0, "--seed")
        return callback(*args, **kwargs)

    return checked


# an operating-system error about a path the user named (or a file in it): an output folder
# that cannot be made or written (read-only, missing parent, a file in the way)
_PATH_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR,
                errno.ENAMETOOLONG, errno.EEXIST}


def _stop_if_full(exc: BaseException) -> None:
    """End with one ``error:`` line and exit status 2 when a full disk, quota or file-size
    limit (:func:`~latentplay.errors.full_disk`) caused ``exc``; return otherwise."""
    full = full_disk(exc)
    if full is not None:
        print(f"error: {full_disk_line(full)}", file=sys.stderr)
        raise SystemExit(2) from None


def _named_path(filename: Any, args: list[str]) -> Path | None:
    """The path to name for an operating-system error about ``filename`` when it is one the
    user gave in ``args`` (an argument, or the value of ``--opt=VALUE`` / ``key=VALUE``), a
    file in it or a folder above it, a file written beside it under the same name (a figure's
    ``.json``), or a hidden scratch sibling the command writes first (``.NAME.build-*``,
    ``.NAME.tmp-*``: then the given path); None for any other path (a bug in latentplay,
    which keeps its traceback)."""
    written = Path(filename).absolute()
    found = _output_of(written)
    for text in {part for arg in args for part in (arg, arg.partition("=")[2]) if part}:
        given = Path(text).absolute()
        if found == given or given in found.parents or found in given.parents:
            return found
        if found.parent == given.parent and found.stem == given.stem:
            return found
        if written.parent == given.parent and written.name.startswith(f".{given.name}."):
            return given
    return None


def _output_of(path: Path) -> Path:
    """``path``, or the output it stands for when it is a hidden scratch file or folder
    written first (``.NAME.tmp-*``, ``.NAME.build-*``, ``.NAME.tmp``, ...: NAME beside it)."""
    from latentplay.outputs import SCRATCH_KINDS

    match = re.fullmatch(rf"\.(.+)\.(?:{'|'.join(SCRATCH_KINDS)})(?:-.*)?", path.name)
    return path.with_name(match[1]) if match else path


class LazyGroup(TyperGroup):
    """The root group: the commands of :data:`COMMANDS` are imported when one is run or its own
    help is asked for; the root help lists them by their one-line help alone."""

    listing = False  # True while the root help is drawn

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        if cmd_name not in COMMANDS:
            found = super().get_command(ctx, cmd_name)   # quickstart
            return None if found is None else _flags_without_type(found)
        if self.listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        """As Click resolves it; a misspelt command is answered with the close names among
        all of :data:`COMMANDS` (Typer looks among those imported so far)."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:   # Typer's own Click's UsageError
            close = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            message = getattr(exc, "message", None)
            if close and isinstance(message, str) and "Did you mean" not in message:
                exc.message = (f"{message.rstrip('.')}. Did you mean "
                               f"{', '.join(map(repr, close))}?")
            raise

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        _flags_without_type(self)
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    name="latentplay",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # every command's contexts inherit it
)


def _print_version(value: bool) -> None:
    """``--version``: print it and exit before any command runs."""
    if value:
        from latentplay import __version__

        print(f"latentplay {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Study what generative latent spaces learn about labelled image collections."""


@app.command()
def quickstart(
    out: str = typer.Option("runs/quickstart", help="Directory for everything it makes."),
    n: int = typer.Option(2000, help="Number of synthetic faces."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT/synthfaces even when "
                                   "columns were added to it or it is not a quickstart store "
                                   "(an unchanged one is always remade)."),
) -> None:
    """Build the default dataset (synthfaces), summarise it and draw it."""
    from latentplay.quickstart import run

    run(out=out, n=n, overwrite=overwrite)


def _escape_what_output_cannot_encode() -> None:
    """Standard output and error write the characters their encoding lacks (a class named
    日本 printed to a Windows pipe or in a Latin-1 locale) as backslash escapes instead of
    ending the command with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _home_expanded(arg: str) -> str:
    """``arg`` with a leading ``~`` (``~``, ``~/...``; also after ``--opt=``) made the home
    folder: shells leave ``--out=~/x`` as it is, and on Windows they never expand ``~``, so the
    command wrote a folder named ``~`` in the current one."""
    option, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    if value == "~" or value.startswith(("~/", f"~{os.sep}")):
        return f"{option}{eq}{os.path.expanduser(value)}"
    return arg


MISSING_GLYPH = re.compile(r"Glyph (\d+) \(.*\) missing from font\(s\) (.+)\.")
"""Matplotlib's warning of a character its font lacks (drawn as a box): its code point, the font."""
NOT_TIGHTENED = "Tight layout not applied."
"""How matplotlib's warning of a figure whose labels leave its axes no room begins."""
GLYPHS_NAMED = 20
"""At most this many of the characters the figures' font lacks are named in the warning."""


@contextmanager
def figure_warnings_gathered() -> Iterator[None]:
    """Show matplotlib's warnings about the figures drawn in the block as short
    :func:`~latentplay.outputs.warn` lines when it ends: one naming the characters the font
    lacks (matplotlib warns once per character and place drawn: a class name in Chinese took
    dozens of lines) and one per kind of layout left untightened; any other warning is shown
    as it would be."""
    missing: dict[str, set[str]] = {}   # character -> the fonts that lack it
    untightened: dict[str, int] = {}    # matplotlib's message -> how many times
    show = warnings.showwarning

    def gather(message: Warning | str, category: type[Warning], filename: str, lineno: int,
               file: Any = None, line: str | None = None) -> None:
        glyph = MISSING_GLYPH.fullmatch(str(message))
        if glyph:
            missing.setdefault(chr(int(glyph[1])), set()).add(glyph[2])
        elif str(message).startswith(NOT_TIGHTENED):
            untightened[str(message)] = untightened.get(str(message), 0) + 1
        else:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = gather
    try:
        yield
    finally:
        warnings.showwarning = show
        if missing or untightened:
            from latentplay.outputs import warn

            if missing:
                warn(missing_glyphs_line(missing))
            for message, times in untightened.items():
                warn(f"warning: {'a figure' if times == 1 else f'{times} figures'} drawn with "
                     f"labels that may overlap: {message}")


def missing_glyphs_line(missing: dict[str, set[str]]) -> str:
    """The warning line naming the characters ``missing`` (each -> the fonts that lack it, in
    the order they were met) that the figures draw as boxes: at most :data:`GLYPHS_NAMED`."""
    from latentplay.outputs import first_named

    fonts = sorted(set().union(*missing.values()))
    return (f"warning: the figures' font ({', '.join(fonts)}) lacks {len(missing)} character"
            f"{'s' if len(missing) > 1 else ''} of their text, drawn as boxes: "
            f"{first_named(list(missing), GLYPHS_NAMED, ' ')} (a font with them as matplotlib's "
            f"font.family in a matplotlibrc draws them)")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app; a user's mistake (a :class:`UserError`, a
    missing, unknown or malformed option, a path given that the system refuses, such as an
    --out in a read-only place, or a write that a full disk or a file-size limit stopped) ends
    with one ``error: ...`` line and exit status 2; Ctrl-C with the line ``interrupted`` and
    exit status 130."""
    args = [_home_expanded(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files: no window (the library leaves it)
    # OpenMP threads (torch's, the BLAS's) sleep between parallel regions instead of spinning:
    # spinning threads on cores that other work shares slow training 10-20x; set before torch loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _escape_what_output_cannot_encode()
    cliargs.COMMAND_LINE = args   # what made the outputs, for their records
    try:
        with figure_warnings_gathered():
            code = app(args=args, prog_name="latentplay", standalone_mode=False)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as exc:
        named = _named_path(exc.filename, args) if isinstance(exc.filename, str) else None
        if named is not None and exc.errno in _PATH_ERRNOS:
            print(f"error: cannot use {named}: {exc.strerror}", file=sys.stderr)
            raise SystemExit(2) from None
        _stop_if_full(exc)
        raise
    except typer.Abort as exc:
        if isinstance(exc.__cause__, EOFError):  # click's word for an EOFError: no command
            # prompts, so it is a file read to its end too soon, e.g. an empty .npy or .npz
            print(f"error: an input file is empty or cut short ({str(exc.__cause__) or 'end of file'})",
                  file=sys.stderr)
            raise SystemExit(2) from None
        print("aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except typer.TyperException as exc:  # the parser's usage errors
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            if ctx is not None and getattr(exc, "possibilities", None):  # a misspelt option
                exc.possibilities = listed_names(ctx.command, exc.possibilities)
            print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except Exception as exc:  # another library's own error after a full disk stopped its write
        _stop_if_full(exc)
        raise
    finally:
        cliargs.COMMAND_LINE = None
    if code == 130:  # Typer's exit status for a KeyboardInterrupt (Ctrl-C, SIGINT)
        print("interrupted", file=sys.stderr)
    if isinstance(code, int) and code:
        raise SystemExit(code)
