"""The error types a user may see. Each message names the thing that is wrong and the fix."""


class SnntrainError(Exception):
    """Base of every error snntrain reports to the user without a traceback."""


class ConfigError(SnntrainError, ValueError):
    """A config key has a value that is not allowed; raised before any data is read."""


class DatasetError(SnntrainError):
    """A dataset is missing, incomplete or damaged."""


class CheckpointError(SnntrainError):
    """A checkpoint cannot be read, or does not match the model."""
