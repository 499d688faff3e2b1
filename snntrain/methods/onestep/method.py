"""One-step differentiation (Bolte, Pauwels, Vaiter, NeurIPS 2023; METHODS.md §4).

The iteration differentiated is the network's state update over time. The first T-k steps run
without a graph (in time chunks when the model allows, ``time_chunks``); the last k start from the
detached neuron states, with the graph. The loss sees
the whole T-step output, the early steps entering as constants; k = T is BPTT. Saved activations
are O(k), not O(T).

How accurate it is: the T-k early outputs enter the loss as constants and the credit the state
carries from the last k steps into the earlier ones is dropped, so no contraction bound applies to
a layered network; ``python scripts/bench.py onestep_gradient`` measures the cosine with BPTT's
gradient for τ, k and the encoder (docs/methods.md: "When is one-step accurate?"). Only the last k outputs
pass a gradient, so its size is about k/T of BPTT's: irrelevant to Adam, with SGD scale the
learning rate.

Equilibrium layers (``EquilibriumLayer``: the feedback block of ``model=feedback``) have an
equilibrium a* = f(a*, x) of their firing rates; for them the iteration is f itself. They simulate
to the equilibrium without a graph and return the simulated a* carrying the gradient this method
attaches (``equilibrium.py``, IDE's ``Replace``): under ``method.implicit=jfb`` f applied k times
from the detached a* (k = 1: the Jacobian-free gradient); under ``exact`` the implicit-function
gradient of IDE, its adjoint solved by ``method.adjoint_solver`` (``adjoint.py``). The forward
fixed-point residual (and the adjoint's, for exact) is returned in ``StepResult.counts`` (the
largest over equilibrium layers).
A model with an equilibrium layer runs over all T steps in one call, so any layers before it get
their full time graph.

Time-major BatchNorm normalises each call with that call's statistics, so with k < T the early
and late steps of a BatchNorm model are normalised separately (k = T is still exactly BPTT); its
running statistics are updated once per step, with the statistics of all T steps, as under BPTT
(``layers.bn_updates``).
"""

from __future__ import annotations

import logging
from dataclasses import fields

import torch

from snntrain.core.capabilities import EquilibriumLayer, layers_with, switched
from snntrain.core.checks import require
from snntrain.core.errors import ConfigError
from snntrain.core.method import GradientMethod, StepResult, plain_backward
from snntrain.core.spiking import detach_states
from snntrain.layers.bn_updates import updated_once
from snntrain.methods.onestep.config import OneStepConfig
from snntrain.methods.onestep.equilibrium import AtEquilibrium, ExactAdjoint, JacobianFree
from snntrain.methods.time_chunks import run_in_chunks

log = logging.getLogger(__name__)


class OneStep(GradientMethod):
    name = "onestep"

    def check(self, model) -> None:
        """Neurons with a surrogate gradient; ``1 <= k <= T``: k differentiable steps out of T; the
        feedback-only keys need a feedback network.

        The ``adjoint_*`` keys stay allowed under ``implicit=jfb`` on a feedback network, so that one
        override (``method.implicit=jfb``) turns an IDE row into its one-step variant.
        """
        super().check(model)
        c = self.cfg
        if not 1 <= c.k <= self.T:
            raise ConfigError(
                f"method.k={c.k} is not allowed with T={self.T}: it must be in [1, T] "
                "(k = 1 is one-step differentiation, k = T is BPTT)."
            )
        if not layers_with(model, EquilibriumLayer):
            for f in fields(c):
                value = getattr(c, f.name)
                require(
                    not (f.name == "implicit" or f.name.startswith("adjoint_")) or value == f.default, f"method.{f.name}", value,
                    "it applies to feedback networks (model=feedback) only, and this model has none; leave it at its default",
                )
        elif c.implicit == "exact":
            require(c.k == 1, "method.k", c.k, "with method.implicit=exact the gradient is the adjoint's, not k applications of f; leave method.k=1")
        else:
            unused = [f"method.{f.name}={getattr(c, f.name)}" for f in fields(c) if f.name.startswith("adjoint_") and getattr(c, f.name) != f.default]
            if unused:  # allowed, so that method.implicit=jfb alone turns an IDE row one-step; said, not silent
                log.warning(f"{', '.join(unused)} have no effect under method.implicit=jfb (they configure the exact gradient's solver).")

    def step(self, model, x, y, backward=plain_backward) -> StepResult:
        equilibria = layers_with(model, EquilibriumLayer)
        how = self.at_equilibrium()
        with switched(equilibria, "implicit_gradient", how):
            output = model(x) if equilibria else self.truncated(model, x)
        scores = self.scores(output)
        loss = self.loss(scores, y)
        backward(loss)
        return StepResult(loss.detach(), scores.detach(), how.counts)

    def at_equilibrium(self) -> AtEquilibrium:
        """The gradient this step attaches at each equilibrium layer (``method.implicit``)."""
        c = self.cfg
        if c.implicit == "exact":
            return ExactAdjoint(c.adjoint_solver, c.adjoint_iters, c.adjoint_tol)
        return JacobianFree(c.k)

    def truncated(self, model, x: torch.Tensor) -> torch.Tensor:
        """The T-step output [T, B, C]; only its last k steps carry a graph."""
        early = x.shape[0] - self.cfg.k
        if early <= 0:
            return model(x)
        with updated_once(model):  # two calls, one batch: BatchNorm's running statistics move once
            with torch.no_grad():
                constant = run_in_chunks(model, x[:early])
            detach_states(model)
            return torch.cat([constant, model(x[early:])])


def build_onestep(cfg: OneStepConfig, T: int) -> OneStep:
    return OneStep(cfg, T)
