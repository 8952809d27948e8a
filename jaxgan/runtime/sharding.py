"""The device mesh of data parallelism: a batch axis 'data' over every device."""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan.runtime.errors import UserError


def data_mesh(devices=None) -> Mesh:
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), ("data",))


def batch_sharding(mesh: Mesh, leading_axes: int = 1) -> NamedSharding:
    """Step batches are (d_steps, batch, ...): the batch axis is split over 'data'.
    Batches of several steps have one more leading axis (`leading_axes=2`)."""
    return NamedSharding(mesh, P(*[None] * leading_axes, "data"))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    devices = mesh.devices.size
    if batch_size <= 0 or batch_size % devices:
        raise UserError(
            f"config.batch_size={batch_size} must be a positive multiple of the "
            f"{devices} devices (it is the global batch): try "
            f"--config.batch_size={max(devices, batch_size - batch_size % devices)}"
        )
