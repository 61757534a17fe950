#!/usr/bin/env python3
"""PyTorch-on-GPU peer for `scripts/gpu-check run`: batch encode throughput of the full-size
EnCodec 24 kHz model (scripts/encodec_reference.py's module graph, random PyTorch init weights;
throughput does not depend on the weights) on CUDA, 1 s of audio per clip, 6 kbps (8 codebooks),
for batch 1, 8, 64, 512, in float32 with TF32 matmul/conv off and on. Prints one table.

Usage: python3 scripts/bench_pytorch_encodec_gpu.py [--max-batch 512] [--iterations 5]
Never run on a GPU yet (written without one).
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-batch", type=int, default=512)
    ap.add_argument("--iterations", type=int, default=5)
    args = ap.parse_args()
    import torch
    import encodec_reference as ref

    if not torch.cuda.is_available():
        print("no CUDA device for torch")
        return
    torch.manual_seed(0)
    model = ref.EncodecReference().cuda().eval()
    model.set_target_bandwidth(6.0)
    sr = model.sample_rate
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    print(f"{'name':<40} {'ms/batch':>10} {'audio s/s':>12}")
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        b = 1
        while b <= args.max_batch:
            x = 0.1 * torch.randn(b, 1, sr, device="cuda")
            with torch.no_grad():
                model.encode(x)
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                for _ in range(args.iterations):
                    model.encode(x)
                torch.cuda.synchronize()
            ms = (time.perf_counter() - t0) * 1e3 / args.iterations
            name = f"torch_encode_{'tf32' if tf32 else 'fp32'}_b{b}_1s"
            print(f"{name:<40} {ms:>10.2f} {b / (ms / 1e3):>12.0f}")
            b *= 8


if __name__ == "__main__":
    main()
