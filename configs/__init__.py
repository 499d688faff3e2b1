# Makes the configs importable as the package data ``snntrain.configs`` (see pyproject.toml).
