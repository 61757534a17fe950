#!/usr/bin/python3
"""PyTorch peer for the Vocodex DistilCodec benchmark.

Usage:
    /usr/bin/python3 scripts/bench_pytorch_distilcodec.py --dir DIR [--threads 1] [--iterations 5] [--warmup 2]
        [--skip-codec] [--search-frames F] [--search-codes 32768] [--search-dim 3584]

DIR is written by `java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec
distilcodec --config released|tiny --out DIR`: DIR/model (the DistilCodec folder the Vocodex
benchmarks run, original tensor names and config layout), DIR/input.npy (0.1 x gaussian noise from
java.util.Random(1234)) and DIR/vocodex_codes.npy (Vocodex's codes of that input).

Runs scripts/distilcodec_reference.py (plain PyTorch, checked against the original's goldens by
scripts/make_distilcodec_fixtures.py) with config.json and the weights, under torch.no_grad(),
float32, CPU, and times:
  * encode: audio -> codes (log-mel with torch.stft, ConvNeXt encoder, downsample, grouped RVQ search);
  * decode: codes -> audio (codebook lookup, project_out, upsample, HiFi-GAN);
  * search (with --search-frames F > 0): the nearest-code search alone, F seeded random vectors
    against a seeded random 32768 x 3584 codebook, the reference's arithmetic (x^2 + e^2 - 2 x.e,
    clamp, sqrt, argmax of the negation; the code norms e^2 computed once, outside the timing); reported as ms per search and frames per second.
Threads, BLAS detection and the sgemm rate: scripts/pytorch_peer.py. Prints ONE JSON line with
encode_ms_*, decode_ms_*, search_ms_*, search_frames_per_s, codes_equal_fraction (agreement with
Vocodex's codes of the same input) and gemm_gflops.
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
    ap.add_argument("--dir", help="folder written by PeerSide write --codec distilcodec (needed unless --skip-codec)")
    ap.add_argument("--skip-codec", action="store_true", help="time the codebook search only")
    ap.add_argument("--search-frames", type=int, default=0, help="frames for the search-alone timing (0: skip it)")
    ap.add_argument("--search-codes", type=int, default=32768)
    ap.add_argument("--search-dim", type=int, default=3584)
    peer.add_common_args(ap)
    args = ap.parse_args()
    torch, gemm = peer.start_torch(args)
    import distilcodec_reference as ref

    out = {"peer": "pytorch", "model": "distilcodec", "torch": torch.__version__, "blas": peer.blas_description(),
           "threads": args.threads, "iterations": args.iterations}
    with torch.no_grad():
        if not args.skip_codec:
            meta, cfg, sd, x, vocodex_codes = peer.load_peer_dir(args.dir)

            def encode():
                mel = ref.log_mel(cfg, x)
                return ref.quantize(cfg, sd, ref.prequant(cfg, sd, ref.encode_mel(cfg, sd, mel)))[0]

            codes, enc_ms = peer.timed(encode, args.warmup, args.iterations)
            y, dec_ms = peer.timed(lambda: ref.generate(cfg, sd, ref.dequantize(cfg, sd, codes)), args.warmup,
                                   args.iterations)
            out.update(config=meta["config"], seconds=meta["seconds"], n_codebooks=int(codes.shape[0]),
                       frames=int(codes.shape[1]), decoded_samples=int(y.shape[-1]))
            out.update(peer.time_stats("encode", enc_ms))
            out.update(peer.time_stats("decode", dec_ms))
            out["codes_equal_fraction"] = peer.codes_equal_fraction(codes, vocodex_codes)
        if args.search_frames > 0:
            g = torch.Generator().manual_seed(7)
            emb = torch.randn(args.search_codes, args.search_dim, generator=g)
            res = torch.randn(args.search_frames, args.search_dim, generator=g)
            e2 = emb.pow(2).sum(1)[None]  # code norms once, as Vocodex computes them at load

            def search():
                d = (res.pow(2).sum(1, keepdim=True) + e2 - 2 * res @ emb.T).clamp(min=0).sqrt()
                return torch.argmax(-d, dim=1)

            _, s_ms = peer.timed(search, args.warmup, args.iterations)
            out.update(peer.time_stats("search", s_ms))
            med = out["search_ms_median"] / 1e3
            out.update(search_codes=args.search_codes, search_dim=args.search_dim, search_frames=args.search_frames,
                       search_frames_per_s=round(args.search_frames / med, 3),
                       search_gflops=round(2.0 * args.search_frames * args.search_codes * args.search_dim / med / 1e9, 3))
    out["gemm_gflops"] = gemm
    print(json.dumps(out))


if __name__ == "__main__":
    main()
