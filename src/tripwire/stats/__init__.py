"""Pure statistical kernels: numpy in, numbers out. No pandas frames, no findings, no I/O."""
