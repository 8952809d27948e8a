"""Where a compiled step's time goes, op by op: `python -m jaxgan.bench --profile_ops=N`.

A jax.profiler trace of a few calls is read back (jax.profiler.ProfileData), every event
named after an instruction of the compiled program is summed, and each instruction is
named by the JAX operation it came from (the HLO metadata's op_name, e.g.
`transpose(jvp(Discriminator))/DownsampleConv_1/conv_general_dilated`: the backward pass
of D's second convolution). On CPU, XLA runs independent ops on several threads at once,
so the op times of a step add up to more than its wall time.
"""

import collections
import dataclasses
import pathlib
import re
import tempfile
from collections.abc import Callable

import jax

# An HLO instruction line: `%name = type opcode(...)`, maybe ROOT, maybe with metadata.
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = .*?\b([a-z][\w\-]*)\(")
_OP_NAME = re.compile(r'op_name="([^"]+)"')
_COMPUTATION = re.compile(r"^(?:ENTRY )?%?([\w.\-]+) .*\{\s*$")
_CALLS = re.compile(r"calls=%?([\w.\-]+)")


@dataclasses.dataclass(frozen=True)
class OpTime:
    ms_per_step: float
    instruction: str  # the compiled program's instruction (a fusion, a convolution, ...)
    category: str  # 'convolution/matmul', 'layout copy', or 'elementwise/other'
    source: str  # the JAX operation it came from, when XLA recorded one


def instructions(hlo_text: str) -> dict[str, tuple[str, str, bool]]:
    """Instruction name -> (its line, the op_name of its metadata or '', whether it is or
    calls a convolution or matrix product). A fusion without metadata of its own is
    named by the computation it calls: after its convolution or matrix product if it has
    one, else its first named instruction."""
    found, computation_source, has_product, current = {}, {}, set(), None
    for line in hlo_text.splitlines():
        header = _COMPUTATION.match(line)
        if header:
            current = header.group(1)
            continue
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        op_name = _OP_NAME.search(line)
        source = op_name.group(1) if op_name else ""
        if _is_product(line) and not source:  # made by XLA, e.g. a kernel gradient
            source = _product_summary(line)
        found[match.group(1)] = [line, source, _is_product(line)]
        if current and _is_product(line):
            has_product.add(current)
        if current and source and (current not in computation_source or _is_product(line)):
            computation_source[current] = source
    for entry in found.values():
        called = _CALLS.search(entry[0])
        if called:
            entry[1] = entry[1] or computation_source.get(called.group(1), "")
            entry[2] = entry[2] or called.group(1) in has_product
    return {name: (line, source, product) for name, (line, source, product) in found.items()}


def _product_summary(line: str) -> str:
    """`convolution f32[...] window=...`: what a product without metadata computes."""
    shape = re.search(r"= (\S+) ", line)
    window = re.search(r"window=\{([^}]*)\}", line)
    kind = "convolution" if " convolution(" in line else "dot"
    shape = re.sub(r"\{[\d,]*\}", "", shape.group(1)) if shape else "?"
    text = f"(no JAX op recorded) {kind} -> {shape}"
    return text + (f" window {window.group(1)}" if window else "")


# On GPU, convolutions and matrix products are custom calls into cuDNN / cuBLAS(Lt); on CPU,
# jaxgan's kernel gradients are custom calls into oneDNN (jaxgan/kernel_grad.py).
_LIBRARY_PRODUCT = re.compile(
    r'custom_call_target="(__cudnn\$conv|__cublas|jaxgan_conv_(forward|input_grad|kernel_grad))'
)


def _is_product(line: str) -> bool:
    return " convolution(" in line or " dot(" in line or bool(_LIBRARY_PRODUCT.search(line))


def category(name: str, is_product: bool) -> str:
    if is_product:
        return "convolution/matmul"
    if name.startswith(("copy", "transpose")) or "transpose_copy" in name:
        return "layout copy"
    return "elementwise/other"


def profile(call: Callable[[], object], hlo_text: str, steps: int) -> list[OpTime]:
    """Runs `call` (one step, blocking until done) `steps` times under the profiler;
    every instruction of `hlo_text` that ran, with its time per step, slowest first."""
    known = instructions(hlo_text)
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        try:
            for _ in range(steps):
                call()
        finally:
            jax.profiler.stop_trace()
        trace = next(pathlib.Path(trace_dir).rglob("*.xplane.pb"))
        data = jax.profiler.ProfileData.from_file(str(trace))
    total_ns = collections.Counter()
    for plane in data.planes:
        for line in plane.lines:
            for event in line.events:
                if event.name in known:
                    total_ns[event.name] += event.duration_ns
    rows = []
    for name, ns in total_ns.items():
        _, source, is_product = known[name]
        source = re.sub(r"^jit\(\w+\)/", "", source)
        rows.append(OpTime(ns / steps / 1e6, name, category(name, is_product), source))
    return sorted(rows, key=lambda row: -row.ms_per_step)


def report(rows: list[OpTime], top: int) -> str:
    """The category totals, then the `top` slowest instructions, as text."""
    totals = collections.Counter()
    for row in rows:
        totals[row.category] += row.ms_per_step
    whole = sum(totals.values()) or 1.0
    lines = [f"op time per step: {whole:.1f} ms (summed over threads)"]
    for name, ms in totals.most_common():
        lines.append(f"  {ms:9.1f} ms {100 * ms / whole:5.1f}%  {name}")
    lines.append(f"slowest {min(top, len(rows))} instructions:")
    for row in rows[:top]:
        lines.append(
            f"  {row.ms_per_step:9.2f} ms  {row.instruction:<28} {row.source or row.category}"
        )
    return "\n".join(lines)
