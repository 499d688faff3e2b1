"""The HOSVD accuracy suite (scripts/bench.py hosvd_accuracy) runs its protocol end to end, briefly."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import hosvd_accuracy  # noqa: E402


@pytest.mark.slow
def test_the_suite_pretrains_fine_tunes_and_reports_ranks(tmp_path):
    parser = argparse.ArgumentParser()
    hosvd_accuracy.add_arguments(parser)
    args = parser.parse_args(["--eps", "0.9", "--scratch-epochs", "1", "--pretrain-epochs", "1", "--finetune-epochs", "1", "--out", str(tmp_path)])
    rows = hosvd_accuracy.run(args)
    assert [(r["setting"].split(",")[0], r["scheme"]) for r in rows] == [
        ("from scratch", "none"), ("from scratch", "hosvd eps=0.9"),
        ("fine-tune last 2 layers of a 1-epoch network", "none"), ("fine-tune last 2 layers of a 1-epoch network", "hosvd eps=0.9"),
    ]
    tuned = rows[-1]
    assert tuned["ranks_last_epoch"].startswith("body.7:") and "body.0" not in tuned["ranks_last_epoch"]
    assert (tmp_path / "pretrained" / "checkpoints" / "best.pt").is_file()
