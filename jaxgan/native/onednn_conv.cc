// A 2-D convolution's three passes through oneDNN, as XLA FFI handlers for the CPU:
//   jaxgan_conv_forward      (x, kernel)         -> y
//   jaxgan_conv_input_grad   (y_grad, kernel)    -> x_grad
//   jaxgan_conv_kernel_grad  (x, y_grad)         -> kernel_grad
//
// Why: XLA:CPU (jax 0.10.2) computes a kernel gradient as a convolution of the layer's input
// with its output gradient, a window as large as the image over a tiny output, 2-5x below the
// machine's matrix-product speed, and its strided convolutions' passes below oneDNN's too;
// oneDNN, which PyTorch uses on CPUs, has kernels made for each pass (BENCHMARKS.md).
// jaxgan/onednn_conv.py builds and calls them.
//
// Layouts are jaxgan's: x and y NHWC, kernel HWIO, float32. Attributes: strides (2), padding
// (4: top, bottom, left, right; never negative), threads, the OpenMP threads oneDNN may use
// for this call (XLA runs other ops beside it on its own threads), and flipped: 1 when the
// kernel operand is a transposed convolution's Flax kernel P (kh, kw, O, I), of which this
// convolution's kernel is P flipped in space with its channel axes swapped. The swap is a
// layout oneDNN reads as it is; the flip is a copy of (kh, kw) blocks here, cheaper than
// XLA's transposing copy of the whole kernel.

#include <omp.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "dnnl.hpp"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using Dims = ffi::Span<const int64_t>;
using Tag = dnnl::memory::format_tag;
using Type = dnnl::memory::data_type;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Everything a pass needs: the memory descriptions in jaxgan's layouts and the forward
// primitive description the backward passes are hinted with.
struct Problem {
  dnnl::memory::desc x, y, kernel, kernel_any;
  dnnl::memory::dims strides, pad_lo, pad_hi;
  dnnl::convolution_forward::primitive_desc forward;
  bool flipped;
  int64_t blocks, block_size;  // the kernel as (kh * kw) blocks of I * O values
};

// P[h][w] -> out[kh-1-h][kw-1-w], block by block: its own inverse.
void FlipBlocks(const Problem& p, const float* in, float* out) {
  for (int64_t b = 0; b < p.blocks; ++b) {
    std::memcpy(out + (p.blocks - 1 - b) * p.block_size, in + b * p.block_size,
                sizeof(float) * p.block_size);
  }
}

Problem Describe(Dims x, Dims kernel, Dims y, Dims strides, Dims padding, int64_t threads,
                 int64_t flipped) {
  // oneDNN names dimensions N, C, H, W and O, I, H, W whatever the memory layout: HWIO is
  // 'hwio'; a flipped P (kh, kw, O, I) is, once its blocks are flipped, 'cdab' (H, W, O, I).
  dnnl::memory::dims kernel_dims =
      flipped ? dnnl::memory::dims{kernel[2], kernel[3], kernel[0], kernel[1]}
              : dnnl::memory::dims{kernel[3], kernel[2], kernel[0], kernel[1]};
  Problem p{dnnl::memory::desc({x[0], x[3], x[1], x[2]}, Type::f32, Tag::nhwc),
            dnnl::memory::desc({y[0], y[3], y[1], y[2]}, Type::f32, Tag::nhwc),
            dnnl::memory::desc(kernel_dims, Type::f32, flipped ? Tag::cdab : Tag::hwio),
            // 'any' lets oneDNN keep the kernel in its blocked layout; a reorder converts.
            dnnl::memory::desc(kernel_dims, Type::f32, Tag::any),
            {strides[0], strides[1]},
            {padding[0], padding[2]},
            {padding[1], padding[3]},
            {},
            flipped != 0,
            kernel[0] * kernel[1],
            kernel[2] * kernel[3]};
  // Per calling thread: XLA's workers get their own setting, the rest of the process keeps its.
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
  p.forward = dnnl::convolution_forward::primitive_desc(
      CpuEngine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p.x,
      p.kernel_any, p.y, p.strides, p.pad_lo, p.pad_hi);
  return p;
}

// The kernel as the primitive wants it: the caller's memory, or a reordered copy.
dnnl::memory KernelFor(const dnnl::memory::desc& wanted, const Problem& p, float* data,
                       dnnl::stream& stream) {
  std::vector<float> unflipped;
  if (p.flipped) {
    unflipped.resize(p.blocks * p.block_size);
    FlipBlocks(p, data, unflipped.data());
    data = unflipped.data();
  }
  dnnl::memory given(p.kernel, CpuEngine(), data);
  if (wanted == p.kernel && !p.flipped) return given;
  dnnl::memory blocked(wanted, CpuEngine());
  dnnl::reorder(given, blocked).execute(stream, given, blocked);
  stream.wait();  // `unflipped` is freed on return
  return blocked;
}

bool Valid(Dims a, Dims b, Dims c, Dims strides, Dims padding) {
  return a.size() == 4 && b.size() == 4 && c.size() == 4 && strides.size() == 2 &&
         padding.size() == 4;
}

