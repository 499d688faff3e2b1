"""``snntrain-export RUN_DIR|CHECKPOINT``: write the trained network as a NIR graph (``model.nir``).

A run dir stands for its ``checkpoints/best.pt`` (else ``last.pt``). The graph is the network after
the encoder, one snntrain step = ``--dt`` seconds (1e-4, snnTorch's importer's step); the output
goes to ``model.nir`` in the run dir unless ``--out`` says otherwise, written atomically. What NIR
cannot express (docs/nir.md) is refused in one line, exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from snntrain import storage
from snntrain.core.errors import SnntrainError, fail
from snntrain.engine.signals import stopping_on_signals
from snntrain.export import require_nir

PROG = "snntrain-export"


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        fail(SnntrainError(f"{message} (see {PROG} --help)"), PROG)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, metavar="RUN_DIR|CHECKPOINT", help="a run dir (its best.pt, else last.pt) or a checkpoint file")
    p.add_argument("--out", "-o", type=Path, help="the NIR file to write (default: model.nir in the run dir)")
    p.add_argument("--dt", type=float, default=None, help="seconds per snntrain step in the graph (default: 1e-4, snnTorch's)")
    return p


def export(source: Path, out: Path | None, dt: float | None) -> str:
    """Write ``source``'s network as NIR; the line to print."""
    require_nir(PROG)
    import nir

    from snntrain.export import trained
    from snntrain.export.neurons import DT
    from snntrain.export.to_nir import to_nir

    dt = DT if dt is None else dt
    if not (math.isfinite(dt) and dt > 0):
        raise SnntrainError(f"--dt={dt} is not allowed: seconds per step must be a number > 0.")
    if out is not None and not out.parent.is_dir():
        raise SnntrainError(f"--out {out}: the folder {out.parent} does not exist; create it or name another.")
    run = trained.load(source)
    cfg = run.config
    metadata = {"source": "snntrain", "model": cfg["model"]["name"], "encoder": cfg["dataset"]["encoder"], "T": cfg["T"], "readout": run.model.readout}
    graph = to_nir(run.model, run.input_shape, dt, metadata)
    buffer = io.BytesIO()
    nir.write(buffer, graph)
    path = out if out is not None else run.run_dir / "model.nir"
    storage.write_atomic(path, lambda f: f.write(buffer.getvalue()), "the NIR graph", "Nothing was written there.")
    shape = "x".join(map(str, run.input_shape))
    return (
        f"wrote {path}: {len(graph.nodes) - 2} layers of {cfg['model']['name']} from {run.checkpoint}, input {shape} per step "
        f"(after the {cfg['dataset']['encoder']} encoder), dt={dt:g} s, T={cfg['T']} steps in training"
    )


def main(argv: Sequence[str] | None = None) -> None:
    with stopping_on_signals(PROG):
        args = parser().parse_args(argv)
        try:
            line = export(args.source, args.out, args.dt)
        except SnntrainError as err:
            fail(err, PROG)
        Console(stderr=True, soft_wrap=True).print(line, highlight=False, markup=False)


if __name__ == "__main__":
    main()
