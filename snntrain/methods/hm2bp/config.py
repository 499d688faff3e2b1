"""``method=hm2bp``'s config schema: a dataclass only, no torch, so that the CLI can compose and
check a config before it imports torch (the method is in ``method.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.checks import one_of, positive, require

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
