#!/usr/bin/python3
"""What the PyTorch peers share (scripts/bench_pytorch_{encodec,mimi,distilcodec}.py).

* Threads: torch.set_num_threads(N) sets the OpenMP pool; Debian's torch (BLAS_INFO=generic) does
  not tell the BLAS how many threads to use, so OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
  MKL_NUM_THREADS are set to N before torch is imported (start_torch).
* BLAS: libtorch links the generic libblas.so.3; if that alternative is the reference (Netlib)
  BLAS and OpenBLAS is installed, the script re-executes itself with LD_PRELOAD=OpenBLAS
  (maybe_reexec_with_openblas). OpenBLAS 0.3.21 (DYNAMIC_ARCH) falls back to Prescott (SSE3)
  kernels on CPU models it does not know: OPENBLAS_CORETYPE is set from /proc/cpuinfo flags
  (AVX-512 -> SkylakeX, AVX2+FMA -> Haswell) unless already set (pick_openblas_coretype).
  blas_description() says which BLAS and kernel are in use; start_torch() also measures a
  2048^3 sgemm (torch.mm, best of 5) as gemm_gflops.
* Timing: warm-up iterations, then timed ones; time_stats() gives median / min / max / all (ms).
* Model folders (config.json + model.safetensors, original tensor names), inputs and Vocodex's
  codes (.npy) as written by `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write`:
  load_peer_dir(); codes_equal_fraction() compares a peer's codes with Vocodex's.
"""

import json
import os
import sys
import time

OPENBLAS_LIB = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"
REFERENCE_LIB = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"
SYSTEM_LIBBLAS = "/usr/lib/x86_64-linux-gnu/libblas.so.3"


def maybe_reexec_with_openblas(args):
    """Re-exec under LD_PRELOAD=OpenBLAS when libblas.so.3 is the reference BLAS."""
    if args.no_openblas_preload or os.environ.get("VOCODEX_BENCH_REEXEC"):
        return
    target = os.path.realpath(SYSTEM_LIBBLAS) if os.path.exists(SYSTEM_LIBBLAS) else ""
    if "openblas" in target or not os.path.exists(OPENBLAS_LIB):
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = (OPENBLAS_LIB + " " + env.get("LD_PRELOAD", "")).strip()
    env["VOCODEX_BENCH_REEXEC"] = "1"
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def pick_openblas_coretype(choice):
    """OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise every CPU model and then
    falls back to its Prescott (SSE3) kernels, several times slower.  'auto'
    forces the kernel family matching the CPU flags."""
    if choice == "none" or "OPENBLAS_CORETYPE" in os.environ:
        return None
    if choice != "auto":
        return choice
    try:
        with open("/proc/cpuinfo") as f:
            flags = set()
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def blas_description():
    mapped = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if "blas" in base or "mkl" in base:
                    mapped.add(path)
    except OSError:
        pass
    desc = ""
    for path in sorted(mapped):
        if "openblas" in path:
            try:
                import ctypes
                lib = ctypes.CDLL(path)
                lib.openblas_get_config.restype = ctypes.c_char_p
                desc = "OpenBLAS: " + lib.openblas_get_config().decode()
                try:
                    lib.openblas_get_corename.restype = ctypes.c_char_p
                    desc += " core=" + lib.openblas_get_corename().decode()
                except AttributeError:
                    pass
                try:
                    desc += f" (num_threads={lib.openblas_get_num_threads()})"
                except AttributeError:
                    pass
                break
            except (OSError, AttributeError):
                continue
    if not desc:
        if any("/blas/" in p for p in mapped):
            desc = "reference (Netlib) BLAS"
        elif any("mkl" in p for p in mapped):
            desc = "MKL"
        else:
            desc = "unknown"
    how = "LD_PRELOAD" if os.environ.get("VOCODEX_BENCH_REEXEC") else "libblas.so.3 alternative"
    core = os.environ.get("OPENBLAS_CORETYPE")
    if core:
        how += f", OPENBLAS_CORETYPE={core}"
    return f"{desc}; via {how}; mapped: {', '.join(sorted(mapped)) or 'none'}"



def add_common_args(ap):
    """--threads, --iterations, --warmup and the BLAS switches, as bench_pytorch_encodec.py."""
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--openblas-coretype", default="auto",
                    help="OPENBLAS_CORETYPE to force: 'auto' (from /proc/cpuinfo flags, only if the variable "
                         "is not already set), 'none' (OpenBLAS's own detection), or a name such as SkylakeX")
    ap.add_argument("--no-openblas-preload", action="store_true",
                    help="do not LD_PRELOAD OpenBLAS when libblas.so.3 is the reference BLAS")


def start_torch(args):
    """Sets the BLAS environment for args.threads, imports torch, sets its pools; returns
    (torch, gemm_gflops). Call before anything imports torch."""
    maybe_reexec_with_openblas(args)
    n = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = n
    os.environ["OMP_NUM_THREADS"] = n
    os.environ["MKL_NUM_THREADS"] = n
    forced = pick_openblas_coretype(args.openblas_coretype)
    if forced:
        os.environ["OPENBLAS_CORETYPE"] = forced
    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return torch, round(2 * 2048 ** 3 / best / 1e9, 2)


def time_stats(op, ms):
    """{op_ms_median, op_ms_min, op_ms_max, op_ms_all} of the timed iterations (ms)."""
    import statistics
    return {op + "_ms_median": round(statistics.median(ms), 3), op + "_ms_min": round(min(ms), 3),
            op + "_ms_max": round(max(ms), 3), op + "_ms_all": [round(v, 3) for v in ms]}


def timed(fn, warmup, iterations):
    """Runs fn() warmup + iterations times; returns (last result, timed ms list)."""
    ms, out = [], None
    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        out = fn()
        t1 = time.perf_counter()
        if i >= warmup:
            ms.append((t1 - t0) * 1e3)
    return out, ms


def load_peer_dir(path):
    """(peer.json, config dict, state dict, input float32 tensor [N], Vocodex codes int64 [K, T])
    of a folder written by PeerSide write."""
    import numpy as np
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from encodec_reference import read_safetensors
    meta = json.load(open(os.path.join(path, "peer.json")))
    config = json.load(open(os.path.join(path, "model", "config.json")))
    sd, _ = read_safetensors(os.path.join(path, "model", "model.safetensors"))
    x = torch.from_numpy(np.load(os.path.join(path, "input.npy")).astype(np.float32))
    codes = torch.from_numpy(np.load(os.path.join(path, "vocodex_codes.npy")).astype(np.int64))
    return meta, config, sd, x, codes


def codes_equal_fraction(got, want):
    """Fraction of equal entries of two [K, T] code arrays (0 when the shapes differ)."""
    if tuple(got.shape) != tuple(want.shape):
        return 0.0
    return round(float((got == want).float().mean()), 6)
