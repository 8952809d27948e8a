"""jaxgan's native CPU kernels: built from source with the system's C++ compiler on first use.

One today: a convolution's three passes (forward, input and kernel gradients) through oneDNN
(onednn_conv.cc), which jaxgan/cpu/onednn_conv.py calls where XLA:CPU's own are slow. It needs a
C++17 compiler (`$CXX`, else g++ or c++) and oneDNN's headers and library (the
`onednn-devel-cpu-gomp` wheel, which jaxgan installs on x86-64 Linux). The library is
compiled once per source, jaxlib and oneDNN, into the cache folder
(jaxgan/runtime/cache.py), like PyTorch's `cpp_extension.load`; compiling takes about 10 s.

Where any of that is missing, or $JAXGAN_NATIVE=0, `ffi_targets` returns None, says why once
on the log, and jaxgan runs XLA's own convolutions: slower, never wrong.
"""

import ctypes
import functools
import hashlib
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile

from absl import logging

from jaxgan.runtime.cache import cache_dir
from jaxgan.runtime.errors import UserError

_SOURCE = pathlib.Path(__file__).with_name("onednn_conv.cc")
# pass -> (FFI target name, the library's handler symbol)
CONV_TARGETS = {
    "forward": ("jaxgan_conv_forward", "JaxganConvForward"),
    "input_grad": ("jaxgan_conv_input_grad", "JaxganConvInputGrad"),
    "kernel_grad": ("jaxgan_conv_kernel_grad", "JaxganConvKernelGrad"),
}


class Unavailable(Exception):
    """Why the native kernels cannot be built or loaded here."""


def _onednn() -> tuple[pathlib.Path, pathlib.Path]:
    """(include folder, library folder) of an installed oneDNN."""
    prefixes = dict.fromkeys([sys.prefix, sys.base_prefix, "/usr/local", "/usr"])
    for prefix in map(pathlib.Path, prefixes):
        include = prefix / "include"
        if not (include / "dnnl.hpp").is_file():
            continue
        for lib in (prefix / "lib", prefix / "lib64", prefix / "lib/x86_64-linux-gnu"):
            if any(lib.glob("libdnnl.so*")):
                return include, lib
    raise Unavailable(
        "oneDNN not found (dnnl.hpp and libdnnl.so under "
        f"{', '.join(prefixes)}): pip install onednn-devel-cpu-gomp==2023.2.0"
    )


def _compiler() -> str:
    for name in filter(None, (os.environ.get("CXX"), "g++", "c++")):
        if shutil.which(name):
            return name
    raise Unavailable("no C++ compiler ($CXX, g++ or c++) on PATH")


def _build() -> pathlib.Path:
    """The compiled library, from the cache or compiled now."""
    import jax  # noqa: PLC0415  (jax only when a kernel is asked for)
    import jaxlib  # noqa: PLC0415

    include, lib = _onednn()
    compiler = _compiler()
    jax_include = jax.ffi.include_dir()
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(
        b"\0".join(
            [source, jaxlib.__version__.encode(), str(lib.resolve()).encode(), compiler.encode()]
        )
    ).hexdigest()[:16]
    target = cache_dir() / "native" / f"jaxgan_native-{key}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Compiled beside the target and renamed: runs starting together never load half a file.
    handle, partial = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(handle)
    command = [
        compiler, "-O2", "-fopenmp", "-shared", "-fPIC", "-std=c++17", "-w",
        f"-I{include}", f"-I{jax_include}", str(_SOURCE), "-o", partial,
        f"-L{lib}", "-ldnnl", "-lgomp", f"-Wl,-rpath,{lib}",
    ]  # fmt: skip
    logging.info("compiling jaxgan's native kernels: %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        os.unlink(partial)
        raise Unavailable(f"compiling {_SOURCE.name} failed:\n{result.stderr[-2000:]}")
    os.chmod(partial, 0o755)  # mkstemp made it 0600
    os.replace(partial, target)
    return target


def threads() -> int:
    """OpenMP threads for each oneDNN call: $JAXGAN_ONEDNN_THREADS, else every CPU this
    process may use. (On 2 cores, one thread per call, leaving the other core to the XLA ops
    that run beside it, made the DCGAN step slower: BENCHMARKS.md.)"""
    every_cpu = len(os.sched_getaffinity(0))
    return _whole_number("JAXGAN_ONEDNN_THREADS", every_cpu, 1, "or unset it to use every CPU")


def _whole_number(variable: str, default: int, least: int, meaning: str) -> int:
    setting = os.environ.get(variable)
    if not setting:
        return default
    if not setting.isdigit() or int(setting) < least:
        raise UserError(f"{variable}={setting!r}: give a whole number, {least} or more, {meaning}")
    return int(setting)


def gemm_max_map() -> int:
    """The largest output map (height x width) whose convolution passes run as one matrix
    product of the patch matrix (oneDNN's sgemm) instead of oneDNN's convolution kernels:
    $JAXGAN_ONEDNN_GEMM_MAX_MAP, else 16 (DCGAN's 4x4 maps; at 8x8 the two ran even here,
    BENCHMARKS.md). 0: no pass runs as a product, image gradients included."""
    return _whole_number(
        "JAXGAN_ONEDNN_GEMM_MAX_MAP", 16, 0, "or unset it for the default (16; 0: no products)"
    )


@functools.cache
def ffi_targets() -> dict[str, str] | None:
    """The registered FFI target of each oneDNN convolution pass ('forward', 'input_grad',
    'kernel_grad'), or None (logged why)."""
    try:
        if os.environ.get("JAXGAN_NATIVE", "1") == "0":
            raise Unavailable("$JAXGAN_NATIVE=0")
        if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
            raise Unavailable(f"built for x86-64 Linux only, not {platform.machine()}")
        library = ctypes.cdll.LoadLibrary(str(_build()))
    except (Unavailable, OSError) as error:
        logging.warning("XLA's own convolutions, slower on CPU: %s", error)
        return None
    import jax  # noqa: PLC0415

    for name, symbol in CONV_TARGETS.values():
        handler = jax.ffi.pycapsule(getattr(library, symbol))
        jax.ffi.register_ffi_target(name, handler, platform="cpu")
    return {step: name for step, (name, _) in CONV_TARGETS.items()}
