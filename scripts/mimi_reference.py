#!/usr/bin/python3
"""Vocodex's own plain-PyTorch implementation of Kyutai's Mimi codec (inference only).

Written from the model's description (SEANet + RoPE transformer + conv resampling + split RVQ,
and the streaming states of the original: causal conv left context, transposed-conv overlap,
ring KV cache written before the chunk attends). It reads a state dict under the original tensor
names and a config in the original loader's layout ({"sample_rate", "channels", "frame_rate",
"seanet": {...}, "transformer": {...}, "quantizer": {...}}).

    m = MimiReference(config, state_dict)
    codes = m.encode(x, n_q)                  # x float32 [N] -> int64 [K, T] (batch)
    codes_s = m.encode_streaming(x, n_q)      # frame by frame through fresh streaming state
    audio = m.decode(codes)                   # [T * frame_size]
    audio_s = m.decode_streaming(codes)

scripts/check_mimi_reference_against_golden.py shows that it reproduces the original's batch and
streaming codes exactly on the shared goldens. Float32, CPU.
"""

import math

import torch
import torch.nn.functional as F


def _conv_left_pad(kernel, stride, dilation):
    return (kernel - 1) * dilation + 1 - stride


class Conv:
    """Causal conv1d (left padding only); streaming keeps the last (K-1)*d+1-S inputs."""

    def __init__(self, w, b, stride=1, dilation=1, groups=1, pad_mode="constant"):
        self.w, self.b = w, b
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.pad_mode = pad_mode
        self.pad = _conv_left_pad(w.shape[-1], stride, dilation)

    def __call__(self, x, state=None):  # x [C, T]
        if state is None:  # batch: a fresh state, i.e. zero (or first-sample) left padding
            state = {}
        prev = state.get("prev")
        if prev is None:
            if self.pad_mode == "replicate":
                prev = x[:, :1].expand(-1, self.pad)
            else:
                prev = torch.zeros(x.shape[0], self.pad, dtype=x.dtype)
        xx = torch.cat([prev, x], dim=-1)
        state["prev"] = xx[:, xx.shape[-1] - self.pad:] if self.pad > 0 else xx[:, :0]
        return F.conv1d(xx[None], self.w, self.b, stride=self.stride, dilation=self.dilation,
                        groups=self.groups)[0]


class ConvTr:
    """Causal transposed conv1d, all K-S surplus samples trimmed on the right; streaming keeps
    them (minus the bias) and adds them to the next step's first K-S outputs."""

    def __init__(self, w, b, stride, groups=1):
        self.w, self.b, self.stride, self.groups = w, b, stride, groups
        self.tail = w.shape[-1] - stride

    def __call__(self, x, state=None):
        y = F.conv_transpose1d(x[None], self.w, self.b, stride=self.stride, groups=self.groups)[0]
        if state is None:
            return y[:, :y.shape[-1] - self.tail]
        if self.tail == 0:
            return y
        partial = state.get("partial")
        if partial is not None:
            y[:, :self.tail] += partial
        end = y[:, y.shape[-1] - self.tail:]
        if self.b is not None:
            end = end - self.b[:, None]
        state["partial"] = end.clone()
        return y[:, :y.shape[-1] - self.tail]


class Seq:
    """Modules in order; the state is one dict per module."""

    def __init__(self, mods):
        self.mods = mods

    def __call__(self, x, state=None):
        for i, m in enumerate(self.mods):
            x = m(x, None if state is None else state.setdefault(i, {}))
        return x


class Elu:
    def __call__(self, x, state=None):
        return F.elu(x)


class ResBlock:
    def __init__(self, block, shortcut):
        self.block, self.shortcut = block, shortcut

    def __call__(self, x, state=None):
        s = x if self.shortcut is None else self.shortcut(x, None if state is None else state.setdefault("s", {}))
        return s + self.block(x, None if state is None else state.setdefault("b", {}))


