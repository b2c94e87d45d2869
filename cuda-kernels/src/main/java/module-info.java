/** bertj's GPU backend: the CUDA kernel sources (and, next, their JavaCPP/NVRTC launcher). */
module dev.bertj.cuda {
    exports dev.bertj.cuda;
}
