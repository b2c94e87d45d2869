// Fused AdamW, element for element as dev.bertj.train.AdamW (PyTorch's torch.optim.AdamW):
//   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p += -(lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
// The host forms the scalars in double and passes them rounded to float, as the CPU path does. The
// result equals the CPU's bit for bit (the parity test asserts it): the divide and sqrtf are IEEE-rounded
// (NVRTC's --prec-div and --prec-sqrt, on by default) and every other operation rounds where the CPU's does.
extern "C" __global__ void adamw_step(float* p, const float* g, float* m, float* v, long long n, float decay,
                                      float b1, float oneMinusB1, float b2, float oneMinusB2, float negStepSize,
                                      float bc2Sqrt, float eps) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float gi = g[i];
    // __fmul_rn where the CPU rounds a product before adding: NVRTC contracts a * b + c into one fma by
    // default (--fmad=true), and p * decay + step compiled to fma(p, decay, step), an ulp off the CPU.
    // __fmul_rn is never merged into an fma; the two fmaf are the fused multiply-adds the CPU makes too.
    float pi = __fmul_rn(p[i], decay);
    float mi = fmaf(gi, oneMinusB1, __fmul_rn(m[i], b1));
    float vi = fmaf(oneMinusB2 * gi, gi, __fmul_rn(v[i], b2));
    float denom = sqrtf(vi) / bc2Sqrt + eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + negStepSize * mi / denom;
}

// Gradient clipping's reduction: partial sums of squares per block (the host adds the partials in order);
// blockDim.x a power of two, at most 1024.
extern "C" __global__ void sum_squares(const float* g, long long n, float* partial) {
    __shared__ float shared[1024];
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    float x = i < n ? g[i] : 0.f;
    shared[threadIdx.x] = x * x;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = shared[0];
}

// g *= scale (the clip factor), in place.
extern "C" __global__ void scale_in_place(float* g, long long n, float scale) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) g[i] *= scale;
}
