#!/usr/bin/python3
"""Chart of build/bench/results.json: throughput vs batch size and StreamHub latency vs streams.

Usage:
    /usr/bin/python3 scripts/plot_benchmarks.py [--results build/bench/results.json] [--out build/bench/benchmarks.png]

Needs Debian's python3-matplotlib. Left panel: Codec.encodeBatch throughput (audio seconds per
second) against the batch size, one line per model and thread count. Middle panel: StreamHub tick
latency (ms) against the number of live EnCodec streams, with the real-time limit of one 13.33 ms
frame per tick. Right panel: Vocodex vs PyTorch vs ONNX Runtime, real-time factor (time / audio
duration; streaming: time per frame / frame duration) of each model and op at the largest thread
count measured.
"""

import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join("build", "bench", "results.json"))
    ap.add_argument("--out", default=os.path.join("build", "bench", "benchmarks.png"))
    args = ap.parse_args()
    with open(args.results) as f:
        res = json.load(f)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(16, 4.4), dpi=110)
    for model in sorted({r["model"] for r in res["batch"]}):
        for t in sorted({r["threads"] for r in res["batch"]}):
            rows = sorted((r for r in res["batch"] if r["model"] == model and r["threads"] == t), key=lambda r: r["batch"])
            if not rows:
                continue
            xs = [r["batch"] for r in rows]
            ys = [r["audio_s_per_s"] for r in rows]
            lo = [r["audio_s_per_s"] - r["audio_s_per_s_min"] for r in rows]
            hi = [r["audio_s_per_s_max"] - r["audio_s_per_s"] for r in rows]
            a.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=f"{model}, {t} thread(s)")
    a.set_xscale("log", base=2)
    a.set_xlabel("batch size (clips of 2 s)")
    a.set_ylabel("audio seconds per second")
    a.set_title("Codec.encodeBatch throughput (CPU)")
    a.set_ylim(bottom=0)
    a.grid(True, alpha=0.3)
    a.legend(fontsize=8)
    for t in sorted({r["threads"] for r in res["hub"]}):
        rows = sorted((r for r in res["hub"] if r["threads"] == t), key=lambda r: r["streams"])
        xs = [r["streams"] for r in rows]
        ys = [r["tick_ms"] for r in rows]
        lo = [r["tick_ms"] - r["min"] for r in rows]
        hi = [r["max"] - r["tick_ms"] for r in rows]
        b.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=f"EnCodec 24 kHz, {t} thread(s)")
    b.axhline(320 / 24.0, color="red", linestyle="--", linewidth=1, label="real time (13.33 ms frame)")
    b.set_xscale("log", base=2)
    b.set_yscale("log")
    b.set_xlabel("live streams")
    b.set_ylabel("tick latency, ms")
    b.set_title("StreamHub tick: every stream steps one frame")
    b.grid(True, which="both", alpha=0.3)
    b.legend(fontsize=8)
    peers_panel(c, res)
    m = res.get("machine", {})
    note = f"{m.get('cpu_model', '?')}, {m.get('cpus', '?')} CPUs; {m.get('date', '')}"
    if res.get("preliminary"):
        note += "  PRELIMINARY (machine under load)"
    fig.suptitle("Vocodex CPU benchmarks: " + note, fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out, metadata={"Software": None})
    print(args.out)


def peers_panel(ax, res):
    """Grouped bars: one group per model and op, one bar per engine; log-scale real-time factor."""
    engines = (("vocodex", "Vocodex"), ("pytorch", "PyTorch"), ("onnxruntime", "ONNX Runtime"))
    groups = []  # (label, {engine: rtf})
    for key, model in (("peers", "EnCodec"), ("peers_mimi", "Mimi"), ("peers_distilcodec", "DistilCodec")):
        p = res.get(key) or {}
        tm, info = p.get("times_ms") or {}, p.get("info") or {}
        if not tm:
            continue
        t = max((t for by_t in tm.values() for t in by_t), key=int)
        cfg = next((i.get("config") for i in info.values() if i.get("config") not in (None, "released", "mimi")), None)
        if cfg:
            model = f"{model} ({cfg})"
        for op in ("encode", "decode", "stream_step"):
            vals = {}
            for e, _ in engines:
                q = tm.get(e, {}).get(t, {}).get(op)
                if not q:
                    continue
                if op == "stream_step":
                    vals[e] = q["median"] / float(info.get(e, {}).get("frame_ms", 80.0))
                else:
                    secs = float(info.get(e, {}).get("seconds", 10.0))
                    vals[e] = q["median"] / 1e3 / secs
            if vals:
                groups.append((f"{model}\n{op.replace('_', ' ')}\n{t} thr", vals))
    if not groups:
        ax.set_axis_off()
        return
    width = 0.27
    for i, (e, label) in enumerate(engines):
        xs = [g + (i - 1) * width for g, (_, v) in enumerate(groups) if e in v]
        ys = [v[e] for _, v in groups if e in v]
        if xs:
            ax.bar(xs, ys, width=width, label=label)
    ax.axhline(1.0, color="red", linestyle="--", linewidth=1, label="real time")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g for g, _ in groups], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("real-time factor (lower is faster)")
    ax.set_title("Vocodex vs peers (same weights, same input)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)


if __name__ == "__main__":
    main()
