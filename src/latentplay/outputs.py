"""What every command that writes outputs shares: missing parent directories made, no new
outputs mixed into a non-empty directory nor written inside a store, JSON that accepts NumPy
values, and CSV tables of dict rows."""

from __future__ import annotations

import csv
import errno
import functools
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import cliargs
from latentplay.cliargs import STORE_FILE
from latentplay.errors import UserError
from latentplay.jsontext import parsed_json


def store_around(path: str | Path) -> Path | None:
    """The store (a folder holding ``latentplay.json``) that ``path`` lies inside: the nearest
    of its parent folders that is one, ``..`` and symbolic links followed as writing there
    follows them, named as ``path`` names it where it can; None when none is."""
    path = Path(path)
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a loop of links
        real = Path(os.path.normpath(path.absolute()))
    for folder in real.parents:
        if (folder / STORE_FILE).is_file():
            return _as_named(folder, path)
    return None


def _as_named(folder: Path, path: Path) -> Path:
    """``folder``, a real parent of ``path``, as the parents of ``path`` name it (relative
    when ``path`` is), or as it is when none of them is it."""
    named = folder
    for parent in Path(os.path.normpath(path.absolute())).parents:
        if parent == folder or os.path.realpath(parent) == str(folder):
            named = parent
            break
    if path.is_absolute():
        return named
    try:
        return named.relative_to(Path.cwd())
    except ValueError:
        return named


def refuse_inside_store(path: str | Path) -> None:
    """Refuse to write ``path`` inside a store: every save of the store replaces its folder as
    a whole, and what was written there would be deleted with the old copy."""
    store = store_around(path)
    if store is not None:
        raise UserError(f"{path} is inside the store {store}, which is replaced as a whole on "
                        "every save; write it elsewhere")


def refuse_store(out: str | Path) -> None:
    """Refuse ``out``, where outputs are to be written, when it is a store."""
    if (Path(out) / STORE_FILE).is_file():
        raise UserError(f"{out} is a store; give another directory (outputs written among its "
                        "files would be deleted by its next save)")


def refuse_nonempty(out: str | Path, overwrite: bool | None, *, runs_allowed: bool = False) -> None:
    """Refuse ``out`` as an output directory, before anything is computed: a file, or a
    directory holding files (new outputs would be mixed among them) unless ``overwrite``.

    ``overwrite`` None: the command has no ``--overwrite`` (the message asks for a new
    directory); ``runs_allowed``: a directory holding a run (``config.yaml``) passes, for
    training's own "resume it"."""
    out = Path(out)
    refuse_inside_store(out)
    refuse_store(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"{out} is a file; give a directory")
    if overwrite or (runs_allowed and (out / "config.yaml").exists()) or not any(out.iterdir()):
        return
    hint = ("pass --overwrite (overwrite=True in Python) to write into it" if overwrite is not None
            else "give a new or empty directory (its files would be written among what is there)")
    raise UserError(f"{out} exists and is not empty; {hint}")


def make_parents(path: str | Path, *, store: bool = False) -> Path:
    """``path``, its missing parent directories made (as ``mkdir -p``); a :class:`UserError`
    when one of them is a file, when ``path`` lies inside a store
    (:func:`refuse_inside_store`) or, unless it is a ``store`` to write (replacing one as a
    whole), when it is one: outputs written among a store's files go with its next save."""
    path = Path(path)
    refuse_inside_store(path)
    if not store:
        refuse_store(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"cannot make directory {path.parent}: a file is in the way") from None
    return path


def swap_into_place(tmp: Path, path: Path) -> None:
    """Rename the finished directory ``tmp`` to ``path``, replacing any previous one only once
    the new one is complete (an interruption leaves the previous one, or a stray old copy
    beside it, never a half-written ``path``). Where another writer put its own directory at
    ``path`` between the two renames, that one is moved aside and replaced in turn, as a file
    written later replaces one written earlier (the rename failed, and the copy moved aside
    was kept for good)."""
    olds = []
    while True:
        if path.exists() or path.is_symlink():
            olds.append(path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}"))
            os.replace(path, olds[-1])
        try:
            os.replace(tmp, path)
            break
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not path.is_dir():
                raise
    for old in olds:
        if old.is_symlink():  # a link moved aside: nothing of it to delete
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)


