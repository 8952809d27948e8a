"""The CPU fast path: the oneDNN convolution bridge (native/) and host memory settings."""
