#!/usr/bin/python3
"""PyTorch peer for the Vocodex EnCodec benchmark.

Usage:
    /usr/bin/python3 scripts/bench_pytorch_encodec.py --weights W.safetensors --hparams H.json \\
        [--seconds 10] [--bandwidth 6] [--threads 1] [--iterations 5] [--warmup 1]

Builds scripts/encodec_reference.py's model (plain PyTorch modules: Conv1d,
ConvTranspose1d, LSTM, ELU, torch.nn.utils.weight_norm; the same module
graph as the original EnCodec) with the given weights, and times encode
(audio -> codes) and decode (codes -> audio) of S seconds of seeded noise,
float32, CPU, under torch.no_grad().  Prints ONE JSON line:

    {"peer": "pytorch", "torch": ..., "blas": ..., "threads": N,
     "encode_ms_median": ..., "encode_ms_min": ..., "decode_ms_median": ...,
     "decode_ms_min": ..., "encode_ms_all": [...], "decode_ms_all": [...],
     "gemm_gflops": ..., ...}

Threads: torch.set_num_threads(N) sets the OpenMP pool (used by oneDNN
convolutions and ATen kernels).  Debian's torch is built with BLAS_INFO=generic,
so torch does NOT tell the BLAS how many threads to use; OPENBLAS_NUM_THREADS
and OMP_NUM_THREADS are therefore set to N in the environment before torch is
imported (otherwise OpenBLAS would use every core even with --threads 1).

BLAS: Debian's libtorch_cpu.so links the generic libblas.so.3, i.e. whatever
update-alternatives' `libblas.so.3-x86_64-linux-gnu` points to:
    /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3  (OpenBLAS, fast), or
    /usr/lib/x86_64-linux-gnu/blas/libblas.so.3             (Netlib reference, slow).
Detection: after importing torch, /proc/self/maps tells which libblas /
libopenblas is mapped; if OpenBLAS is loaded, openblas_get_config() gives its
version/core.  If the reference BLAS is what libblas.so.3 resolves to and the
OpenBLAS one exists, this script re-executes itself with
LD_PRELOAD=<openblas-pthread/libblas.so.3> so that torch runs on OpenBLAS
(--no-openblas-preload disables that).  A measured 2048x2048 sgemm GFLOP/s
(torch.mm, best of 5) is reported as gemm_gflops to make the BLAS visible.

OpenBLAS kernel: Debian's OpenBLAS 0.3.21 is a DYNAMIC_ARCH build that picks
its kernels from the CPU model; on CPUs it does not know (seen on the
development VM, "Intel(R) Xeon(R) Processor" with AVX-512) it falls back to
"Prescott" (SSE3) kernels: 2048^3 sgemm ~32 GFLOP/s per core instead of ~150
with the AVX-512 "SkylakeX" kernels.  Unless OPENBLAS_CORETYPE is already
set, this script sets it from /proc/cpuinfo (AVX-512 F/BW/VL/DQ -> SkylakeX,
AVX2+FMA -> Haswell) before torch (and so OpenBLAS) is loaded; the kernel in
use is reported in "blas" (openblas_get_corename()).  --openblas-coretype none
keeps OpenBLAS's own choice.

On the development machine (Debian bookworm, torch 1.13.1, 2 cores) the
alternative already pointed to OpenBLAS 0.3.21 pthread (no preload needed);
the reference BLAS package is not installed there.
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_peer import blas_description, maybe_reexec_with_openblas, pick_openblas_coretype  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--hparams", required=True)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bandwidth", type=float, default=6.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--openblas-coretype", default="auto",
                    help="OPENBLAS_CORETYPE to force: 'auto' (from /proc/cpuinfo flags, only if the variable "
                         "is not already set), 'none' (OpenBLAS's own detection), or a name such as SkylakeX")
    ap.add_argument("--no-openblas-preload", action="store_true",
                    help="do not LD_PRELOAD OpenBLAS when libblas.so.3 is the reference BLAS")
    return ap.parse_args()


def main():
    args = parse_args()
    maybe_reexec_with_openblas(args)
    n = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = n
    os.environ["OMP_NUM_THREADS"] = n
    os.environ["MKL_NUM_THREADS"] = n
    forced = pick_openblas_coretype(args.openblas_coretype)
    if forced:
        os.environ["OPENBLAS_CORETYPE"] = forced

    import statistics
    import torch
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import encodec_reference as ref

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    # BLAS throughput (2048^3 sgemm)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    gflops = 2 * 2048 ** 3 / best / 1e9
    del a, b

    model = ref.load_model(args.weights, args.hparams)
    model.set_target_bandwidth(args.bandwidth)
    sr = model.sample_rate
    g = torch.Generator().manual_seed(args.seed)
    n_samples = int(round(args.seconds * sr))
    x = 0.1 * torch.randn(1, int(model.hp["channels"]), n_samples, generator=g, dtype=torch.float32)

    enc_ms, dec_ms = [], []
    with torch.no_grad():
        codes = model.encode(x)
        for i in range(args.warmup + args.iterations):
            t0 = time.perf_counter()
            codes = model.encode(x)
            t1 = time.perf_counter()
            y = model.decode(codes)
            t2 = time.perf_counter()
            if i >= args.warmup:
                enc_ms.append((t1 - t0) * 1e3)
                dec_ms.append((t2 - t1) * 1e3)

    out = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "blas": blas_description(),
        "threads": args.threads,
        "seconds": args.seconds,
        "bandwidth": args.bandwidth,
        "n_codebooks": int(codes.shape[1]),
        "frames": int(codes.shape[2]),
        "decoded_samples": int(y.shape[-1]),
        "iterations": args.iterations,
        "encode_ms_median": round(statistics.median(enc_ms), 3),
        "encode_ms_min": round(min(enc_ms), 3),
        "decode_ms_median": round(statistics.median(dec_ms), 3),
        "decode_ms_min": round(min(dec_ms), 3),
        "encode_ms_all": [round(v, 3) for v in enc_ms],
        "decode_ms_all": [round(v, 3) for v in dec_ms],
        "gemm_gflops": round(gflops, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
