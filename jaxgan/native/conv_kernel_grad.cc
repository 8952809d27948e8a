// The kernel (weight) gradient of a 2-D convolution through oneDNN's backward-weights
// primitive, as an XLA FFI handler for the CPU.
//
// Why: XLA:CPU (jax 0.10.2) computes a kernel gradient as a convolution of the layer's input
// with its output gradient, a window as large as the image over a tiny output, and runs it
// 2-5x below the machine's matrix-product speed; oneDNN, which PyTorch uses on CPUs, has
// kernels made for this shape (BENCHMARKS.md). jaxgan/kernel_grad.py builds and calls it.
//
// Layouts are jaxgan's: input NHWC, output gradient NHWC, result HWIO, float32. Attributes:
// strides (2), padding (4: top, bottom, left, right; never negative) and threads, the OpenMP
// threads oneDNN may use for this call (XLA runs other ops beside it on its own threads).

#include <omp.h>

#include <cstdint>
#include <string>

#include "dnnl.hpp"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

ffi::Error ConvKernelGrad(ffi::Buffer<ffi::F32> input, ffi::Buffer<ffi::F32> output_grad,
                          ffi::ResultBuffer<ffi::F32> kernel_grad,
                          ffi::Span<const int64_t> strides, ffi::Span<const int64_t> padding,
                          int64_t threads) {
  auto x = input.dimensions(), dy = output_grad.dimensions(), k = kernel_grad->dimensions();
  if (x.size() != 4 || dy.size() != 4 || k.size() != 4 || strides.size() != 2 ||
      padding.size() != 4) {
    return ffi::Error::InvalidArgument("jaxgan_conv_kernel_grad: expects 2-D NHWC/HWIO");
  }
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  // oneDNN names dimensions N, C, H, W and O, I, H, W whatever the memory layout.
  dnnl::memory::desc x_md({x[0], x[3], x[1], x[2]}, dt::f32, tag::nhwc);
  dnnl::memory::desc dy_md({dy[0], dy[3], dy[1], dy[2]}, dt::f32, tag::nhwc);
  dnnl::memory::dims k_dims{k[3], k[2], k[0], k[1]};
  dnnl::memory::desc k_md(k_dims, dt::f32, tag::hwio);
  // 'any' lets oneDNN accumulate in its preferred blocked layout; one reorder copies it out.
  dnnl::memory::desc k_any(k_dims, dt::f32, tag::any);
  dnnl::memory::dims stride{strides[0], strides[1]};
  dnnl::memory::dims pad_lo{padding[0], padding[2]}, pad_hi{padding[1], padding[3]};
  // Per calling thread: XLA's workers get their own setting, the rest of the process keeps its.
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
  try {
    dnnl::engine& engine = CpuEngine();
    auto forward = dnnl::convolution_forward::primitive_desc(
        engine, dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x_md,
        k_any, dy_md, stride, pad_lo, pad_hi);
    auto backward = dnnl::convolution_backward_weights::primitive_desc(
        engine, dnnl::algorithm::convolution_direct, x_md, k_any, dy_md, stride, pad_lo, pad_hi,
        forward);
    dnnl::stream stream(engine);
    dnnl::memory x_mem(x_md, engine, input.typed_data());
    dnnl::memory dy_mem(dy_md, engine, output_grad.typed_data());
    dnnl::memory result(k_md, engine, kernel_grad->typed_data());
    dnnl::memory k_mem = result;
    if (backward.diff_weights_desc() != k_md) {
      k_mem = dnnl::memory(backward.diff_weights_desc(), engine);
    }
    dnnl::convolution_backward_weights(backward).execute(
        stream, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_DIFF_WEIGHTS, k_mem}});
    if (k_mem != result) dnnl::reorder(k_mem, result).execute(stream, k_mem, result);
    stream.wait();
  } catch (const dnnl::error& e) {
    return ffi::Error::Internal(std::string("jaxgan_conv_kernel_grad: oneDNN: ") + e.what());
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvKernelGrad, ConvKernelGrad,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Attr<ffi::Span<const int64_t>>("strides")
                                  .Attr<ffi::Span<const int64_t>>("padding")
                                  .Attr<int64_t>("threads"));
