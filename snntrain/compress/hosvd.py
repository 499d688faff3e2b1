"""``compression=hosvd``: ε-threshold truncated HOSVD of saved activations (METHODS.md §6).

Each saved activation ``A`` of modes ``(M_1..M_N)`` is stored as a Tucker core and one factor
per mode. The tensor is taken in the shape autograd saved it: a conv input is
``[T·B, C, H, W]`` (time merged into the batch, the time-major layers' layout), a linear input
``[T·B, F]`` (``nn.Linear`` saves its input as a matrix over the merged leading dimensions), a
neuron's per-step state ``[B, C, H, W]``. For each mode j the factor ``U_j`` holds the fewest
leading left singular vectors of the mode-j unfolding whose share of ``Σ σ²`` is at least ε;
the ranks are chosen anew for every tensor, so every batch. Then ``‖A − Â‖²_F ≤ N (1 − ε) ‖A‖²_F``
(N ≤ 4 modes: the ``4 (1 − ε)`` bound of the paper).

Backward uses the reconstruction ``Â = S ×_1 U_1 … ×_N U_N``: a saved-tensor hook must give
autograd a tensor. ``compress.factor_grad`` computes a conv weight gradient from the factors
instead (the paper's projected route); the tests hold the two to each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.compress.base import Codec, StoredForm, tensor_bytes
from snntrain.compress.bitpack import BitPacked, is_binary
from snntrain.compress.config import HOSVDConfig
from snntrain.core.errors import ConfigError
from snntrain.layers import weight_layers


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def rank_for(energies: torch.Tensor, eps: float) -> int:
    """The fewest leading ``energies`` (descending σ²) whose sum is at least ``eps`` of the total (≥ 1)."""
    cumulative = energies.double().cumsum(0)
    return int(torch.searchsorted(cumulative, eps * cumulative[-1])) + 1


def leading_basis(unfolding: torch.Tensor, eps: float) -> torch.Tensor:
    """Orthonormal ``[M, K]``: the span of the top-K left singular vectors of ``unfolding`` [M, P],
    K = ``rank_for(σ², eps)``. The eigenproblem is solved on the smaller Gram matrix, in float64:
    float32 ``eigh`` fails to converge on some sparse spike Grams."""
    rows, cols = unfolding.shape
    gram = unfolding @ unfolding.T if rows <= cols else unfolding.T @ unfolding
    energies, vectors = torch.linalg.eigh(gram.double())
    energies, vectors = energies.flip(0).clamp_min(0), vectors.flip(1).to(unfolding.dtype)
    k = rank_for(energies, eps)
    if rows <= cols:
        return vectors[:, :k]
    # the left vectors span unfolding @ (right vectors); QR orthonormalises without dividing by σ
    return torch.linalg.qr(unfolding @ vectors[:, :k]).Q


def mode_products(x: torch.Tensor, matrices: list[torch.Tensor]) -> torch.Tensor:
    """``x ×_1 matrices[0] ×_2 matrices[1] …`` with ``matrices[j]`` of shape [new_j, old_j]."""
    for matrix in matrices:
        # contracting axis 0 each time appends the new mode last: after N steps the order is restored
        x = torch.tensordot(x, matrix, dims=([0], [1]))
    return x


@dataclass(eq=False)
class Tucker(StoredForm):
    """Core ``[K_1..K_N]`` and factors ``[M_j, K_j]`` of a tensor of dtype ``dtype``."""

    core: torch.Tensor
    factors: list[torch.Tensor]
    dtype: torch.dtype
    ranks: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.ranks = tuple(self.core.shape)

    @property
    def nbytes(self) -> int:
        return tensor_bytes(self.core) + sum(tensor_bytes(f) for f in self.factors)

    def restore(self) -> torch.Tensor:
        work = _work_dtype(self.dtype)
        return mode_products(self.core.to(work), [f.to(work) for f in self.factors]).to(self.dtype)


def hosvd(a: torch.Tensor, eps: float) -> Tucker:
    """ε-threshold truncated HOSVD of ``a`` (≥ 1 mode); core and factors are stored in ``a``'s dtype."""
    with torch.autocast(a.device.type, enabled=False):
        x = a.detach().to(_work_dtype(a.dtype))
        factors = [leading_basis(x.movedim(j, 0).reshape(x.shape[j], -1), eps) for j in range(x.dim())]
        core = mode_products(x, [f.T for f in factors])
    return Tucker(core.to(a.dtype), [f.to(a.dtype) for f in factors], a.dtype)


class HOSVDCodec(Codec):
    """Activations as Tucker decompositions; binary ones bit-packed when ``spikes=bitpack``.

    ``scope="weight_inputs"`` (the paper's): only what a conv or linear layer saves, its input,
    which autograd keeps for that layer's weight gradient alone (the input gradient uses W
    exactly); every other saved tensor (a neuron's u − θ, BatchNorm's input, rate-BP's
    eligibilities) is kept as it is. ``scope="all"``: every saved float tensor of the model.
    Within the scope a tensor is decomposed when its module is selected (``compression.layers``,
    if given, names modules, submodules included), it has ≥ 2 modes and ≥ ``min_numel``
    elements, all finite, and core + factors are smaller than the tensor.
    """

    name = "hosvd"

    def __init__(self, eps: float, min_numel: int, layers: list[str], spikes: str, scope: str = "weight_inputs") -> None:
        self.eps, self.min_numel, self.layers, self.scope = eps, min_numel, list(layers), scope
        self.bitpack_spikes = spikes == "bitpack"
        self.weight_layers: set[str] = set()

    def attach(self, model: nn.Module) -> None:
        self.weight_layers = set(weight_layers(model))

    def check(self, model: nn.Module, method) -> None:
        super().check(model, method)
        if not getattr(method, "autograd_through_model", True):
            raise ConfigError(
                f"compression=hosvd does not apply to method={method.name}: it computes its own gradients from "
                "tensors it saves outside the model's layers (spike trains, its input, one gain per neuron), which "
                "HOSVD does not decompose, so nothing would be compressed. Use compression=bitpack (1 bit per "
                "spike) or compression=none."
            )
        names = [name for name, _ in model.named_modules() if name]
        unknown = [layer for layer in self.layers if layer not in names]
        if unknown:
            raise ConfigError(f"compression.layers names {unknown}, which are not modules of this model; choose among {names}.")

    def selects(self, layer: str | None) -> bool:
        if layer is None or (self.scope == "weight_inputs" and layer not in self.weight_layers):
            return False
        return not self.layers or any(layer == name or layer.startswith(name + ".") for name in self.layers)

    def pack(self, t: torch.Tensor, layer: str | None = None) -> torch.Tensor | StoredForm:
        if self.bitpack_spikes and is_binary(t):
            return BitPacked.of(t)
        if not (self.selects(layer) and t.is_floating_point() and t.dim() >= 2 and t.numel() >= self.min_numel):
            return t
        if not torch.isfinite(t).all():  # left for the trainer's non-finite check, not an eigh error
            return t
        tucker = hosvd(t, self.eps)
        return tucker if tucker.nbytes < tensor_bytes(t) else t


def build_hosvd(cfg: HOSVDConfig) -> HOSVDCodec:
    return HOSVDCodec(cfg.eps, cfg.min_numel, cfg.layers, cfg.spikes, cfg.scope)
