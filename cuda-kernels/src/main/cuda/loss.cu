#include "common.cuh"

// Fused cross-entropy (mean over rows whose label is not ignore_index = -100) with its gradient:
//   loss_r = logsumexp(logits_r) - logits_r[label_r];  dlogits_r = (softmax(logits_r) - onehot) / count
// grid = rows, block = a multiple of 32. rowLoss[r] (0 for ignored rows) is summed on the host, in order.
extern "C" __global__ void cross_entropy_forward_backward(const float* logits, const int* labels, float* rowLoss,
                                                          float* dlogits, int classes, int count) {
    __shared__ float shared[32];
    long long o = (long long) blockIdx.x * classes;
    int label = labels[blockIdx.x];
    if (label == -100) {
        for (int c = threadIdx.x; c < classes; c += blockDim.x) dlogits[o + c] = 0.f;
        if (threadIdx.x == 0) rowLoss[blockIdx.x] = 0.f;
        return;
    }
    float mx = BERTJ_NEG_INF;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) mx = fmaxf(mx, logits[o + c]);
    mx = block_max(mx, shared);
    float sum = 0.f;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) sum += expf(logits[o + c] - mx);
    sum = block_sum(sum, shared);
    float lse = mx + logf(sum);
    for (int c = threadIdx.x; c < classes; c += blockDim.x)
        dlogits[o + c] = (expf(logits[o + c] - lse) - (c == label ? 1.f : 0.f)) / count;
    if (threadIdx.x == 0) rowLoss[blockIdx.x] = lse - logits[o + label];
}
