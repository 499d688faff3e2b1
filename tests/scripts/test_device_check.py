"""The GPU check script keeps working without a GPU: every piece reports a row, none fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform != "linux", reason="the check is a bash script")
def test_device_check_runs_every_piece_and_exits_0_without_a_gpu():
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(["bash", "scripts/device_check.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for piece in sorted(p.stem for p in (ROOT / "scripts" / "device").glob("[!_]*.py")):
        assert f"| {piece} |" in result.stdout, piece
    assert "failed" not in result.stdout and "cut off" not in result.stdout


def test_hm2bp_epoch_piece_runs_a_tiny_epoch_on_the_cpu(tmp_path):
    out = tmp_path / "rows.json"
    cmd = [sys.executable, "scripts/device/hm2bp_epoch.py", "--samples", "4", "--batch", "2", "--steps", "20", "--device", "cpu", "--json", str(out)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert '"unit": "s"' in out.read_text()
