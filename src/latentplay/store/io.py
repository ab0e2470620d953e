"""Create, load and save stores atomically.

A store is a directory written by ``datasets.Dataset.save_to_disk`` plus ``latentplay.json``
(the :class:`~latentplay.store.schema.Schema`) and, for converted data, ``rejected.csv``.
Writes go to a hidden temporary sibling that is renamed into place only when complete, so an
interrupted write never damages the previous store. The siblings' names carry the writing
machine's tag and process id (``.NAME.build-TAG-PID-*``, ``.NAME.tmp-TAG-PID-*``): one that a
killed process left is removed by the next write to the same path from the same machine and
user, once no process of that id runs there. A writer killed between moving the old store aside
(``.NAME.old-*``) and renaming the new one into place leaves no store at the path: :func:`load`
names the old copy to restore, and once the path holds a store again the next write removes it.
A store saved over the one it was loaded from is
refused when another command wrote that one meanwhile (the other's columns would be lost);
the check and the swap run under a lock beside the store (``.NAME.lock``), so two writers
finishing together take turns. A read that a write overlapped is tried again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from datasets.arrow_writer import ArrowWriter

try:
    import fcntl
except ImportError:  # Windows: msvcrt's locks instead
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

from latentplay.errors import UserError, first_line
from latentplay.jsontext import parsed_json
from latentplay.outputs import (
    make_parents,
    remove_dead_scratch,
    scratch_prefix,
    scratch_sibling,
    shell_word,
    swap_into_place,
    terminate_as_exit,
)
from latentplay.store.schema import Attribute, Schema

SCHEMA_FILE = "latentplay.json"
REJECTED_FILE = "rejected.csv"
PAIRS_FILE = "pairs.csv"  # verification pairs a converter writes (RFW): row_a, row_b, same
STATE_FILE = "state.json"  # what ``save_to_disk`` writes beside the data: the shards' names
WRITE_BATCH_BYTES = 8 << 20
"""About the bytes of rows :func:`save` has ``save_to_disk`` write at a time (never under its
own 1,000 rows, a batch of 8 kB photos). ``datasets`` reads every column's feature afresh for
each batch, class names included: 1,000-row batches of a store naming 16,000 persons took 4 s
to save 80,000 rows of labels, the time growing with rows times persons."""
SELECTION_BATCH_ROWS = 4000
"""The most rows a batch of a selection (:meth:`Store.select`, ``data subset``) holds:
``datasets`` gathers a selection's rows one by one, holding about 4 kB a row until the batch
is written (a batch of 32,000 rows of labels took 110 MB more)."""

datasets.disable_progress_bars()


@dataclass
class Store:
    """A loaded store: the ``datasets.Dataset`` plus what its columns mean.

    Attributes:
        dataset: the rows (images, labels, vector columns), memory-mapped from disk.
        schema: attribute kinds, class names, ranges, vector columns and provenance.
        path: directory it was loaded from (None for a store not yet saved).
        read_as: what the store at ``path`` was on disk when it was loaded (:func:`disk_stamp`):
            saving over it refuses when another command has written it since.
        selected: whether the rows are a :meth:`select` of the store at ``path``, which a save
            over that store refuses (its other rows would be lost).
    """

    dataset: datasets.Dataset
    schema: Schema
    path: Path | None = None
    read_as: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)
    selected: bool = field(default=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.dataset)

    def __repr__(self) -> str:
        """One line a notebook can show: path, rows, attributes and vector columns (the
        dataclass's own repr printed the whole schema and history, kilobytes)."""
        where = "not saved" if self.path is None else repr(str(self.path))
        names = [a.name for a in self.schema.attributes]
        vecs = [f"{v.name} ({v.dim})" for v in self.schema.vectors if not v.is_projection]
        return (f"Store({where}, {len(self)} rows, attributes: {', '.join(names) or 'none'}"
                + (f"; vectors: {', '.join(vecs)}" if vecs else "") + ")")

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.column_names)

    def require_rows(self, doing: str) -> Store:
        """This store, or a :class:`UserError` when it has no rows (a subset or filter that
        kept none): ``doing`` says what needed them, e.g. ``"draw"``."""
        if not len(self):
            raise UserError(f"store {self.path or '(not saved)'} has no rows to {doing}")
        return self

    def select(self, rows: Any) -> Store:
        """Rows ``rows`` (row numbers, a range, or an ``(N,)`` boolean mask; see
        :func:`~latentplay.store.rows.row_numbers`) of this store, as a store with its schema
        and path: a view to read labels and images of, which :func:`save` refuses to write over
        this store (save it elsewhere, or use :func:`~latentplay.store.subset.subset`)."""
        from latentplay.store.rows import row_numbers

        contiguous = isinstance(rows, range) and rows.step == 1 and 0 <= rows.start and rows.stop <= len(self)
        picked = rows if contiguous else row_numbers(rows, len(self))
        return Store(self.dataset.select(picked), self.schema, self.path, selected=True)

    def labels(self, name: str) -> np.ndarray:
        """Values of attribute ``name`` as a ``(N,)`` array (class codes, factor levels, floats)."""
        attr = self.schema.attribute_or_error(name)
        column = self.schema.column_of(attr)
        data = self.dataset.with_format("arrow", columns=[column])[:][column]
        return data.to_numpy(zero_copy_only=False)


