"""Build one split's frame cache from its recordings: framed in worker processes, written atomically.

The framed samples are spilled to a private work folder beside the cache while the workers run,
then packed into the smallest cache form, written to a temporary file and renamed into place. A
build that is killed leaves only its work folder, which the next build removes; one that cannot
write (full disk, no permission) removes it and raises a StorageError naming the cache. The cache
path itself only ever holds a complete file, whose checksum is verified whenever it is opened.

The worker processes never outlive the build: when it stops early (an error, Ctrl-C, SIGTERM) they
are killed before it returns, and when the building process itself is killed (``kill -9``) each
worker notices at once (Linux: a pidfd of the building process, watched by a thread) and exits, so
nothing keeps its output pipes open. Ctrl-C reaches the workers too (a terminal signals the whole
process group); they ignore it and leave the decision to the building process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from snntrain import storage
from snntrain.core.errors import DatasetError
from snntrain.data.events import store
from snntrain.data.events.framing import FrameSpec, frame_events
from snntrain.data.events.reader import EventFileError, read_events

log = logging.getLogger("snntrain")

FILES_PER_TASK = 64
FORMAT_VERSION = 3  # 2: with a checksum; 3: n_time_bins is Tonic's binning. A cache of another version is rebuilt,
# but for a version-2 cache of a mode whose frames 3 left unchanged (its spec is equal, so are its frames).
REDEFINED_IN_3 = {"n_time_bins"}  # a version-2 n_time_bins cache holds span_time_bins's frames


@dataclass
class BuildReport:
    """What a build did: the cache written, samples kept, damaged files skipped, the form chosen."""

    path: Path
    samples: int
    skipped: list[EventFileError]
    form: str
    seconds: float


Reader = Callable[[str], np.ndarray]


def frame_files(paths: Sequence[str], spec: FrameSpec, reader: Reader = read_events) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[EventFileError]]:
    """Frame each file read by ``reader``: per-file entry counts (-1 for a damaged file), the concatenated sparse frames, the errors."""
    lengths, flats, values, bad = np.full(len(paths), -1, np.int64), [], [], []
    for i, path in enumerate(paths):
        try:
            flat, value = frame_events(reader(path), spec)
        except EventFileError as err:
            bad.append(err)
            continue
        lengths[i] = len(flat)
        flats.append(flat)
        values.append(value)
    join = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype)  # noqa: E731
    return lengths, join(flats, np.uint32), join(values, np.uint8), bad


def framed_chunks(paths: Sequence[str], spec: FrameSpec, workers: int, reader: Reader = read_events) -> Iterator[tuple]:
    """``frame_files`` over chunks of ``paths``, in order; in ``workers`` processes when that helps.

    ``reader`` must be a module-level function, so that worker processes can unpickle it. Closing
    the generator before the last chunk (or an exception in it) kills the workers.
    """
    chunks = [paths[i : i + FILES_PER_TASK] for i in range(0, len(paths), FILES_PER_TASK)]
    workers = min(workers, len(chunks))
    if workers <= 1:
        yield from (frame_files(chunk, spec, reader) for chunk in chunks)
        return
    # forkserver: workers never inherit the trainer's threads; preloading imports numpy/Tonic once.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker, initargs=(os.getpid(),))
    finished = False
    try:
        yield from pool.map(frame_files, chunks, repeat(spec), repeat(reader))
        finished = True
    except BrokenProcessPool:
        raise DatasetError(
            "a frame-cache worker process died (killed, or out of memory); nothing was cached. "
            "Run again, with a smaller dataset.workers if memory is short."
        ) from None
    finally:
        if not finished:
            # Before 3.14 (kill_workers) the executor has no public way to stop running tasks.
            for process in list(pool._processes.values()):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def start_worker(builder_pid: int) -> None:
    """Initializer of a worker process: ignore Ctrl-C, and exit as soon as the process ``builder_pid`` ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "pidfd_open"):  # Linux; elsewhere a killed builder can leave its workers behind
        threading.Thread(target=exit_when_ended, args=(builder_pid,), daemon=True, name="exit-when-builder-ends").start()


def exit_when_ended(pid: int) -> None:
    """Block until process ``pid`` ends, then end this process at once.

    A worker's parent is the forkserver, which outlives the builder as long as any worker runs, so
    neither the parent-death signal nor the parent's pid tells a worker that the builder is gone. A
    pidfd becomes readable when its process ends (even before it is reaped).
    """
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    select.select([pidfd], [], [])
    os._exit(1)


