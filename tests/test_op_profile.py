"""jaxgan.benchmarks.op_profile: instructions named by the JAX operations they came from, and a
real profile of a compiled function."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.benchmarks import op_profile

HLO = """HloModule jit_step

%fused_computation.3 (param_0: f32[2,4,4,8], param_1: f32[3,3,8,8]) -> f32[2,4,4,8] {
  %param_0 = f32[2,4,4,8]{3,2,1,0} parameter(0)
  %max.1 = f32[2,4,4,8]{3,2,1,0} maximum(%param_0, %param_0), metadata={op_name="jit(step)/D/relu"}
  %param_1 = f32[3,3,8,8]{3,2,1,0} parameter(1)
  ROOT %conv.2 = f32[2,4,4,8]{3,2,1,0} convolution(%max.1, %param_1), metadata={op_name="jit(step)/D/Conv_0/conv_general_dilated"}
}

%fused_computation.5 (param_0: f32[8,4,4,2], param_1: f32[4,4,2,8]) -> f32[8,3,3,8] {
  %param_0 = f32[8,4,4,2]{3,2,1,0} parameter(0)
  %param_1 = f32[4,4,2,8]{3,2,1,0} parameter(1)
  ROOT %convolution.7 = f32[8,3,3,8]{3,2,1,0} convolution(%param_0, %param_1), window={size=4x4 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
}

ENTRY %main.9 (x: f32[2,4,4,8], k: f32[3,3,8,8]) -> f32[2,4,4,8] {
  %x = f32[2,4,4,8]{3,2,1,0} parameter(0)
  %k = f32[3,3,8,8]{3,2,1,0} parameter(1)
  %copy.4 = f32[2,4,4,8]{3,2,1,0} copy(%x)
  %ynn_fusion.3 = f32[2,4,4,8]{3,2,1,0} fusion(%copy.4, %k), kind=kCustom, calls=%fused_computation.3
  %cudnn-conv-bw-filter.44 = (f32[3,3,8,8]{3,2,1,0}, u8[0]{0}) custom-call(%x, %x), window={size=4x4}, custom_call_target="__cudnn$convBackwardFilter", metadata={op_name="jit(step)/transpose(D)/Conv_0/conv_general_dilated"}
  ROOT %cublas-gemm.2 = (f32[8,8]{1,0}, s8[0]{0}) custom-call(%k, %k), custom_call_target="__cublas$gemm"
}
"""  # noqa: E501 (HLO lines are as long as XLA writes them)


def test_a_fusion_is_named_after_the_convolution_it_calls():
    found = op_profile.instructions(HLO)
    _, source, is_product = found["ynn_fusion.3"]
    assert (source, is_product) == ("jit(step)/D/Conv_0/conv_general_dilated", True)
    assert found["copy.4"][1:] == ("", False)
    # A product XLA made itself (no metadata) is described by its shape and window.
    assert found["convolution.7"][1:] == (
        "(no JAX op recorded) convolution -> f32[8,3,3,8] window size=4x4 pad=1_1x1_1",
        True,
    )
    # GPU: cuDNN convolutions and cuBLAS products are custom calls.
    assert found["cudnn-conv-bw-filter.44"][1:] == (
        "jit(step)/transpose(D)/Conv_0/conv_general_dilated",
        True,
    )
    assert found["cublas-gemm.2"][2] is True
    assert op_profile.category("copy.4", False) == "layout copy"
    assert op_profile.category("max.1", False) == "elementwise/other"


def test_profile_of_a_compiled_convolution_finds_it():
    def step(x, k):
        y = jax.lax.conv_general_dilated(
            x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jnp.tanh(y) * 2.0

    x = jnp.asarray(np.random.default_rng(0).standard_normal((8, 32, 32, 16)), jnp.float32)
    k = jnp.asarray(np.random.default_rng(1).standard_normal((3, 3, 16, 32)), jnp.float32)
    compiled = jax.jit(step).lower(x, k).compile()
    rows = op_profile.profile(lambda: compiled(x, k).block_until_ready(), compiled.as_text(), 3)
    assert rows and all(row.ms_per_step > 0 for row in rows)
    assert rows == sorted(rows, key=lambda row: -row.ms_per_step)
    convolutions = [row for row in rows if row.category == "convolution/matmul"]
    assert any("conv_general_dilated" in row.source for row in convolutions)
    text = op_profile.report(rows, top=2)
    assert text.startswith("op time per step:") and "convolution/matmul" in text