def _seanet(sd, prefix, c, decoder):
    nf, ratios = c["n_filters"], c["ratios"]
    mods = []

    def conv(i, kernel_in_out, stride=1, dilation=1, sub=None):
        p = f"{prefix}.{i}" + (f".{sub}" if sub else "") + ".conv.conv"
        return Conv(sd[p + ".weight"], sd.get(p + ".bias"), stride, dilation, pad_mode=c["pad_mode"])

    def resblock(i, dilation):
        block = Seq([Elu(), Conv(sd[f"{prefix}.{i}.block.1.conv.conv.weight"], sd[f"{prefix}.{i}.block.1.conv.conv.bias"],
                                 1, dilation, pad_mode=c["pad_mode"]),
                     Elu(), Conv(sd[f"{prefix}.{i}.block.3.conv.conv.weight"], sd[f"{prefix}.{i}.block.3.conv.conv.bias"],
                                 pad_mode=c["pad_mode"])])
        short = None if c["true_skip"] else conv(i, None, sub="shortcut")
        return ResBlock(block, short)

    if not decoder:
        mods.append(conv(0, None))
        for r in reversed(ratios):
            for j in range(c["n_residual_layers"]):
                mods.append(resblock(len(mods), c["dilation_base"] ** j))
            mods.append(Elu())
            mods.append(conv(len(mods), None, stride=r))
        mods.append(Elu())
        mods.append(conv(len(mods), None))
    else:
        mods.append(conv(0, None))
        for r in ratios:
            mods.append(Elu())
            i = len(mods)
            p = f"{prefix}.{i}.convtr.convtr"
            mods.append(ConvTr(sd[p + ".weight"], sd.get(p + ".bias"), r))
            for j in range(c["n_residual_layers"]):
                mods.append(resblock(len(mods), c["dilation_base"] ** j))
        mods.append(Elu())
        mods.append(conv(len(mods), None))
    return Seq(mods)


def rope(x, first_pos, heads, max_period):
    """Interleaved-pair rotary embedding of x [T, H*hd], float32 steps as the original."""
    t, d = int(x.shape[0]), int(x.shape[1])
    hd = d // heads
    ds = torch.arange(hd // 2, dtype=torch.float32)
    freqs = torch.exp(ds * (-math.log(max_period) * 2 / hd))
    ts = torch.arange(t, dtype=torch.float32) + float(first_pos)
    ang = freqs[None, :] * ts[:, None]  # [T, hd/2]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    v = x.view(t, heads, hd // 2, 2)
    re, im = v[..., 0], v[..., 1]
    out = torch.stack([re * cos - im * sin, re * sin + im * cos], dim=-1)
    return out.reshape(t, d)


class Transformer:
    def __init__(self, sd, prefix, c):
        self.c = c
        self.layers = []
        for i in range(c["num_layers"]):
            p = f"{prefix}.transformer.layers.{i}."
            g = lambda n: sd.get(p + n)  # noqa: E731
            self.layers.append(dict(n1w=g("norm1.weight"), n1b=g("norm1.bias"), n2w=g("norm2.weight"),
                                    n2b=g("norm2.bias"), inp=g("self_attn.in_proj_weight"),
                                    out=g("self_attn.out_proj.weight"), l1=g("linear1.weight"),
                                    l2=g("linear2.weight"), ls1=g("layer_scale_1.scale"),
                                    ls2=g("layer_scale_2.scale")))
        self.heads = c["num_heads"]
        self.context = c["context"]

    def _attend(self, q, k, v, mask):  # q [Tq, D], k/v [Tk, D], mask [Tq, Tk] bool
        h = self.heads
        hd = q.shape[1] // h
        qh = q.view(q.shape[0], h, hd).transpose(0, 1)
        kh = k.view(k.shape[0], h, hd).transpose(0, 1)
        vh = v.view(v.shape[0], h, hd).transpose(0, 1)
        s = (qh @ kh.transpose(1, 2)) / math.sqrt(hd)
        s = s.masked_fill(~mask[None], float("-inf"))
        o = torch.softmax(s, dim=-1) @ vh
        return o.transpose(0, 1).reshape(q.shape[0], -1)

    def __call__(self, x, state=None):  # x [C, T] -> [C, T]
        h = x.t().contiguous()
        t, d = int(h.shape[0]), int(h.shape[1])  # plain ints: torch.onnx traces them as constants
        off = 0 if state is None else state.get("offset", 0)
        for li, L in enumerate(self.layers):
            n = F.layer_norm(h, (d,), L["n1w"], L["n1b"], 1e-5)
            qkv = n @ L["inp"].t()
            q, k, v = qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:]
            q = rope(q, off, self.heads, self.c["max_period"])
            k = rope(k, off, self.heads, self.c["max_period"])
            pq = torch.arange(t) + off
            if state is None:
                pk = torch.arange(t)
                kk, vv = k, v
            else:
                cap = self.context
                ring = state.setdefault(li, dict(k=torch.zeros(cap, d), v=torch.zeros(cap, d),
                                                 pos=torch.full((cap,), -1, dtype=torch.long)))
                slots = (torch.arange(t) + off) % cap  # the chunk is written first ...
                ring["k"][slots] = k
                ring["v"][slots] = v
                ring["pos"][slots] = pq
                kk, vv, pk = ring["k"], ring["v"], ring["pos"]  # ... then attended
            delta = pq[:, None] - pk[None, :]
            mask = (pk[None, :] >= 0) & (delta >= 0) & (delta < self.context)
            a = self._attend(q, kk, vv, mask) @ L["out"].t()
            h = h + (a if L["ls1"] is None else L["ls1"] * a)
            n = F.layer_norm(h, (d,), L["n2w"], L["n2b"], 1e-5)
            f = F.gelu(n @ L["l1"].t()) @ L["l2"].t()
            h = h + (f if L["ls2"] is None else L["ls2"] * f)
        if state is not None:
            state["offset"] = off + t
        return h.t().contiguous()


