#include "common.cuh"

// Small element-wise and row kernels of the GPU backend (dev.bertj.cuda.CudaBackend); each mirrors one
// operation of dev.bertj.cpu.CpuBackend, whose Java is the reference the tests compare against.

// y[r, c] += bias[c] for a [rows, cols] block with row stride ldy (the Linear bias after cuBLAS).
extern "C" __global__ void add_bias(float* y, const float* bias, int rows, int cols, int ldy) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long) rows * cols) return;
    int r = (int) (i / cols), c = (int) (i % cols);
    y[(long long) r * ldy + c] += bias[c];
}

// a += b.
extern "C" __global__ void add_into(float* a, const float* b, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] += b[i];
}

// x /= d (a true division, as the CPU's x[i] /= d).
extern "C" __global__ void divide_in_place(float* x, long long n, float d) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] /= d;
}

// relu in place, max(0, x) as Math.max(0f, x).
extern "C" __global__ void relu_forward(float* x, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = fmaxf(0.f, x[i]);
}

// d = 0 where the ReLU's input z <= 0.
extern "C" __global__ void relu_backward(const float* z, float* d, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && z[i] <= 0.f) d[i] = 0.f;
}

// dst[r * dstStride + c] (+)= src[r * srcStride + c] for rows x width: [CLS] gathers and scatters.
extern "C" __global__ void copy_rows(const float* src, int srcStride, float* dst, int dstStride, int rows, int width, int accumulate) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long) rows * width) return;
    int r = (int) (i / width), c = (int) (i % width);
    float v = src[(long long) r * srcStride + c];
    long long o = (long long) r * dstStride + c;
    dst[o] = accumulate ? dst[o] + v : v;
}

// y = keep ? x / (1 - p) : 0 from a mask dropout_forward drew (attention's P' again, for backward).
extern "C" __global__ void dropout_apply(const float* x, float* y, const unsigned char* keep, long long n, float p) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = keep[i] ? x[i] * (1.f / (1.f - p)) : 0.f;
}

// Mean over each row's real tokens: out[b, :] = sum_s hidden[b, s, :] * mask[b, s] / max(count, 1e-9).
// grid = batch; mask may be null (all tokens).
extern "C" __global__ void mean_pool_forward(const float* hidden, const int* mask, float* out, int seq, int h) {
    int b = blockIdx.x, count = 0;
    for (int s = 0; s < seq; s++) count += mask == nullptr || mask[b * seq + s] != 0;
    float inv = 1.f / fmaxf((float) count, 1e-9f);
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        float sum = 0.f;
        for (int s = 0; s < seq; s++)
            if (mask == nullptr || mask[b * seq + s] != 0) sum += hidden[((long long) b * seq + s) * h + i];
        out[(long long) b * h + i] = sum * inv;
    }
}

// Backward: dhidden[b, s, :] = dout[b, :] / count at real tokens, 0 at padding. grid = batch * seq.
extern "C" __global__ void mean_pool_backward(const float* dout, const int* mask, float* dhidden, int seq, int h) {
    int r = blockIdx.x, b = r / seq, count = 0;
    for (int s = 0; s < seq; s++) count += mask == nullptr || mask[b * seq + s] != 0;
    bool real = mask == nullptr || mask[r] != 0;
    float inv = 1.f / (float) max(count, 1);
    for (int i = threadIdx.x; i < h; i += blockDim.x)
        dhidden[(long long) r * h + i] = real ? dout[(long long) b * h + i] * inv : 0.f;
}

// HF's additive padding mask from the 0/1 attention mask: 0 where attended, -FLT_MAX where padded.
extern "C" __global__ void additive_mask(const int* mask, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = mask[i] == 0 ? -3.40282347e38f : 0.f;
}
