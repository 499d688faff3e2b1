"""Reading the golden reference files computed by the papers' official code (``../shared/golden``).

The files live beside the checkout, never in it; a test that needs one skips, saying so, when it
is absent. ``relative_error`` is the metric their README's tolerances are stated in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

GOLDEN_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "golden"


def golden_arrays(name: str) -> dict[str, np.ndarray]:
    """Every array of ``GOLDEN_DIR / name``, read in place without pickle; skips the test when the file is absent."""
    path = GOLDEN_DIR / name
    if not path.is_file():
        pytest.skip(f"golden file {path} is absent (it lives in ../shared/golden beside the checkout, never in it)")
    with np.load(path, allow_pickle=False) as z:
        return {key: z[key] for key in z.files}


def relative_error(mine: torch.Tensor, golden: np.ndarray) -> float:
    """The golden README's metric: max |mine − golden| / max |golden|, in float64."""
    reference = torch.from_numpy(np.asarray(golden, dtype=np.float64))
    return float((mine.detach().double() - reference).abs().max() / reference.abs().max())
