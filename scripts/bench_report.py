#!/usr/bin/python3
"""Merge the outputs of scripts/bench-peers into one results file and print the tables.

Usage:
    /usr/bin/python3 scripts/bench_report.py --dir build/bench [--preliminary]

Reads DIR/machine.json, DIR/peers.jsonl (one JSON line per peer run: vocodex bench, the PyTorch
peer, the ONNX Runtime peer), DIR/jmh.json and DIR/jmh-distilcodec.json (JMH -rf json) and
DIR/roofline_counts.json (scripts/roofline_counts.py); writes DIR/results.json and DIR/tables.md
(the Markdown tables that docs/benchmarks.md carries) and prints the tables.

Conventions:
  * peers: every iteration of every run (each run a fresh process) is pooled; median, min, max
    and spread = (max - min) / median are reported.
  * ratio = peer median ms / Vocodex median ms = Vocodex throughput / peer throughput
    (> 1: Vocodex is faster).
  * JMH: median of the measurement iterations (rawData), min and max of them.
  * roofline: floor time per audio second = max(2 * MACs / peak FMA FLOP/s, bytes / triad B/s)
    at the same thread count; "x floor" = measured time / floor time.
"""

import argparse
import json
import os
import statistics
import sys

FRAME_MS = {"encodec24k": 320 / 24.0, "mimi": 1920 / 24.0}


