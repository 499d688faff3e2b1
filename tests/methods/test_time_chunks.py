"""Graph-free passes in time chunks give the gradients of the one-call pass (the conv model bit for
bit, the MLP to float32 round-off); models that need all steps in one call (BatchNorm in training
mode) are not chunked."""

from __future__ import annotations

import pytest
import torch

from snntrain.methods import time_chunks
from tests.methods.method_helpers import build, gradients

T = 9  # odd: the last slice is shorter


def step_gradients(overrides: list[str], x: torch.Tensor, y: torch.Tensor):
    p = build([*overrides, f"T={T}"])
    calls = []
    p.model.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    result, grads = gradients(p, x, y)
    return result, grads, calls


@pytest.mark.parametrize("method", [["method=ratebp"], ["method=onestep", "method.k=2"]])
@pytest.mark.parametrize("model", [["model=cnn", "model.spec=4C3-P2-6C3"], ["model=mlp", "model.hidden=[32]"]])
def test_chunked_pass_gives_the_unchunked_gradients(monkeypatch, method, model):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(T, 6, 1, 8, 8, generator=g) < 0.3).float()  # spikes that vary over time
    y = torch.randint(0, 10, (6,), generator=g)
    result, grads, calls = step_gradients([*method, *model], x, y)
    graph_free = T if method == ["method=ratebp"] else T - 2
    chunks = [len(c) for c in torch.arange(graph_free).split(time_chunks.CHUNK_STEPS)]
    monkeypatch.setattr(time_chunks, "CHUNK_STEPS", T)  # one call over all steps: the reference
    reference, reference_grads, one_call = step_gradients([*method, *model], x, y)
    assert calls[:-1] == chunks and one_call[0] == graph_free
    assert torch.equal(result.loss, reference.loss)
    assert grads.keys() == reference_grads.keys()
    for k in grads:
        if model[0] == "model=cnn":
            assert torch.equal(grads[k], reference_grads[k]), k
        else:  # a GEMM over fewer rows may take another kernel (MKL chooses by shape): float32 round-off
            torch.testing.assert_close(grads[k], reference_grads[k], rtol=1e-6, atol=1e-6 * float(reference_grads[k].abs().max()))
    assert any(grad.abs().sum() > 0 for grad in grads.values())


def test_a_batchnorm_model_runs_its_spike_pass_in_one_call():
    x, y = torch.rand(T, 4, 1, 8, 8), torch.randint(0, 10, (4,))
    _, _, calls = step_gradients(["method=ratebp", "model=cnn", "model.spec=4C3-P2", "model.batch_norm=true"], x, y)
    assert calls == [T, 1]  # the spike pass over all T steps, then the rate pass
