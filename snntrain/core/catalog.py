"""Every built-in component, one line each: adding a model, method, neuron, codec or dataset is its own
module plus one line here.

A line names the config group and option, the dataclass schema of ``<group>.*`` and the builder, both
as ``module:attribute`` strings: nothing is imported until a command asks for the component (or for
the schemas, before Hydra composes), so this list sits at the bottom of the package and points up.
The schemas live in torch-free modules (each room's ``config.py``), so that composing a config and
reporting its errors import no torch (tests/cli/test_startup.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Component:
    """One option of a config group: its schema dataclass and builder, as ``module:attribute`` strings."""

    group: str
    name: str
    schema: str
    builder: str

    @property
    def config_cls(self) -> type:
        return resolve(self.schema)

    @property
    def build(self) -> Callable[..., Any]:
        return resolve(self.builder)


def resolve(reference: str) -> Any:
    """The object ``module:attribute`` names, importing its module."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)

BUILT_IN = [
    Component("neuron", "cuba", "snntrain.neurons.config:CUBAConfig", "snntrain.neurons.cuba:build_cuba"),
    Component("neuron", "lif", "snntrain.neurons.config:LIFConfig", "snntrain.neurons.lif:build_lif"),
    Component("model", "cnn", "snntrain.models.config:CNNConfig", "snntrain.models.cnn:build_cnn"),
    Component("model", "feedback", "snntrain.models.feedback.config:FeedbackConfig", "snntrain.models.feedback.model:build_feedback"),
    Component("model", "mlp", "snntrain.models.config:MLPConfig", "snntrain.models.mlp:build_mlp"),
    Component("model", "resnet19", "snntrain.models.config:ResNetConfig", "snntrain.models.resnet:build_resnet19"),
    Component("model", "sew_resnet34", "snntrain.models.config:SEWResNetConfig", "snntrain.models.resnet:build_sew_resnet34"),
    Component("model", "vgg11", "snntrain.models.config:VGGConfig", "snntrain.models.vgg:build_vgg11"),
    Component("method", "bptt", "snntrain.methods.configs:BPTTConfig", "snntrain.methods.bptt:build_bptt"),
    Component("method", "hm2bp", "snntrain.methods.hm2bp.config:HM2BPConfig", "snntrain.methods.hm2bp.method:build_hm2bp"),
    Component("method", "onestep", "snntrain.methods.onestep.config:OneStepConfig", "snntrain.methods.onestep.method:build_onestep"),
    Component("method", "ratebp", "snntrain.methods.configs:RateBPConfig", "snntrain.methods.ratebp:build_ratebp"),
    Component("compression", "bitpack", "snntrain.compress.config:BitpackConfig", "snntrain.compress.bitpack:build_bitpack"),
    Component("compression", "hosvd", "snntrain.compress.config:HOSVDConfig", "snntrain.compress.hosvd:build_hosvd"),
    Component("compression", "none", "snntrain.compress.config:NoCompressionConfig", "snntrain.compress.base:build_none"),
    Component("dataset", "cifar10", "snntrain.data.config:CIFAR10Config", "snntrain.data.vision:build_cifar10"),
    Component("dataset", "cifar100", "snntrain.data.config:CIFAR100Config", "snntrain.data.vision:build_cifar100"),
    Component("dataset", "cifar10_dvs", "snntrain.data.events.config:CIFAR10DVSConfig", "snntrain.data.events.cifar10_dvs:build_cifar10_dvs"),
    Component("dataset", "digits", "snntrain.data.config:DigitsConfig", "snntrain.data.digits:build_digits"),
    Component("dataset", "fashion_mnist", "snntrain.data.config:FashionMNISTConfig", "snntrain.data.vision:build_fashion_mnist"),
    Component("dataset", "imagenet", "snntrain.data.config:ImageNetConfig", "snntrain.data.imagenet:build_imagenet"),
    Component("dataset", "mnist", "snntrain.data.config:MNISTConfig", "snntrain.data.vision:build_mnist"),
    Component("dataset", "nmnist", "snntrain.data.events.config:NMNISTConfig", "snntrain.data.events.nmnist:build_nmnist"),
    Component("dataset", "synthetic", "snntrain.data.config:SyntheticConfig", "snntrain.data.synthetic:build_synthetic"),
    Component("optimizer", "adam", "snntrain.engine.config:AdamConfig", "snntrain.engine.optim:build_adam"),
    Component("optimizer", "adamw", "snntrain.engine.config:AdamWConfig", "snntrain.engine.optim:build_adamw"),
    Component("optimizer", "sgd", "snntrain.engine.config:SGDConfig", "snntrain.engine.optim:build_sgd"),
    Component("scheduler", "cosine", "snntrain.engine.config:CosineConfig", "snntrain.engine.optim:build_cosine"),
    Component("scheduler", "inv_sqrt", "snntrain.engine.config:InvSqrtConfig", "snntrain.engine.optim:build_inv_sqrt"),
    Component("scheduler", "multistep", "snntrain.engine.config:MultiStepConfig", "snntrain.engine.optim:build_multistep"),
    Component("scheduler", "none", "snntrain.engine.config:NoScheduleConfig", "snntrain.engine.optim:build_none"),
    Component("scheduler", "step", "snntrain.engine.config:StepConfig", "snntrain.engine.optim:build_step"),
    Component("trainer", "default", "snntrain.engine.config:TrainerConfig", "snntrain.engine.trainer:build_trainer_config"),
    Component("logger", "csv", "snntrain.engine.config:CSVConfig", "snntrain.engine.logger:build_csv"),
    Component("logger", "mlflow", "snntrain.engine.config:MLflowConfig", "snntrain.engine.tracking:build_mlflow"),
    Component("logger", "none", "snntrain.engine.config:NoLoggerConfig", "snntrain.engine.logger:build_no_logger"),
    Component("logger", "tensorboard", "snntrain.engine.config:TensorBoardConfig", "snntrain.engine.logger:build_tensorboard"),
    Component("logger", "wandb", "snntrain.engine.config:WandbConfig", "snntrain.engine.tracking:build_wandb"),
]