def load_json(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def stats(values):
    values = [float(v) for v in values]
    med = statistics.median(values)
    return {"median": round(med, 4), "min": round(min(values), 4), "max": round(max(values), 4), "n": len(values),
            "spread": round((max(values) - min(values)) / med, 4) if med > 0 else None}


PEER_OPS = ("encode", "decode", "stream_step", "search")


def peers_section(path):
    """Pools the JSON lines of one peers file (every op each line carries) per peer and thread count."""
    runs = []
    if os.path.exists(path):
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    pooled = {}
    info = {}
    for r in runs:
        peer, t = r["peer"], str(r["threads"])
        for op in PEER_OPS:
            if op + "_ms_median" not in r:
                continue
            vals = r.get(op + "_ms_all") or [r[op + "_ms_median"]]
            pooled.setdefault(peer, {}).setdefault(t, {}).setdefault(op, []).extend(vals)
            pooled[peer][t].setdefault(op + "_run_medians", []).append(r[op + "_ms_median"])
        keep = {k: v for k, v in r.items() if not k.endswith(("_ms_all", "_ms_median", "_ms_min", "_ms_max"))}
        if "blas" in keep:  # the library paths are this machine's; the OpenBLAS config says what ran
            keep["blas"] = keep["blas"].split("; mapped:")[0]
        for k, v in keep.items():
            info.setdefault(peer, {}).setdefault(k, v)
        if "codes_equal_fraction" in r:
            info[peer]["codes_equal_fraction_min"] = min(info[peer].get("codes_equal_fraction_min", 1.0),
                                                         r["codes_equal_fraction"])
    table = {}
    for peer, by_t in pooled.items():
        for t, ops in by_t.items():
            table.setdefault(peer, {})[t] = {
                op: dict(stats(ops[op]), run_medians=ops[op + "_run_medians"]) for op in PEER_OPS if op in ops}
    ratios = []
    v = table.get("vocodex", {})
    for peer in ("pytorch", "onnxruntime"):
        for t in sorted(table.get(peer, {}), key=int):
            for op in PEER_OPS:
                if t in v and op in v[t] and op in table[peer][t]:
                    pm, vm = table[peer][t][op]["median"], v[t][op]["median"]
                    ratios.append({"peer": peer, "threads": int(t), "op": op, "vocodex_ms": vm, "peer_ms": pm,
                                   "ratio": round(pm / vm, 3)})
    return {"runs": len(runs), "times_ms": table, "info": info, "ratios": ratios}


def jmh_rows(*paths):
    rows = []
    for p in paths:
        for b in load_json(p, []) or []:
            raw = [x for fork in b["primaryMetric"]["rawData"] for x in fork]
            name = b["benchmark"].rsplit(".", 1)[1]
            cls = b["benchmark"].rsplit(".", 2)[1]
            s = stats(raw)
            rows.append({"class": cls, "benchmark": name, "params": b.get("params", {}), "unit": b["primaryMetric"]["scoreUnit"],
                         "mode": b["mode"], "score": b["primaryMetric"]["score"], **s,
                         "jvmArgs": [a.split("=", 1)[0] + "=<path>" if "/" in a else a for a in b.get("jvmArgs", [])],
                         "jdk": b.get("vmVersion")})
    return rows


def model_of(name):
    for m in ("encodec24k", "mimi", "distilcodec"):
        if name.startswith("cpu_" + m):
            return m
    return None


def derive(rows):
    batch, stream, hub, e2e = [], [], [], []
    ceilings = {"fma_gflops": {}, "triad_gbps": {}}
    for r in rows:
        b, p, med = r["benchmark"], r["params"], r["median"]
        t = int(p.get("threads", 1))
        if b == "cpu_fma_f32_peak":
            flop = t * 2 * 16 * 2048 * 2000
            ceilings["fma_gflops"][str(t)] = round(flop / (med / 1e3) / 1e9, 2)
        elif b == "cpu_fma_f32_peak_vectorapi":
            flop = t * 2 * 12 * (16 << 20)
            ceilings.setdefault("vector_fma_gflops", {})[str(t)] = round(flop / (med / 1e3) / 1e9, 2)
        elif b == "cpu_triad_f32_64Mi":
            by = t * 12 * (64 << 20)
            ceilings["triad_gbps"][str(t)] = round(by / (med / 1e3) / 1e9, 2)
        elif "_encodebatch_" in b:
            n = int(p["batch"])
            batch.append({"model": model_of(b), "threads": t, "batch": n, "ms_per_batch": med,
                          "audio_s_per_s": round(n * 2.0 / (med / 1e3), 3),
                          "audio_s_per_s_min": round(n * 2.0 / (r["max"] / 1e3), 3),
                          "audio_s_per_s_max": round(n * 2.0 / (r["min"] / 1e3), 3)})
        elif "_streampush_" in b:
            m = model_of(b)
            stream.append({"model": m, "threads": t, "ms_per_frame": med, "min": r["min"], "max": r["max"],
                           "frame_ms": round(FRAME_MS[m], 3), "rtf": round(med / FRAME_MS[m], 4)})
        elif "_hubtick_" in b:
            s = int(p["streams"])
            hub.append({"model": model_of(b), "threads": t, "streams": s, "tick_ms": med, "min": r["min"], "max": r["max"],
                        "rtf": round(med / FRAME_MS["encodec24k"], 4),
                        "realtime": med < FRAME_MS["encodec24k"]})
        elif b.endswith(("_encode_f32_10s", "_decode_f32_10s")) or b.startswith("cpu_distilcodec_"):
            secs = float(p.get("seconds", 10))
            op = "encode" if "_encode_" in b else "decode"
            e2e.append({"model": model_of(b), "op": op, "threads": t, "seconds": secs, "ms": med, "min": r["min"],
                        "max": r["max"], "rtf": round(med / 1e3 / secs, 4), "config": p.get("config")})
    return batch, stream, hub, e2e, ceilings


ROOF_MODEL = {"encodec24k": "encodec24khz", "mimi": "mimi", "distilcodec": "distilcodec_released"}


def roofline(counts, ceilings, e2e, stream, peers_by_model, gemm):
    out = {}
    if not counts:
        return out
    paths = []
    for e in e2e:
        if e["model"] == "distilcodec" and e.get("config") not in (None, "released"):
            continue
        paths.append((e["model"], "vocodex batch " + e["op"], e["op"], e["threads"], e["ms"] / 1e3 / e["seconds"], False,
                      e["seconds"]))
    for s in stream:
        paths.append((s["model"], "vocodex stream encode", "encode", s["threads"], s["rtf"], True, None))
    for model, peers in peers_by_model.items():
        for peer in ("pytorch", "onnxruntime"):
            inf = peers["info"].get(peer, {})
            if inf.get("config") not in (None, "released", "mimi"):
                continue  # the counts are those of the released DistilCodec
            secs = float(inf.get("seconds", 10.0))
            for t, ops in peers["times_ms"].get(peer, {}).items():
                for op in ("encode", "decode"):
                    if op in ops:
                        paths.append((model, peer + " batch " + op, op, int(t), ops[op]["median"] / 1e3 / secs, False, secs))
    for model, key in ROOF_MODEL.items():
        c = counts.get(key)
        if c:
            out[model] = {"counts": {op2: {k: c[op2][k] for k in ("macs_per_audio_s", "bytes_unfused_per_audio_s",
                                                                  "io_bytes_per_audio_s", "weight_bytes",
                                                                  "intensity_flop_per_byte_unfused")}
                                     for op2 in ("encode", "decode")},
                          "frame_rate": c["frame_rate"], "paths": []}
    for model, name, op, t, s_per_s, streaming, clip_s in paths:
        c = counts.get(ROOF_MODEL[model])
        # the higher of the two FMA peaks: the Vector API one is what Vocodex's kernels can reach
        fl = max([x for x in (ceilings["fma_gflops"].get(str(t)),
                              ceilings.get("vector_fma_gflops", {}).get(str(t))) if x] or [None])
        bw = ceilings["triad_gbps"].get(str(t))
        if not c or not fl or not bw:
            continue
        d = c[op]
        macs = d["macs_per_audio_s"]
        io_only = d["io_bytes_per_audio_s"] - d["weight_bytes"] / c["seconds_counted"]
        if streaming:
            # every frame re-reads the encoder's weights (tens of MB: beyond L2)
            by = d["weight_bytes"] * c["frame_rate"] + io_only
        else:
            by = d["weight_bytes"] / clip_s + io_only  # weights once per clip of clip_s seconds
        f_c = 2 * macs / (fl * 1e9)
        f_m = by / (bw * 1e9)
        f_u = d["bytes_unfused_per_audio_s"] / (bw * 1e9)
        floor = max(f_c, f_m)
        out[model]["paths"].append({
            "path": name, "threads": t, "measured_s_per_audio_s": round(s_per_s, 5),
            "floor_compute_s": round(f_c, 5), "floor_memory_compulsory_s": round(f_m, 5),
            "memory_unfused_s": round(f_u, 5), "floor_s": round(floor, 5),
            "x_floor": round(s_per_s / floor, 2) if floor > 0 else None,
            "achieved_gflops": round(2 * macs / s_per_s / 1e9, 2)})
    if gemm:
        out["_note"] = f"OpenBLAS sgemm 2048^3 measured by the PyTorch peer: {gemm} GFLOP/s (1 thread run)"
    return out


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def tables(res):
    L = []
    m = res["machine"]
    pre = " (PRELIMINARY: machine under load)" if res.get("preliminary") else ""
    L.append(f"Machine: {m.get('cpu_model')}, {m.get('cpus')} CPUs, {m.get('memory')}; {m.get('date')}{pre}")
    L.append(f"Load average before/after: {m.get('loadavg_before')} / {m.get('loadavg_after')}")
    L.append("")
    L.append(f"CPU: {m.get('threads_per_core')} thread(s) per core, hypervisor {m.get('hypervisor')}, caches "
             + ", ".join(f"{k.split()[0]} {v}" for k, v in (m.get("caches") or {}).items())
             + f"; SIMD {' '.join(m.get('simd') or [])}. {m.get('os')}, kernel {m.get('kernel')}.")
    L.append(f"Java: {m.get('java')} ({m.get('jvm_vector_flags')}).")
    info = res["peers"].get("info", {})
    if "pytorch" in info:
        L.append(f"PyTorch {info['pytorch'].get('torch')}, BLAS: {info['pytorch'].get('blas')}.")
    if "onnxruntime" in info:
        o = info["onnxruntime"]
        L.append(f"ONNX Runtime {o.get('ort')} ({o.get('provider')}), model: {o.get('onnx_export')}; "
                 f"codes identical to Vocodex's on the benchmark input: {o.get('codes_equal_fraction_min', '-')} (worst run).")
    L.append("")
    p = res["peers"]
    if p["ratios"]:
        L.append("### EnCodec 24 kHz, 10 s at 6 kbps: Vocodex vs peers (ms, median of all iterations of all runs)")
        L.append("")
        L.append("| threads | op | Vocodex ms [min-max] | peer | peer ms [min-max] | ratio (peer ms / Vocodex ms) |")
        L.append("| ---: | --- | ---: | --- | ---: | ---: |")
        tm = p["times_ms"]
        for r in sorted((r for r in p["ratios"] if r["op"] in ("encode", "decode")),
                        key=lambda r: (r["threads"], r["op"], r["peer"])):
            v = tm["vocodex"][str(r["threads"])][r["op"]]
            q = tm[r["peer"]][str(r["threads"])][r["op"]]
            L.append(f"| {r['threads']} | {r['op']} | {v['median']:.0f} [{v['min']:.0f}-{v['max']:.0f}] | {r['peer']} | "
                     f"{q['median']:.0f} [{q['min']:.0f}-{q['max']:.0f}] | {r['ratio']:.2f} |")
        L.append("")
        L.append(f"Runs: {p['runs']} process runs in all (each peer x thread count x repeat); ratio > 1: Vocodex faster.")
        jm = [e for e in res["e2e"] if e["model"] == "encodec24k"]
        if jm:
            L.append("Cross-check, JMH `EncodecBench` on the same model folder (ms): "
                     + ", ".join(f"{e['op']} {e['threads']} thread(s) {e['ms']:.0f}"
                                 for e in sorted(jm, key=lambda e: (e["threads"], e["op"]))) + ".")
        L.append("")
    L += peer_table(res.get("peers_mimi"), "mimi")
    L += peer_table(res.get("peers_distilcodec"), "distilcodec")
    if res["e2e"]:
        L.append("### End to end, JMH (ms per op, median [min-max]; RTF = time / audio duration)")
        L.append("")
        L.append("| model | op | threads | audio | ms | RTF |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: |")
        for e in sorted(res["e2e"], key=lambda e: (e["model"], e["op"], e["threads"])):
            cfg = f" ({e['config']})" if e.get("config") else ""
            L.append(f"| {e['model']}{cfg} | {e['op']} | {e['threads']} | {e['seconds']:.0f} s | "
                     f"{e['ms']:.0f} [{e['min']:.0f}-{e['max']:.0f}] | {e['rtf']:.3f} |")
        L.append("")
    if res["batch"]:
        L.append("### Batch throughput, Codec.encodeBatch of B x 2 s clips (audio seconds per second)")
        L.append("")
        ts = sorted({b["threads"] for b in res["batch"]})
        L.append("| model | batch | " + " | ".join(f"{t} thread(s)" for t in ts) + " |")
        L.append("| --- | ---: | " + " | ".join("---:" for _ in ts) + " |")
        for model in sorted({b["model"] for b in res["batch"]}):
            for n in sorted({b["batch"] for b in res["batch"] if b["model"] == model}):
                cells = []
                for t in ts:
                    x = [b for b in res["batch"] if b["model"] == model and b["batch"] == n and b["threads"] == t]
                    cells.append(fmt(x[0]["audio_s_per_s"], 2) if x else "-")
                L.append(f"| {model} | {n} | " + " | ".join(cells) + " |")
        L.append("")
    if res["streaming"]:
        L.append("### Streaming step latency (one frame pushed into a live stream)")
        L.append("")
        L.append("| model | frame | threads | ms per frame [min-max] | real-time factor |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        for s in sorted(res["streaming"], key=lambda s: (s["model"], s["threads"])):
            L.append(f"| {s['model']} | {s['frame_ms']:.2f} ms | {s['threads']} | {s['ms_per_frame']:.3f} "
                     f"[{s['min']:.3f}-{s['max']:.3f}] | {s['rtf']:.3f} |")
        L.append("")
    if res["hub"]:
        L.append("### StreamHub (EnCodec, CPU): tick latency vs live streams (every stream steps one 13.33 ms frame)")
        L.append("")
        ts = sorted({h["threads"] for h in res["hub"]})
        L.append("| streams | " + " | ".join(f"{t} thread(s): tick ms (RTF)" for t in ts) + " |")
        L.append("| ---: | " + " | ".join("---:" for _ in ts) + " |")
        for n in sorted({h["streams"] for h in res["hub"]}):
            cells = []
            for t in ts:
                x = [h for h in res["hub"] if h["streams"] == n and h["threads"] == t]
                cells.append(f"{x[0]['tick_ms']:.2f} ({x[0]['rtf']:.2f})" if x else "-")
            L.append(f"| {n} | " + " | ".join(cells) + " |")
        L.append("")
    c = res["ceilings"]
    if c["fma_gflops"]:
        L.append("### Machine ceilings (JMH CeilingBench)")
        L.append("")
        L.append("| threads | peak FMA GFLOP/s (JIT-vectorised Math.fma) | peak FMA GFLOP/s (Vector API) | triad GB/s (STREAM count) |")
        L.append("| ---: | ---: | ---: | ---: |")
        for t in sorted(c["fma_gflops"], key=int):
            L.append(f"| {t} | {c['fma_gflops'][t]} | {c.get('vector_fma_gflops', {}).get(t, '-')} | {c['triad_gbps'].get(t, '-')} |")
        if c.get("openblas_sgemm_gflops"):
            L.append("")
            L.append("OpenBLAS sgemm 2048^3 (PyTorch peer, by threads): "
                     + ", ".join(f"{t} thread(s) {g} GFLOP/s" for t, g in sorted(c["openblas_sgemm_gflops"].items())))
        L.append("")
    r = res.get("roofline") or {}
    if any(k for k in r if not k.startswith("_")):
        L.append("### Roofline: work per audio second and distance from the floor")
        L.append("")
        L.append("| model | op | GMAC / audio s | compulsory MB / audio s (weights once per counted clip + I/O) | unfused GB / audio s | weights MB |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: |")
        for model, d in r.items():
            if model.startswith("_"):
                continue
            for op in ("encode", "decode"):
                k = d["counts"][op]
                L.append(f"| {model} | {op} | {k['macs_per_audio_s'] / 1e9:.3f} | {k['io_bytes_per_audio_s'] / 1e6:.1f} | "
                         f"{k['bytes_unfused_per_audio_s'] / 1e9:.2f} | {k['weight_bytes'] / 1e6:.1f} |")
        L.append("")
    if any(d["paths"] for k, d in r.items() if not k.startswith("_")):
        L.append("| model | path | threads | measured s / audio s | compute floor s | memory floor s | x floor | achieved GFLOP/s |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for model, d in r.items():
            if model.startswith("_"):
                continue
            for q in sorted(d["paths"], key=lambda q: (q["path"], q["threads"])):
                L.append(f"| {model} | {q['path']} | {q['threads']} | {q['measured_s_per_audio_s']:.4f} | "
                         f"{q['floor_compute_s']:.4f} | {q['floor_memory_compulsory_s']:.4f} | {q['x_floor']:.1f} | "
                         f"{q['achieved_gflops']:.1f} |")
        L.append("")
    return "\n".join(L)


OP_LABEL = {"encode": "encode", "decode": "decode", "stream_step": "streaming step (1 frame)", "search": "codebook search alone"}


def peer_table(p, model):
    """Vocodex vs PyTorch vs ONNX Runtime for Mimi or DistilCodec, one row per thread count and op."""
    if not p or not p["times_ms"]:
        return []
    tm, info = p["times_ms"], p["info"]
    L = []
    if model == "mimi":
        L.append("### Mimi, 10 s at 8 codebooks: Vocodex vs PyTorch vs ONNX Runtime (ms, median of all iterations "
                 "of all runs; streaming: ms per 80 ms frame, KV rings full)")
    else:
        cfg = (info.get("vocodex") or info.get("pytorch") or {}).get("config") or info.get("pytorch", {}).get("config")
        secs = info.get("pytorch", info.get("onnxruntime", {})).get("seconds", "?")
        L.append(f"### DistilCodec ({cfg or 'released'} config), {secs} s: Vocodex vs PyTorch vs ONNX Runtime (ms, median "
                 "of all iterations of all runs)")
    L.append("")
    L.append("| threads | op | Vocodex ms [min-max] | PyTorch ms [min-max] | ratio | ONNX Runtime ms [min-max] | ratio |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    threads = sorted({t for by_t in tm.values() for t in by_t}, key=int)

    def cell(peer, t, op):
        q = tm.get(peer, {}).get(t, {}).get(op)
        return (f"{q['median']:.1f} [{q['min']:.1f}-{q['max']:.1f}]" if q["median"] < 1000 else
                f"{q['median']:.0f} [{q['min']:.0f}-{q['max']:.0f}]") if q else "-", q

    for t in threads:
        for op in PEER_OPS:
            cells = [cell(peer, t, op) for peer in ("vocodex", "pytorch", "onnxruntime")]
            if all(c[1] is None for c in cells):
                continue
            v = cells[0][1]
            ratio = [f"{c[1]['median'] / v['median']:.2f}" if v and c[1] else "-" for c in cells[1:]]
            L.append(f"| {t} | {OP_LABEL[op]} | {cells[0][0]} | {cells[1][0]} | {ratio[0]} | {cells[2][0]} | {ratio[1]} |")
    L.append("")
    notes = [f"Runs: {p['runs']} process runs in all; ratio = peer ms / Vocodex ms (> 1: Vocodex faster)."]
    for peer, name in (("pytorch", "PyTorch"), ("onnxruntime", "ONNX Runtime")):
        if "codes_equal_fraction_min" in info.get(peer, {}):
            notes.append(f"{name} codes identical to Vocodex's on the same input: {info[peer]['codes_equal_fraction_min']} "
                         "(worst run).")
    if "onnxruntime" in info:
        notes.append(f"ONNX model: {info['onnxruntime'].get('onnx_export')}.")
    srch = [(peer, info.get(peer, {})) for peer in ("vocodex", "pytorch") if "search" in
            {op for by_t in tm.get(peer, {}).values() for op in by_t}]
    if srch:
        parts = []
        for peer, _ in srch:
            for t, ops in sorted(tm[peer].items(), key=lambda kv: int(kv[0])):
                if "search" in ops:
                    i = info[peer]
                    frames = i.get("frames") if peer == "vocodex" else i.get("search_frames")
                    codes = i.get("codes", i.get("search_codes"))
                    dim = i.get("dim", i.get("search_dim"))
                    if frames:
                        parts.append(f"{peer} {t} thread(s) {frames / (ops['search']['median'] / 1e3):.0f} frames/s "
                                     f"({codes} x {dim}, {frames} frames)")
        if parts:
            notes.append("Codebook search alone: " + ", ".join(parts) + ".")
    L.append(" ".join(notes))
    L.append("")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.path.join("build", "bench"))
    ap.add_argument("--preliminary", action="store_true")
    args = ap.parse_args()
    d = args.dir
    machine = load_json(os.path.join(d, "machine.json"), {})
    peers = peers_section(os.path.join(d, "peers.jsonl"))
    peers_mimi = peers_section(os.path.join(d, "peers-mimi.jsonl"))
    peers_distil = peers_section(os.path.join(d, "peers-distilcodec.jsonl"))
    rows = jmh_rows(os.path.join(d, "jmh.json"), os.path.join(d, "jmh-distilcodec.json"))
    batch, stream, hub, e2e, ceilings = derive(rows)
    sg = {}
    lines = []
    for name in ("peers.jsonl", "peers-mimi.jsonl", "peers-distilcodec.jsonl"):
        if os.path.exists(os.path.join(d, name)):
            lines += [line for line in open(os.path.join(d, name)) if line.strip()]
    for r in lines:
        o = json.loads(r)
        if o.get("peer") == "pytorch" and o.get("gemm_gflops"):
            sg.setdefault(str(o["threads"]), []).append(o["gemm_gflops"])
    ceilings["openblas_sgemm_gflops"] = {t: round(statistics.median(v), 1) for t, v in sg.items()}
    counts = load_json(os.path.join(d, "roofline_counts.json"), {})
    res = {
        "schema": 1,
        "preliminary": args.preliminary or bool(machine.get("preliminary")),
        "machine": machine,
        "peers": peers,
        "peers_mimi": peers_mimi,
        "peers_distilcodec": peers_distil,
        "e2e": e2e,
        "batch": batch,
        "streaming": stream,
        "hub": hub,
        "ceilings": ceilings,
        "roofline": roofline(counts, ceilings, e2e, stream, {"encodec24k": peers, "mimi": peers_mimi,
                                                              "distilcodec": peers_distil}, None),
        "jmh": rows,
    }
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    t = tables(res)
    with open(os.path.join(d, "tables.md"), "w") as f:
        f.write(t + "\n")
    print(t)


if __name__ == "__main__":
    sys.exit(main())
