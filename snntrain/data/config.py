"""The datasets' config schemas (``dataset=<name>``, with ``dataset.augment.*``): dataclasses only, no
torch, so that the CLI can compose and check a config before it imports torch (the datasets are in
``vision.py``, ``imagenet.py``, ``digits.py`` and ``synthetic.py``, the augmentations in ``augment.py``;
the event datasets' schemas are in ``events/config.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

from snntrain.core.checks import in_unit_interval, one_of, require

AUTOAUGMENT_POLICIES = [None, "cifar10", "imagenet", "svhn"]


@dataclass
class AugmentConfig:
    """``dataset.augment.*``: what to do to each training sample (evaluation never augments); all off by default."""

    scale: float = field(default=0.0, metadata={"help": "stretch each axis about the centre by up to this % of the image (HM2-BP's SCALE; zoom in only while rotation is on); 0 = off"})
    rotation: float = field(default=0.0, metadata={"help": "rotate by up to this many degrees either way (HM2-BP's ROTATION); 0 = off"})
    elastic: float = field(default=0.0, metadata={"help": "elastic distortion of this strength, sigma 4 px (HM2-BP's DISTORTION); 0 = off"})
    flip: bool = field(default=False, metadata={"help": "mirror left-right (the last dim) with probability 0.5"})
    roll: int = field(default=0, metadata={"help": "circular shift of H and W by independent integers in [-roll, roll]; 0 = off"})
    crop_padding: int = field(default=0, metadata={"help": "zero-pad this many px per side, crop a random H x W window (torchvision RandomCrop(padding=...)); 0 = off"})
    cutout: int = field(default=0, metadata={"help": "zero one square of this side, centre uniform over the image, clipped at the borders (Cutout); 0 = off"})
    autoaugment: str | None = field(default=None, metadata={"help": "torchvision AutoAugment policy, after flip/roll and before Cutout, for RGB images only: cifar10 | imagenet | svhn; null = off"})

    def __post_init__(self) -> None:
        for key in ("scale", "rotation", "elastic", "roll", "crop_padding", "cutout"):
            value = getattr(self, key)
            require(value >= 0, f"dataset.augment.{key}", value, "it must be >= 0 (0 switches it off)")
        one_of("dataset.augment.autoaugment", self.autoaugment, AUTOAUGMENT_POLICIES)

    def enabled(self) -> list[str]:
        """The keys switched on."""
        return [f.name for f in fields(self) if getattr(self, f.name)]

    def check_input(self, input_shape: tuple[int, ...]) -> None:
        """Refuse augmentation of inputs that have no [C, H, W] image (e.g. flat feature vectors), and
        AutoAugment of anything but RGB images [3, H, W]."""
        off = {"flip": "false", "autoaugment": "null"}
        for key in self.enabled():
            require(
                len(input_shape) >= 3, f"dataset.augment.{key}", getattr(self, key),
                f"this dataset's samples have shape {list(input_shape)}, and augmentation needs images "
                f"[C, H, W]; set dataset.augment.{key}={off.get(key, 0)}",
            )
        require(
            self.autoaugment is None or (len(input_shape) == 3 and input_shape[0] == 3), "dataset.augment.autoaugment",
            self.autoaugment, f"this dataset's samples have shape {list(input_shape)}, and AutoAugment's policies are "
            "for RGB images [3, H, W]; set dataset.augment.autoaugment=null",
        )


@dataclass
class DatasetConfig:
    """Keys shared by every ``dataset=...`` option. ``ENCODERS``: the encoders its samples suit;
    ``SPLIT_KEYS``: the keys that decide how many samples each split gets."""

    ENCODERS: ClassVar[tuple[str, ...]] = ("direct", "poisson")
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.val_fraction")

    name: str = field(default="", metadata={"help": "the option's name (dataset=<name> selects it)"})
    root: str = field(default="data", metadata={"help": "folder holding the data (digits, synthetic: unused)"})
    download: bool = field(default=False, metadata={"help": "fetch the files into root when they are absent (torchvision; Tonic for event data, MD5-checked); not ImageNet"})
    batch_size: int = field(default=64, metadata={"help": "training samples per batch (per process under torchrun)"})
    eval_batch_size: int = field(default=256, metadata={"help": "samples per evaluation batch (validation and test)"})
    val_fraction: float = field(default=0.1, metadata={"help": "share of the training split held out, stratified, to select best.pt; 0: none (best.pt is then selected on test, labelled so)"})
    encoder: str = field(default="direct", metadata={"help": "direct (analog input every step) | poisson (Bernoulli spikes)"})
    poisson_scale: float = field(default=1.0, metadata={"help": "encoder=poisson only: spike probability per step = poisson_scale × pixel (HM2-BP: pixel/(5.5*255) is 0.1818)"})
    augment: AugmentConfig = field(default_factory=AugmentConfig, metadata={"help": (
        "training batches only (evaluation never augments); each sample its own draw (event frames: the same for all "
        "T), in the loader, on the batch as stored (uint8 images: before normalisation, so the zeros of crop_padding "
        "and cutout are black)"
    )})
    loader_workers: int = field(default=0, metadata={"help": "processes that read (and augment) batches ahead of the step; 0: in the training process"})

    def __post_init__(self) -> None:
        require(self.loader_workers >= 0, "dataset.loader_workers", self.loader_workers, "it must be >= 0 (0 reads in the training process)")
        require(self.batch_size > 0, "dataset.batch_size", self.batch_size, "it must be > 0")
        require(self.eval_batch_size > 0, "dataset.eval_batch_size", self.eval_batch_size, "it must be > 0")
        require(0.0 <= self.val_fraction < 1.0, "dataset.val_fraction", self.val_fraction, "it must be in [0, 1)")
        one_of("dataset.encoder", self.encoder, self.ENCODERS)
        in_unit_interval("dataset.poisson_scale", self.poisson_scale)
        require(
            self.encoder == "poisson" or self.poisson_scale == DatasetConfig.poisson_scale, "dataset.poisson_scale", self.poisson_scale,
            f"it scales the poisson encoder's spike probability, and dataset.encoder={self.encoder}; "
            f"set dataset.encoder=poisson, or leave it at {DatasetConfig.poisson_scale}",
        )


Statistics = tuple[tuple[float, ...], tuple[float, ...]]


@dataclass
class ImagesConfig(DatasetConfig):
    """Keys of the image datasets: per-channel normalisation of each batch after augmentation."""

    normalize: bool = field(default=False, metadata={"help": "(x - mean) / std per channel, per batch after augmentation (direct encoding only: poisson needs false)"})
    mean: list[float] | None = field(default=None, metadata={"help": "the per-channel mean normalize uses, e.g. [0.4914, 0.4822, 0.4465]; null: the dataset's own"})
    std: list[float] | None = field(default=None, metadata={"help": "the per-channel std normalize uses (set with mean), e.g. [0.2023, 0.1994, 0.2010]; null: the dataset's own"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            not (self.normalize and self.encoder == "poisson"), "dataset.normalize", self.normalize,
            "the poisson encoder needs intensities in [0, 1], which normalised pixels are not; set dataset.normalize=false",
        )
        require((self.mean is None) == (self.std is None), "dataset.mean", self.mean, "give dataset.mean and dataset.std together, or neither")
        require(self.normalize or self.mean is None, "dataset.mean", self.mean, "it is used only with dataset.normalize=true; set that, or leave it null")
        require(self.std is None or all(v > 0 for v in self.std), "dataset.std", self.std, "every value must be > 0")

    def statistics(self, own: Statistics) -> Statistics | None:
        """The (mean, std) to normalise with: the configured ones, else the dataset's ``own``; None without normalize."""
        if not self.normalize:
            return None
        if self.mean is None or self.std is None:
            return own
        channels = len(own[0])
        require(
            len(self.mean) == channels and len(self.std) == channels, "dataset.mean", self.mean,
            f"give one value per channel ({channels}) in dataset.mean and dataset.std",
        )
        return tuple(self.mean), tuple(self.std)