template <typename Body>
ffi::Error Run(const char* name, Body body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    return ffi::Error::Internal(std::string(name) + ": oneDNN: " + e.what());
  } catch (const std::exception& e) {  // e.g. std::bad_alloc for a blocked copy
    return ffi::Error::Internal(std::string(name) + ": " + e.what());
  }
  return ffi::Error::Success();
}

ffi::Error Forward(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> kernel,
                   ffi::ResultBuffer<ffi::F32> y, Dims strides, Dims padding, int64_t threads,
                   int64_t flipped) {
  if (!Valid(x.dimensions(), kernel.dimensions(), y->dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_forward: expects 2-D NHWC/HWIO");
  }
  return Run("jaxgan_conv_forward", [&] {
    Problem p = Describe(x.dimensions(), kernel.dimensions(), y->dimensions(), strides, padding,
                         threads, flipped);
    dnnl::stream stream(CpuEngine());
    dnnl::memory k = KernelFor(p.forward.weights_desc(), p, kernel.typed_data(), stream);
    dnnl::memory x_mem(p.x, CpuEngine(), x.typed_data()), y_mem(p.y, CpuEngine(), y->typed_data());
    dnnl::convolution_forward(p.forward).execute(
        stream, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, k}, {DNNL_ARG_DST, y_mem}});
    stream.wait();
  });
}

ffi::Error InputGrad(ffi::Buffer<ffi::F32> y_grad, ffi::Buffer<ffi::F32> kernel,
                     ffi::ResultBuffer<ffi::F32> x_grad, Dims strides, Dims padding,
                     int64_t threads, int64_t flipped) {
  if (!Valid(x_grad->dimensions(), kernel.dimensions(), y_grad.dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_input_grad: expects 2-D NHWC/HWIO");
  }
  return Run("jaxgan_conv_input_grad", [&] {
    Problem p = Describe(x_grad->dimensions(), kernel.dimensions(), y_grad.dimensions(), strides,
                         padding, threads, flipped);
    auto backward = dnnl::convolution_backward_data::primitive_desc(
        CpuEngine(), dnnl::algorithm::convolution_direct, p.x, p.kernel_any, p.y, p.strides,
        p.pad_lo, p.pad_hi, p.forward);
    dnnl::stream stream(CpuEngine());
    dnnl::memory k = KernelFor(backward.weights_desc(), p, kernel.typed_data(), stream);
    dnnl::memory dy(p.y, CpuEngine(), y_grad.typed_data());
    dnnl::memory dx(p.x, CpuEngine(), x_grad->typed_data());
    dnnl::convolution_backward_data(backward).execute(
        stream, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, k}, {DNNL_ARG_DIFF_SRC, dx}});
    stream.wait();
  });
}

ffi::Error KernelGrad(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> y_grad,
                      ffi::ResultBuffer<ffi::F32> kernel_grad, Dims strides, Dims padding,
                      int64_t threads, int64_t flipped) {
  if (!Valid(x.dimensions(), kernel_grad->dimensions(), y_grad.dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_kernel_grad: expects 2-D NHWC/HWIO");
  }
  return Run("jaxgan_conv_kernel_grad", [&] {
    Problem p = Describe(x.dimensions(), kernel_grad->dimensions(), y_grad.dimensions(), strides,
                         padding, threads, flipped);
    auto backward = dnnl::convolution_backward_weights::primitive_desc(
        CpuEngine(), dnnl::algorithm::convolution_direct, p.x, p.kernel_any, p.y, p.strides,
        p.pad_lo, p.pad_hi, p.forward);
    dnnl::stream stream(CpuEngine());
    dnnl::memory x_mem(p.x, CpuEngine(), x.typed_data());
    dnnl::memory dy(p.y, CpuEngine(), y_grad.typed_data());
    // Flipped: oneDNN writes the unflipped layout here, whose blocks are flipped into place.
    std::vector<float> unflipped(p.flipped ? p.blocks * p.block_size : 0);
    float* out = p.flipped ? unflipped.data() : kernel_grad->typed_data();
    dnnl::memory result(p.kernel, CpuEngine(), out);
    dnnl::memory dk = result;
    if (backward.diff_weights_desc() != p.kernel) {
      dk = dnnl::memory(backward.diff_weights_desc(), CpuEngine());
    }
    dnnl::convolution_backward_weights(backward).execute(
        stream, {{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dk}});
    if (dk != result) dnnl::reorder(dk, result).execute(stream, dk, result);
    stream.wait();
    if (p.flipped) FlipBlocks(p, out, kernel_grad->typed_data());
  });
}

}  // namespace

#define JAXGAN_CONV_BINDING                        \
  ffi::Ffi::Bind()                                 \
      .Arg<ffi::Buffer<ffi::F32>>()                \
      .Arg<ffi::Buffer<ffi::F32>>()                \
      .Ret<ffi::Buffer<ffi::F32>>()                \
      .Attr<ffi::Span<const int64_t>>("strides")   \
      .Attr<ffi::Span<const int64_t>>("padding")   \
      .Attr<int64_t>("threads")                    \
      .Attr<int64_t>("flipped")

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvForward, Forward, JAXGAN_CONV_BINDING);
XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvInputGrad, InputGrad, JAXGAN_CONV_BINDING);
XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvKernelGrad, KernelGrad, JAXGAN_CONV_BINDING);
