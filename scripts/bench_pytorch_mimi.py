#!/usr/bin/python3
"""PyTorch peer for the Vocodex Mimi benchmark.

Usage:
    /usr/bin/python3 scripts/bench_pytorch_mimi.py --dir DIR [--threads 1] [--iterations 5] [--warmup 2]
        [--stream-steps 25] [--prefill 130] [--skip-batch] [--skip-stream]

DIR is written by `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec mimi
--out DIR`: DIR/model (the Mimi folder the Vocodex benchmarks run: config.json in the original
loader's layout, model.safetensors under the original tensor names), DIR/input.npy (10 s of
0.1 x gaussian noise from java.util.Random(1234)) and DIR/vocodex_codes.npy (Vocodex's 8-codebook
codes of that input).

Builds scripts/mimi_reference.py's MimiReference (plain PyTorch, checked against the original's
goldens by scripts/check_mimi_reference_against_golden.py) from config.json and the weights, and
times under torch.no_grad(), float32, CPU:
  * encode: audio -> codes (8 codebooks, the split RVQ) of the whole input, batch mode;
  * decode: those codes -> audio, batch mode;
  * stream_step: one 1920-sample (80 ms) frame through the reference's streaming path (causal conv
    states, transformer with its ring KV cache of context 250, streaming downsample, RVQ); the
    stream is first fed --prefill frames of the input (looped) so that the rings are full, as
    StreamBench does; each timed iteration is --stream-steps frames, reported as ms per frame.
Threads, BLAS detection and the sgemm rate: scripts/pytorch_peer.py. Prints ONE JSON line:

    {"peer": "pytorch", "model": "mimi", "threads": N, "encode_ms_median": ..., "decode_ms_median": ...,
     "stream_step_ms_median": ..., ..., "codes_equal_fraction": ..., "gemm_gflops": ...}

codes_equal_fraction: the batch codes' agreement with Vocodex's codes of the same input.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_peer as peer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="folder written by PeerSide write --codec mimi")
    ap.add_argument("--stream-steps", type=int, default=25, help="frames per timed streaming iteration")
    ap.add_argument("--prefill", type=int, default=130, help="frames fed before timing (130: KV rings full)")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-stream", action="store_true")
    peer.add_common_args(ap)
    args = ap.parse_args()
    torch, gemm = peer.start_torch(args)
    import mimi_reference as ref

    meta, config, sd, x, vocodex_codes = peer.load_peer_dir(args.dir)
    n_q = int(meta["n_codebooks"])
    m = ref.MimiReference(config, sd)
    out = {"peer": "pytorch", "model": "mimi", "torch": torch.__version__, "blas": peer.blas_description(),
           "threads": args.threads, "seconds": meta["seconds"], "bandwidth": meta["bandwidth"], "n_codebooks": n_q,
           "iterations": args.iterations}
    with torch.no_grad():
        if not args.skip_batch:
            codes, enc_ms = peer.timed(lambda: m.encode(x, n_q), args.warmup, args.iterations)
            y, dec_ms = peer.timed(lambda: m.decode(codes), args.warmup, args.iterations)
            out.update(frames=int(codes.shape[1]), decoded_samples=int(y.shape[-1]))
            out.update(peer.time_stats("encode", enc_ms))
            out.update(peer.time_stats("decode", dec_ms))
            out["codes_equal_fraction"] = peer.codes_equal_fraction(codes, vocodex_codes)
            out["codes_first_codebook_equal_fraction"] = peer.codes_equal_fraction(codes[:1], vocodex_codes[:1])
        if not args.skip_stream:
            frame = m.frame
            frames = [x[i:i + frame] for i in range(0, x.shape[0] - frame + 1, frame)]
            state = dict(enc={}, tr={}, down={})
            pos = [0]

            def step():
                f = frames[pos[0] % len(frames)]
                pos[0] += 1
                e = m.encoder(f[None], state["enc"])
                lat = m.down(m.enc_tr(e, state["tr"]), state["down"])
                return m.quantize(lat, n_q)

            for _ in range(args.prefill):
                step()

            def block():
                for _ in range(args.stream_steps):
                    step()

            _, blocks_ms = peer.timed(block, args.warmup, args.iterations)
            out.update(peer.time_stats("stream_step", [b / args.stream_steps for b in blocks_ms]))
            out.update(frame_samples=frame, frame_ms=1000.0 * frame / config["sample_rate"], prefill_frames=args.prefill,
                       steps_per_iteration=args.stream_steps)
    out["gemm_gflops"] = gemm
    print(json.dumps(out))


if __name__ == "__main__":
    main()
