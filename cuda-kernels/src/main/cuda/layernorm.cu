#include "common.cuh"

// LayerNorm over the last dimension with the residual add fused (dev.bertj.nn.LayerNorm):
//   z = x + residual; y = (z - mean) * rstd * gamma + beta, rstd = 1/sqrt(var + eps) (biased var)
// grid = rows, block = a multiple of 32. xhat and rstd are kept for backward when not null.
extern "C" __global__ void layernorm_forward(const float* x, const float* residual, const float* gamma, const float* beta,
                                             float* y, float* xhat, float* rstd, int hidden, float eps) {
    __shared__ float shared[32];
    long long o = (long long) blockIdx.x * hidden;
    float sum = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float z = x[o + i] + (residual == nullptr ? 0.f : residual[o + i]);
        y[o + i] = z;
        sum += z;
    }
    float mean = block_sum(sum, shared) / hidden;
    float sq = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float d = y[o + i] - mean;
        sq += d * d;
    }
    float inv = rsqrtf(block_sum(sq, shared) / hidden + eps);
    if (rstd != nullptr && threadIdx.x == 0) rstd[blockIdx.x] = inv;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float h = (y[o + i] - mean) * inv;
        if (xhat != nullptr) xhat[o + i] = h;
        y[o + i] = h * gamma[i] + beta[i];
    }
}

// Backward, per row: g = dy * gamma; dz = rstd * (g - mean(g) - xhat * mean(g * xhat)).
// dgamma += dy * xhat and dbeta += dy go to per-row partials [rows, hidden] that the backend sums over
// rows with cuBLAS (times a column of ones), so no atomics and a fixed summation order.
extern "C" __global__ void layernorm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma,
                                              float* dz, float* dgamma_rows, float* dbeta_rows, int hidden) {
    __shared__ float shared[32];
    long long o = (long long) blockIdx.x * hidden;
    float sg = 0.f, sgx = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float g = dy[o + i] * gamma[i];
        sg += g;
        sgx += g * xhat[o + i];
    }
    float meanG = block_sum(sg, shared) / hidden;
    float meanGx = block_sum(sgx, shared) / hidden;
    float s = rstd[blockIdx.x];
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float d = dy[o + i], h = xhat[o + i];
        dgamma_rows[o + i] = d * h;
        dbeta_rows[o + i] = d;
        dz[o + i] = s * (d * gamma[i] - meanG - h * meanGx);
    }
}