class Rvq:
    def __init__(self, sd, prefix, layers):
        self.inp = sd[prefix + ".input_proj.weight"]
        self.out = sd[prefix + ".output_proj.weight"]
        self.cbs = []
        for k in range(layers):
            p = f"{prefix}.vq.layers.{k}._codebook."
            self.cbs.append(sd[p + "embedding_sum"] / sd[p + "cluster_usage"].clamp(min=1e-5)[:, None])

    def encode(self, latent, n):  # latent [D, T]
        r = F.conv1d(latent[None], self.inp)[0].t()  # [T, d]
        codes = []
        for cb in self.cbs[:n]:
            dist = torch.cdist(r[None], cb[None], p=2)[0]
            c = dist.argmin(-1)
            codes.append(c)
            r = r - cb[c]
        return codes

    def decode(self, codes):
        q = 0
        for cb, c in zip(self.cbs, codes):
            q = q + cb[c]
        return F.conv1d(q.t()[None], self.out)[0]


class MimiReference:
    def __init__(self, config, sd):
        self.c = config
        s = config["seanet"]
        self.frame = int(config["sample_rate"] / config["frame_rate"])
        hop = 1
        for r in s["ratios"]:
            hop *= r
        self.stride = int(round(config["sample_rate"] / hop / config["frame_rate"]))
        self.encoder = _seanet(sd, "encoder.model", s, False)
        self.decoder = _seanet(sd, "decoder.model", s, True)
        self.enc_tr = Transformer(sd, "encoder_transformer", config["transformer"])
        self.dec_tr = Transformer(sd, "decoder_transformer", config["transformer"])
        self.down = Conv(sd["downsample.conv.conv.conv.weight"], None, self.stride, pad_mode="replicate")
        w = sd["upsample.convtr.convtr.convtr.weight"]
        self.up = ConvTr(w, None, self.stride, groups=w.shape[0])
        q = config["quantizer"]
        self.n_sem = q.get("n_q_semantic", 1)
        self.first = Rvq(sd, "quantizer.rvq_first", self.n_sem)
        self.rest = Rvq(sd, "quantizer.rvq_rest", q["n_q"] - self.n_sem)

    # --- pieces (batch) -------------------------------------------------------------------
    def pad(self, x):
        n = -(-x.shape[0] // self.frame) * self.frame
        return F.pad(x, (0, n - x.shape[0]))

    def seanet_encode(self, x):
        return self.encoder(self.pad(x)[None])

    def latent(self, x):
        return self.down(self.enc_tr(self.seanet_encode(x)))

    def quantize(self, latent, n_q):
        codes = self.first.encode(latent, min(n_q, self.n_sem))
        if n_q > self.n_sem:
            codes += self.rest.encode(latent, n_q - self.n_sem)
        return torch.stack(codes)

    def dequantize(self, codes):
        q = self.first.decode(list(codes[:self.n_sem]))
        if codes.shape[0] > self.n_sem:
            q = q + self.rest.decode(list(codes[self.n_sem:]))
        return q

    # --- batch -------------------------------------------------------------------------------
    def encode(self, x, n_q):
        return self.quantize(self.latent(x), n_q)

    def decode(self, codes):
        up = self.up(self.dequantize(codes))
        return self.decoder(self.dec_tr(up))[0]

    # --- streaming: one frame per step, fresh state per call ---------------------------------
    def encode_streaming(self, x, n_q, latents=None):
        xp = self.pad(x)
        st = dict(enc={}, tr={}, down={})
        out = []
        for i in range(0, xp.shape[0], self.frame):
            e = self.encoder(xp[None, i:i + self.frame], st["enc"])
            lat = self.down(self.enc_tr(e, st["tr"]), st["down"])
            if latents is not None:
                latents.append(lat)
            out.append(self.quantize(lat, n_q))
        return torch.cat(out, dim=1)

    def decode_streaming(self, codes):
        st = dict(up={}, tr={}, dec={})
        out = []
        for t in range(codes.shape[1]):
            q = self.dequantize(codes[:, t:t + 1])
            e = self.dec_tr(self.up(q, st["up"]), st["tr"])
            out.append(self.decoder(e, st["dec"])[0])
        return torch.cat(out)
