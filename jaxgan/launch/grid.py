"""Grids of config values: parsing, type checking against a config, expansion into points.

A grid maps config fields to the values to try, e.g. from the command line
`loss=non_saturating,wasserstein seed=0,1,2`, or from a YAML/JSON file
`{loss: [non_saturating, wasserstein], seed: [0, 1, 2]}`. Values take the type of the
config field (int, float, bool or str), so a typo fails here, before any run starts.
"""

import itertools
import json
import pathlib
import shlex
from collections.abc import Iterable, Mapping

import ml_collections
import yaml

from jaxgan.runtime.errors import UserError

Value = int | float | bool | str
Grid = dict[str, list[Value]]
_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
GRID_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def field_type(field: str, config: ml_collections.ConfigDict) -> type:
    if field not in config:
        raise UserError(f"unknown config field {field!r}: see jaxgan/config/defaults.py")
    kind = type(config[field])
    if kind not in _KINDS:
        raise UserError(f"config.{field} is a {kind.__name__}: only int, float, bool and str vary")
    return kind


def parse_value(field: str, text: str, config: ml_collections.ConfigDict) -> Value:
    """`text` as the type of `config.field`: '0.5' for a float, 'true' for a bool."""
    kind = field_type(field, config)
    if kind is str:
        return text
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise UserError(f"config.{field} must be true or false, got {text!r}")
        return text.lower() == "true"
    try:
        return kind(text)
    except ValueError:
        raise UserError(f"config.{field} must be {_KINDS[kind]}, got {text!r}") from None


def check_value(field: str, value: object, config: ml_collections.ConfigDict) -> Value:
    """A value read from a YAML/JSON file: strings are parsed as on the command line
    (YAML reads 1e-4 as a string); other values must already have the field's type."""
    if isinstance(value, str):
        return parse_value(field, value, config)
    kind = field_type(field, config)
    # bool is a subclass of int: `seed: true` must not pass as 1.
    fits = type(value) is kind or (kind is float and type(value) is int)
    if not fits:
        raise UserError(f"config.{field} must be {_KINDS[kind]}, got {value!r}")
    return kind(value)


def format_value(value: Value) -> str:
    """The text `--config.FIELD=` reads back as `value` (and the one run names use)."""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def split_items(argument: str) -> list[str]:
    """`a=1,2 b=3` into its items; quotes keep spaces in a value (shell-like)."""
    try:
        return shlex.split(argument)
    except ValueError as error:
        raise UserError(f"cannot split {argument!r}: {error}") from None


def split_item(item: str) -> tuple[str, str]:
    field, equals, values = item.partition("=")
    if not equals or not field:
        raise UserError(f"{item!r} is not FIELD=VALUE")
    return field, values


def add_axis(grid: Grid, field: str, values: list[Value]) -> None:
    if field in grid:
        raise UserError(f"config field {field!r} appears twice in the grid")
    if not values:
        raise UserError(f"the grid gives no values for {field!r}")
    repeated = sorted({format_value(v) for v in values if values.count(v) > 1})
    if repeated:
        raise UserError(f"the grid repeats {field}={','.join(repeated)}")
    grid[field] = values


def parse_axis(item: str, config: ml_collections.ConfigDict) -> tuple[str, list[Value]]:
    field, text = split_item(item)
    if not text:
        raise UserError(f"the grid gives no values for {field!r}: write {field}=V1,V2,...")
    texts = text.split(",")
    if "" in texts:
        raise UserError(f"empty value in {item!r}")
    return field, [parse_value(field, t, config) for t in texts]


def read_grid_file(path: pathlib.Path, config: ml_collections.ConfigDict) -> Grid:
    """A YAML or JSON mapping FIELD: [VALUES] (or FIELD: VALUE, one value)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise UserError(f"cannot read grid file {path}: {error.strerror}") from None
    try:
        pairs = json.loads(text, object_pairs_hook=list) if path.suffix == ".json" else _yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise UserError(
            f"grid file {path} is not valid {path.suffix[1:].upper()}: {error}"
        ) from None
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) for p in pairs):
        raise UserError(f"grid file {path} must hold a mapping of config fields to values")
    return grid_from_pairs(pairs, config)


def grid_from_pairs(
    pairs: Iterable[tuple[object, object]], config: ml_collections.ConfigDict
) -> Grid:
    """The grid of (field, values) pairs of a grid file or sweep.json; a lone value is
    one value."""
    grid: Grid = {}
    for field, values in pairs:
        values = values if isinstance(values, list) else [values]
        add_axis(grid, str(field), [check_value(str(field), v, config) for v in values])
    return grid


class _PairsLoader(yaml.SafeLoader):
    """Keeps a mapping's key-value pairs in order, repeated keys included, so that a
    field given twice is reported instead of silently keeping the last."""


_PairsLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_pairs(node, deep=True),
)


def _yaml(text: str) -> object:
    return yaml.load(text, Loader=_PairsLoader)


def parse_grid(arguments: Iterable[str], config: ml_collections.ConfigDict) -> Grid:
    """The grid of `--grid` arguments: each is a grid file (.yaml, .yml, .json) or
    space-separated `FIELD=V1,V2` items; axes keep the order given."""
    grid: Grid = {}
    for argument in arguments:
        if "=" not in argument and argument.endswith(GRID_FILE_SUFFIXES):
            for field, values in read_grid_file(pathlib.Path(argument), config).items():
                add_axis(grid, field, values)
            continue
        for item in split_items(argument):
            add_axis(grid, *parse_axis(item, config))
    if not grid:
        raise UserError("the grid is empty: give --grid=FIELD=V1,V2 (or a .yaml/.json file)")
    return grid


def parse_overrides(
    arguments: Iterable[str], config: ml_collections.ConfigDict
) -> dict[str, Value]:
    """`--set` arguments: space-separated `FIELD=VALUE` items, one value each (commas are
    part of the value)."""
    overrides: dict[str, Value] = {}
    for argument in arguments:
        for item in split_items(argument):
            field, text = split_item(item)
            if field in overrides:
                raise UserError(f"config field {field!r} is set twice")
            overrides[field] = parse_value(field, text, config)
    return overrides


def check_disjoint(grid: Mapping[str, list[Value]], overrides: Mapping[str, Value]) -> None:
    both = [field for field in grid if field in overrides]
    if both:
        raise UserError(
            f"{', '.join(both)} both varied by --grid and fixed by --set: keep one of them"
        )


def points(grid: Mapping[str, list[Value]]) -> list[dict[str, Value]]:
    """Every combination, the last axis varying fastest."""
    fields = list(grid)
    return [dict(zip(fields, values, strict=True)) for values in itertools.product(*grid.values())]
