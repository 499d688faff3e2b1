"""Packaging detail pyproject.toml cannot say: the top-level configs/ ships as ``snntrain.configs``."""

from setuptools import find_namespace_packages, find_packages, setup

config_groups = [f"snntrain.configs.{name}" for name in find_namespace_packages(where="configs", exclude=["__pycache__*"])]

setup(
    packages=[*find_packages(include=["snntrain", "snntrain.*"]), "snntrain.configs", *config_groups],
    package_dir={"snntrain.configs": "configs"},
)
