package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.PadMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The slot pool of Mimi encoder streams behind {@link CudaMimiStreams}, over buffers of type {@code B} and KV
 * rings of type {@code R}: every piece of bookkeeping (which slot is in which shape state, each slot's
 * transformer position, the group rows and their padding, the order of the launches) lives here, and the
 * arithmetic goes through {@link Kernels} and a {@link MimiTransformerPlan}. The device implements them with
 * its kernels; the tests with their CPU twins ({@code HostStreamKernels}, {@code HostTransformerKernels}),
 * so this exact schedule is checked against {@code MimiModel}'s streaming encoder without a GPU.
 *
 * <h2>One frame of one stream</h2>
 * As {@code MimiModel.EncoderStreamImpl.frame}: the SEANet encoder's streaming convs (per slot: each conv's
 * pending input columns, its "tail", before the fused ELU), the encoder transformer as ONE chunk of the
 * frame's columns through the slot's KV ring at the slot's position (the ring is written before the queries
 * attend), the downsampling conv (its tail; on the first frame the replicate padding of the first column),
 * then the split RVQ. A frame is exactly {@code hopLength} samples (1920 for the published model).
 *
 * <h2>Groups</h2>
 * Tails and outputs per frame depend only on how many frames a stream has consumed: {@link
 * CudaEncodecStreams#simulate} enumerates those shape states once (Mimi's constant-padded convs settle
 * after one frame). A step groups the ready slots by shape state; each group is one launch per kernel for
 * all its rows, padded up to {@link CudaEncodecStreams#bucket} rows with the scratch slot {@code capacity}
 * (its outputs are garbage nobody reads). Slot indices, ring indices (= slots) and positions are data in
 * fixed buffers, so a group's launches depend only on (shape, padded size) and can be replayed as a graph.
 *
 * <h2>Slots</h2>
 * {@link #reset} makes a slot fresh without touching the device: shape 0 (so no tail column is read) and
 * position 0 (so the ring attention reads only positions this stream wrote). Not thread-safe.
 */
final class MimiStreamSchedule<B, R> implements AutoCloseable {
    /** The non-transformer kernels a stream step needs, over buffers of type {@code B}. */
    interface Kernels<B> {
        /** Scratch of {@code floats} floats. */
        B allocate(long floats);

        /** Scratch of {@code n} ints. */
        B allocateInts(int n);

        /** Overwrites the first {@code n} floats of {@code dst} (after the work queued so far). */
        void writeFloats(B dst, float[] data, int n);

        /** Overwrites the first {@code n} ints of {@code dst} (after the work queued so far). */
        void writeInts(B dst, int[] data, int n);

        /** The first {@code n} ints of {@code src}, after every queued launch has finished. */
        int[] readInts(B src, int n);

        void free(B buffer);

        /** {@code dst[0:n] = src[0:n]} (floats). */
        void copy(B src, B dst, long n);

        /** {@code stream_window_f32}: per row g, [left padding | tails[slots[g]][:, :tailLen] | x[g]] into {@code window}. */
        void window(B tails, B x, B window, B slots, int rows, int channels, int tailCap, int tailLen, int nIn, int prefix,
                    PadMode padMode);

        /** {@code stream_keep_f32}: per row g, {@code tails[slots[g]][:, :keepLen] = window[g][:, keepFrom:]}. */
        void keep(B window, B tails, B slots, int rows, int channels, int tailCap, int winLen, int keepFrom, int keepLen);

        /**
         * The conv of {@code conv} over an unpadded input {@code x (rows, Cin, len)} with its ELU on the reads when
         * fused, into {@code y (rows, Cout, nOut)}, plus {@code residual} (same layout, may be {@code y}) when not null.
         */
        void conv(CudaSeanet.ConvOp conv, B x, int len, B y, int nOut, B residual, int rows);

        /** Floats of quantizer scratch per row and frame. */
        int quantizerScratchPerFrame();

        /** Mimi's split RVQ: codes {@code (rows, nq, frames)} ints of {@code latent (rows, D, frames)}. */
        void quantize(B latent, B scratch, B codes, int rows, int frames, int nq);
    }

    /** Runs a group's launches; a device may capture them into a graph per {@code key} and replay it. */
    interface Launcher {
        void run(long key, Runnable launches);
    }

    private final Kernels<B> k;
    private final MimiTransformerPlan<B, R> transformer;
    private final List<CudaSeanet.Op> seanetOps;
    private final CudaSeanet.ConvOp downsample;
    final int capacity;
    final int nq;
    final int frame;
    final int maxGroup;
    final List<CudaEncodecStreams.Shape> shapes;

    // per slot (host)
    private final int[] shapeOf;
    private final int[] position;

    // per slot state and scratch (backend buffers)
    private final List<B> owned = new ArrayList<>();
    private final Object[] tails; // [sid] B (capacity+1, Cin, tailCap), null when tailCap == 0
    private final R rings;        // (layers, capacity+1, dim, context)
    private final MimiTransformerPlan<B, R>.Workspace workspace;
    private final B input;
    private final B slotsBuf;
    private final B offsetsBuf;
    private final List<B> act = new ArrayList<>(4);
    private final B window;
    private final B quantizerScratch;
    private final B codes;
    private final int[] slotsHost;
    private final int[] offsetsHost;
    private final float[] inputHost;
    private final java.util.function.Consumer<R> freeRings;
    private boolean closed;

    /**
     * Gives the convs of {@code seanetOps} (stream order, residual shortcuts before their blocks) and then
     * {@code downsample} the stream ids {@code 0..n-1}; returns them in that order.
     */
    static List<CudaSeanet.ConvOp> numberConvs(List<CudaSeanet.Op> seanetOps, CudaSeanet.ConvOp downsample) {
        List<CudaSeanet.ConvOp> all = new ArrayList<>();
        for (CudaSeanet.Op op : seanetOps) {
            if (op instanceof CudaSeanet.ConvOp c) {
                all.add(c);
            } else if (op instanceof CudaSeanet.ResOp r) {
                if (r.shortcut() != null) {
                    all.add(r.shortcut());
                }
                all.addAll(r.block());
            }
        }
        all.add(downsample);
        for (int i = 0; i < all.size(); i++) {
            all.get(i).sid = i;
        }
        return all;
    }

    /** The encoder's ops followed by the downsampling conv: what {@link CudaEncodecStreams#simulate} walks. */
    private static List<CudaSeanet.Op> walk(List<CudaSeanet.Op> seanetOps, CudaSeanet.ConvOp downsample) {
        List<CudaSeanet.Op> w = new ArrayList<>(seanetOps);
        w.add(downsample); // the transformer between them keeps the number of columns
        return w;
    }

    /**
     * Checks that the plan can stream and returns its shape states: causal convs only, no standalone ELU or
     * LSTM (Mimi's SEANet has neither), and the transformer fed the same number of columns on every frame
     * after the first (its chunks are the original's).
     */
    static List<CudaEncodecStreams.Shape> shapes(List<CudaSeanet.Op> seanetOps, CudaSeanet.ConvOp downsample, int frame) {
        List<CudaSeanet.ConvOp> convs = numberConvs(seanetOps, downsample);
        for (CudaSeanet.ConvOp c : convs) {
            if (!c.layer.causal()) {
                throw new VocodexException("a non-causal conv cannot stream: its outputs depend on future input");
            }
        }
        for (CudaSeanet.Op op : seanetOps) {
            if (op instanceof CudaSeanet.EluOp || op instanceof CudaSeanet.LstmOp || op instanceof CudaSeanet.ConvTOp) {
                throw new VocodexException("the GPU Mimi stream path takes convs and residual blocks only; the encoder has a "
                        + op.getClass().getSimpleName());
            }
        }
        return CudaEncodecStreams.simulate(walk(seanetOps, downsample), convs.size(), frame);
    }

    MimiStreamSchedule(Kernels<B> kernels, MimiTransformerPlan<B, R> transformer, List<CudaSeanet.Op> seanetOps,
                       CudaSeanet.ConvOp downsample, int capacity, int nq, int frame, java.util.function.Consumer<R> freeRings) {
        if (capacity < 1) {
            throw new VocodexException("capacity must be >= 1, got " + capacity);
        }
        this.k = kernels;
        this.transformer = transformer;
        this.seanetOps = seanetOps;
        this.downsample = downsample;
        this.capacity = capacity;
        this.nq = nq;
        this.frame = frame;
        this.shapes = shapes(seanetOps, downsample, frame);
        this.maxGroup = CudaEncodecStreams.bucket(capacity);
        this.shapeOf = new int[capacity + 1];
        this.position = new int[capacity + 1];
        List<CudaSeanet.ConvOp> convs = numberConvs(seanetOps, downsample);
        int slots = capacity + 1;
        // Largest per-row sizes over all shapes: activations, windows, transformer columns, code frames.
        long maxAct = frame;
        long maxWin = 1;
        int maxCols = 1;
        int maxFrames = 1;
        for (CudaEncodecStreams.Shape sh : shapes) {
            for (CudaSeanet.ConvOp c : convs) {
                int sid = c.sid;
                int cin = c.layer.inChannels();
                maxWin = Math.max(maxWin, (long) cin * (sh.prefix[sid] + sh.tailLen[sid] + sh.nIn[sid]));
                maxAct = Math.max(maxAct, (long) cin * sh.nIn[sid]);
                maxAct = Math.max(maxAct, (long) c.layer.outChannels() * sh.nOut[sid]);
            }
            int cols = sh.nIn[downsample.sid];
            maxCols = Math.max(maxCols, cols);
            maxAct = Math.max(maxAct, (long) Math.max(transformer.inDim, transformer.outDim) * cols);
            maxFrames = Math.max(maxFrames, sh.frames);
        }
        this.freeRings = freeRings;
        R r = null;
        MimiTransformerPlan<B, R>.Workspace ws = null;
        try {
            tails = new Object[convs.size()];
            for (CudaSeanet.ConvOp c : convs) {
                if (c.tailCap() > 0) {
                    tails[c.sid] = own(k.allocate((long) slots * c.layer.inChannels() * c.tailCap()));
                }
            }
            r = transformer.newRings(slots);
            ws = transformer.newWorkspace(maxGroup, maxCols);
            input = own(k.allocate((long) maxGroup * frame));
            slotsBuf = own(k.allocateInts(maxGroup));
            offsetsBuf = own(k.allocateInts(maxGroup));
            for (int i = 0; i < 4; i++) {
                act.add(own(k.allocate(maxGroup * maxAct)));
            }
            window = own(k.allocate(maxGroup * maxWin));
            quantizerScratch = own(k.allocate((long) maxGroup * maxFrames * k.quantizerScratchPerFrame()));
            codes = own(k.allocateInts(maxGroup * nq * maxFrames));
        } catch (RuntimeException e) {
            owned.forEach(k::free);
            if (ws != null) {
                ws.close();
            }
            if (r != null) {
                freeRings.accept(r);
            }
            throw e;
        }
        this.rings = r;
        this.workspace = ws;
        slotsHost = new int[maxGroup];
        offsetsHost = new int[maxGroup];
        inputHost = new float[maxGroup * frame];
    }

    private B own(B b) {
        owned.add(b);
        return b;
    }

    R rings() {
        return rings;
    }

    /** Makes {@code slot} a fresh stream (nothing on the device changes; see the class comment). */
    void reset(int slot) {
        check(slot);
        shapeOf[slot] = 0;
        position[slot] = 0;
    }

    /** Transformer positions consumed by {@code slot}'s stream (tests). */
    int position(int slot) {
        return position[slot];
    }

    /** Feeds one frame to each slot; each slot's new codes {@code (nq, n)}, in order. */
    int[][][] step(int[] slots, float[][] frames, Launcher launcher) {
        if (closed) {
            throw new IllegalStateException("Mimi stream schedule is closed");
        }
        int[][][] out = new int[slots.length][][];
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
        boolean[] seen = new boolean[capacity];
        for (int i = 0; i < slots.length; i++) {
            check(slots[i]);
            if (seen[slots[i]]) {
                throw new VocodexException("slot " + slots[i] + " appears twice in one step");
            }
            seen[slots[i]] = true;
            if (frames[i].length != frame) {
                throw new VocodexException("slot " + slots[i] + ": a step takes " + frame + " samples, got " + frames[i].length);
            }
            groups.computeIfAbsent(shapeOf[slots[i]], x -> new ArrayList<>()).add(i);
        }
        for (Map.Entry<Integer, List<Integer>> e : groups.entrySet()) {
            runGroup(e.getKey(), e.getValue(), slots, frames, out, launcher);
        }
        return out;
    }

    /**
     * Ends {@code slot}'s stream as {@code EncoderStream.push(rest)} then {@code flush()}: the whole frames of
     * {@code rest}, then its remainder zero-padded to a frame (Mimi's batch padding), each one step.
     */
    int[][] finish(int slot, float[] rest, Launcher launcher) {
        check(slot);
        List<int[][]> parts = new ArrayList<>();
        for (int at = 0; at < rest.length; at += frame) {
            float[] f = Arrays.copyOfRange(rest, at, at + frame); // zeros beyond the end: the flush padding
            parts.add(step(new int[] {slot}, new float[][] {f}, launcher)[0]);
        }
        int total = 0;
        for (int[][] p : parts) {
            total += p[0].length;
        }
        int[][] all = new int[nq][total];
        int at = 0;
        for (int[][] p : parts) {
            for (int q = 0; q < nq; q++) {
                System.arraycopy(p[q], 0, all[q], at, p[q].length);
            }
            at += p[0].length;
        }
        return all;
    }

    private void runGroup(int shapeIndex, List<Integer> rows, int[] slots, float[][] frames, int[][][] out, Launcher launcher) {
        CudaEncodecStreams.Shape sh = shapes.get(shapeIndex);
        int g = rows.size();
        int gb = CudaEncodecStreams.bucket(g);
        for (int i = 0; i < gb; i++) {
            if (i < g) {
                int slot = slots[rows.get(i)];
                slotsHost[i] = slot;
                offsetsHost[i] = position[slot];
                System.arraycopy(frames[rows.get(i)], 0, inputHost, i * frame, frame);
            } else {
                slotsHost[i] = capacity; // scratch slot and ring: padding rows compute garbage nobody reads
                offsetsHost[i] = 0;
                Arrays.fill(inputHost, i * frame, (i + 1) * frame, 0f);
            }
        }
        k.writeInts(slotsBuf, slotsHost, gb);
        k.writeInts(offsetsBuf, offsetsHost, gb);
        k.writeFloats(input, inputHost, gb * frame);
        launcher.run((long) shapeIndex * (maxGroup + 1L) + gb, () -> launchGroup(sh, gb));
        int nf = sh.frames;
        int[] flat = nf == 0 ? new int[0] : k.readInts(codes, g * nq * nf);
        int cols = sh.nIn[downsample.sid];
        for (int i = 0; i < g; i++) {
            int[][] c = new int[nq][nf];
            for (int q = 0; q < nq; q++) {
                System.arraycopy(flat, (i * nq + q) * nf, c[q], 0, nf);
            }
            int slot = slots[rows.get(i)];
            out[rows.get(i)] = c;
            shapeOf[slot] = sh.next;
            position[slot] += cols;
        }
    }

    /** Every launch of one group step of shape {@code sh} over {@code gb} rows. */
    @SuppressWarnings("unchecked")
    private void launchGroup(CudaEncodecStreams.Shape sh, int gb) {
        B cur = input;
        B nxt = act.get(0);
        B spare1 = act.get(1);
        B spare2 = act.get(2);
        B spare3 = act.get(3);
        int n = frame;
        int c = 1;
        for (CudaSeanet.Op op : seanetOps) {
            if (n == 0) {
                return; // no complete column yet: nothing reaches the transformer (not the case for Mimi's layout)
            }
            if (op instanceof CudaSeanet.ConvOp cv) {
                n = streamConv(cv, sh, gb, cur, nxt, null);
                c = cv.layer.outChannels();
            } else if (op instanceof CudaSeanet.ResOp r) {
                if (r.shortcut() != null) {
                    streamConv(r.shortcut(), sh, gb, cur, nxt, null);
                } else {
                    k.copy(cur, nxt, (long) gb * c * n);
                }
                B in = cur;
                List<CudaSeanet.ConvOp> block = r.block();
                for (int i = 0; i < block.size(); i++) {
                    boolean last = i == block.size() - 1;
                    B o = last ? nxt : (i % 2 == 0 ? spare2 : spare3);
                    streamConv(block.get(i), sh, gb, in, o, last ? nxt : null);
                    in = o;
                }
            }
            B x = cur == input ? spare1 : cur;
            cur = nxt;
            nxt = x;
            if (nxt == input) {
                nxt = spare1;
            }
        }
        if (n == 0) {
            return;
        }
        // the encoder transformer: one chunk of n columns per row at the row's position, through its ring
        transformer.step(workspace, cur, nxt, gb, n, rings, slotsBuf, offsetsBuf);
        B x = cur == input ? spare1 : cur;
        cur = nxt;
        nxt = x;
        int frames = streamConv(downsample, sh, gb, cur, nxt, null);
        if (frames > 0) {
            k.quantize(nxt, quantizerScratch, codes, gb, frames, nq);
        }
    }

    /**
     * One streaming conv over a group: window (start padding | tail | new columns), conv, new tails.
     * {@code x} is {@code (gb, Cin, nIn)}; the output {@code (gb, Cout, nOut)} goes to {@code y}
     * (+ {@code residual}). Returns nOut.
     */
    @SuppressWarnings("unchecked")
    private int streamConv(CudaSeanet.ConvOp cv, CudaEncodecStreams.Shape sh, int gb, B x, B y, B residual) {
        int sid = cv.sid;
        Conv1dLayer L = cv.layer;
        int cin = L.inChannels();
        int nIn = sh.nIn[sid];
        int nOut = sh.nOut[sid];
        if (nIn == 0) {
            return 0;
        }
        if (cv.tailCap() == 0 && sh.prefix[sid] == 0) {
            k.conv(cv, x, nIn, y, nIn, residual, gb); // 1x1, stride 1: nothing pends
            return nIn;
        }
        B tail = (B) tails[sid];
        int winLen = sh.prefix[sid] + sh.tailLen[sid] + nIn;
        k.window(tail, x, window, slotsBuf, gb, cin, cv.tailCap(), sh.tailLen[sid], nIn, sh.prefix[sid], L.padMode());
        if (nOut > 0) {
            k.conv(cv, window, winLen, y, nOut, residual, gb);
        }
        int keep = sh.keepLen[sid];
        if (keep > 0) {
            k.keep(window, tail, slotsBuf, gb, cin, cv.tailCap(), winLen, sh.keepFrom[sid], keep);
        }
        return nOut;
    }

    private void check(int slot) {
        if (slot < 0 || slot >= capacity) {
            throw new VocodexException("slot " + slot + " outside 0.." + (capacity - 1));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        owned.forEach(k::free);
        owned.clear();
        workspace.close();
        freeRings.accept(rings);
    }
}