SCRATCH_KINDS = ("build", "tmp", "export", "import", "outputs")
"""Kinds of hidden scratch sibling a writer makes beside its output (``.NAME.KIND-TAG-PID-*``):
a store's build and save (and a file's, :func:`replaced_whole`), a run's export, a checkpoint's
import and a command's output files (:func:`staged_outputs`)."""


@functools.cache
def machine_tag() -> str:
    """8 hex digits naming the process-id space of this process: its host name and, on Linux,
    its PID namespace (containers on one host have their own); a scratch folder's process id is
    checked only where this tag is the same."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except (OSError, AttributeError):
        namespace = ""
    return hashlib.sha1(f"{socket.gethostname()}/{namespace}".encode()).hexdigest()[:8]


def scratch_prefix(path: Path, kind: str) -> str:
    """Name start of this process's hidden scratch sibling of ``path`` (``kind``: one of
    :data:`SCRATCH_KINDS`): ``.NAME.KIND-TAG-PID-``, by which :func:`remove_dead_scratch` tells
    that its writer is gone."""
    return f".{path.name}.{kind}-{machine_tag()}-{os.getpid()}-"


def scratch_sibling(path: Path, kind: str) -> Path:
    """A new name for this process's scratch folder beside ``path`` (see :func:`scratch_prefix`)."""
    return path.with_name(f"{scratch_prefix(path, kind)}{uuid.uuid4().hex[:8]}")


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs in this process's PID space (True when that cannot be
    told: not POSIX, another user's process, an id out of range)."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # e.g. another user's process
        return True
    return True


def _stale(entry: Path, tag: str, pid: str) -> bool:
    """Whether the scratch folder or file ``entry`` (of writer ``pid`` on the machine tagged ``tag``)
    was left by a dead writer of this user on this machine: only such a folder may be removed."""
    if tag != machine_tag() or os.name != "posix" or entry.is_symlink():
        return False
    return entry.lstat().st_uid == os.getuid() and not _running(int(pid))


def remove_dead_scratch(path: Path) -> list[Path]:
    """Remove the scratch siblings of ``path`` that a writer killed mid-write left behind
    (``.NAME.KIND-TAG-PID-*``, :data:`SCRATCH_KINDS`, written by this user on this machine
    whose process no longer runs) and return them; any other writer's -- running, of another
    user or machine -- and everything else beside ``path`` are kept."""
    kinds = "|".join(SCRATCH_KINDS)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:{kinds})-([0-9a-f]{{8}})-([1-9]\d{{0,9}})"
                         r"-[a-z0-9_]{8}")
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and _stale(entry, match[1], match[2]):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            if not entry.exists():
                removed.append(entry)
    return removed