@dataclass
class MNISTConfig(ImagesConfig):
    name: str = "mnist"
    eval_batch_size: int = 1000


@dataclass
class FashionMNISTConfig(ImagesConfig):
    name: str = "fashion_mnist"
    eval_batch_size: int = 1000


@dataclass
class ColourImagesConfig(ImagesConfig):
    """Keys of the colour-image datasets (CIFAR, ImageNet), whose uint8 batches become floats after augmentation."""

    normalize: bool = True


@dataclass
class CIFAR10Config(ColourImagesConfig):
    name: str = "cifar10"
    batch_size: int = 128
    eval_batch_size: int = 500


@dataclass
class CIFAR100Config(CIFAR10Config):
    name: str = "cifar100"


@dataclass
class ImageNetConfig(ColourImagesConfig):
    """``dataset=imagenet``: ``image_size`` (crop side), ``workers`` (decoding threads per batch), ``loader_workers``
    (processes decoding batches ahead of the step), ``num_classes`` (class folders)."""

    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.num_classes", "dataset.val_fraction")
    name: str = "imagenet"
    root: str = "data/imagenet"
    batch_size: int = 256
    eval_batch_size: int = 250
    val_fraction: float = field(default=0.0, metadata={"help": "share of train/ held out (stratified) to select best.pt (0.01 = 12,811 images); val/ is the test split"})
    image_size: int = field(default=224, metadata={"help": "crop side: train RandomResizedCrop(image_size) + flip; eval Resize(image_size·256/224) + CenterCrop(image_size)"})
    workers: int = field(default=4, metadata={"help": "JPEG decoding threads per batch"})
    loader_workers: int = field(default=4, metadata={"help": "processes decoding batches ahead of the training step (about 230 images per CPU-second each thread)"})
    num_classes: int = field(default=1000, metadata={"help": "class folders expected under train/ and val/ (set it for a subset)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(not self.download, "dataset.download", self.download, "ImageNet cannot be downloaded automatically (it needs an image-net.org account); set dataset.download=false and point dataset.root at your copy")
        require(self.image_size >= 8, "dataset.image_size", self.image_size, "it must be >= 8 pixels")
        require(self.workers >= 1, "dataset.workers", self.workers, "it must be >= 1 thread")
        require(self.num_classes > 1, "dataset.num_classes", self.num_classes, "it must be > 1")


@dataclass
class DigitsConfig(DatasetConfig):
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.test_fraction", "dataset.val_fraction")
    name: str = "digits"
    batch_size: int = 32
    eval_batch_size: int = 512
    test_fraction: float = field(default=0.2, metadata={"help": "share of the images in the fixed, stratified test split (the same for every seed)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0.0 < self.test_fraction < 1.0, "dataset.test_fraction", self.test_fraction, "it must be in (0, 1)")


@dataclass
class SyntheticConfig(ImagesConfig):
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.train_size", "dataset.test_size", "dataset.val_fraction")
    name: str = "synthetic"
    batch_size: int = 32
    eval_batch_size: int = 64
    input_shape: list[int] = field(default_factory=lambda: [1, 8, 8], metadata={"help": "[C, H, W] for images, or [features]"})
    num_classes: int = field(default=10, metadata={"help": "classes, one fixed input pattern each"})
    train_size: int = field(default=256, metadata={"help": "training samples (the validation share included)"})
    test_size: int = field(default=64, metadata={"help": "test samples"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(len(self.input_shape) > 0 and all(n > 0 for n in self.input_shape), "dataset.input_shape", self.input_shape, "positive sizes, e.g. [3, 32, 32]")
        require(self.num_classes > 1, "dataset.num_classes", self.num_classes, "it must be > 1")
        require(self.train_size > 0, "dataset.train_size", self.train_size, "it must be > 0")
        require(self.test_size > 0, "dataset.test_size", self.test_size, "it must be > 0")
