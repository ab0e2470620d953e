"""Embed every image of a store into a new vector column: batched, resumable, atomic.

Progress is kept in a scratch directory beside the store (``.<store>.embed-<column>/``): a
memory-mapped ``partial.npy`` of the rows done so far and ``progress.json``. An interrupted
run (Ctrl-C, a killed process) continues from there when started again with the same embedder;
the store itself is only replaced, atomically, once every row is embedded. One embed of a
column runs at a time: it holds a lock beside the store (``.<store>.embed-<column>.lock``), and a
second one of the same column into the same store is refused while it runs.

The resume point is kept while what the vectors depend on is unchanged: the embedder (its name,
options and fitted state) and the store's rows and images (and the condition attributes of a
conditional embedder), not the store as a whole, so that a column another command adds to the
store meanwhile loses no finished batch. When another command wrote the store between the
embedding and its save, the column is added to the store as it is now, as long as its rows and
images are the ones embedded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import open_memmap

from latentplay import store as st
from latentplay.embed.base import Embedder, make_embedder
from latentplay.errors import UserError, first_line
from latentplay.jsontext import parsed_json
from latentplay.outputs import write_atomic
from latentplay.store.images import decode, fitted_array
from latentplay.store.io import opened

PROGRESS_FILE = "progress.json"
PARTIAL_FILE = "partial.npy"
FOUND_FILE = "found.npy"
READ_CHUNK = 1024  # rows whose encoded images load_rows holds at a time
SAMPLED_IMAGES = 32  # images whose bytes the resume key hashes (every image's length besides)
SAVE_TRIES = 3  # saves of a finished column into a store that other commands keep writing


def scratch_dir(store_path: str | os.PathLike[str], column: str) -> Path:
    """Where the partial embedding of ``column`` lives: a hidden sibling of the store."""
    path = Path(store_path).absolute()
    return path.with_name(f".{path.name}.embed-{column}")


def load_rows(store: st.Store, rows: slice | np.ndarray, size: int | None = None,
              mode: str | None = None, crop: float = 1.0) -> np.ndarray | list[np.ndarray]:
    """Images of ``rows`` (a slice or an index array), in ``mode``, centre-cropped to ``crop``
    of their shorter side and resized to ``size`` (see :func:`latentplay.store.images.fit_image`).

    Returns:
        ``(n, H, W, C)`` uint8 when all images agree in shape, else a list of ``(H, W, C)``.
    """
    column = store.schema.image_column
    if not column or column not in store.columns:
        raise UserError("this store has no image column to embed")
    dataset = store.dataset.with_format("arrow", columns=[column])
    # the encoded cells are read READ_CHUNK rows at a time and the images written straight into
    # one array: a whole column of bytes, and a list of images beside its stacked copy, would
    # each take as much memory as the result
    picked = range(len(store))[rows] if isinstance(rows, slice) else np.asarray(rows)
    stacked: np.ndarray | None = None  # the images so far, while they agree in shape
    ragged: list[np.ndarray] = []  # the images, once they do not
    done = 0
    for start in range(0, len(picked), READ_CHUNK):
        part = picked[start:start + READ_CHUNK]
        contiguous = isinstance(part, range) and part.step == 1
        where = slice(part.start, part.stop) if contiguous else np.asarray(part)
        for row, cell in zip(part, dataset[where][column].to_pylist(), strict=True):
            img = decode(cell, int(row))  # a corrupt image's error names its row
            if mode is not None and img.mode != mode:
                img = img.convert(mode)
            elif img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            arr = fitted_array(img, size, crop)
            if done == 0:
                stacked = np.empty((len(picked), *arr.shape), dtype=np.uint8)
            if stacked is not None and arr.shape != stacked.shape[1:]:
                ragged, stacked = list(stacked[:done]), None
            if stacked is not None:
                stacked[done] = arr
            else:
                ragged.append(arr)
            done += 1
    return stacked if stacked is not None else ragged


def _key(store: st.Store, embedder: Embedder) -> dict[str, Any]:
    """What must match for a partial embedding to be continued: the store's rows, images and
    the conditions the embedder reads, and the embedder's output size,
    identity, options and fitted state. Not the dataset's fingerprint, which every write of
    the store changes (a column another command adds changes no vector)."""
    return {
        "rows": len(store),
        "images": images_digest(store),
        "conditions": _conditions_digest(store, embedder),
        "dim": embedder.dim,
        "embedder": embedder.describe(),
        "state": embedder.state_digest(),
    }


def images_digest(store: st.Store) -> str | None:
    """A digest of the image column of ``store`` that is cheap for any size of store: its
    name, the row count, the length of every row's encoded image and the whole cells (bytes
    and path) of :data:`SAMPLED_IMAGES` rows spread over the store, first and last among them.
    Adding, changing or removing other columns leaves it as it is; None without an image column."""
    column = store.schema.image_column
    if not column or column not in store.columns:
        return None
    dataset = store.dataset.with_format("arrow", columns=[column])
    n = len(store)
    digest = hashlib.sha1(f"{column}\n{n}\n".encode())
    if n == 0:
        return digest.hexdigest()[:16]
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = dataset[:][column]
    if cells.type.num_fields:  # the Image feature's {bytes, path} structs
        encoded = pa.chunked_array([chunk.field("bytes") for chunk in cells.chunks],
                                   type=cells.type.field("bytes").type)
    else:
        encoded = cells
    lengths = pc.binary_length(encoded).fill_null(-1).cast(pa.int64()).to_numpy()
    digest.update(np.ascontiguousarray(lengths).tobytes())
    picked = np.unique(np.linspace(0, n - 1, min(n, SAMPLED_IMAGES)).round().astype(np.int64))
    for cell in dataset[picked][column].to_pylist():
        if not isinstance(cell, dict):
            cell = {"bytes": cell, "path": None}
        data = cell.get("bytes")
        digest.update(b"-" if data is None else hashlib.sha1(data).digest())
        digest.update(repr(cell.get("path")).encode())
    return digest.hexdigest()[:16]


def _conditions_digest(store: st.Store, embedder: Embedder) -> str | None:
    """A digest of the per-row conditions a conditional embedder (``vae:RUN`` of a conditional
    run) reads from ``store``; None for an embedder that reads none."""
    spec = getattr(embedder, "condition_spec", None)
    if spec is None or not getattr(spec, "dim", 0):
        return None
    try:
        conditions = spec.encode_store(store)
    except (UserError, KeyError, ValueError):  # the attributes are gone or unreadable
        return "unreadable"
    return hashlib.sha1(np.ascontiguousarray(conditions, dtype=np.float32).tobytes()).hexdigest()[:16]


def _discarded(saved: dict[str, Any], key: dict[str, Any]) -> str:
    """Why the partial embedding kept under ``saved`` is not continued with ``key``: the
    store's rows or images first (an embedder fitted on the store, such as pixels-pca, has
    another fitted state for other images), then its conditions, then the embedder."""
    if "images" not in saved:
        return "the interrupted run was made by an earlier version of latentplay"
    if saved.get("rows") != key["rows"] or saved.get("images") != key["images"]:
        return "the store's images changed since the interrupted run"
    if saved.get("conditions") != key["conditions"]:
        return "the store's condition attributes changed since the interrupted run"
    return "the interrupted run embedded with another embedder, options or fitted state"


def _reserved(mapped: np.memmap) -> np.memmap:
    """``mapped``, a memory map of a file, with the disk blocks of the whole file taken now (a
    new map's file is sparse): a full disk is an OSError here, where a write to a page it had
    no room for killed the command with SIGBUS ("Bus error", exit status 135, no message)."""
    if hasattr(os, "posix_fallocate"):  # not on every system (macOS, Windows)
        with open(mapped.filename, "r+b") as fh:
            os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
    return mapped


class _Partial:
    """The scratch files of one embedding: rows done, vectors, face-found flags."""

    def __init__(self, directory: Path, key: dict[str, Any], n: int, dim: int) -> None:
        self.directory = directory
        self.key = key
        self.note: str | None = None  # what happened to an interrupted run's batches
        progress = directory / PROGRESS_FILE
        self.done = 0
        if progress.exists():
            try:
                saved = parsed_json(progress.read_text(encoding="utf-8"))
                kept = saved.get("key")
                done = int(saved["done"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                kept, done = None, 0
            if kept == key:
                self.done = min(done, n)
            elif done > 0 and isinstance(kept, dict):
                self.note = f"{_discarded(kept, key)}: starting again"
        if self.done:
            try:
                self.vectors = _reserved(open_memmap(directory / PARTIAL_FILE, "r+"))
                self.found = _reserved(open_memmap(directory / FOUND_FILE, "r+"))
                if self.vectors.shape != (n, dim) or self.found.shape != (n,):
                    raise ValueError("shape")
            except (OSError, ValueError):
                self.done = 0
                self.note = "the interrupted run's files are incomplete: starting again"
            else:
                self.note = (f"continuing from row {self.done + 1} of {n}: the {self.done} rows an "
                             "interrupted run finished are kept" if self.done < n else
                             f"all {n} rows were finished by an earlier run: saving them")
        if self.done == 0:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            self.vectors = _reserved(open_memmap(directory / PARTIAL_FILE, "w+", np.float32, (n, dim)))
            self.found = _reserved(open_memmap(directory / FOUND_FILE, "w+", np.bool_, (n,)))
            self.found[:] = False
            self._write_progress()

    def _write_progress(self) -> None:
        write_atomic(self.directory / PROGRESS_FILE,
                     json.dumps({"key": self.key, "done": self.done}, indent=2))

    def write(self, start: int, vectors: np.ndarray, found: np.ndarray) -> None:
        """Store rows ``start:start+len(vectors)`` and move the resume point past them."""
        stop = start + len(vectors)
        self.vectors[start:stop] = vectors
        self.found[start:stop] = found
        self.vectors.flush()
        self.found.flush()
        self.done = stop
        self._write_progress()


def embed_store(
    store: st.Store | str | os.PathLike[str],
    embedder: Embedder | str,
    column: str,
    *,
    options: str | Sequence[str] = (),
    batch_size: int = 256,
    overwrite: bool = False,
    progress: bool = True,
) -> st.Store:
    """Embed every image of ``store`` with ``embedder`` into vector column ``column``.

    Args:
        store: a saved store or its path; it is replaced atomically when the column is complete.
        embedder: an :class:`Embedder` or a name such as ``pixels-pca``, ``dlib``, ``vae:RUN``.
        column: name of the new ``(N, dim)`` float32 column.
        options: ``key=value`` options of the embedder (when given by name).
        batch_size: images decoded and embedded at a time (bounds memory).
        overwrite: replace an existing vector column of that name.
        progress: show a progress bar on stderr.

    Returns:
        The store re-loaded with the new column. Rows the embedder could not embed as intended
        (no face detected) are listed in the store's history entry for this column, see
        :func:`flagged_rows`.
    """
    store = opened(store)
    if store.path is None:
        raise UserError("save the store before embedding it (embedding writes it in place)")
    if batch_size < 1:
        raise UserError(f"batch_size (--batch-size) must be at least 1, got {batch_size}")
    _check_column(store, column, overwrite)
    store.require_rows("embed")
    from latentplay.store.io import sole_writer

    scratch = scratch_dir(store.path, column)
    # a second embed of this column into the store would share the scratch files: refused
    with sole_writer(scratch, f"another embed of column {column!r} is running on {store.path}; "
                     "wait for it or stop it"):  # before loading the embedder's models (seconds)
        if isinstance(embedder, str):
            embedder = make_embedder(embedder, options)
        vectors, found = run_embedder(store, embedder, scratch, batch_size, progress)
        result = _save_into_current(store, embedder, column, vectors, found, overwrite, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def run_embedder(store: st.Store, embedder: Embedder, scratch: Path, batch_size: int = 256,
                 progress: bool = True, label: str = "embedding") -> tuple[np.ndarray, np.ndarray]:
    """Run ``embedder`` over every image of a saved ``store``, resumably.

    Batches are written to memory-mapped files in ``scratch``; an interrupted run continues
    from the last written batch when called again with the same store and embedder. The
    caller removes ``scratch`` once it has saved the result.

    Args:
        label: what the progress bar says is being done.

    Returns:
        ``(N, dim)`` float32 vectors and an ``(N,)`` bool mask (False: no face detected).
    """
    n = len(store)
    embedder.bind(store)
    size, mode, crop = embedder.image_size, embedder.image_mode, embedder.image_crop
    decoded: dict[int, np.ndarray] = {}  # the fitted rows' images, embedded without decoding again
    if embedder.needs_fit:
        rows = embedder.fit_rows(n)
        sample = load_rows(store, rows, size, mode, crop)
        embedder.fit(sample)
        decoded = dict(zip(rows.tolist(), sample, strict=True))
    partial = _Partial(scratch, _key(store, embedder), n, embedder.dim)
    if partial.note:
        print(f"{label} with {embedder.name}: {partial.note}", file=sys.stderr, flush=True)
    with _progress_bar(progress, f"{label} with {embedder.name}", n) as advance:
        advance(partial.done)
        try:
            for start in range(partial.done, n, batch_size):
                stop = min(start + batch_size, n)
                images = _batch_rows(store, start, stop, decoded, size, mode, crop)
                vectors, found = embedder.embed_rows(images, np.arange(start, stop))
                if vectors.shape != (stop - start, embedder.dim):
                    raise RuntimeError(f"{embedder.name} returned shape {vectors.shape} for "
                                       f"{stop - start} images (dim {embedder.dim})")
                partial.write(start, vectors, found)
                advance(stop - start)
        except BaseException as exc:
            if not partial.done:   # nothing to continue from: no scratch folder left behind
                shutil.rmtree(scratch, ignore_errors=True)
            if isinstance(exc, KeyboardInterrupt):
                raise UserError(f"interrupted after {partial.done} of {n} rows; run the same "
                                "command again to continue from there") from None
            raise
    return np.array(partial.vectors), np.array(partial.found)


def _batch_rows(store: st.Store, start: int, stop: int, decoded: dict[int, np.ndarray],
                size: int | None, mode: str | None, crop: float) -> np.ndarray | list[np.ndarray]:
    """Images of rows ``start..stop`` as :func:`load_rows` gives them, those in ``decoded``
    (row -> image) taken out of it rather than decoded again."""
    if not decoded:
        return load_rows(store, slice(start, stop), size, mode, crop)
    rows = range(start, stop)
    missing = np.array([r for r in rows if r not in decoded], dtype=np.int64)
    loaded = iter(load_rows(store, missing, size, mode, crop) if len(missing) else [])
    images = [decoded.pop(r) if r in decoded else next(loaded) for r in rows]
    return np.stack(images) if len({a.shape for a in images}) == 1 else images


def _check_column(store: st.Store, column: str, overwrite: bool) -> None:
    if not column or not column.replace("_", "").replace("-", "").isalnum():
        raise UserError(f"column name {column!r}: use letters, digits, '_' and '-'")
    if column not in store.columns:
        return
    is_vector = any(v.name == column for v in store.schema.vectors)
    if not is_vector:
        raise UserError(f"column {column!r} already exists and is not a vector column")
    if not overwrite:
        raise UserError(f"column {column!r} already exists (that embedding finished; only an "
                        "interrupted one resumes); pass --overwrite (overwrite=True in Python) "
                        "to replace it")


def _save_into_current(store: st.Store, embedder: Embedder, column: str, vectors: np.ndarray,
                       found: np.ndarray, overwrite: bool, scratch: Path) -> st.Store:
    """Save ``column`` into ``store`` in place. When another command wrote the store since it
    was read (saving over it would drop what that command wrote), the column is added to the
    store as it is now instead, as long as its rows and images are the ones embedded (tried
    :data:`SAVE_TRIES` times); otherwise the finished vectors stay in ``scratch``, for the
    next run of the command, and the refusal says so (when the rows or images changed, that
    run starts again, and says so: the vectors are of other images)."""
    from latentplay.store.io import StoreChanged

    key: dict[str, Any] | None = None   # what was embedded, read when needed only
    kept = (f"the {len(store)} finished vectors are kept in {scratch}: run the same command again "
            "to continue from them")
    for _ in range(SAVE_TRIES):
        try:
            return _save_column(store, embedder, column, vectors, found)
        except StoreChanged:
            key = key or _key(store, embedder)
        try:
            now = st.load(store.path)
        except UserError as exc:
            raise UserError(f"{first_line(exc)}; {kept}") from None
        if _key(now, embedder) != key:
            raise UserError(f"{store.path} was written by another command while this one embedded "
                            f"it, and its rows or images changed: column {column!r} was not saved "
                            "(its vectors are of the images as they were); run the same command "
                            "again to embed the store as it is now")
        try:
            _check_column(now, column, overwrite)
        except UserError as exc:
            raise UserError(f"{first_line(exc)} (another command wrote it while this one "
                            f"embedded); {kept}") from None
        store = now
    raise UserError(f"{store.path} was written by other commands at each of {SAVE_TRIES} tries to "
                    f"save column {column!r} into it; {kept}")


def _save_column(store: st.Store, embedder: Embedder, column: str, vectors: np.ndarray,
                 found: np.ndarray) -> st.Store:
    missing = np.flatnonzero(~found)
    text = f"{embedder.name} ({embedder.dim}-d)"
    if len(missing):
        text += f"; {len(missing)} rows had no detected face (see history)"
    new = st.add_column(store, column, vectors, description=text)
    entry = {
        "op": "embed",
        "column": column,
        **embedder.describe(),
        "dim": embedder.dim,
        "rows": len(store),
        "not_found": missing.tolist(),
        "detects_faces": embedder.detects_faces,
        "state": embedder.state_digest(),  # the weights or fitted state the vectors came from
        **embedder.run_record(),
    }
    history = [h for h in new.schema.history if h.get("column") != column or h.get("op") != "embed"]
    new = dataclasses.replace(new, schema=dataclasses.replace(new.schema, history=history))
    return st.save(st.with_history(new, entry), store.path)


def embed_entry(store: st.Store, column: str) -> dict[str, Any] | None:
    """The history entry of the ``latentplay embed`` run that made ``column`` (embedder,
    config, ``not_found`` rows, ``detects_faces``; for a ``vae:RUN`` or ``invert:RUN`` column
    also ``run`` and ``run_sha256``, see :meth:`~latentplay.embed.base.Embedder.run_record`),
    or None for a column it did not make."""
    for entry in reversed(store.schema.history):
        if entry.get("op") == "embed" and entry.get("column") == column:
            return entry
    return None


def flagged_rows(store: st.Store | str | os.PathLike[str], column: str) -> np.ndarray:
    """Rows of ``column`` of ``store`` (or the store at that path) the embedder could not embed
    as intended (e.g. no face detected).

    Returns:
        ``(k,)`` int64 row indices (empty when every row was embedded normally).
    """
    entry = embed_entry(opened(store), column)
    if entry is None:
        raise UserError(f"column {column!r} was not made by `latentplay embed`")
    return np.asarray(entry.get("not_found", []), dtype=np.int64)


@contextlib.contextmanager
def _progress_bar(enabled: bool, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (or nothing); yields a function advancing it by ``k``."""
    if not enabled:
        yield lambda k: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn

    from latentplay.outputs import progress_bar

    with progress_bar("{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as bar:
        task = bar.add_task(label, total=total)
        yield lambda k: bar.advance(task, k)
