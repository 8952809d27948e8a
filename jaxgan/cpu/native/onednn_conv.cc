// A 2-D convolution's three passes through oneDNN, as XLA FFI handlers for the CPU:
//   jaxgan_conv_forward      (x, kernel)         -> y
//   jaxgan_conv_input_grad   (y_grad, kernel)    -> x_grad
//   jaxgan_conv_kernel_grad  (x, y_grad)         -> kernel_grad
//
// Why: XLA:CPU (jax 0.10.2) computes a kernel gradient as a convolution of the layer's input
// with its output gradient, a window as large as the image over a tiny output, 2-5x below the
// machine's matrix-product speed, and its strided convolutions' passes below oneDNN's too;
// oneDNN, which PyTorch uses on CPUs, has kernels made for each pass (BENCHMARKS.md).
// jaxgan/cpu/onednn_conv.py builds and calls them.
//
// Layouts are jaxgan's: x and y NHWC, kernel HWIO, float32. Attributes: strides (2), padding
// (4: top, bottom, left, right; never negative), threads, the OpenMP threads oneDNN may use
// for this call (XLA runs other ops beside it on its own threads), and flipped: 1 when the
// kernel operand is a transposed convolution's Flax kernel P (kh, kw, O, I), of which this
// convolution's kernel is P flipped in space with its channel axes swapped. The swap is a
// layout oneDNN reads as it is; the flip is a copy of (kh, kw) blocks here, cheaper than
// XLA's transposing copy of the whole kernel. product: 1 to compute the pass as one matrix
// product (oneDNN's sgemm) of the patch matrix instead of with oneDNN's convolution kernels,
// faster on small output maps and image gradients (see below); jaxgan/cpu/onednn_conv.py chooses.

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
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

// -- Small output maps and image gradients: a pass as one matrix product (oneDNN's sgemm) ---
//
// oneDNN's convolution kernels block over the output's width, and at DCGAN's 4x4 maps (D's last
// strided layer, G's first) they reach about 130 GFLOP/s where its sgemm reaches 200-250 on
// the same products (BENCHMARKS.md), and its backward-data kernels run at 25-30 GFLOP/s where
// they write a 3-channel image (G's last layer, D's first layer's input gradient). There a pass
// can be one product with the patch matrix
// P[(n, i, j), (kh, kw, c)] = x[n, i*sh + kh - top, j*sw + kw - left, c] (0 outside x), whose
// copy costs little beside the product there:
//   forward      y  = P @ K            (K: HWIO as a (kh*kw*c, o) matrix)
//   input grad   dx = col2im(dy @ K^T) (each patch entry added back where it came from)
//   kernel grad  dK = P^T @ dy

struct Patches {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, top, left;
  int64_t rows() const { return n * oh * ow; }
  int64_t cols() const { return kh * kw * c; }
};

Patches DescribePatches(Dims x, Dims kernel, Dims y, Dims strides, Dims padding) {
  return {x[0], x[1], x[2], x[3], y[1], y[2], kernel[0], kernel[1],
          strides[0], strides[1], padding[0], padding[2]};
}

// A flipped kernel F (kh, kw, o, i) is the matrix K^T (o, (kh, kw, i)) of the convolution, up to
// the order of its kh * kw blocks: K^T[o][t] = F[taps - 1 - t][o] for the tap t = a * kw + b.
// These copy between the two, a row of i values at a time.
void FlippedToRows(Dims f, const float* flipped, float* rows) {
  int64_t taps = f[0] * f[1], o = f[2], i = f[3];
#pragma omp parallel for
  for (int64_t r = 0; r < o; ++r) {
    for (int64_t t = 0; t < taps; ++t) {
      std::memcpy(rows + (r * taps + t) * i, flipped + ((taps - 1 - t) * o + r) * i,
                  sizeof(float) * i);
    }
  }
}

void RowsToFlipped(Dims f, const float* rows, float* flipped) {
  int64_t taps = f[0] * f[1], o = f[2], i = f[3];
#pragma omp parallel for
  for (int64_t r = 0; r < o; ++r) {
    for (int64_t t = 0; t < taps; ++t) {
      std::memcpy(flipped + ((taps - 1 - t) * o + r) * i, rows + (r * taps + t) * i,
                  sizeof(float) * i);
    }
  }
}

// The kw taps of one patch row segment are consecutive pixels of x: one copy, clipped at
// the edges. `visit(segment, pixel, first tap, end tap)` gets each one; pixel is the offset in x
// of its tap 0 (outside x where first > 0), and first == end when it lies wholly outside x.
template <typename Visit>
void ForEachSegment(const Patches& p, int64_t image, Visit visit) {
  for (int64_t i = 0; i < p.oh; ++i) {
    for (int64_t j = 0; j < p.ow; ++j) {
      int64_t row = (image * p.oh + i) * p.ow + j;
      for (int64_t a = 0; a < p.kh; ++a) {
        int64_t h = i * p.sh + a - p.top, w0 = j * p.sw - p.left;
        int64_t first = std::max<int64_t>(0, -w0), end = std::min<int64_t>(p.kw, p.w - w0);
        int64_t segment = row * p.cols() + a * p.kw * p.c;
        if (h < 0 || h >= p.h || first >= end) first = end = 0;
        visit(segment, ((image * p.h + h) * p.w + w0) * p.c, first, end);
      }
    }
  }
}

