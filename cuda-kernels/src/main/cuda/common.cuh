// Shared helpers of bertj's CUDA kernels. Every kernel is extern "C" so NVRTC and the driver API find it
// by name; shapes are row-major float32 as on the CPU (dev.bertj.cpu), one thread block per row where a
// row needs a reduction.
#pragma once

// -infinity without <math.h>'s INFINITY, which NVRTC (no system headers) does not define.
#define BERTJ_NEG_INF (-__int_as_float(0x7f800000))

// Block-wide sum for blockDim.x a multiple of 32 (at most 1024); every thread gets the total.
__device__ __forceinline__ float block_sum(float v, float* shared32) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared32[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? shared32[lane] : 0.f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float block_max(float v, float* shared32) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared32[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? shared32[lane] : BERTJ_NEG_INF;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// dev.bertj.nn.Dropout's counter-based generator (SplitMix64), so CPU and GPU drop the same elements.
__device__ __forceinline__ unsigned long long splitmix_mix(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__device__ __forceinline__ bool dropout_keep(unsigned long long base, long long i, float p) {
    float u = (float) (splitmix_mix(base + (unsigned long long) i * 0x9E3779B97F4A7C15ull) >> 40) * 0x1.0p-24f;
    return u >= p;
}
