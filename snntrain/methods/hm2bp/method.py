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

from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.core.checks import one_of, positive, require
from snntrain.core.errors import ConfigError
from snntrain.core.method import GradientMethod, StepResult, plain_backward
from snntrain.methods.hm2bp.output import count_loss
from snntrain.methods.hm2bp.rules import Fallbacks
from snntrain.methods.hm2bp.stage import NetworkFunction, OutputTricks, Run, Stage, stages_of

PSP_DELAYS = ["official", "paper"]


@dataclass
class HM2BPConfig:
    """``method=hm2bp``: the rate-coded loss and S-PSP of the paper, the micro-level factor of the output
    layer, and the official code's regulariser, tricks and fallback constants (help: docs/config.md)."""

    name: str = field(default="hm2bp", metadata={"help": "the option's name (method=<name> selects it)"})
    # Rate-coded loss on output firing counts (paper).
    desired: float = field(default=35.0, metadata={"help": "desired count of the label neuron"})
    undesired: float = field(default=5.0, metadata={"help": "desired count of every other output neuron"})
    margin: float = field(default=5.0, metadata={"help": "no error where |count - desired| <= margin"})
    # S-PSP (paper).
    psp_window: float = field(default=4.0, metadata={"help": "presynaptic spikes up to psp_window * tau_m before an output spike count"})
    psp_delay: str = field(default="official", metadata={"help": (
        "official: an input spike counts t_ref steps late, as the official kernels compute it (pre_time = t_pre + T_REFRAC), "
        "so one arriving fewer than t_ref steps before an output spike adds nothing to it | paper: the paper's formula, "
        "no delay (closer to the CUBA neuron's actual response: its input acts one step after it arrives). "
        "Every hm2bp_* row: official"
    )})
    # Micro level, output layer (paper).
    lateral_factor: bool = field(default=True, metadata={"help": (
        "on: scale output weight gradients by 1/(1 - w0^2 sum R d R d), the feedback of neuron.output_inhibition "
        "(no effect when that is 0)"
    )})
    # Weight regulariser (official recipe).
    reg_lambda: float = field(default=10.0, metadata={"help": (
        "lam of the weight regulariser lam*beta*(W/W_lim)*exp(beta*(mean_row (W/W_lim)^2 - 1)) (official recipe; "
        "0 turns it off): keeps rows of W inside +-weight_limit on average"
    )})
    reg_beta: float = field(default=0.04, metadata={"help": "beta of the regulariser: 0.04 MNIST, 0.01 N-MNIST (hm2bp_preset/nmnist.yaml)"})
    weight_limit: float = field(default=8.0, metadata={"help": "W_lim of the regulariser"})
    # Tricks of the official code, absent from the paper.
    forced_target_spikes: bool = field(default=True, metadata={"help": (
        "official trick, on: a silent label neuron gets spikes every T/desired steps before the backward pass. Without "
        "them its S-PSP is 0, its weights only get the silent_effect fallback and it can stay silent for good"
    )})
    boost_misclassified: float = field(default=1.0, metadata={"help": (
        "official trick, off (1): multiply the error of each sample misclassified in this step by this factor. The "
        "official code boosts per sample across epochs by exp(class error / 20), which needs sample ids the method does "
        "not see; not needed for the paper's numbers"
    )})
    # Fallback constants of the official code where a neuron is silent (always used).
    silent_effect: float = field(default=0.1, metadata={"help": "official fallback: e_{i|j} when output i is silent and input j fired"})
    silent_side_ratio: float = field(default=0.5, metadata={"help": "official fallback: e_{i|j}/o_i inside the side term when o_i = 0"})
    silent_count_ratio: float = field(default=1.0, metadata={"help": "official fallback: count ratio R = e_{i|j}/o_j when i or j is silent"})

    def __post_init__(self) -> None:
        require(self.desired > self.undesired >= 0, "method.desired", self.desired, f"it must be > method.undesired={self.undesired} >= 0")
        require(self.margin >= 0, "method.margin", self.margin, "it must be >= 0")
        positive("method.psp_window", self.psp_window)
        one_of("method.psp_delay", self.psp_delay, PSP_DELAYS)
        require(self.reg_lambda >= 0, "method.reg_lambda", self.reg_lambda, "it must be >= 0 (0 turns the regulariser off)")
        require(self.reg_beta >= 0, "method.reg_beta", self.reg_beta, "it must be >= 0")
        positive("method.weight_limit", self.weight_limit)
        require(self.boost_misclassified >= 1, "method.boost_misclassified", self.boost_misclassified, "it must be >= 1 (1 turns boosting off)")
        for key in ("silent_effect", "silent_side_ratio", "silent_count_ratio"):
            require(getattr(self, key) >= 0, f"method.{key}", getattr(self, key), "it must be >= 0")


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