void Im2col(const Patches& p, const float* x, float* patches) {
#pragma omp parallel for
  for (int64_t image = 0; image < p.n; ++image) {
    ForEachSegment(p, image, [&](int64_t seg, int64_t pixel, int64_t first, int64_t end) {
      float* out = patches + seg;
      std::memset(out, 0, sizeof(float) * first * p.c);
      if (end > first) {
        std::memcpy(out + first * p.c, x + pixel + first * p.c,
                    sizeof(float) * (end - first) * p.c);
      }
      std::memset(out + end * p.c, 0, sizeof(float) * (p.kw - end) * p.c);
    });
  }
}

void Col2im(const Patches& p, const float* patches, float* x) {
#pragma omp parallel for
  for (int64_t image = 0; image < p.n; ++image) {
    std::memset(x + image * p.h * p.w * p.c, 0, sizeof(float) * p.h * p.w * p.c);
    ForEachSegment(p, image, [&](int64_t seg, int64_t pixel, int64_t first, int64_t end) {
      if (first == end) return;  // wholly outside x: pixel is no place in it
      const float* in = patches + seg + first * p.c;
      float* out = x + pixel + first * p.c;
      for (int64_t t = 0, size = (end - first) * p.c; t < size; ++t) out[t] += in[t];
    });
  }
}

// Row-major C (m x n) = op(A) @ op(B), through oneDNN's sgemm.
void Gemm(char trans_a, char trans_b, int64_t m, int64_t n, int64_t k, const float* a,
          const float* b, float* c) {
  int64_t lda = trans_a == 'N' ? k : m, ldb = trans_b == 'N' ? n : k;
  dnnl_status_t status =
      dnnl_sgemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
  if (status != dnnl_success) throw dnnl::error(status, "dnnl_sgemm");
}

// Scratch for the patch matrix or K^T: every entry is written before it is read.
std::unique_ptr<float[]> Scratch(int64_t size) { return std::unique_ptr<float[]>(new float[size]); }

// K^T (outputs x patch columns) from a flipped kernel.
std::unique_ptr<float[]> KernelRows(Dims f, const float* flipped, int64_t outputs, int64_t cols) {
  auto rows = Scratch(outputs * cols);
  FlippedToRows(f, flipped, rows.get());
  return rows;
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
                   int64_t flipped, int64_t product) {
  if (!Valid(x.dimensions(), kernel.dimensions(), y->dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_forward: expects 2-D NHWC/HWIO");
  }
  if (product) {
    return Run("jaxgan_conv_forward", [&] {
      if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
      Dims k = kernel.dimensions();
      Patches p = DescribePatches(x.dimensions(), k, y->dimensions(), strides, padding);
      auto patches = Scratch(p.rows() * p.cols());
      Im2col(p, x.typed_data(), patches.get());
      int64_t outputs = y->dimensions()[3];
      if (flipped) {  // P @ (K^T)^T
        auto rows = KernelRows(k, kernel.typed_data(), outputs, p.cols());
        Gemm('N', 'T', p.rows(), outputs, p.cols(), patches.get(), rows.get(), y->typed_data());
      } else {
        Gemm('N', 'N', p.rows(), outputs, p.cols(), patches.get(), kernel.typed_data(),
             y->typed_data());
      }
    });
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
                     int64_t threads, int64_t flipped, int64_t product) {
  if (!Valid(x_grad->dimensions(), kernel.dimensions(), y_grad.dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_input_grad: expects 2-D NHWC/HWIO");
  }
  if (product) {
    return Run("jaxgan_conv_input_grad", [&] {
      if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
      Dims k = kernel.dimensions();
      Patches p = DescribePatches(x_grad->dimensions(), k, y_grad.dimensions(), strides, padding);
      auto patches = Scratch(p.rows() * p.cols());
      int64_t outputs = y_grad.dimensions()[3];
      if (flipped) {  // dy @ K^T
        auto rows = KernelRows(k, kernel.typed_data(), outputs, p.cols());
        Gemm('N', 'N', p.rows(), p.cols(), outputs, y_grad.typed_data(), rows.get(),
             patches.get());
      } else {
        Gemm('N', 'T', p.rows(), p.cols(), outputs, y_grad.typed_data(), kernel.typed_data(),
             patches.get());
      }
      Col2im(p, patches.get(), x_grad->typed_data());
    });
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
                      int64_t threads, int64_t flipped, int64_t product) {
  if (!Valid(x.dimensions(), kernel_grad->dimensions(), y_grad.dimensions(), strides, padding)) {
    return ffi::Error::InvalidArgument("jaxgan_conv_kernel_grad: expects 2-D NHWC/HWIO");
  }
  if (product) {
    return Run("jaxgan_conv_kernel_grad", [&] {
      if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
      Dims k = kernel_grad->dimensions();
      Patches p = DescribePatches(x.dimensions(), k, y_grad.dimensions(), strides, padding);
      auto patches = Scratch(p.rows() * p.cols());
      Im2col(p, x.typed_data(), patches.get());
      int64_t outputs = y_grad.dimensions()[3];
      if (flipped) {  // dK^T = dy^T @ P, copied into the flipped kernel's places
        auto rows = Scratch(outputs * p.cols());
        Gemm('T', 'N', outputs, p.cols(), p.rows(), y_grad.typed_data(), patches.get(),
             rows.get());
        RowsToFlipped(k, rows.get(), kernel_grad->typed_data());
      } else {
        Gemm('T', 'N', p.cols(), outputs, p.rows(), patches.get(), y_grad.typed_data(),
             kernel_grad->typed_data());
      }
    });
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
      .Attr<int64_t>("flipped")                    \
      .Attr<int64_t>("product")

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvForward, Forward, JAXGAN_CONV_BINDING);
XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvInputGrad, InputGrad, JAXGAN_CONV_BINDING);
XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxganConvKernelGrad, KernelGrad, JAXGAN_CONV_BINDING);
