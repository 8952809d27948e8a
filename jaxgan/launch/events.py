"""Reading scalars back from TensorBoard event files, without TensorFlow.

An event file is a TFRecord file: records of (uint64 length, uint32 masked CRC-32C of
the length, data, uint32 masked CRC-32C of the data), each data an `Event` protobuf.
tensorboardX ships the protobuf classes and the CRC, but no reader.
"""

import pathlib
import struct
from collections.abc import Iterator

# jaxgan.runtime.summary imports tensorboardX without torch (seconds, and a second thread pool);
# the modules below then come from the package it loaded.
from jaxgan.runtime import summary  # noqa: F401

# isort: split
from tensorboardX.proto import event_pb2
from tensorboardX.record_writer import masked_crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")


def records(path: pathlib.Path) -> Iterator[bytes]:
    """The data of each complete record; stops at a torn or damaged tail (a run killed
    while writing), keeping what came before it.

    Only the length's CRC is checked: tensorboardX's CRC-32C is pure Python (~4 MB/s),
    and the sample images make most of a file.
    """
    with open(path, "rb") as f:
        while True:
            header = f.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                return
            data = f.read(length)
            if len(data) < length or len(f.read(_FOOTER.size)) < _FOOTER.size:
                return
            yield data


def last_scalars(logdir: pathlib.Path) -> dict[str, tuple[int, float]]:
    """For each scalar tag in a run's event files: (step, value) of its highest step.

    A resumed run starts a new event file and may log a step again; files are read in
    name order (their names start with the creation time), so the later value wins.
    """
    found: dict[str, tuple[int, float]] = {}
    for path in sorted(pathlib.Path(logdir).glob("events.out.tfevents.*")):
        for data in records(path):
            event = event_pb2.Event.FromString(data)
            for value in event.summary.value:
                # jaxgan's scalars are simple_value (tensorboardX's default); images and
                # other summaries carry none.
                if value.HasField("simple_value"):
                    step = found.get(value.tag, (-1, 0.0))[0]
                    if event.step >= step:
                        found[value.tag] = (event.step, value.simple_value)
    return found
