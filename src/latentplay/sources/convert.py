"""Shared machinery of the dataset converters (``latentplay data convert FORMAT SRC --out PATH``).

A converter module (``latentplay.sources.utkface`` and its siblings) only knows its dataset's
layout: its ``scan(root, options)`` reads the label files and returns a :class:`Plan` -- the
store's attributes and the dataset's inputs, in published order, each either a :class:`Record`
(labels checked, image still to read) or a :class:`Rejected` (with its reason). :func:`run` does
the rest for every format:

* streams the inputs in chunks through a pool of worker processes (one per core) that read,
  fully decode (catching truncated files and non-images), optionally crop and resize each image;
* keeps the original encoded bytes when no ``resize`` is asked, except for an image that must
  change to be read the same everywhere -- one whose EXIF orientation turns it, or whose colour
  mode differs from the plan's (grey, CMYK, RGBA among RGB photos) -- which is stored upright,
  in the plan's mode, as lossless PNG;
* feeds the rows to :func:`latentplay.store.build` in small batches, so memory stays bounded
  whatever the dataset's size;
* rejects an input naming an image file an earlier input already named (each image is stored
  once, with its first labels);
* lists every rejected input in ``rejected.csv`` (``path,reason``) beside the store, so that
  ``converted + rejected == inputs`` always holds -- a malformed line of a label file the plan
  rejects up front (``path:line``, as a pairs file's) is an input too -- and records provenance
  (source, format, options, counts, latentplay version) in the store's schema.
"""

from __future__ import annotations

import csv
import ctypes
import importlib
import io
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from itertools import islice
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from latentplay.embed.faces import usable_cores
from latentplay.errors import UserError
from latentplay.outputs import progress_bar, terminate_as_exit, write_atomic
from latentplay.sources.formats import COLUMN_FORMATS, CONVERTERS, RESAMPLING_NAMES
from latentplay.store.images import eight_bit, turned
from latentplay.store.io import PAIRS_FILE, REJECTED_FILE, Store, build, check_target
from latentplay.store.schema import Attribute, Provenance, Schema

# format name -> module with ``scan(root, options) -> Plan`` (and a ``convert`` for Python users)
FORMATS: dict[str, str] = {name: f"latentplay.sources.{name}" for name in CONVERTERS}

RESAMPLING: dict[str, Image.Resampling] = {
    name: getattr(Image.Resampling, name.upper()) for name in RESAMPLING_NAMES}

CHUNK = 64  # inputs per task sent to a worker
MISSING = "missing file"  # the reason of an input whose image file is not there
BATCH_ROWS = 256  # rows per batch handed to the store writer
RESIZE_MAX = 4096  # --resize: a side beyond any face dataset's, short of memory exhaustion
BATCH_BYTES = 32 * 2**20  # ... or fewer rows once their images reach this many bytes