def build(
    path: Path,
    files: Sequence[str],
    labels: np.ndarray,
    spec: FrameSpec,
    header: dict[str, Any],
    workers: int,
    on_bad_file: str,
    progress: bool = True,
    reader: Reader = read_events,
) -> BuildReport:
    """Frame ``files`` (with ``labels``, read by ``reader``) into the cache file ``path``; ``header`` is stored with it.

    A damaged file raises its EventFileError with ``on_bad_file="error"``; with ``"skip"`` it is
    left out, and the report lists it.
    """
    start = time.perf_counter()
    work = storage.partial_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        storage.remove_stale(path.parent)
        work.mkdir()
        lengths, skipped, max_value = [], [], 0
        label = f"framing {path.parent.name}/{path.name}"
        with (
            open(work / "flat", "wb") as flat_file,
            open(work / "values", "wb") as values_file,
            closing(framed_chunks(list(map(str, files)), spec, workers, reader)) as chunks,
            progress_bar(progress, label, len(files)) as advance,
        ):
            for chunk_lengths, flat, values, bad in chunks:
                if bad and on_bad_file == "error":
                    raise bad[0]
                skipped += bad
                lengths.append(chunk_lengths)
                flat_file.write(flat.data)
                values_file.write(values.data)
                max_value = max(max_value, int(values.max(initial=0)))
                advance(len(chunk_lengths))
        lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        kept = lengths >= 0
        if skipped and not kept.any():
            raise DatasetError(
                f"{path}: every one of the {len(files)} recordings is damaged (the first, {skipped[0].path}: "
                f"{skipped[0].problem}), so dataset.on_bad_file=skip would leave nothing to train on. Replace them "
                "(extract the official archive again), or point dataset.root at a complete copy."
            )
        offsets = np.zeros(int(kept.sum()) + 1, np.int64)
        np.cumsum(lengths[kept], out=offsets[1:])
        flat, values = spilled(work / "flat", np.uint32), spilled(work / "values", np.uint8)
        form = store.smallest_form(len(offsets) - 1, spec.cells, len(flat), max_value)
        meta = {"version": FORMAT_VERSION, "form": form, "spec": asdict(spec), "skipped": [[e.path, e.problem] for e in skipped], **header}
        arrays = {"labels": store.ArraySpec("int64", (len(offsets) - 1,), [np.asarray(labels)[kept]])}
        arrays.update(store.frame_arrays(form, offsets, flat, values, spec.cells))
        store.write(work / "cache", meta, arrays)
        os.replace(work / "cache", path)
    except OSError as err:
        raise storage.failure(err, path, "the frame cache", "Nothing was kept: free space or set dataset.root elsewhere, then run again.") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = BuildReport(path, len(offsets) - 1, skipped, form, time.perf_counter() - start)
    log.info(f"framed {len(files)} files into {path} ({form} form) in {report.seconds:.1f}s")
    if skipped:
        log.warning(
            f"{path}: skipped {len(skipped)} damaged file(s) (dataset.on_bad_file=skip), the first: "
            f"{skipped[0].path}: {skipped[0].problem}"
        )
    return report


def spilled(path: Path, dtype) -> np.ndarray:
    return np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.zeros(0, dtype)


@contextmanager
def progress_bar(enabled: bool, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar over ``total`` files (nothing when disabled); yields ``advance(n)``."""
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def current_version(version: object, spec: FrameSpec) -> bool:
    """Whether a cache of format ``version`` holds ``spec``'s frames as this snntrain defines them."""
    return version == FORMAT_VERSION or (version == 2 and spec.mode not in REDEFINED_IN_3)


def open_cache(path: Path, spec: FrameSpec, sources: str | None) -> tuple[store.FrameStore, np.ndarray, dict] | None:
    """The frames, labels and header cached at ``path`` for ``spec``; None if absent, stale or unreadable.

    ``sources`` (a fingerprint of the recordings) must match the one stored, unless it is None
    (the recordings are not on disk, so the cache is all there is).
    """
    found = store.read(path)
    if found is None:
        return None
    header, arrays = found
    if header.get("spec") != asdict(spec):
        return None
    if not current_version(header.get("version"), spec):
        log.info(f"{path} was built by another snntrain version (cache format {header.get('version')}); rebuilding it.")
        return None
    if sources is not None and header.get("sources") != sources:
        log.info(f"{path}: the recordings changed since it was built; rebuilding it.")
        return None
    if not store.verified(header, arrays):
        log.warning(f"{path} does not match its checksum: it was damaged after it was built; rebuilding it.")
        return None
    try:
        frames = store.FrameStore(header["form"], arrays, spec.frame_shape)
    except KeyError:
        return None
    labels = np.array(arrays["labels"])  # a private copy: torch wants writable memory
    if len(labels) != len(frames):
        return None
    return frames, labels, header