def features_for(schema: Schema, image: bool = True) -> datasets.Features:
    """The ``datasets.Features`` that a store with ``schema`` has (image, labels, vectors)."""
    feats: dict[str, Any] = {}
    if image and schema.image_column:
        feats[schema.image_column] = datasets.Image()
    feats.update(attribute_features(schema.attributes))
    for name in schema.text_columns:
        feats[name] = datasets.Value("string")
    for vec in schema.vectors:
        feats[vec.name] = datasets.List(datasets.Value("float32"), length=vec.dim)
    return datasets.Features(feats)


def attribute_features(attributes: Iterable[Attribute]) -> dict[str, Any]:
    """Column name -> ``datasets`` feature of each attribute: ``ClassLabel`` (categorical),
    ``float32`` (continuous), or the ``int64`` level column plus ``float32`` value of a factor."""
    feats: dict[str, Any] = {}
    for attr in attributes:
        if attr.kind == "categorical":
            feats[attr.name] = datasets.ClassLabel(names=list(attr.names or []))
        elif attr.kind == "continuous":
            feats[attr.name] = datasets.Value("float32")
        else:
            feats[Schema.column_of(attr)] = datasets.Value("int64")
            feats[attr.name] = datasets.Value("float32")
    return feats


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse a target directory a store may not be written to: a file, a read-only folder
    (no write permission in its mode: its copy moved aside could not be removed), a non-empty
    directory that is not a store (whatever ``overwrite``: it replaces only a store, never a
    folder of other files), an existing store or empty directory without ``overwrite``, and a
    store holding folders (its replacement would delete them); and, where no store is, one
    whose previous copy a write cut off left beside it (``.NAME.old-*``): a new store there
    would let the next write remove that copy, the only one of the store."""
    _refuse_over_previous_copy(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise UserError(f"{path} is a file, not a store; --overwrite replaces only a store: "
                        "choose another path")
    mode = path.stat().st_mode & 0o777
    if not mode & 0o222:  # by its mode: root, whom no permission stops, too
        raise UserError(f"{path} is read-only (its folder's mode {oct(mode)}); "
                        f"make it writable to replace it (chmod u+w {shell_word(path)})")
    if not (path / SCHEMA_FILE).is_file() and any(path.iterdir()):
        raise UserError(f"{path} is a non-empty directory but not a latentplay store (no "
                        f"{SCHEMA_FILE}); --overwrite replaces only a store: choose another path")
    if not overwrite:
        raise UserError(f"{path} already exists; pass --overwrite (overwrite=True in Python) to replace it")
    folders = sorted(p.name for p in path.iterdir() if p.is_dir())
    if folders:  # a save writes none: the user's, or an output of an earlier version
        raise UserError(f"{path} holds folder(s) that are no part of the store "
                        f"({', '.join(folders)}); writing the store replaces it as a whole and "
                        "would delete them: move them out of it first")


def _refuse_over_previous_copy(path: Path) -> None:
    """Refuse to write a new store at ``path``, which holds none, while a write to it that was
    cut off left the old store moved aside (:func:`previous_copy`)."""
    if (path / SCHEMA_FILE).is_file() or previous_copy(path) is None:
        return
    with write_lock(Path(os.path.realpath(path))):  # a write between its renames ends first
        old = None if (path / SCHEMA_FILE).is_file() else previous_copy(path)
    if old is not None:
        raise UserError(f"{path} holds no store, but a write to it was cut off after it moved the "
                        f"old store aside, to {old}: restore it with: mv {shell_word(old)} "
                        f"{shell_word(path)} (or remove {old} to write a new store there)")


def _old_copy_pattern(path: Path) -> re.Pattern[str]:
    """Names of the previous copies of ``path`` that :func:`swap_into_place` moves aside."""
    return re.compile(rf"\.{re.escape(path.name)}\.old-[0-9a-f]{{8}}")


def remove_stale_scratch(path: Path) -> list[Path]:
    """Remove the scratch siblings of ``path`` that a writer killed mid-write left behind
    (``.NAME.build-TAG-PID-*``, ``.NAME.tmp-TAG-PID-*`` and the other kinds of
    :func:`~latentplay.outputs.remove_dead_scratch`, written by this user on this machine
    whose process no longer runs) and, while ``path`` itself exists (so that they are truly
    superseded), its previous copies of this user (``.NAME.old-*``: a writer killed after it
    moved the old store aside); return those removed. Any other writer's -- running, of
    another user or machine -- and everything else beside ``path`` are kept."""
    old_copy = _old_copy_pattern(path)
    removed = remove_dead_scratch(path)
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        if old_copy.fullmatch(entry.name) and _superseded(entry, path):
            if entry.is_symlink():  # the link itself, never what it points to
                with contextlib.suppress(OSError):
                    entry.unlink()
            else:
                shutil.rmtree(entry, ignore_errors=True)
            if not os.path.lexists(entry):
                removed.append(entry)
    return removed


def _superseded(old: Path, path: Path) -> bool:
    """Whether ``old``, a previous copy of ``path``, may be removed: a folder or a link (a
    store reached through a link, moved aside by an earlier version) of this user while
    ``path`` exists (checked last: a writer between its two renames has none, and its old copy
    is then the only one)."""
    if os.name != "posix" or not (old.is_symlink() or old.is_dir()):
        return False
    return old.lstat().st_uid == os.getuid() and path.exists()


def previous_copy(path: Path) -> Path | None:
    """The newest complete previous copy of the store at ``path`` (``.NAME.old-*``, with its
    schema, ``state.json`` and every data file that names) that a writer killed between moving
    the old store aside and putting the new one in place left; None when there is none."""
    old_copy = _old_copy_pattern(path)
    copies = []
    try:
        entries = list(path.parent.iterdir()) if path.parent.is_dir() else []
    except OSError:
        return None
    for entry in entries:
        if old_copy.fullmatch(entry.name) and _complete(entry):
            try:  # a writer finishing its swap may remove the copy meanwhile
                copies.append((entry.stat().st_ctime, entry))
            except OSError:
                continue
    return max(copies, default=(None, None))[1]


def _complete(folder: Path) -> bool:
    """Whether ``folder`` holds a store's schema, ``state.json`` and the data files it names
    (a copy whose removal was cut short lacks some)."""
    try:
        state = parsed_json((folder / STATE_FILE).read_text(encoding="utf-8"))
        files = [str(f["filename"]) for f in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(files) and all((folder / name).is_file() for name in [SCHEMA_FILE, *files])


class StoreChanged(UserError):
    """The store a command loaded was written by another command before this one saved it."""


def disk_stamp(path: Path) -> tuple[Any, ...]:
    """What tells one write of the store at ``path`` from another: the contents of its schema
    and ``state.json`` and the inode, size and modification time of those and of the data files
    (every save writes them all anew). A missing file counts as such; nothing is raised."""
    names = [SCHEMA_FILE, STATE_FILE, "dataset_info.json"]
    raw = {}
    for name in (SCHEMA_FILE, STATE_FILE):
        try:
            raw[name] = (path / name).read_bytes()
        except OSError:
            raw[name] = None
    contents = [None if data is None else hashlib.sha1(data).hexdigest() for data in raw.values()]
    try:
        state = parsed_json(raw[STATE_FILE] or b"")
        names += [str(f["filename"]) for f in state["_data_files"]]
    except (ValueError, KeyError, TypeError):
        pass  # no or a damaged state: its contents above still tell it apart
    files: list[tuple[Any, ...]] = []
    for name in names:
        try:
            info = (path / name).stat()
        except OSError:
            files.append((name, None))
            continue
        files.append((name, info.st_ino, info.st_size, info.st_mtime_ns))
    return (*contents, *files)


def store_digest(store: Store) -> str | None:
    """16 hex digits that name the saved store ``store`` was loaded from, for a result's record
    beside its path: a digest of that store's ``latentplay.json`` and ``state.json`` (the
    ``datasets`` fingerprint of its rows) as they were when it was loaded (:attr:`Store.read_as`;
    no pass over the rows). A move or copy of the store keeps it; a save that changes its rows,
    columns, attributes or history changes it. None for a store not loaded from disk."""
    if store.read_as is None:
        return None
    schema, state = store.read_as[:2]   # disk_stamp's digests of the two files' contents
    return hashlib.sha1(f"{schema}\n{state}".encode()).hexdigest()[:16]


_WRITTEN: dict[str, tuple[Any, ...]] = {}
"""Real path of each store this process wrote -> its :func:`disk_stamp` right after the write."""


def _refuse_changed(store: Store, path: Path) -> None:
    """Refuse to save ``store`` over ``path``, the store it was loaded from, when another
    command wrote that store since (its new columns would be lost without a word). A store this
    process wrote itself since (saving one object twice, or a store derived from it) is saved
    when it keeps every column and attribute of the one on disk."""
    if store.read_as is None:
        return
    now = disk_stamp(path)
    if now == store.read_as:
        return
    if _WRITTEN.get(os.path.realpath(path)) != now:
        raise StoreChanged(f"{store.path} changed on disk since this command read it (another command "
                           "wrote it); run this command again")
    kept = _names(store.schema)
    dropped = [name for name in _names(read_schema(path / SCHEMA_FILE)) if name not in kept]
    if dropped:
        raise StoreChanged(f"{store.path}: this save would drop column(s) {', '.join(dropped)} written "
                           "since this store was read (by an earlier save in this process, e.g. a "
                           "projection cached in the store); load it again (store.load) and redo "
                           "this change, or save the store that earlier save returned")


def _names(schema: Schema) -> list[str]:
    """The columns and attributes that ``schema`` names."""
    return list(dict.fromkeys([*features_for(schema), *(a.name for a in schema.attributes)]))


def lock_file(path: Path) -> Path:
    """The file beside the store at ``path`` that its writers lock (``.NAME.lock``) while they
    write: outside the store, so that it is neither replaced with it nor counted among its
    files, and removed again by the writer holding it."""
    return path.with_name(f".{path.name}.lock")


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``; on Windows ``msvcrt.locking``) on
    :func:`lock_file` of ``path`` while checking that the store was not written meanwhile and
    swapping the new one into place:
    two writers finishing together take turns, and the later one sees the earlier one's write.
    Readers take no lock and are never blocked; the lock goes with a killed writer's process.
    The holder removes the file before it lets go; a writer that was waiting on the removed
    file takes the lock again on a new one. Where no lock can be taken (a file system without
    locks, a read-only folder) the write goes unlocked."""
    with held_lock(lock_file(path)):
        yield