@dataclass(frozen=True)
class ConvertOptions:
    """Options common to every converter.

    Attributes:
        resize: when given, centre-crop each image to a square and resize it to
            ``resize x resize`` with ``resample``; the result is stored as PNG. When None the
            original encoded bytes are stored unchanged, unless the image's EXIF orientation
            turns it or its mode is not the plan's: it is then stored upright, converted, as
            PNG.
        resample: resampling filter for ``resize``: lanczos, bicubic, bilinear, box or nearest.
        limit: convert only the first ``limit`` inputs in the dataset's order (sorted paths
            for the formats that walk folders, the label file's rows for the others): not a
            random sample (UTKFace's names, sorted as text, start with ages 1, 10, 100, ...;
            RFW's paths with one race); :func:`limit_note` says so.
        split: keep only the inputs of this published split (formats that have splits).
        strict: stop with a :class:`UserError` (exit status 2) at the first rejected input;
            nothing is written.
        overwrite: replace an existing store at the target path.
        columns: store attribute -> CSV column (``morph``, ``aiface``, ``folder``); for
            ``folder`` a ``:kind`` suffix (categorical or continuous) may follow the column.
        workers: worker processes decoding images (default: one per available core).
    """

    resize: int | None = None
    resample: str = "lanczos"
    limit: int | None = None
    split: str | None = None
    strict: bool = False
    overwrite: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    workers: int | None = None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> ConvertOptions:
        """The options a converter's ``**options`` give: an unknown name refused with the
        known ones, ``columns`` also as the command line's text (``"gender=sex,age=age"``)."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise UserError(f"unknown converter option(s) {', '.join(unknown)}; options: {', '.join(known)}")
        if isinstance(options.get("columns"), str):
            options = {**options, "columns": parse_columns(options["columns"])}
        return cls(**options)

    def validate(self) -> None:
        if self.resize is not None and not 1 <= self.resize <= RESIZE_MAX:
            raise UserError(f"--resize must be a size from 1 to {RESIZE_MAX}, got {self.resize}")
        if self.limit is not None and self.limit < 1:
            raise UserError(f"--limit must be at least 1, got {self.limit}")
        if self.resample not in RESAMPLING:
            raise UserError(
                f"unknown resampling {self.resample!r}; choose from: {', '.join(RESAMPLING)}"
            )
        if self.workers is not None and self.workers < 1:
            raise UserError(f"--workers must be at least 1, got {self.workers}")


@dataclass
class Record:
    """One input whose labels passed the checks; its image is still to be read.

    Attributes:
        source: the input's path relative to SRC (what ``rejected.csv`` would name).
        labels: store column -> value (class code, float, factor level).
        file: absolute path of the encoded image file to read, or
        pixels: the image itself, ``(H, W)`` or ``(H, W, C)`` uint8 (array datasets).
        where: the label-file line that lists the input (``labels.csv:LINE``), when one does:
            ``rejected.csv`` then names the input ``labels.csv:LINE (source)``.
    """

    source: str
    labels: dict[str, Any]
    file: str | None = None
    pixels: np.ndarray | None = None
    where: str | None = None

    @property
    def listed(self) -> str:
        """How ``rejected.csv`` names this input: its label-file line first, when known."""
        return f"{self.where} ({self.source})" if self.where else self.source


@dataclass
class Rejected:
    """One input that cannot be converted, and why (``file``: for a missing image, where it was
    looked for, which the message of a conversion that converts nothing names)."""

    source: str
    reason: str
    file: str | None = None


@dataclass
class Plan:
    """What a converter found in SRC.

    Attributes:
        attributes: the store's label attributes, in column order.
        inputs: every input in published order (a generator is fine: it is read once).
        total: number of inputs when known in advance (for the progress bar).
        mode: PIL mode every stored image has (None keeps each image's mode).
        finish: called at the end with ``{source: row}`` of the converted inputs; returns
            extra files (name -> text) written inside the store (e.g. RFW's ``pairs.csv``).
        rejected_lines: malformed lines of the label files read up front (``path:line`` and
            why, e.g. a pairs file's): counted as inputs and rejected before any image, whatever
            ``limit``, and as ``rejected_lines`` in the counts when there are any.
        observed: continuous attributes whose ``range`` is the min..max of the converted rows'
            values, set once every row is written.
    """

    attributes: list[Attribute]
    inputs: Iterable[Record | Rejected]
    total: int | None = None
    mode: str | None = "RGB"
    finish: Callable[[dict[str, int]], dict[str, str]] | None = None
    rejected_lines: list[Rejected] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)


Scan = Callable[[Path, ConvertOptions], Plan]


def convert(format: str, src: str | os.PathLike[str], out: str | os.PathLike[str],
            **options: Any) -> Store:
    """Convert the dataset at ``src``, laid out as its authors publish ``format``, into a store.

    Args:
        format: one of :data:`FORMATS` (utkface, fairface, rfw, lfw, morph, aiface, celeba,
            dsprites, mpi3d, mnist, folder).
        src: the dataset's folder (or, for npz/CSV formats, the file itself).
        out: the new store's directory.
        **options: fields of :class:`ConvertOptions` (resize, resample, limit, split, strict,
            overwrite, columns, workers).

    Returns:
        The new store; ``store.schema.provenance.counts`` holds inputs/converted/rejected
        (and ``beyond_limit`` = 1 when ``limit`` left inputs unread).
    """
    if format not in FORMATS:
        raise UserError(f"unknown format {format!r}; choose from: {', '.join(FORMATS)}")
    module = importlib.import_module(FORMATS[format])
    return run(format, module.scan, src, out, ConvertOptions.of(options))


def run(format: str, scan: Scan, src: str | os.PathLike[str], out: str | os.PathLike[str],
        options: ConvertOptions) -> Store:
    """Scan ``src`` with ``scan`` and stream what it finds into a new store at ``out``."""
    options.validate()
    if options.columns and format not in COLUMN_FORMATS:
        raise UserError(f"--columns is for {', '.join(COLUMN_FORMATS)}; {format} reads the "
                        "columns (or file names) its authors publish: leave it out")
    root = Path(src).expanduser()
    if not root.exists():
        raise UserError(f"{format}: {root} does not exist")
    target = Path(out).expanduser()
    root = root.resolve()
    if (where := target.resolve()) == root or where in root.parents:
        raise UserError(f"--out {target} is SRC or holds it; write the store outside {root}")
    if root in where.parents:
        raise UserError(f"--out {target} is inside SRC (a later conversion of SRC would read the "
                        f"store's files as inputs); write the store outside {root}")
    plan = scan(root, options)
    check_target(target.absolute(), options.overwrite)
    arguments = {"format": format, **{k: v for k, v in asdict(options).items()
                                      if k not in ("workers", "overwrite")}}
    schema = Schema(
        attributes=plan.attributes,
        provenance=Provenance(source=str(root), converter=f"latentplay.sources.{format}",
                              arguments=arguments, rejected=REJECTED_FILE),
        text_columns=["file"],
    )
    workers = options.workers or usable_cores()
    with terminate_as_exit(), \
            tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as rejected_fh, \
            _Pool(workers) as pool:
        writer = _Writer(plan, options, schema, rejected_fh, target.absolute())
        extra = _Deferred(writer.extra_files)
        return build(writer.batches(pool, workers), schema, target,
                     overwrite=options.overwrite, extra_files=extra)


def summary(store: Store) -> str:
    """The one-line result of a conversion: ``converted X, rejected Y (see .../rejected.csv)``,
    saying how many of Y are label-file lines (no pointer to the list where Y is 0), and, for a
    store with verification pairs, ``; P pairs (U with an unconverted image) in .../pairs.csv``.
    A store not on disk has neither file: its line is the counts alone."""
    counts = store.schema.provenance.counts
    lines = counts.get("rejected_lines", 0)
    of_them = f", {lines} of them label-file lines" if lines else ""
    text = f"converted {counts['converted']}, rejected {counts['rejected']}{of_them}"
    if store.path is None:
        return text
    where = Path(store.path)
    if counts["rejected"]:
        text += f" (see {where / REJECTED_FILE})"
    if (where / PAIRS_FILE).is_file():
        with open(where / PAIRS_FILE, newline="", encoding="utf-8") as fh:
            pairs = list(csv.DictReader(fh))
        unconverted = sum("-1" in (p["row_a"], p["row_b"]) for p in pairs)
        text += f"; {len(pairs)} pairs ({unconverted} with an unconverted image) in " \
                f"{where / PAIRS_FILE}"
    return text


def limit_note(store: Store, limit: int | None) -> str | None:
    """The note that ``--limit`` cut the inputs to the first ``limit`` in the dataset's order --
    a subset confounded with that order, not a random sample -- naming ``data subset --n``
    for a random one; None when no limit was given or it left no input out."""
    if limit is None or not store.schema.provenance.counts.get("beyond_limit"):
        return None
    return (f"--limit {limit} took the first {limit} inputs in the dataset's order (sorted paths "
            "or label-file rows), not a random sample; for a random subset convert everything, "
            f"then run latentplay data subset STORE --out PATH --n {limit}")


class _Writer:
    """Turns a plan's inputs into store batches, tallying and listing rejections."""

    def __init__(self, plan: Plan, options: ConvertOptions, schema: Schema,
                 rejected_fh: io.TextIOBase, target: Path) -> None:
        self.plan = plan
        self.target = target
        self.options = options
        self.schema = schema
        self.rejected_fh = rejected_fh
        self.rejected = csv.writer(rejected_fh)
        self.rejected.writerow(["path", "reason"])
        self.rows: dict[str, int] | None = {} if plan.finish else None
        self.counts = {"inputs": 0, "converted": 0, "rejected": 0}
        self.missing: str | None = None  # the first image file looked for and not found

    def reject(self, source: str, reason: str) -> None:
        if self.options.strict:
            raise UserError(f"--strict: rejected {source}: {reason}")
        self.rejected.writerow([source, reason])
        self.counts["rejected"] += 1

    def _first(self, inputs: Iterable[Record | Rejected],
               limit: int) -> Iterator[Record | Rejected]:
        """The first ``limit`` inputs; counts ``beyond_limit`` = 1 when any input is left."""
        inputs = iter(inputs)
        yield from islice(inputs, limit)
        if next(inputs, None) is not None:
            self.counts["beyond_limit"] = 1

    def batches(self, pool: ProcessPoolExecutor | None,
                workers: int) -> Iterator[dict[str, list[Any]]]:
        """Yield column batches for :func:`latentplay.store.build`; fills in the counts."""
        columns = list(_label_columns(self.plan.attributes))
        inputs: Iterable[Record | Rejected] = _unique(self.plan.inputs)
        if self.options.limit is not None:
            inputs = self._first(inputs, self.options.limit)
        total = self.plan.total
        if total is not None and self.options.limit is not None:
            total = min(total, self.options.limit)
        for line in self.plan.rejected_lines:
            self.counts["inputs"] += 1
            self.reject(line.source, line.reason)
        if self.plan.rejected_lines:
            self.counts["rejected_lines"] = len(self.plan.rejected_lines)
        batch = _empty(columns)
        size = 0
        observed: dict[str, tuple[float, float]] = {}  # attribute -> min, max of converted rows
        with _Progress(total) as advance:
            for item, cell, reason in _prepared(inputs, pool, workers, self.options,
                                                self.plan.mode):
                self.counts["inputs"] += 1
                advance()
                if isinstance(item, Rejected) or cell is None:
                    source, reason = (item.source, item.reason) if isinstance(item, Rejected) \
                        else (item.listed, str(reason))
                    self.reject(source, reason)
                    if reason == MISSING and self.missing is None:
                        self.missing = item.file
                    continue
                if self.rows is not None:
                    self.rows[item.source] = self.counts["converted"]
                self.counts["converted"] += 1
                batch["image"].append(cell)
                batch["file"].append(item.source)
                size += len(cell["bytes"])
                for col in columns:
                    batch[col].append(item.labels[col])
                for name in self.plan.observed:
                    value = item.labels[name]
                    low, high = observed.get(name, (value, value))
                    observed[name] = (min(low, value), max(high, value))
                if len(batch["image"]) >= BATCH_ROWS or size >= BATCH_BYTES:
                    yield batch
                    batch, size = _empty(columns), 0
        if batch["image"]:
            yield batch
        assert self.counts["converted"] + self.counts["rejected"] == self.counts["inputs"]
        if not self.counts["converted"]:
            raise UserError(self.nothing_converted())
        # an earlier run's list of an all-rejected conversion is not this store's
        self.target.with_name(f"{self.target.name}.{REJECTED_FILE}").unlink(missing_ok=True)
        self.schema.provenance.counts = dict(self.counts)
        for attr in self.schema.attributes:
            if attr.name in observed:
                attr.range = observed[attr.name]

    def nothing_converted(self) -> str:
        """Why no store is written: the commonest reasons (with a count and an example each);
        the full list goes to ``OUT.rejected.csv`` beside the target, which is left as it was
        (so an earlier store there is kept)."""
        if not self.counts["inputs"]:
            within = f" in split {self.options.split!r}" if self.options.split else ""
            return f"nothing converted: SRC holds no inputs{within}; nothing was written to {self.target}"
        self.rejected_fh.seek(0)
        listed = list(csv.reader(self.rejected_fh))[1:]
        found = Counter(reason for _, reason in listed)
        example: dict[str, str] = {}
        for source, reason in listed:
            example.setdefault(reason, source)
        common = "; ".join(f"{reason} ({n}, e.g. {example[reason]})"
                           for reason, n in found.most_common(3))
        others = len(found) - 3
        more = f"; {others} other reason{'s' if others > 1 else ''}" if others > 0 else ""
        full = self.target.with_name(f"{self.target.name}.{REJECTED_FILE}")
        self.rejected_fh.seek(0)
        write_atomic(full, self.rejected_fh.read().encode("utf-8"))  # its csv line ends as they are
        inputs = "the only input was" if len(listed) == 1 else f"all {len(listed)} inputs were"
        looked = self.looked_for() if MISSING in found else ""
        return (f"nothing converted: {inputs} rejected: {common}{more}{looked}; "
                f"every reason is listed in {full}; nothing was written to {self.target}")

    def looked_for(self) -> str:
        """``"; the first missing file was looked for at SRC/train/1.jpg"``, and, when SRC holds
        it one folder down (a zip unpacked into a folder of its own), where it is; when SRC is a
        label file whose images lie under a folder beside its own (or above it), where they are
        and where the label file belongs."""
        if self.missing is None:
            return ""
        text = f"; the first missing file was looked for at {self.missing}"
        source = Path(self.schema.provenance.source)
        root = source.parent if source.is_file() else source
        rel = relative(Path(self.missing), root)
        if Path(rel).is_absolute():
            return text
        if below := _folders_holding(root, rel):
            return (f"{text} and is one folder down, at {below[0] / rel}: move the contents of "
                    f"{below[0]} up into {root}")
        if source.is_file():
            around = [root.parent] if (root.parent / rel).is_file() else []
            if around := around + [d for d in _folders_holding(root.parent, rel) if d != root]:
                return (f"{text} and is at {around[0] / rel}: its paths are read from the folder "
                        f"of {source.name}; move {source.name} into {around[0]}")
        return text

    def extra_files(self) -> dict[str, str]:
        """``rejected.csv`` and the plan's own extra files (read once all rows are written)."""
        self.rejected_fh.seek(0)
        files = {REJECTED_FILE: self.rejected_fh.read()}
        if self.plan.finish is not None:
            files.update(self.plan.finish(self.rows or {}))
        return files


class _Deferred(Mapping[str, str]):
    """A mapping computed on first access: the store writer reads it after the last batch."""

    def __init__(self, make: Callable[[], dict[str, str]]) -> None:
        self._make = make
        self._data: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._data is None:
            self._data = self._make()
        return self._data

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def _unique(inputs: Iterable[Record | Rejected]) -> Iterator[Record | Rejected]:
    """``inputs`` with every repeat of an image file already listed (a label file naming it
    twice, or by two spellings of its path) turned into a :class:`Rejected`: each image is
    stored once, with the labels of its first listing."""
    seen: set[str] = set()
    for item in inputs:
        if isinstance(item, Record) and item.file is not None:
            key = os.path.normpath(item.file)
            if key in seen:
                item = Rejected(item.listed, "duplicate: the same image file as an earlier input")
            else:
                seen.add(key)
        yield item


NO_CLASS = "(none converted)"  # the class of an attribute whose classes no kept input gives


def kept_records(inputs: Iterable[Record | Rejected], limit: int | None) -> Iterator[Record]:
    """The records a conversion of ``inputs`` stores, unless their image is unreadable: those
    among the first ``limit`` inputs that repeat no earlier record's image file. A plan whose
    classes come from the data (identities, a CSV's values) draws them from these, with
    :data:`NO_CLASS` alone when there are none (nothing converts then, and the conversion says
    why)."""
    return (item for item in islice(_unique(inputs), limit) if isinstance(item, Record))


def coded(inputs: Iterable[Record | Rejected], codes: Mapping[str, Mapping[str, int]]
          ) -> Iterator[Record | Rejected]:
    """``inputs`` again, once :func:`kept_records` gave the classes: the labels of each record
    named in ``codes`` (attribute -> class name -> code) turned into codes. A repeat of an
    earlier record's image is the :class:`Rejected` the conversion makes of it; so is a record
    with a class no kept record has, which lies past ``--limit`` (the conversion reads one
    input past it, only to learn that inputs were left)."""
    for item in _unique(inputs):
        if isinstance(item, Record):
            try:
                item.labels.update({name: codes[name][item.labels[name]] for name in codes})
            except KeyError:
                item = Rejected(item.listed, "past --limit")
        yield item


def _label_columns(attributes: list[Attribute]) -> Iterator[str]:
    for attr in attributes:
        if attr.kind == "factor":
            yield Schema.column_of(attr)
        yield attr.name


def _empty(columns: list[str]) -> dict[str, list[Any]]:
    return {"image": [], "file": [], **{c: [] for c in columns}}


class _Pool:
    """A process pool of ``workers`` processes, or None (work in this process) for one."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessPoolExecutor | None:
        if self.workers > 1:
            # fork on Linux (quick: a worker imports nothing again); elsewhere the system's
            # default, spawn on macOS and Windows (macOS's fork after threads can crash)
            linux_fork = sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if linux_fork else None)
            self.executor = ProcessPoolExecutor(self.workers, mp_context=ctx,
                                                initializer=_worker_start,
                                                initargs=(os.getpid(),))
        return self.executor

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


PARENT_CHECK_SECONDS = 1.0  # where the kernel cannot signal a parent's death: how often to look
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_start(parent: int) -> None:
    """Worker start: SIGTERM ends a worker at once, as before the conversion set its own, and
    the worker ends when process ``parent`` dies -- even by ``kill -9``, which runs no clean-up:
    it would otherwise wait on its task queue for ever. Linux signals the death
    (``PR_SET_PDEATHSIG``: strictly, the end of the thread that started the pool, which runs
    the conversion to its end); elsewhere a thread looks for a new parent every
    :data:`PARENT_CHECK_SECONDS`."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _kill_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # died before the worker asked to be told
        os._exit(1)


def _kill_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """End this process once process ``parent`` is no longer its parent (it died)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


class _Progress:
    """A transient rich progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, total: int | None) -> None:
        self.bar = progress_bar()
        self.total = total

    def __enter__(self) -> Callable[[], None]:
        self.bar.start()
        task = self.bar.add_task("converting", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


Task = tuple[str, str | None, np.ndarray | None]
Prepared = tuple[dict[str, Any] | None, str | None]


def _prepared(inputs: Iterable[Record | Rejected], pool: ProcessPoolExecutor | None,
              workers: int, options: ConvertOptions, mode: str | None
              ) -> Iterator[tuple[Record | Rejected, dict[str, Any] | None, str | None]]:
    """Yield ``(input, image cell or None, reason or None)`` in input order.

    Records travel to the workers in chunks of :data:`CHUNK`; at most two chunks per worker are
    in flight, which bounds memory.
    """
    args = (options.resize, options.resample, mode)
    pending: deque[tuple[list[Record | Rejected], Future[list[Prepared]] | list[Prepared]]]
    pending = deque()
    max_pending = 2 * workers if pool is not None else 1
    it = iter(inputs)
    while chunk := list(islice(it, CHUNK)):
        tasks = [(r.source, r.file, r.pixels) for r in chunk if isinstance(r, Record)]
        work = pool.submit(prepare_many, tasks, *args) if pool is not None and tasks \
            else prepare_many(tasks, *args)
        pending.append((chunk, work))
        while len(pending) >= max_pending:
            yield from _merge(*pending.popleft())
    while pending:
        yield from _merge(*pending.popleft())


def _merge(chunk: list[Record | Rejected], work: Future[list[Prepared]] | list[Prepared]
           ) -> Iterator[tuple[Record | Rejected, dict[str, Any] | None, str | None]]:
    results = iter(work.result() if isinstance(work, Future) else work)
    for item in chunk:
        if isinstance(item, Rejected):
            yield item, None, None
        else:
            cell, reason = next(results)
            yield item, cell, reason


def prepare_many(tasks: list[Task], resize: int | None, resample: str,
                 mode: str | None) -> list[Prepared]:
    """Worker entry point: :func:`prepare_image` for each ``(source, file, pixels)`` task."""
    return [prepare_image(*task, resize=resize, resample=resample, mode=mode) for task in tasks]


def prepare_image(source: str, file: str | None, pixels: np.ndarray | None, *,
                  resize: int | None = None, resample: str = "lanczos",
                  mode: str | None = "RGB") -> Prepared:
    """Read, check and (optionally) resize one image.

    Args:
        source: the input's path relative to SRC, kept as the image cell's ``path``.
        file: encoded image file to read, or None when ``pixels`` is given.
        pixels: ``(H, W)`` or ``(H, W, C)`` uint8 image (array datasets).
        resize: centre-crop to square and resize to ``resize x resize`` (PNG) when given.
        resample: name of the resampling filter (see :data:`RESAMPLING`).
        mode: PIL mode of the stored image (None keeps the image's mode). An image of another
            mode, or one its EXIF orientation turns, is stored converted and upright as PNG;
            any other keeps its encoded bytes when ``resize`` is None.

    Returns:
        ``(cell, None)`` with an ``Image()`` cell ``{"bytes", "path"}``, or ``(None, reason)``.
    """
    if pixels is not None:
        return _encode(_resized(Image.fromarray(pixels), resize, resample, None), source), None
    assert file is not None
    try:
        data = Path(file).read_bytes()
    except FileNotFoundError:
        return None, MISSING
    except OSError as exc:
        return None, f"unreadable file ({exc.strerror or exc})"
    if not data:
        return None, "empty file"
    try:
        with warnings.catch_warnings():   # Pillow's warning over 89 megapixels, not printed
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            upright = not turned(image)
            keep = resize is None and upright and (mode is None or image.mode == mode)
            if keep or resize is not None:  # re-encoding without resize needs every pixel
                _draft(image, resize)
            image.load()  # decodes the whole stream: truncated files fail here
    except UnidentifiedImageError:
        return None, "not an image"
    except Image.DecompressionBombError:
        return None, f"image too large (over {2 * Image.MAX_IMAGE_PIXELS:,} pixels)"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return None, f"corrupt or truncated image ({exc})"
    if keep:
        return {"bytes": data, "path": source}, None
    if not upright:
        image = ImageOps.exif_transpose(image)
    return _encode(_resized(image, resize, resample, mode), source), None


def _draft(image: Image.Image, resize: int | None) -> None:
    """Let the JPEG decoder scale down in the DCT domain when full resolution is not needed.

    It still parses every coefficient (so truncation is still caught) but skips most of the
    inverse transform: 1/8 scale when only checking, and no smaller than twice the target size
    when resizing (the named filter does the final step).
    """
    if image.format != "JPEG":
        return
    w, h = image.size
    scale = 1 / 8 if resize is None else 2 * resize / min(w, h)
    if scale < 1:
        image.draft(image.mode, (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))


def _resized(image: Image.Image, size: int | None, resample: str,
             mode: str | None) -> Image.Image:
    image = eight_bit(image)
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    elif image.mode in ("P", "1", "CMYK"):
        image = image.convert("RGB" if image.mode in ("P", "CMYK") else "L")
    if size is None:
        return image
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.resize((size, size), RESAMPLING[resample], box=(left, top, left + side,
                                                                  top + side))


def _encode(image: Image.Image, source: str) -> dict[str, Any]:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return {"bytes": buf.getvalue(), "path": source}


# ---------------------------------------------------------------------------------------------
# helpers the format modules share


def categorical(name: str, names: Iterable[str], description: str = "",
                ordered: bool = False) -> Attribute:
    """A categorical attribute with class ``names`` (codes are their positions; ``ordered``
    when the names follow an order, as age groups do)."""
    names = list(names)
    if not names:
        raise UserError(f"no values found for attribute {name!r} in the label file")
    return Attribute(name, "categorical", names=names, description=description, ordered=ordered)


def pairs_table(first: str | Iterable[str], pairs: Iterable[list[str]], rows: Mapping[str, int],
                source: Callable[[list[str], int], str]) -> dict[str, str]:
    """A verification pairs table as the extra file ``pairs.csv``: columns ``first`` (one
    name or several), then ``identity_a, file_a, identity_b, file_b, same, row_a, row_b``, from
    ``pairs`` rows ``[*first, identity_a, file_a, identity_b, file_b, same]``; ``row_*`` is the
    store row of ``source(pair, side)`` (side 0 or 1) in ``rows`` (source path -> row), -1 when
    that image was not converted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*([first] if isinstance(first, str) else first), "identity_a", "file_a",
                     "identity_b", "file_b", "same", "row_a", "row_b"])
    for pair in pairs:
        writer.writerow([*pair, rows.get(source(pair, 0), -1), rows.get(source(pair, 1), -1)])
    return {PAIRS_FILE: out.getvalue()}


PAIR_FORMS = "'identity n1 n2' or 'identity_a n1 identity_b n2'"


def pair_of(fields: list[str]) -> list[str]:
    """``[identity_a, file_a, identity_b, file_b, same]`` of one line of an LFW or RFW pairs
    file, split into ``fields``: ``identity n1 n2`` (two images of one person, same ``1``) or
    ``identity_a n1 identity_b n2`` (same ``0``; ``1`` where both name one person), image ``n``
    of a person being ``<identity>_<n:04d>.jpg``.

    Raises:
        ValueError: the line is malformed (its message says how).
    """
    if len(fields) not in (3, 4):
        raise ValueError(f"pairs line is not {PAIR_FORMS} (3 or 4 fields; found {len(fields)})")
    if len(fields) == 3:
        a, n_a, n_b = fields
        b = a
    else:
        a, n_a, b, n_b = fields
    for identity in (a, b):
        if identity.isdigit() or identity in (".", "..") or "/" in identity or "\\" in identity:
            raise ValueError(f"pairs line names identity {identity!r}, not a person's folder")
    for n in (n_a, n_b):
        if not (n.isascii() and n.isdigit()) or int(n) < 1:
            raise ValueError(f"pairs line has image number {n!r}, not a positive integer")
    return [a, f"{a}_{int(n_a):04d}.jpg", b, f"{b}_{int(n_b):04d}.jpg", "1" if a == b else "0"]


def code_of(names: Iterable[str]) -> dict[str, int]:
    """Class name -> code."""
    return {n: i for i, n in enumerate(names)}


def split_attribute(names: Iterable[str]) -> Attribute:
    return categorical("split", names, "published split")


def check_split(format: str, split: str | None, names: Iterable[str]) -> None:
    """Fail when ``split`` is given but is not one of the format's published ``names``."""
    names = list(names)
    if split is None:
        return
    if not names:
        raise UserError(f"{format} has no published splits; leave out --split")
    if split not in names:
        raise UserError(f"{format}: unknown split {split!r}; choose from: {', '.join(names)}")


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a POSIX string (the path itself when outside root)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _folders_holding(root: Path, rel: str) -> list[Path]:
    """The folders just under ``root`` (sorted) that hold the file ``rel``; none when ``root``
    cannot be read."""
    try:
        return sorted(d for d in root.iterdir() if d.is_dir() and (d / rel).is_file())
    except OSError:
        return []


def walk_files(top: Path, root: Path) -> tuple[list[Path], list[Rejected]]:
    """Every file under folder ``top``, sorted, and a :class:`Rejected` (named relative to
    ``root``) for each folder under it whose files are not listed one by one: one that cannot
    be read, and a link to a folder already walked (an ancestor, which would loop, or a folder
    reached by another name, whose files are listed there). Linked folders are followed; each
    real folder is walked once, the first time a walk in sorted order reaches it."""
    skipped: list[Rejected] = []

    def note(error: OSError) -> None:
        where = relative(Path(error.filename), root) if error.filename else str(top)
        skipped.append(Rejected(f"{where}/", f"folder not readable ({error.strerror or error})"))

    walked = {os.path.realpath(top): top}  # real folder -> the path it was first walked by
    files: list[Path] = []
    for folder, subfolders, names in os.walk(top, onerror=note, followlinks=True):
        files.extend(Path(folder) / name for name in names)
        kept = []
        for name in sorted(subfolders):
            path = Path(folder) / name
            real = os.path.realpath(path)
            if real in walked:
                first = relative(walked[real], root)
                first = "SRC" if first == "." else f"{first}/"
                skipped.append(Rejected(f"{relative(path, root)}/", "the same folder (through "
                                        f"a link) as {first}, read there"))
            else:
                walked[real] = path
                kept.append(name)
        subfolders[:] = kept
    return sorted(files), skipped


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn the failures of reading label file ``path`` -- not UTF-8 text, not a CSV the
    ``csv`` module can parse, unreadable -- into one :class:`UserError` line naming it."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text ({exc.reason}: byte "
                        f"{exc.object[exc.start:exc.start + 1]!r}); save it as UTF-8") from None
    except csv.Error as exc:
        raise UserError(f"{path} is not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror or exc})") from None


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    """Header and ``(line number, row)`` pairs of a CSV file, streamed.

    Rows shorter than the header have None for the missing fields, extra fields are listed
    under the key None (as ``csv.DictReader`` does); blank lines are skipped. A file that is
    not UTF-8 text or not a CSV fails (now or while streaming) with a :class:`UserError`; so
    does a quote left open, naming the file and the line it opens on (rather than reading the
    lines after it as one field), and so does a header that names a column twice. The file is
    open only while the header is read and while the rows are iterated: a caller that refuses
    the header and never reads a row leaves no file open.
    """
    with reading(path), open(path, newline="", encoding="utf-8-sig") as fh:
        _, first = next(_records(path, fh), (1, []))
    header = [h.strip() for h in first]
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:   # a row's dict kept the last copy, silently
        raise UserError(f"{path}: the header names column {twice[0]!r} twice; name each column once")

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        with reading(path), open(path, newline="", encoding="utf-8-sig") as fh:
            records = _records(path, fh)
            next(records, None)   # the header
            for number, fields in records:
                row: dict[Any, Any] = dict(zip(header, fields, strict=False))
                row.update({name: None for name in header[len(fields):]})
                if len(fields) > len(header):
                    row[None] = fields[len(header):]
                yield number, row

    return header, rows()


class _CountedLines:
    """The lines of an open text file, counted as a ``csv.reader`` takes them."""

    def __init__(self, fh: io.TextIOBase) -> None:
        self.fh = fh
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.fh)
        self.count += 1
        return line


def _records(path: Path, fh: io.TextIOBase) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of each non-blank CSV record of ``fh`` (the open file
    ``path``). A record running over a line break -- a quote opened and not closed on its
    line -- or one the ``csv`` module refuses is a :class:`UserError` naming ``path:line``."""
    lines = _CountedLines(fh)
    reader = csv.reader(lines, strict=True)
    while True:
        start = lines.count + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = f"{path}:{start}"
            if str(exc) == "unexpected end of data":
                raise UserError(f"{where}: a quote opened on this line is never closed (the file "
                                "ends inside it); close the quote or remove it") from None
            raise UserError(f"{where}: not a readable CSV line ({exc})") from None
        if lines.count > start:
            raise UserError(f"{path}:{start}: a quote opened on this line is not closed before "
                            f"the line ends (the lines up to {lines.count} would be read as one "
                            "field); close the quote or remove it")
        if fields:
            yield start, fields


def require_columns(format: str, path: Path, header: list[str], needed: Iterable[str]) -> None:
    """Fail with one line naming the columns ``path`` lacks (and, for a header of one column
    that a semicolon or a tab divides, that the file is not separated by commas)."""
    missing = [c for c in needed if c not in header]
    if missing:
        hint = " (map them with --columns attribute=column)" if format in COLUMN_FORMATS else ""
        if len(header) == 1 and (sep := next((c for c in ";\t" if c in header[0]), None)):
            hint = (f"; its fields are separated by {'semicolons' if sep == ';' else 'tabs'}: "
                    "save it with commas between them")
        raise UserError(
            f"{format}: {path} lacks column(s) {', '.join(map(repr, missing))}; its columns: "
            f"{', '.join(header) or '(none)'}{hint}"
        )


def mapped(defaults: Mapping[str, str], columns: Mapping[str, str], format: str
           ) -> dict[str, str]:
    """Attribute -> CSV column: ``defaults`` overridden by the user's ``--columns`` mapping."""
    unknown = [k for k in columns if k not in defaults]
    if unknown:
        raise UserError(
            f"{format}: --columns names unknown field(s) {', '.join(unknown)}; "
            f"fields: {', '.join(defaults)}"
        )
    return {**defaults, **columns}


def path_parts(rel: str) -> list[str]:
    """The folders and name of an image path ``rel`` a label file gives, without its root or
    drive, and without ``.`` and ``..`` (a label file never leads out of its folder); a
    backslash separates them too (files written on Windows: ``imgs\\0.png``,
    ``C:\\MORPH\\Album2\\003023_0M20.JPG``)."""
    path = PureWindowsPath(rel) if "\\" in rel else PurePosixPath(rel)
    return [part for part in (path.parts[1:] if path.anchor else path.parts)
            if part not in (".", "..")]


def looked_at(root: Path, rel: str) -> str:
    """Where :func:`find_file` looks for ``rel`` under ``root`` first (for a missing file's
    :class:`Rejected`)."""
    return str(root.joinpath(*path_parts(rel)))


def find_file(root: Path, rel: str, extra: Iterable[str] = ()) -> Path | None:
    """Locate an image a CSV names by ``rel``, inside ``root`` only.

    Tries ``rel`` under ``root``, then each shorter tail of it under ``root`` (CSVs often carry
    their authors' absolute paths, some with Windows' backslashes: see :func:`path_parts`),
    then the ``extra`` candidates (relative to ``root``). An absolute path, or one climbing
    out with ``..``, is looked for under ``root`` like any other (a downloaded label file
    naming ``/home/me/private.jpg`` or ``../../x.png`` pulled those images into the store);
    links inside ``root`` (a folder of images linked from another disk) are followed. Returns
    None when none exists.
    """
    parts = path_parts(rel)
    tails = [root.joinpath(*parts[start:]) for start in range(len(parts))]
    for candidate in [*tails, *(root.joinpath(*path_parts(cand)) for cand in extra)]:
        if candidate.is_file():
            return candidate
    return None


def parse_columns(text: str | None) -> dict[str, str]:
    """``"gender=sex,age=age:continuous"`` -> ``{"gender": "sex", "age": "age:continuous"}``."""
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"--columns item {item!r} is not attribute=column")
        if key.strip() in out:
            raise UserError(f"--columns maps {key.strip()} twice ({key.strip()}={out[key.strip()]} "
                            f"and {item.strip()}); give each attribute once")
        out[key.strip()] = value.strip()
    return out
