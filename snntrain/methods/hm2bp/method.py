"""``method=hm2bp``: hybrid macro/micro-level backpropagation (Jin, Zhang, Li, NeurIPS 2018).

One step: run the stages of ``model.body`` (``stage.NetworkFunction``: CUBA neurons, no graph
over time, compact spike trains saved), take the rate-coded loss on the output counts, add the weight
regulariser, and call ``backward``; each stage's backward applies the HM2-BP rule. The gradient
of a batch is the official one: the mean of its samples' data terms plus the regulariser once
(``g_Spiking_gradAdd``: ``sum / batch + lambda beta ...``), so the regulariser weighs against the
data term as in per-sample (batch 1) training at any batch size. The reported loss is the
per-sample mean.
"""

from __future__ import annotations

import torch
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.core.method import GradientMethod, StepResult, plain_backward
from snntrain.methods.hm2bp.config import HM2BPConfig
from snntrain.methods.hm2bp.output import count_loss
from snntrain.methods.hm2bp.rules import Fallbacks
from snntrain.methods.hm2bp.stage import NetworkFunction, OutputTricks, Run, Stage, stages_of


class _Regulariser(torch.autograd.Function):
    """R(W) whose backward forms dR/dW from W itself, so autograd saves no weight-sized tensor
    (the trainer's byte meter counts activations, and W is a parameter)."""

    @staticmethod
    def forward(ctx, weight, lam: float, beta: float, limit: float):
        ctx.save_for_backward(weight)
        ctx.constants = lam, beta, limit
        rows = weight.flatten(1) / limit
        return (lam * limit * rows.shape[1] / 2.0 * torch.exp(beta * (rows.pow(2).mean(1) - 1.0))).sum()

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        lam, beta, limit = ctx.constants
        scaled = weight / limit
        mean_sq = scaled.flatten(1).pow(2).mean(1).view(-1, *([1] * (weight.dim() - 1)))
        return grad * lam * beta * scaled * torch.exp(beta * (mean_sq - 1.0)), None, None, None


def weight_regulariser(weight: torch.Tensor, lam: float, beta: float, limit: float) -> torch.Tensor:
    """The official regulariser as a loss term; per output neuron i (a row of W, or a conv filter),

    with m_i = mean_j (W_ij / limit)^2 over its n inputs, R = sum_i (lam limit n / 2) exp(beta (m_i - 1)),
    so that dR/dW = lam beta (W / limit) exp(beta (m_i - 1)), the gradient the paper adds.
    """
    return _Regulariser.apply(weight, lam, beta, limit)


class HM2BP(GradientMethod):
    name = "hm2bp"
    autograd_through_model = False
    models = ("mlp", "cnn")

    def __init__(self, cfg: HM2BPConfig, T: int) -> None:
        super().__init__(cfg, T)
        self.tricks = OutputTricks(cfg.lateral_factor, cfg.forced_target_spikes, cfg.desired)
        self.fallbacks = Fallbacks(cfg.silent_effect, cfg.silent_side_ratio, cfg.silent_count_ratio)

    def check(self, model: nn.Module) -> None:
        """ConfigError unless ``model`` is CUBA stages with a spiking output (before any data is read)."""
        if not isinstance(getattr(model, "body", None), nn.Sequential) or not hasattr(model, "readout"):
            raise ConfigError(
                "method=hm2bp trains chains of linear, conv and average-pool layers between current-based LIF neurons "
                f"(model=mlp, model=cnn); this {type(model).__name__} is not one. Use model=mlp or model=cnn, or another method."
            )
        self.stages(model)
        if model.readout != "spikes":
            raise ConfigError(f"model.readout={model.readout!r} is not allowed with method=hm2bp: the output layer must spike. Set model.readout=spikes.")

    def stages(self, model: nn.Module) -> list[Stage]:
        """``model.body`` as HM2-BP stages under this method's S-PSP settings."""
        return stages_of(model.body, self.cfg.psp_window, delayed=self.cfg.psp_delay == "official")

    def scores(self, output: torch.Tensor) -> torch.Tensor:
        """Output firing counts [B, C]; the prediction is their argmax."""
        return output.sum(0)

    def step(self, model, x, y, backward=plain_backward) -> StepResult:
        cfg = self.cfg
        stages = self.stages(model)
        weights = [stage.synapse.synaptic_weight for stage in stages if stage.synapse.synaptic_weight is not None]
        out = NetworkFunction.apply(x, Run(stages, self.tricks, self.fallbacks, y), *weights)
        counts = self.scores(out)
        wrong = counts.detach().argmax(1) != y
        sample_weight = torch.where(wrong, cfg.boost_misclassified, 1.0)
        loss = count_loss(counts, y, cfg.desired, cfg.undesired, cfg.margin, sample_weight) / len(y)
        total = loss
        if cfg.reg_lambda:
            for weight in weights:
                total = total + weight_regulariser(weight, cfg.reg_lambda, cfg.reg_beta, cfg.weight_limit)
        backward(total)
        return StepResult(loss.detach(), counts.detach())


def build_hm2bp(cfg: HM2BPConfig, T: int) -> HM2BP:
    return HM2BP(cfg, T)
