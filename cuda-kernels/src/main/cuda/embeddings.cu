#include "common.cuh"

// BertEmbeddings: out[r, :] = word[ids[r]] + position[r % seq] + type[types[r]] (before LayerNorm).
// grid = rows, block = any; one block per token.
extern "C" __global__ void embeddings_forward(const int* ids, const int* types, const float* word, const float* position,
                                              const float* type, float* out, int seq, int hidden) {
    int r = blockIdx.x, id = ids[r], t = types == nullptr ? 0 : types[r], s = r % seq;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x)
        out[(long long) r * hidden + i] = word[(long long) id * hidden + i] + position[(long long) s * hidden + i] + type[(long long) t * hidden + i];
}

// Backward: scatter-add of each token's gradient into the three tables (atomics: repeated ids and
// every position row receive from many tokens).
extern "C" __global__ void embeddings_backward(const int* ids, const int* types, const float* dout, float* dword,
                                               float* dposition, float* dtype, int seq, int hidden) {
    int r = blockIdx.x, id = ids[r], t = types == nullptr ? 0 : types[r], s = r % seq;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float d = dout[(long long) r * hidden + i];
        atomicAdd(&dword[(long long) id * hidden + i], d);
        atomicAdd(&dposition[(long long) s * hidden + i], d);
        atomicAdd(&dtype[(long long) t * hidden + i], d);
    }
}
