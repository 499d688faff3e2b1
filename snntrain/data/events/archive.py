"""Get the official event-dataset archives onto disk: safe extraction, and download through Tonic."""

from __future__ import annotations

import os
import shutil
import zipfile
from functools import partial
from pathlib import Path, PurePosixPath

from snntrain import storage
from snntrain.core.errors import DatasetError


def unsafe_member(name: str) -> bool:
    """True when the archive member ``name`` would land outside the folder it is extracted into."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


AFTER_FAILED_WRITE = "Nothing half-extracted is kept: free space (or set dataset.root to another disk), then run again."


def extract_folder(archive: Path, folder: str, root: Path) -> Path:
    """Extract ``archive`` and move its top-level ``folder`` to ``root/folder``; return that path.

    Every member is checked before anything is written: a member that would escape ``root``
    (absolute path, ``..``, drive letter) raises DatasetError and nothing is extracted. The
    extraction goes to a private folder first, so an interrupted one never looks complete; a failed
    write (full disk, no permission) removes it and raises a StorageError.
    """
    target = root / folder
    storage.remove_stale(root)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                if unsafe_member(name):
                    raise DatasetError(f"{archive}: member {name!r} would be written outside {root}; refusing to extract it.")
            if not any(PurePosixPath(n).parts[:1] == (folder,) for n in names):
                raise DatasetError(f"{archive} has no top-level {folder}/ folder; is it the official {folder}.zip?")
            with storage.guarded(target, f"the recordings of {archive.name}", AFTER_FAILED_WRITE), storage.partial_folder(target) as work:
                zf.extractall(work)
                os.replace(work / folder, target)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetError(f"{archive} cannot be extracted ({err}). Delete it and download it again.") from None
    return target


def extract_named(archive: Path, wanted: set[str], root: Path) -> list[Path]:
    """Extract the members of ``archive`` whose file name is in ``wanted`` to ``root/<name>``, wherever they sit.

    Only the base name is used, so no member can land outside ``root``; each file is written
    atomically (``storage.write_atomic``), so an interrupted or failed extraction never leaves a
    partial file.
    """
    written = []
    storage.remove_stale(root)
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename.replace("\\", "/")).name
                if name not in wanted or info.is_dir():
                    continue
                with zf.open(info) as src:
                    storage.write_atomic(root / name, partial(shutil.copyfileobj, src), f"a file extracted from {archive.name}", AFTER_FAILED_WRITE)
                written.append(root / name)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetError(f"{archive} cannot be extracted ({err}). Delete it and download it again.") from None
    return written


def download(url: str, root: Path, filename: str, md5: str, dataset: str) -> Path:
    """Download ``url`` to ``root/filename`` through Tonic, which checks its MD5; DatasetError says how to do it by hand."""
    from tonic.download_utils import download_url

    root.mkdir(parents=True, exist_ok=True)
    try:
        download_url(url, str(root), filename=filename, md5=md5)
    except Exception as err:  # urllib, http and checksum failures come in many types
        raise DatasetError(
            f"dataset={dataset}: downloading {url} into {root} failed ({err}). Download {filename} by hand "
            f"(MD5 {md5}) and put it in {root}."
        ) from None
    return root / filename
