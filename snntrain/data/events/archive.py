"""Get the official N-MNIST archives onto disk: safe extraction, and download through Tonic."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from snntrain.errors import DatasetError


def unsafe_member(name: str) -> bool:
    """True when the archive member ``name`` would land outside the folder it is extracted into."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def extract_folder(archive: Path, folder: str, root: Path) -> Path:
    """Extract ``archive`` and move its top-level ``folder`` to ``root/folder``; return that path.

    Every member is checked before anything is written: a member that would escape ``root``
    (absolute path, ``..``, drive letter) raises DatasetError and nothing is extracted. The
    extraction goes to a private folder first, so an interrupted one never looks complete.
    """
    target = root / folder
    work = root / f".{folder}.{os.getpid()}.extracting"
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                if unsafe_member(name):
                    raise DatasetError(f"{archive}: member {name!r} would be written outside {root}; refusing to extract it.")
            if not any(PurePosixPath(n).parts[:1] == (folder,) for n in names):
                raise DatasetError(f"{archive} has no top-level {folder}/ folder; is it the official N-MNIST {folder}.zip?")
            shutil.rmtree(work, ignore_errors=True)
            zf.extractall(work)
        os.replace(work / folder, target)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetError(f"{archive} cannot be extracted ({err}). Delete it and download it again.") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def download(folder: str, root: Path) -> Path:
    """Download the official ``folder`` archive ("Train" or "Test") into ``root``, MD5-checked by Tonic."""
    from tonic.datasets import NMNIST
    from tonic.download_utils import download_url

    train = folder == "Train"
    url, filename, md5 = (
        (NMNIST.train_url, NMNIST.train_filename, NMNIST.train_md5) if train
        else (NMNIST.test_url, NMNIST.test_filename, NMNIST.test_md5)
    )
    try:
        download_url(url, str(root), filename=filename, md5=md5)
    except Exception as err:  # urllib, http and checksum failures come in many types
        raise DatasetError(
            f"dataset=nmnist: downloading {url} into {root} failed ({err}). Download {folder}.zip by hand "
            f"(MD5 {md5}) and put it in {root}."
        ) from None
    return root / filename
