"""Packaging detail pyproject.toml cannot say: the top-level configs/ ships as ``snntrain.configs``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["snntrain", "snntrain.*"]), "snntrain.configs"],
    package_dir={"snntrain.configs": "configs"},
)
