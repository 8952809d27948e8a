"""Loading a config file outside absl flags, for embedding and tools."""

import importlib.util
import pathlib

import ml_collections

from jaxgan.runtime.errors import UserError


def load_config(spec: str) -> ml_collections.ConfigDict:
    """`load_config("configs/dcgan.py:64")`: runs the file's `get_config("64")`, as
    `--config=configs/dcgan.py:64` does on the command line."""
    path, _, argument = spec.partition(":")
    file = pathlib.Path(path)
    if not file.is_file():
        raise UserError(f"config file {path} does not exist")
    module_spec = importlib.util.spec_from_file_location(f"jaxgan_config_{file.stem}", file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise UserError(f"config file {path} defines no get_config()")
    return module.get_config(argument) if argument else module.get_config()
