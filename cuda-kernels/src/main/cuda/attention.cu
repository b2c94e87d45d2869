#include "common.cuh"

// Attention's softmax between the two cuBLAS batched GEMMs (scores = q k^T, context = P v), the
// simpler form the issue allows before a fused flash-style kernel:
//   P[b,h,s,:] = softmax(scores[b,h,s,:] * scale + maskAdd[b,:]),  maskAdd = 0 or -FLT_MAX (HF's float32.min)
// grid = (batch * heads, seq) (x has no 65535 limit), block = a multiple of 32; in place on scores.
extern "C" __global__ void masked_softmax_forward(float* scores, const float* maskAdd, int heads, int seq, float scale) {
    __shared__ float shared[32];
    int bh = blockIdx.x, s = blockIdx.y, b = bh / heads;
    float* row = scores + ((long long) bh * seq + s) * seq;
    const float* m = maskAdd == nullptr ? nullptr : maskAdd + (long long) b * seq;
    float mx = BERTJ_NEG_INF;
    for (int t = threadIdx.x; t < seq; t += blockDim.x) {
        float z = row[t] * scale + (m == nullptr ? 0.f : m[t]);
        row[t] = z;
        mx = fmaxf(mx, z);
    }
    mx = block_max(mx, shared);
    float sum = 0.f;
    for (int t = threadIdx.x; t < seq; t += blockDim.x) {
        float e = expf(row[t] - mx);
        row[t] = e;
        sum += e;
    }
    float inv = 1.f / block_sum(sum, shared);
    for (int t = threadIdx.x; t < seq; t += blockDim.x) row[t] *= inv;
}

// Backward through softmax and the scale: dS = P * (dP - sum_t P dP) * scale, in place on dP.
extern "C" __global__ void softmax_backward(const float* probs, float* dp, int seq, float scale) {
    __shared__ float shared[32];
    long long o = ((long long) blockIdx.x * seq + blockIdx.y) * seq;  // grid = (batch * heads, seq)
    float dot = 0.f;
    for (int t = threadIdx.x; t < seq; t += blockDim.x) dot += probs[o + t] * dp[o + t];
    dot = block_sum(dot, shared);
    for (int t = threadIdx.x; t < seq; t += blockDim.x) dp[o + t] = probs[o + t] * (dp[o + t] - dot) * scale;
}

// Head-major copies for the batched GEMMs: x holds `parts` blocks of H = heads * d columns per row (q|k|v,
// or one for the context), rows b * seq + s with row stride ldx; the head-major array is
// [parts][batch * heads][seq][d]. One thread per element; merge_heads is the inverse (writing x).
// head_major_source: the offset in x of head-major element o.
__device__ __forceinline__ long long head_major_source(long long o, int ldx, int batch, int seq, int heads, int d) {
    int i = (int) (o % d);
    long long r = o / d;
    int s = (int) (r % seq);
    r /= seq;
    int h = (int) (r % heads);
    r /= heads;
    int b = (int) (r % batch);
    int p = (int) (r / batch);
    return ((long long) b * seq + s) * ldx + ((long long) p * heads + h) * d + i;
}

extern "C" __global__ void split_heads(const float* x, int ldx, float* out, int batch, int seq, int heads, int d, int parts) {
    long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (o < (long long) parts * batch * seq * heads * d) out[o] = x[head_major_source(o, ldx, batch, seq, heads, d)];
}

extern "C" __global__ void merge_heads(const float* in, float* x, int ldx, int batch, int seq, int heads, int d, int parts) {
    long long o = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (o < (long long) parts * batch * seq * heads * d) x[head_major_source(o, ldx, batch, seq, heads, d)] = in[o];
}