@contextmanager
def held_lock(lock: Path, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive lock (:func:`_lock`) on the file ``lock`` (made when missing) while the block
    runs, and remove the file before letting go (see :func:`write_lock`). With ``wait`` False a
    lock another process (or another descriptor of this one) holds is not waited for: a
    :class:`BlockingIOError` instead. Where no lock can be taken the block runs unlocked."""
    fd = _locked(lock, wait)
    try:
        yield
    finally:
        if fd is not None:
            _release(fd, lock)


LOCK_RETRY_SECONDS = 0.05
"""Where locks are not waited for by the system (Windows), how often a writer tries again."""


def _lock(fd: int, wait: bool) -> None:
    """Take the exclusive lock on the open file ``fd``: ``flock``, or on Windows
    ``msvcrt.locking`` of its first byte, tried every :data:`LOCK_RETRY_SECONDS` while another
    holds it. A :class:`BlockingIOError` when ``wait`` is False and another holds it; another
    :class:`OSError` where the file system has no locks."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EDEADLOCK):
                raise
            if not wait:
                raise BlockingIOError(exc.errno, "the lock is held by another writer") from None
        time.sleep(LOCK_RETRY_SECONDS)


def _release(fd: int, lock: Path) -> None:
    """Let go of the lock held on ``fd`` and remove the file ``lock`` (see :func:`write_lock`)."""
    with contextlib.suppress(OSError):
        os.unlink(lock)  # while held: nobody holds a lock on a file still named so
    if fcntl is None:  # Windows: an open file is not removed; unlocked and closed, it is
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    os.close(fd)  # releases the lock
    if fcntl is None:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # unless a writer waiting on it has it open


@contextmanager
def sole_writer(scratch: Path, busy: str) -> Iterator[None]:
    """Hold the lock beside ``scratch`` (``<scratch>.lock``) while the block runs: a second
    command that would share those scratch files (the same embed, two ``data measure`` or
    ``data predict`` runs on one store) is refused with the :class:`UserError` ``busy``
    instead of waited for (sharing them, one removed the other's files, or resumed from
    them). Unlocked where no lock can be taken, as the store's own writes are."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(held_lock(scratch.with_name(f"{scratch.name}.lock"), wait=False))
        except BlockingIOError:
            raise UserError(busy) from None
        yield


def _locked(lock: Path, wait: bool = True) -> int | None:
    """A descriptor of ``lock`` on which this process holds the exclusive lock (:func:`_lock`), that
    file still named ``lock``; None where no lock can be taken. With ``wait`` False, a
    :class:`BlockingIOError` when another holds it."""
    if fcntl is None and msvcrt is None:
        return None
    while True:
        try:
            fd, created = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), True
        except FileExistsError:
            try:
                fd, created = os.open(lock, os.O_RDWR), False
            except FileNotFoundError:  # removed by the writer that held it: create it again
                continue
            except OSError:
                return None
        except OSError:
            return None
        try:
            _lock(fd, wait)
        except BlockingIOError:  # another holds it (wait False): its file stays
            os.close(fd)
            raise
        except OSError:  # a file system without locks: leave no lock file behind
            os.close(fd)
            if created:
                with contextlib.suppress(OSError):
                    os.unlink(lock)
            return None
        try:
            held, named = os.fstat(fd), os.stat(lock)
            if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
                return fd
        except OSError:  # removed by the writer that held it
            pass
        os.close(fd)


def _missing_columns(dataset: datasets.Dataset, schema: Schema) -> list[str]:
    """Columns that ``schema`` names and ``dataset`` lacks."""
    return [c for c in features_for(schema) if c not in dataset.column_names]


def _unlike_columns(dataset: datasets.Dataset, schema: Schema) -> list[str]:
    """How the columns that ``schema`` names differ in kind from those of ``dataset`` (an
    edited ``latentplay.json``): a categorical attribute whose data holds another number of
    classes or no class codes, a continuous one whose data are not numbers, a vector column of
    another length. Read from the data's features only: no row is read."""
    found = []
    for name, expected in features_for(schema, image=False).items():
        if name in schema.text_columns:
            continue
        actual = dataset.features.get(name)
        if isinstance(expected, datasets.ClassLabel):
            if not isinstance(actual, datasets.ClassLabel):
                found.append(f"{name!r} is categorical there, but the data holds no class codes ({actual})")
            elif actual.num_classes != expected.num_classes:
                found.append(f"{name!r} has {expected.num_classes} classes there, the data "
                             f"{actual.num_classes}")
        elif isinstance(expected, datasets.Value):
            if not (isinstance(actual, datasets.Value) and actual.dtype.startswith(("float", "int"))):
                found.append(f"{name!r} holds numbers there, but the data holds {actual}")
        elif getattr(actual, "length", None) != getattr(expected, "length", None):
            found.append(f"vector column {name!r} has {getattr(expected, 'length', '?')} values there, "
                         f"the data {_vector_length(actual)}")
    return found


def _vector_length(feature: Any) -> str:
    """How many values a row of the column of datasets ``feature`` holds, in words: its
    length, that its rows differ in length (datasets' length -1), or ``?`` (no list)."""
    length = getattr(feature, "length", "?")
    return "a varying number in its rows" if length == -1 else str(length)


def _refuse_missing_columns(dataset: datasets.Dataset, schema: Schema, path: Path) -> None:
    """Refuse to write ``dataset`` to ``path`` when it lacks a column that ``schema`` names:
    every command would refuse the store afterwards."""
    missing = _missing_columns(dataset, schema)
    if missing:
        raise UserError(f"not saved to {path}: the data lacks column(s) "
                        f"{', '.join(map(repr, missing))} that its schema names; what was there "
                        "is left as it was")


def _write_schema(directory: Path, dataset: datasets.Dataset, schema: Schema) -> None:
    text = json.dumps(schema.to_dict(), indent=2)
    (directory / SCHEMA_FILE).write_text(text, encoding="utf-8")
    info_file = directory / "dataset_info.json"
    if info_file.exists():  # keep the schema inside the dataset's own info as well
        info = json.loads(info_file.read_text(encoding="utf-8"))
        info["description"] = text
        info_file.write_text(json.dumps(info, indent=2), encoding="utf-8")


def _extra_files(path: Path) -> list[str]:
    """Files of the store at ``path`` that neither ``save_to_disk`` nor the schema writes: the
    converter's ``rejected.csv`` and tables such as RFW's ``pairs.csv``."""
    own = {SCHEMA_FILE, "dataset_info.json", STATE_FILE}
    return sorted(p.name for p in path.iterdir() if p.is_file() and p.name not in own
                  and not p.name.endswith(".arrow"))  # shards and datasets' caches


def save(
    store: Store,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> Store:
    """Save ``store`` to ``path`` atomically and return it re-loaded from there.

    Args:
        store: what to save.
        path: target directory; replaced only when the new copy is completely written.
        overwrite: allow replacing an existing store (see :func:`check_target`).
        extra_files: file name -> contents written inside the store (e.g. ``rejected.csv``).
            When a store is saved over itself, its existing extra files are kept unless given.
    """
    given = Path(path)  # errors name it as given
    # a store reached through a symbolic link is written where it lies, the link kept
    path = Path(os.path.realpath(given))
    same_place = store.path is not None and os.path.realpath(store.path) == str(path)
    if same_place and store.selected:
        raise UserError(f"this store is a selection of rows of {store.path} (Store.select): saving it "
                        "there would drop the other rows; save it to another path")
    check_target(given, overwrite or same_place)
    make_parents(given, store=True)
    if given.absolute() != path:
        make_parents(path, store=True)
        remove_stale_scratch(given.absolute())  # e.g. the link moved aside by an earlier version
    remove_stale_scratch(path)
    _refuse_missing_columns(store.dataset, store.schema, path)
    tmp = scratch_sibling(path, "tmp")
    with terminate_as_exit():   # SIGTERM too runs the finally below: no scratch left
        try:
            # an empty dataset still gets one (empty) shard, which load_from_disk needs
            with _write_batches(store.dataset):
                store.dataset.save_to_disk(str(tmp), num_shards=1 if len(store.dataset) == 0 else None)
            _write_schema(tmp, store.dataset, store.schema)
            if same_place:
                for name in _extra_files(path):
                    shutil.copy2(path / name, tmp / name)
            for name, content in (extra_files or {}).items():
                mode = "wb" if isinstance(content, bytes) else "w"
                with open(tmp / name, mode) as fh:
                    fh.write(content)
            with write_lock(path):  # no other write between the check and the swap
                if same_place:  # last, right before the swap: no write of another command is lost
                    _refuse_changed(store, path)
                elif not overwrite and os.path.lexists(path):  # none there when checked
                    raise UserError(f"{given} already exists: another command wrote it while this "
                                    "one wrote its store; pass --overwrite (overwrite=True in "
                                    "Python) to replace it")
                swap_into_place(tmp, path)
                _WRITTEN[os.path.realpath(path)] = disk_stamp(path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return load(given.absolute())


_BATCH_SETTING = threading.Lock()
"""Held while :func:`_write_batches` has changed ``datasets``' process-wide batch size: saves in
threads of one process take turns (two at once each put back what the other had set, and the
last left its batch size in place for good)."""


@contextmanager
def _write_batches(dataset: datasets.Dataset) -> Iterator[None]:
    """Have ``save_to_disk`` write ``dataset`` in batches of about :data:`WRITE_BATCH_BYTES`
    (its rows' mean size taken over the table they lie in), of a selection at most
    :data:`SELECTION_BATCH_ROWS`, and at least its own 1,000 rows; one thread at a time
    (:data:`_BATCH_SETTING`)."""
    rows = int(WRITE_BATCH_BYTES / max(dataset.data.nbytes / max(dataset.data.num_rows, 1), 1))
    if dataset._indices is not None:
        rows = min(rows, SELECTION_BATCH_ROWS)
    with _BATCH_SETTING:
        default = datasets.config.DEFAULT_MAX_BATCH_SIZE
        datasets.config.DEFAULT_MAX_BATCH_SIZE = max(default, rows)
        try:
            yield
        finally:
            datasets.config.DEFAULT_MAX_BATCH_SIZE = default


LOAD_WAITS = (0.02, 0.05, 0.1, 0.15, 0.25, 0.35, 0.5)
"""Seconds :func:`load` waits before each new try when the store was written while it read it."""


def load(path: str | os.PathLike[str]) -> Store:
    """Open the store at ``path`` (memory-mapped; nothing is read into RAM).

    A read that another command's write overlapped (the store's :func:`disk_stamp` changed
    while it was read, or it failed while a write's scratch or old copy lay beside the store)
    is tried again after a short wait (:data:`LOAD_WAITS`), so that a store being written is
    not reported damaged or missing; a store damaged for real is reported at once."""
    path = Path(path)
    for wait in (*LOAD_WAITS, None):
        before = disk_stamp(path)
        try:
            dataset, schema = _load_once(path)
            failure = None
        except UserError as exc:
            failure = exc
        overlapped = disk_stamp(path) != before or (failure is not None and _being_written(path))
        if not overlapped or wait is None:
            if failure is not None:
                raise failure
            # read_as taken before reading: a write meanwhile is seen at the next save
            return Store(dataset=dataset, schema=schema, path=path, read_as=before)
        time.sleep(wait)
    raise AssertionError("unreachable")


def _being_written(path: Path) -> bool:
    """Whether a write of ``path`` may be under way: a scratch or old copy of it lies beside it."""
    start = f".{path.name}."
    try:
        return any(entry.name.startswith(start) and re.fullmatch(r"(?:tmp|old)-.*", entry.name[len(start):])
                   for entry in path.absolute().parent.iterdir())
    except OSError:
        return False


def _load_once(path: Path) -> tuple[datasets.Dataset, Schema]:
    """The data and schema of the store at ``path``, read once; a :class:`UserError` when
    there is none or it cannot be read."""
    if not path.exists():
        old = previous_copy(path)
        if old is not None:
            raise UserError(f"no store at {path}: a write to it was cut off after it moved the old "
                            f"store aside, to {old}; restore it with: mv "
                            f"{shell_word(old)} {shell_word(path)}")
        raise UserError(f"no store at {path}: path does not exist")
    schema_file = path / SCHEMA_FILE
    if not schema_file.exists():
        raise UserError(f"{path} is not a latentplay store (no {SCHEMA_FILE})")
    try:
        dataset = datasets.load_from_disk(str(path))
    except IndexError:  # no data shard
        raise UserError(f"{path} holds no data file (*.arrow); write the store again") from None
    except PermissionError as exc:
        raise UserError(f"{path} could not be read: {first_line(exc)}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # a truncated or missing data file, a state.json or dataset_info.json that is not
        # what datasets wrote ({} lacks _data_files, a list has no keys)
        what = f"missing field {exc}" if isinstance(exc, KeyError) else first_line(exc)
        raise UserError(f"{path} is damaged (it could not be opened as a dataset): {what}; "
                        "write it again or restore it from a copy") from None
    if isinstance(dataset, datasets.DatasetDict):
        raise UserError(f"{path} holds several splits; latentplay stores hold one table")
    schema = read_schema(schema_file)
    missing = _missing_columns(dataset, schema)
    if missing:
        raise UserError(f"{path}: {SCHEMA_FILE} names column(s) {', '.join(map(repr, missing))} "
                        f"that the data lacks (its columns: {', '.join(dataset.column_names)}); "
                        "write the store again")
    unlike = _unlike_columns(dataset, schema)
    if unlike:
        raise UserError(f"{path}: {SCHEMA_FILE} does not describe the data: {unlike[0]}; "
                        "restore the file (or write the store again)")
    named = _path_only_image(dataset, schema)
    if named is not None:
        raise UserError(f"{path}: row {named[0]}'s image is a path ({named[1]}) without the image "
                        "itself; a store holds its images, and reading a path a downloaded store "
                        "names would read, and copy into what latentplay writes, any file there")
    return dataset, schema


def _path_only_image(dataset: datasets.Dataset, schema: Schema) -> tuple[int, str] | None:
    """The first row whose image cell names a path but holds no bytes, and that path; None
    when every image is stored in the data (what latentplay and ``save_to_disk`` write). Reads
    the validity bitmaps only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = schema.image_column
    if not column or column not in dataset.column_names:
        return None
    cells = dataset.data.column(column)
    if not pa.types.is_struct(cells.type) or cells.type.get_field_index("path") < 0:
        return None
    start = 0
    for chunk in cells.chunks:                  # chunk by chunk: the bytes are never copied
        if chunk.field("bytes").null_count:     # none in the usual case: every image stored
            bad = pc.and_(pc.is_null(chunk.field("bytes")), pc.is_valid(chunk.field("path")))
            if pc.any(bad).as_py():
                row = int(pc.index(bad, True).as_py())
                return start + row, str(chunk.field("path")[row].as_py())
        start += len(chunk)
    return None


def read_schema(schema_file: Path) -> Schema:
    """The schema in ``schema_file``; a damaged or foreign file is a one-line :class:`UserError`."""
    try:
        data = parsed_json(schema_file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("it does not hold a JSON object")
        return Schema.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:  # JSONDecodeError is a ValueError
        what = f"missing field {exc}" if isinstance(exc, KeyError) else first_line(exc)
        raise UserError(f"{schema_file} is not a valid latentplay schema: {what}") from None


def opened(store: Store | str | os.PathLike[str]) -> Store:
    """``store`` itself, or the store at that path opened with :func:`load`, so that a function
    taking a store takes its path alike; anything else is a ``TypeError`` naming its type."""
    if isinstance(store, Store):
        return store
    if not isinstance(store, str | os.PathLike):
        raise TypeError(f"expected a Store or the path of one, got {type(store).__name__}")
    return load(store)


def located(given: Store | str | os.PathLike[str], doing: str) -> Path:
    """The directory ``given`` names: a path as given, or a store's own ``path`` (what is saved
    there), so that a function taking a directory takes a store alike; a store never saved is
    refused with ``save the store before you {doing}``, and a :meth:`Store.select` of some rows,
    whose directory holds them all, is refused too."""
    if not isinstance(given, Store):
        return Path(given)
    if given.path is None:
        raise UserError(f"save the store before you {doing}")
    if given.selected:
        raise UserError(f"this store is a selection of rows of {given.path} (Store.select), which "
                        f"holds them all; save the selection elsewhere before you {doing}")
    return Path(given.path)


def saved(store: Store | str | os.PathLike[str], doing: str) -> Store:
    """``store`` (loaded when a path), checked to be on disk as a command that writes it in
    place needs; ``doing`` completes the refusal ``save the store before you ...``."""
    store = opened(store)
    if store.path is None:
        raise UserError(f"save the store before you {doing}")
    return store


def build(
    batches: Iterable[Mapping[str, Any]],
    schema: Schema,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> Store:
    """Stream ``batches`` of columns into a new store at ``path`` with bounded memory.

    Each batch maps column name -> list or array of equal length; images are given as
    ``{"bytes": ..., "path": None}`` dicts (see :func:`latentplay.store.images.encode_png`).
    Rows are written to a scratch Arrow file next to ``path`` and then saved atomically.
    """
    given, path = Path(path), Path(path).absolute()  # errors name it as given
    check_target(given, overwrite)
    make_parents(given, store=True)
    remove_stale_scratch(path)
    features = features_for(schema)
    with terminate_as_exit(), tempfile.TemporaryDirectory(  # SIGTERM too removes the scratch
            prefix=scratch_prefix(path, "build"), dir=path.parent) as scratch:
        arrow_file = os.path.join(scratch, "rows.arrow")
        writer = ArrowWriter(features=features, path=arrow_file, writer_batch_size=1000)
        try:
            for batch in batches:
                writer.write_batch({k: _as_list(v) for k, v in batch.items()})
        finally:
            writer.finalize()
        dataset = datasets.Dataset.from_file(arrow_file)
        dataset = dataset.cast(features) if dataset.features != features else dataset
        store = Store(dataset=dataset, schema=schema)
        return save(store, path, overwrite=overwrite, extra_files=extra_files)


def _as_list(values: Any) -> list[Any]:
    if isinstance(values, np.ndarray):
        return list(values) if values.ndim > 1 else values.tolist()
    return list(values)
