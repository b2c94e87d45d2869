#include "common.cuh"

// Exact GELU as HF's "gelu": x/2 (1 + erf(x / sqrt 2)); erff is CUDA's float erf (<= 2 ulp).
// y = gelu(x + bias[col]) in place, with the pre-activation kept for backward when pre is not null.
extern "C" __global__ void bias_gelu_forward(float* x, const float* bias, float* pre, long long n, int cols) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = x[i] + (bias == nullptr ? 0.f : bias[i % cols]);
    if (pre != nullptr) pre[i] = v;
    x[i] = 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
}

// d *= gelu'(pre) = Phi(pre) + pre * phi(pre).
extern "C" __global__ void gelu_backward(const float* pre, float* d, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = pre[i];
    float cdf = 0.5f * (1.f + erff(v * 0.70710678118654752f));
    float pdf = expf(-0.5f * v * v) * 0.39894228040143268f;
    d[i] *= cdf + v * pdf;
}

// The pooler's tanh in place (y = tanh(x + bias)); backward d *= 1 - y^2 from the output.
extern "C" __global__ void bias_tanh_forward(float* x, const float* bias, long long n, int cols) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    x[i] = tanhf(x[i] + (bias == nullptr ? 0.f : bias[i % cols]));
}

extern "C" __global__ void tanh_backward(const float* y, float* d, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    d[i] *= 1.f - y[i] * y[i];
}

// Inverted dropout with dev.bertj.nn.Dropout's generator: element i of the site keeps iff its hash
// says so, on any device and for any launch shape. keep (0/1 bytes) is written for backward.
extern "C" __global__ void dropout_forward(float* x, unsigned char* keep, long long n, float p,
                                           unsigned long long base) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    bool k = dropout_keep(base, i, p);
    keep[i] = k;
    x[i] = k ? x[i] * (1.f / (1.f - p)) : 0.f;  // the CPU multiplies by the rounded 1/(1-p) too
}

extern "C" __global__ void dropout_backward(float* d, const unsigned char* keep, long long n, float p) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    d[i] = keep[i] ? d[i] * (1.f / (1.f - p)) : 0.f;
}