@contextmanager
def written_whole(target: Path, kind: str) -> Iterator[Path]:
    """A new scratch folder beside ``target`` (:func:`scratch_sibling` of ``kind``) to write
    into, swapped into place at ``target`` when the block ends without an error, and removed
    in any case: an interrupted write leaves what was at ``target`` as it was. Scratch folders
    of killed writers are removed first (:func:`remove_dead_scratch`)."""
    make_parents(target)
    remove_dead_scratch(target)
    tmp = scratch_sibling(target, kind)
    try:
        tmp.mkdir()
        yield tmp
        swap_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def staged_outputs(out: Path, owned: Sequence[str] = ()) -> Iterator[Path]:
    """A new scratch folder beside the output directory ``out`` to write a command's files
    in; when the block ends without an error they are moved into ``out`` (made when missing;
    a file or folder of the same name there is replaced), and the folder is removed in any
    case. An interrupted command leaves ``out`` as it was: no file cut short, no earlier
    run's outputs mixed with part of this one's, nothing that makes running it again need
    ``--overwrite``. Scratch folders of killed commands are removed first.

    ``owned``: names (glob patterns) of what the command writes under some settings: those in
    ``out`` that this run did not write (an earlier run's, under ``--overwrite``) are removed
    as the new files move in, and named on standard error; nothing else in ``out`` is."""
    remove_dead_scratch(out)
    tmp = scratch_sibling(out, "outputs")
    try:
        tmp.mkdir()
        yield tmp
        out.mkdir(exist_ok=True)
        _remove_earlier(out, owned, {entry.name for entry in tmp.iterdir()})
        for entry in sorted(tmp.iterdir()):
            if entry.is_dir():
                swap_into_place(entry, out / entry.name)
            else:
                os.replace(entry, out / entry.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_earlier(out: Path, owned: Sequence[str], written: set[str]) -> None:
    """Remove from ``out`` the entries matching a pattern of ``owned`` whose names are not
    among ``written``, saying which on standard error."""
    earlier = sorted({entry for pattern in owned for entry in out.glob(pattern)
                      if entry.name not in written})
    for entry in earlier:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if earlier:
        print(f"removed from {out} what an earlier run wrote and this one does not: "
              f"{', '.join(entry.name for entry in earlier)}", file=sys.stderr)


@contextmanager
def replaced_whole(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new temporary file name beside ``path`` to write the file in (its suffix is not
    ``path``'s: ``np.save`` to an open file, ``savefig`` with its ``format``), renamed to
    ``path`` when the block ends without an error and removed in any case: an interrupted
    write leaves the previous ``path`` as it was, never a file cut short to be read later as
    whole. Missing parents are made (:func:`make_parents`); temporary files that killed
    writers left beside ``path`` are removed first (:func:`remove_dead_scratch`)."""
    path = make_parents(path)
    remove_dead_scratch(path)
    tmp = scratch_sibling(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` whole or not at all
    (:func:`replaced_whole`) and return ``path``."""
    with replaced_whole(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return Path(path)


def save_array(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """``np.save`` ``array`` to ``path`` (``.npy``) whole or not at all (:func:`replaced_whole`)."""
    with replaced_whole(path) as tmp, tmp.open("wb") as fh:
        np.save(fh, array, allow_pickle=False)


def output_dir(out: str | Path, overwrite: bool) -> Path:
    """Make the output directory ``out`` (new, empty, or anything with ``overwrite``; missing
    parents are made) and return it; a :class:`UserError` otherwise."""
    out = Path(out)
    refuse_nonempty(out, overwrite)
    make_parents(out).mkdir(exist_ok=True)
    return out


def made_by() -> dict[str, str]:
    """What made an output, for its record: ``{"latentplay": "0.1.0", "command": "latentplay
    viz tsne data/faces --by gender", "folder": "/home/me/study"}`` (the folder the command ran
    in, which its relative paths name; left out when that folder was removed while it ran);
    the version alone from Python."""
    from latentplay import __version__

    if cliargs.COMMAND_LINE is None:
        return {"latentplay": __version__}
    made = {"latentplay": __version__, "command": shlex.join(["latentplay", *cliargs.COMMAND_LINE])}
    try:
        made["folder"] = os.getcwd()
    except FileNotFoundError:   # removed: the outputs, written elsewhere, are still made
        pass
    return made


def made_by_line(made: dict[str, str]) -> str:
    """The command of a :func:`made_by` record and its folder: ``latentplay viz tsne data/faces
    --by gender (in /home/me/study)``."""
    return made["command"] + (f" (in {made['folder']})" if "folder" in made else "")


def made_by_text(made: dict[str, str] | None = None) -> str:
    """:func:`made_by` (or its record ``made``) as one line for a figure's metadata:
    ``latentplay 0.1.0: latentplay viz tsne data/faces --by gender (in /home/me/study)``."""
    made = made or made_by()
    command = f": {made_by_line(made)}" if "command" in made else ""
    return f"latentplay {made['latentplay']}{command}"


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: NumPy scalars and arrays, and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None when it is missing, NaN or infinite (JSON has no NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)


def finite_or_none_within(value: Any) -> Any:
    """``value`` with every NaN or infinite float in it (nested dicts, lists, arrays) made
    None, as :func:`finite_or_none` does to one number."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return {k: finite_or_none_within(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none_within(v) for v in value]
    if isinstance(value, float | np.floating):
        return finite_or_none(float(value))
    return value


def write_csv(path: str | Path, rows: Sequence[dict[str, Any]], floats: str | None = None,
              fields: Sequence[str] | None = None) -> None:
    """Write dict ``rows`` to ``path`` as CSV, ``fields`` (default: the first row's keys) as
    the header (no rows and no fields: an empty header line); with ``floats`` (a format spec
    such as ``.6g``), float values written in it."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields if fields is not None
                                                     else rows[0] if rows else []))
        writer.writeheader()
        for row in rows:
            writer.writerow(row if floats is None else
                            {k: (format(v, floats) if isinstance(v, float) else v)
                             for k, v in row.items()})


def figure_text(value: float | None, digits: int = 3) -> str:
    """A number for a printed line with ``digits`` decimals; ``-`` for none."""
    return "-" if value is None else f"{value:.{digits}f}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 row"``, ``"1,200 rows"``: ``n`` with ``noun``, in the plural (``noun + "s"`` unless
    given) when ``n`` is not 1."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def p_text(p: float | None, digits: int = 2) -> str:
    """A p-value for text: ``"< 1e-300"`` below that (where doubles underflow towards 0 and
    the digits mean nothing), ``"n/a"`` for none (NaN or None: no test could be made), else
    ``digits`` significant figures."""
    if p is None or not math.isfinite(p):
        return "n/a"
    return f"{p:.{digits}g}" if p >= 1e-300 else "< 1e-300"


def first_named(names: Sequence[str], shown: int, separator: str = ", ") -> str:
    """The first ``shown`` of ``names`` joined by ``separator``, and ``" and N more"`` where
    there are more: a list of thousands of groups or tensors kept to one readable line."""
    more = len(names) - shown
    return separator.join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def gaps_text(gaps: Sequence[str] | None, what: str = "rows") -> str:
    """``" (no rows in monk_3)"``: the classes a trend along an order steps over without
    ``what`` (each still a step), or nothing when there are none."""
    return f" (no {what} in {', '.join(gaps)})" if gaps else ""


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; an unreadable file or one holding something else is a
    :class:`UserError` naming it."""
    try:
        data = parsed_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} does not hold a JSON object")
    return data


LOG_EVERY = 30.0
"""Seconds between the progress lines written where standard error is not a terminal."""


def progress_bar(*columns: Any, show: bool = True) -> Any:
    """A transient rich progress bar (``columns``: rich's, or its default ones) drawn on
    standard error when that is a terminal (or a notebook). A pipe or a file (a batch job's
    log) gets no bar, nor the blank lines a finished bar leaves, but a plain line per task
    every :data:`LOG_EVERY` seconds while it advances (``decoding images: 12,000 of 30,000
    (40%), 31 s``); standard output keeps only the command's lines. ``show`` False: nothing."""
    from rich.console import Console
    from rich.progress import Progress

    if show and not bar_drawn():
        return _logged_progress(*columns)
    return Progress(*columns, console=Console(stderr=True), transient=True, disable=not show)


def advancing(batches: Iterable[Mapping[str, Any]], bar: Any, task: Any,
              column: str = "image") -> Iterator[Mapping[str, Any]]:
    """``batches`` of columns as they are, advancing ``bar``'s ``task`` by each one's rows
    (the length of its ``column``) once it has been taken."""
    for batch in batches:
        yield batch
        bar.advance(task, len(batch[column]))


def _logged_progress(*columns: Any) -> Any:
    """A rich ``Progress`` that draws nothing and writes each advancing task's state to
    standard error every :data:`LOG_EVERY` seconds."""
    import time

    from rich.console import Console
    from rich.progress import Progress, TaskID

    class LoggedProgress(Progress):
        def __init__(self) -> None:
            super().__init__(*columns, console=Console(stderr=True), disable=True,
                             redirect_stdout=False, redirect_stderr=False)
            self.logged: dict[TaskID, float] = {}

        def advance(self, task_id: TaskID, advance: float = 1) -> None:
            super().advance(task_id, advance)
            self.write_line(task_id)

        def update(self, task_id: TaskID, **kwargs: Any) -> None:  # type: ignore[override]
            super().update(task_id, **kwargs)
            self.write_line(task_id)

        def write_line(self, task_id: TaskID) -> None:  # (rich sets self.log itself)
            now = time.monotonic()
            if now - self.logged.setdefault(task_id, now) < LOG_EVERY:
                return
            self.logged[task_id] = now
            task = self._tasks[task_id]
            done = f"{task.completed:,.0f}" + (f" of {task.total:,.0f} ({task.percentage:.0f}%)"
                                               if task.total else "")
            print(f"{task.description}: {done}, {task.elapsed or 0:.0f} s", file=sys.stderr,
                  flush=True)

    return LoggedProgress()


def bar_drawn() -> bool:
    """Whether :func:`progress_bar` draws its bar: standard error is a terminal or a notebook."""
    from rich.console import Console

    screen = Console(stderr=True)
    return screen.is_terminal or screen.is_jupyter


WARNING_WORDS = ("warning:", "note:", "caution:")
"""How a line that qualifies a command's results begins (indented or not): :func:`say` sends
such a line to standard error."""


def warn(line: str) -> None:
    """Print a ``warning:``, ``note:`` or ``caution:`` line on standard error, standard output
    flushed first so that a terminal or a log holding both shows it in its place; standard
    output keeps the command's results (for a pipe or a file)."""
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)


def say(line: str, show: Callable[[str], Any] = print) -> None:
    """Print a line of a command's report: through :func:`warn` when it begins with one of
    :data:`WARNING_WORDS`, else with ``show`` (on standard output; a rich console's
    ``print``)."""
    if line.lstrip().startswith(WARNING_WORDS):
        warn(line)
    else:
        show(line)


def console() -> Any:
    """A rich console for printed tables: the terminal's width, or 160 columns when the output
    goes to a file or a pipe (rich's 80 would cut the tables' numbers off)."""
    from rich.console import Console

    screen = Console()
    return screen if screen.is_terminal else Console(width=160)


def share_text(share: float) -> str:
    """A share of variance (or of SeFa's strength) as a figure's label: whole percents, one
    decimal under 1% and over 99% (0.004 reads 0.4%, not 0%; 0.996 reads 99.6%, not 100%)."""
    return f"{share:.1%}" if share < 0.01 or share > 0.99 else f"{share:.0%}"


@contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While writing (converting, exporting), turn SIGTERM (``kill PID``) into
    ``SystemExit(143)``, as Ctrl-C is turned into ``KeyboardInterrupt``, so that worker
    processes are shut down and scratch files removed by the writer's ``finally``; what was
    there before is left as it was. (A signal handler can only be set from the main thread:
    elsewhere nothing changes.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def same_folder(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether paths ``a`` and ``b`` name one folder once links and ``..`` are resolved (an
    ``--out`` that would replace the store a command reads)."""
    return os.path.realpath(a) == os.path.realpath(b)


def shell_word(path: str | os.PathLike[str]) -> str:
    """``path`` as one word of a command printed for the user to paste: quoted where it holds
    spaces or other characters a shell would split or expand."""
    return shlex.quote(str(path))
