package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.ModuleState;
import io.vocodex.nn.PadMode;
import io.vocodex.nn.ResidualBlock;
import io.vocodex.nn.Sequential;
import io.vocodex.nn.StreamingModule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU {@code StreamHub} engine for {@link CudaEncodec}: {@code capacity} encoder streams whose state
 * lives on the device, indexed by slot, and a step that advances any set of slots by one frame each.
 *
 * <h2>State</h2>
 * Per slot: every encoder conv's pending input columns (its "tail", fewer than the kernel span: what
 * {@code Conv1dLayer.step} keeps), stored before the fused ELU; every LSTM's {@code h} and {@code c}.
 * One extra slot ({@code capacity}) is scratch for padding rows.
 *
 * <h2>Shapes</h2>
 * How many columns each conv keeps, whether it has started (reflect padding waits for {@code P+1}
 * samples) and how many outputs a frame produces depend only on how many frames a stream has consumed:
 * every stream walks the same sequence of shape states, which {@link #simulate} enumerates at open with
 * the exact arithmetic of {@code Conv1dLayer.step}; it reaches a fixed point (or a short cycle) after a
 * few frames. A step groups the ready slots by shape state: in steady state all are in one group and
 * each layer is ONE launch over all of them; newly opened streams form small extra groups for their
 * first few frames. A group runs per conv: {@code stream_window_f32} (gather each slot's tail + the new
 * columns, with the start padding on the starting frame), the conv over the window (ELU and residual
 * fused as in batch mode), {@code stream_keep_f32} (the new tails); per LSTM: gather h/c, the LSTM,
 * scatter h/c; then RVQ. Every device buffer is allocated at open: a step allocates nothing.
 *
 * <h2>Graphs</h2>
 * A group's launches depend only on (shape state, padded group size): the slot list and the input are
 * data in fixed buffers. The second time a (shape, size) pair runs, its launches are captured once into
 * a CUDA graph and replayed from then on with one {@code cuGraphLaunch}. Group sizes are padded up to
 * 4 buckets per octave with the scratch slot, so a few dozen graphs cover any number of streams.
 *
 * <h2>Finish</h2>
 * The end of a stream (a partial frame and the end padding) runs on the CPU: the slot's tails (ELU
 * applied where fused, as the CPU stores them) and LSTM state are downloaded into the CPU modules'
 * streaming state, and {@code EncodecModel.resumeEncoder} pushes the rest and flushes. Same arithmetic,
 * same tokens.
 *
 * <p><b>Status: compiled, never run on a GPU.</b>
 */
final class CudaEncodecStreams implements CodecModel.StreamPool {
    private static final int THREADS = 256;
    private static final int MAX_BLOCKS = 65535;
    private static final int MAX_SHAPES = 4096;

    private final CudaEncodec model;
    private final CudaContext cuda;
    private final CudaStream stream;
    private final int capacity;
    private final int nq;
    private final int frame;
    private final int maxGroup;
    private final List<Shape> shapes;
    private final boolean useGraphs;
    private String graphNote = "";

    // per slot (host)
    private final int[] shapeOf;
    private final long[][] rawSeen; // [slot][conv sid]

    // device state and scratch
    private final DeviceBuffer[] tails;  // [sid] (capacity+1, Cin, tailCap), null when tailCap == 0
    private final Map<CudaSeanet.LstmOp, DeviceBuffer[]> lstmState = new HashMap<>(); // {h, c} (capacity+1, layers, H)
    private final Map<CudaSeanet.LstmOp, CudaLstm.Workspace> lstmWs = new HashMap<>();
    private final DeviceBuffer input;
    private final DeviceBuffer slotsBuf;
    private final DeviceBuffer[] act = new DeviceBuffer[4];
    private final DeviceBuffer window;
    private final DeviceBuffer codes;
    private final int[] slotsHost;
    private final float[] inputHost;
    private final Map<Long, CudaGraph> graphs = new HashMap<>();
    private final Map<Long, Integer> seen = new HashMap<>();
    private boolean closed;

    /** Default for graphs: on unless {@code -Dvocodex.cuda.graphs=false}. */
    static boolean graphsDefault() {
        return !"false".equalsIgnoreCase(System.getProperty("vocodex.cuda.graphs"));
    }

    // ---- shape simulation ----------------------------------------------------------------------

    /** One conv's streaming shape: pending columns and whether the left padding is in. */
    record ConvShape(int pending, boolean started) {
    }

    /** What one frame does to a stream in a given shape state, per conv (by sid) and per LSTM. */
    static final class Shape {
        final ConvShape[] before;
        final int[] prefix;
        final int[] tailLen;
        final int[] nIn;
        final int[] nOut;
        final int[] keepFrom;
        final int[] keepLen;
        final Map<CudaSeanet.LstmOp, Integer> lstmSteps = new HashMap<>();
        int frames;
        int next = -1;

        Shape(ConvShape[] before) {
            this.before = before;
            int n = before.length;
            prefix = new int[n];
            tailLen = new int[n];
            nIn = new int[n];
            nOut = new int[n];
            keepFrom = new int[n];
            keepLen = new int[n];
        }
    }

    /** Conv1dLayer.step's arithmetic on lengths only; fills sh's row {@code sid}, returns the outputs. */
    private static int convStep(CudaSeanet.ConvOp c, ConvShape[] st, Shape sh, int n) {
        int sid = c.sid;
        Conv1dLayer L = c.layer;
        int p = L.paddingTotal();
        int span = L.span();
        int pend = st[sid].pending();
        boolean started = st[sid].started();
        sh.tailLen[sid] = pend;
        sh.nIn[sid] = n;
        if (n == 0) {
            return 0; // nothing arrives: the state is unchanged and nothing is emitted
        }
        pend += n;
        if (!started) {
            int need = L.padMode() == PadMode.REFLECT ? p + 1 : 0;
            if (pend < need) {
                st[sid] = new ConvShape(pend, false);
                sh.keepLen[sid] = pend;
                return 0;
            }
            sh.prefix[sid] = p;
            pend += p;
            started = true;
        }
        int out = 0;
        if (pend >= span) {
            out = (pend - span) / L.stride() + 1;
        }
        sh.nOut[sid] = out;
        sh.keepFrom[sid] = out * L.stride();
        sh.keepLen[sid] = pend - out * L.stride();
        st[sid] = new ConvShape(pend - out * L.stride(), started);
        return out;
    }

    /**
     * The shape states a stream walks through, one frame of {@code frame} samples at a time, from a fresh
     * stream until they repeat; each entry's {@code next} closes the walk. Throws when a residual block's
     * branches would finalise different numbers of samples in one step (the device path keeps no
     * per-branch pending outputs) or the walk does not settle.
     */
    static List<Shape> simulate(CudaEncodec m, int frame) {
        return simulate(m.encoderOps, m.encoderConvs.size(), frame);
    }

    /**
     * {@link #simulate(CudaEncodec, int)} for any encoder plan whose {@code nConv} convs carry stream ids
     * {@code 0..nConv-1} ({@link CudaMimiStreams} appends Mimi's downsampling conv to its SEANet encoder).
     */
    static List<Shape> simulate(List<CudaSeanet.Op> ops, int nConv, int frame) {
        ConvShape[] st = new ConvShape[nConv];
        Arrays.fill(st, new ConvShape(0, false));
        List<Shape> out = new ArrayList<>();
        Map<List<ConvShape>, Integer> index = new HashMap<>();
        while (true) {
            List<ConvShape> key = List.of(st.clone());
            Integer seenAt = index.get(key);
            if (seenAt != null) {
                out.get(out.size() - 1).next = seenAt;
                return out;
            }
            if (out.size() >= MAX_SHAPES) {
                throw new VocodexException("streaming shapes do not settle within " + MAX_SHAPES + " frames");
            }
            Shape sh = new Shape(st.clone());
            if (!out.isEmpty()) {
                out.get(out.size() - 1).next = out.size();
            }
            index.put(key, out.size());
            out.add(sh);
            int n = frame;
            for (CudaSeanet.Op op : ops) {
                if (op instanceof CudaSeanet.ConvOp c) {
                    n = convStep(c, st, sh, n);
                } else if (op instanceof CudaSeanet.ResOp r) {
                    int s = r.shortcut() == null ? n : convStep(r.shortcut(), st, sh, n);
                    int b = n;
                    for (CudaSeanet.ConvOp c : r.block()) {
                        b = convStep(c, st, sh, b);
                    }
                    if (b != s) {
                        throw new VocodexException("a residual block's branches finalise " + b + " and " + s
                                + " samples in one step of " + frame + " samples; the GPU stream path needs them equal");
                    }
                    n = b;
                } else if (op instanceof CudaSeanet.LstmOp l) {
                    sh.lstmSteps.put(l, n);
                }
                // EluOp: stateless, fused or standalone, no length change
            }
            sh.frames = n;
        }
    }

    // ---- open ----------------------------------------------------------------------------------

    static CudaEncodecStreams open(CudaEncodec model, int capacity, int nq, int frame, boolean graphs) {
        if (capacity < 1) {
            throw new VocodexException("capacity must be >= 1, got " + capacity);
        }
        if (nq < 1 || nq > model.maxCodebooks()) {
            throw new VocodexException("nq " + nq + " outside 1.." + model.maxCodebooks());
        }
        if (frame < 1) {
            throw new VocodexException("frame must be >= 1 sample, got " + frame);
        }
        for (CudaSeanet.ConvOp c : model.encoderConvs) {
            if (!c.layer.causal()) {
                throw new VocodexException("a non-causal model cannot stream: its outputs depend on future input");
            }
        }
        for (CudaSeanet.Op op : model.encoderOps) {
            if (op instanceof CudaSeanet.EluOp) {
                throw new VocodexException("the GPU stream path fuses every encoder ELU into a conv; this model has a standalone one");
            }
        }
        synchronized (model) {
            model.cuda.makeCurrent();
            return new CudaEncodecStreams(model, capacity, nq, frame, graphs);
        }
    }

    /** Group sizes are padded up to 4 buckets per octave. */
    static int bucket(int g) {
        if (g <= 4) {
            return g;
        }
        int step = Integer.highestOneBit(g) / 4;
        return (g + step - 1) / step * step;
    }

    private CudaEncodecStreams(CudaEncodec model, int capacity, int nq, int frame, boolean graphs) {
        this.model = model;
        this.cuda = model.cuda;
        this.stream = cuda.stream();
        this.capacity = capacity;
        this.nq = nq;
        this.frame = frame;
        this.useGraphs = graphs;
        this.shapes = simulate(model, frame);
        this.maxGroup = bucket(capacity);
        this.shapeOf = new int[capacity + 1];
        this.rawSeen = new long[capacity + 1][model.encoderConvs.size()];
        int slots = capacity + 1;
        // Largest per-row sizes over all shapes: activations, windows, LSTM steps, frames.
        long maxAct = frame;
        long maxWin = 1;
        int maxSteps = 1;
        int maxFrames = 1;
        for (Shape sh : shapes) {
            for (CudaSeanet.ConvOp c : model.encoderConvs) {
                int sid = c.sid;
                int cin = c.layer.inChannels();
                maxWin = Math.max(maxWin, (long) cin * (sh.prefix[sid] + sh.tailLen[sid] + sh.nIn[sid]));
                maxAct = Math.max(maxAct, (long) cin * sh.nIn[sid]);
                maxAct = Math.max(maxAct, (long) c.layer.outChannels() * sh.nOut[sid]);
            }
            for (int s : sh.lstmSteps.values()) {
                maxSteps = Math.max(maxSteps, s);
            }
            maxFrames = Math.max(maxFrames, sh.frames);
        }
        List<DeviceBuffer> allocated = new ArrayList<>();
        try {
            tails = new DeviceBuffer[model.encoderConvs.size()];
            for (CudaSeanet.ConvOp c : model.encoderConvs) {
                if (c.tailCap() > 0) {
                    tails[c.sid] = track(allocated, cuda.allocate(4L * slots * c.layer.inChannels() * c.tailCap()));
                }
            }
            for (CudaSeanet.Op op : model.encoderOps) {
                if (op instanceof CudaSeanet.LstmOp l) {
                    long n = (long) slots * l.dev().layers() * l.dev().dim();
                    DeviceBuffer h = track(allocated, cuda.allocate(4 * n));
                    DeviceBuffer c = track(allocated, cuda.allocate(4 * n));
                    h.fill(stream, 0, n);
                    c.fill(stream, 0, n);
                    lstmState.put(l, new DeviceBuffer[] {h, c});
                    lstmWs.put(l, l.dev().newWorkspace(maxGroup, maxSteps));
                }
            }
            input = track(allocated, cuda.allocate(4L * maxGroup * frame));
            slotsBuf = track(allocated, cuda.allocate(4L * maxGroup));
            for (int i = 0; i < act.length; i++) {
                act[i] = track(allocated, cuda.allocate(4L * maxGroup * maxAct));
            }
            window = track(allocated, cuda.allocate(4L * maxGroup * maxWin));
            codes = track(allocated, cuda.allocate(4L * maxGroup * nq * maxFrames));
            stream.synchronize();
        } catch (RuntimeException e) {
            allocated.forEach(DeviceBuffer::close);
            lstmWs.values().forEach(CudaLstm.Workspace::close);
            throw e;
        }
        slotsHost = new int[maxGroup];
        inputHost = new float[maxGroup * frame];
    }

    private static DeviceBuffer track(List<DeviceBuffer> list, DeviceBuffer b) {
        list.add(b);
        return b;
    }

    // ---- StreamPool ----------------------------------------------------------------------------

    @Override
    public void reset(int slot) {
        synchronized (model) {
            check(slot);
            cuda.makeCurrent();
            shapeOf[slot] = 0;
            Arrays.fill(rawSeen[slot], 0);
            for (Map.Entry<CudaSeanet.LstmOp, DeviceBuffer[]> e : lstmState.entrySet()) {
                int n = e.getKey().dev().layers() * e.getKey().dev().dim();
                for (DeviceBuffer b : e.getValue()) {
                    jcuda.driver.JCudaDriver.cuMemsetD32Async(b.at((long) slot * n), 0, n, stream.handle());
                }
            }
        }
    }

    @Override
    public int[][][] step(int[] slots, float[][] frames) {
        synchronized (model) {
            model.check();
            if (closed) {
                throw new IllegalStateException("stream pool is closed");
            }
            cuda.makeCurrent();
            int[][][] out = new int[slots.length][][];
            Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
            for (int i = 0; i < slots.length; i++) {
                check(slots[i]);
                if (frames[i].length != frame) {
                    throw new VocodexException("slot " + slots[i] + ": a step takes " + frame + " samples, got " + frames[i].length);
                }
                groups.computeIfAbsent(shapeOf[slots[i]], k -> new ArrayList<>()).add(i);
            }
            for (Map.Entry<Integer, List<Integer>> e : groups.entrySet()) {
                runGroup(e.getKey(), e.getValue(), slots, frames, out);
            }
            return out;
        }
    }

    private void runGroup(int shapeIndex, List<Integer> rows, int[] slots, float[][] frames, int[][][] out) {
        Shape sh = shapes.get(shapeIndex);
        int g = rows.size();
        int gb = bucket(g);
        stream.synchronize(); // the previous group's kernels read slotsBuf/input; the copies below are synchronous
        for (int i = 0; i < gb; i++) {
            if (i < g) {
                slotsHost[i] = slots[rows.get(i)];
                System.arraycopy(frames[rows.get(i)], 0, inputHost, i * frame, frame);
            } else {
                slotsHost[i] = capacity; // scratch slot: padding rows compute garbage that nobody reads
                Arrays.fill(inputHost, i * frame, (i + 1) * frame, 0f);
            }
        }
        slotsBuf.copyFrom(slotsHost, gb);
        input.copyFrom(inputHost, gb * frame);
        long key = (long) shapeIndex * (maxGroup + 1L) + gb;
        CudaGraph graph = graphs.get(key);
        if (graph != null) {
            graph.launch(stream);
        } else if (useGraphs && seen.merge(key, 1, Integer::sum) >= 2) {
            // capture on the second use (the first ran plainly, loading every module outside a capture)
            try {
                graph = CudaGraph.capture(stream, () -> launchGroup(sh, gb));
                graphs.put(key, graph);
                graph.launch(stream);
            } catch (RuntimeException ex) {
                graphNote = " (graph capture failed, plain launches: " + ex.getMessage() + ")";
                launchGroup(sh, gb);
            }
        } else {
            launchGroup(sh, gb);
        }
        int nf = sh.frames;
        int[] flat = nf == 0 ? new int[0] : codes.downloadInts(stream, g * nq * nf);
        for (int i = 0; i < g; i++) {
            int[][] c = new int[nq][nf];
            for (int k = 0; k < nq; k++) {
                System.arraycopy(flat, (i * nq + k) * nf, c[k], 0, nf);
            }
            int slot = slots[rows.get(i)];
            out[rows.get(i)] = c;
            shapeOf[slot] = sh.next;
            for (int s = 0; s < rawSeen[slot].length; s++) {
                rawSeen[slot][s] += sh.nIn[s];
            }
        }
    }

    /** Every launch of one group step of shape {@code sh} over {@code gb} rows (captured into graphs). */
    private void launchGroup(Shape sh, int gb) {
        DeviceBuffer cur = input;
        DeviceBuffer nxt = act[0];
        DeviceBuffer spare1 = act[1];
        DeviceBuffer spare2 = act[2];
        DeviceBuffer spare3 = act[3];
        int n = frame;
        int c = 1;
        for (CudaSeanet.Op op : model.encoderOps) {
            if (n == 0) {
                break;
            }
            if (op instanceof CudaSeanet.ConvOp cv) {
                n = streamConv(cv, sh, gb, cur, nxt, null);
                c = cv.layer.outChannels();
            } else if (op instanceof CudaSeanet.ResOp r) {
                if (r.shortcut() != null) {
                    streamConv(r.shortcut(), sh, gb, cur, nxt, null);
                } else {
                    jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(nxt.pointer(), cur.pointer(), 4L * gb * c * n, stream.handle());
                }
                DeviceBuffer in = cur;
                List<CudaSeanet.ConvOp> block = r.block();
                for (int i = 0; i < block.size(); i++) {
                    boolean last = i == block.size() - 1;
                    DeviceBuffer o = last ? nxt : (i % 2 == 0 ? spare2 : spare3);
                    streamConv(block.get(i), sh, gb, in, o, last ? nxt : null);
                    in = o;
                }
            } else if (op instanceof CudaSeanet.LstmOp l) {
                DeviceBuffer[] hc = lstmState.get(l);
                CudaLstm.Workspace ws = lstmWs.get(l);
                int rowLen = l.dev().dim();
                int layers = l.dev().layers();
                gather(hc[0], ws.h, gb, layers, rowLen, false);
                gather(hc[1], ws.c, gb, layers, rowLen, false);
                l.dev().forward(stream, model.precision, ws, gb, cur, nxt, n);
                gather(hc[0], ws.h, gb, layers, rowLen, true);
                gather(hc[1], ws.c, gb, layers, rowLen, true);
            }
            DeviceBuffer x = cur == input ? spare1 : cur;
            cur = nxt;
            nxt = x;
            if (nxt == input) {
                nxt = spare1;
            }
        }
        if (n > 0) {
            model.rvq.encode(stream, cur, codes, gb, n, nq);
        }
    }

    private void gather(DeviceBuffer state, DeviceBuffer dense, int gb, int rows, int rowLen, boolean scatter) {
        long total = (long) gb * rows * rowLen;
        cuda.launch(Kernel.SLOT_GATHER_F32, stream, CudaElementwise.blocks(total, THREADS, MAX_BLOCKS), 1, 1, THREADS,
                new Args().buf(state).buf(dense).buf(slotsBuf).i32(gb).i32(rows).i32(rowLen).i32(scatter ? 1 : 0).build());
    }

    /**
     * One streaming conv over a group: window (tail + new columns, start padding), conv, new tails.
     * {@code x} is {@code (gb, Cin, nIn)} contiguous; the output {@code (gb, Cout, nOut)} goes to {@code y}
     * (+ {@code residual}, same layout, may be {@code y}). Returns nOut.
     */
    private int streamConv(CudaSeanet.ConvOp cv, Shape sh, int gb, DeviceBuffer x, DeviceBuffer y, DeviceBuffer residual) {
        int sid = cv.sid;
        Conv1dLayer L = cv.layer;
        int cin = L.inChannels();
        int nIn = sh.nIn[sid];
        int nOut = sh.nOut[sid];
        if (nIn == 0) {
            return 0;
        }
        if (cv.tailCap() == 0 && sh.prefix[sid] == 0) {
            model.conv.launch(stream, model.precision, cv.dev, CudaConv1d.Padding.none(nIn, 1, 1), gb, x, (long) cin * nIn, nIn,
                    y, (long) L.outChannels() * nIn, nIn, residual, cv.elu, cv.alpha);
            return nIn;
        }
        int winLen = sh.prefix[sid] + sh.tailLen[sid] + nIn;
        long total = (long) gb * cin * winLen;
        cuda.launch(Kernel.STREAM_WINDOW_F32, stream, CudaElementwise.blocks(total, THREADS, MAX_BLOCKS), 1, 1, THREADS,
                new Args().buf(tails[sid]).buf(x).buf(window).buf(slotsBuf).i32(gb).i32(cin).i32(cv.tailCap())
                        .i32(sh.tailLen[sid]).i32(nIn).i32(sh.prefix[sid]).i32(L.padMode().ordinal())
                        .i64((long) cin * nIn).i32(nIn).build());
        if (nOut > 0) {
            CudaConv1d.Padding pad = CudaConv1d.Padding.none(winLen, L.span(), L.stride());
            model.conv.launch(stream, model.precision, cv.dev, pad, gb, window, (long) cin * winLen, winLen,
                    y, (long) L.outChannels() * nOut, nOut, residual, cv.elu, cv.alpha);
        }
        int keep = sh.keepLen[sid];
        if (keep > 0) {
            long kt = (long) gb * cin * keep;
            cuda.launch(Kernel.STREAM_KEEP_F32, stream, CudaElementwise.blocks(kt, THREADS, MAX_BLOCKS), 1, 1, THREADS,
                    new Args().buf(window).buf(tails[sid]).buf(slotsBuf).i32(gb).i32(cin).i32(cv.tailCap()).i32(winLen)
                            .i32(sh.keepFrom[sid]).i32(keep).build());
        }
        return nOut;
    }

    @Override
    public int[][] finish(int slot, float[] rest) {
        ModuleState state;
        synchronized (model) {
            check(slot);
            cuda.makeCurrent();
            state = downloadState(slot);
        }
        EncodecModel cpu = model.cpu;
        CodecModel.EncoderStream s = cpu.resumeEncoder(state, nq);
        CpuContext ctx = CpuContext.singleThreaded();
        int[][] a = s.push(ctx, rest);
        int[][] b = s.flush(ctx);
        int[][] all = new int[nq][];
        for (int k = 0; k < nq; k++) {
            all[k] = new int[a[k].length + b[k].length];
            System.arraycopy(a[k], 0, all[k], 0, a[k].length);
            System.arraycopy(b[k], 0, all[k], a[k].length, b[k].length);
        }
        return all;
    }

    /** The slot's device state as the CPU encoder's streaming state. */
    private ModuleState downloadState(int slot) {
        return cpuState(model, shapes.get(shapeOf[slot]), rawSeen[slot],
                (c, len) -> {
                    int cin = c.layer.inChannels();
                    float[] t = tails[c.sid].download(stream, (long) slot * cin * c.tailCap(), cin * c.tailCap());
                    float[][] rows = new float[cin][len];
                    for (int ch = 0; ch < cin; ch++) {
                        System.arraycopy(t, ch * c.tailCap(), rows[ch], 0, len);
                    }
                    return rows;
                },
                (l, which) -> {
                    int n = l.layer().layers() * l.layer().outChannels();
                    return lstmState.get(l)[which].download(stream, (long) slot * n, n);
                });
    }

    /** A conv's pending columns {@code (Cin, len)} as stored (before the fused ELU). */
    interface TailSource {
        float[][] tail(CudaSeanet.ConvOp conv, int len);
    }

    /** An LSTM's {@code h} ({@code which = 0}) or {@code c} (1), {@code (layers * H)} layer-major. */
    interface LstmSource {
        float[] state(CudaSeanet.LstmOp lstm, int which);
    }

    /**
     * The CPU encoder's streaming state for a stream in shape state {@code sh} whose conv tails and LSTM
     * states come from the sources (the device, or a host emulation in tests).
     */
    static ModuleState cpuState(CudaEncodec m, Shape sh, long[] rawSeen, TailSource tails, LstmSource lstm) {
        List<StreamingModule> modules = m.cpu.encoderModules();
        ModuleState[] children = new ModuleState[modules.size()];
        for (int i = 0; i < children.length; i++) {
            children[i] = modules.get(i).newState();
        }
        for (CudaSeanet.Op op : m.encoderOps) {
            if (op instanceof CudaSeanet.ConvOp c) {
                children[c.module] = convState(c, sh, rawSeen, tails);
            } else if (op instanceof CudaSeanet.ResOp r) {
                Sequential seq = (Sequential) r.layer().block();
                ModuleState[] bs = new ModuleState[seq.modules().size()];
                for (int i = 0; i < bs.length; i++) {
                    bs[i] = seq.modules().get(i).newState();
                }
                for (CudaSeanet.ConvOp c : r.block()) {
                    bs[c.module] = convState(c, sh, rawSeen, tails);
                }
                ModuleState shortcut = r.shortcut() == null ? null : convState(r.shortcut(), sh, rawSeen, tails);
                ResidualBlock rb = r.layer();
                children[r.module()] = rb.restoreState(seq.restoreState(bs), shortcut);
            } else if (op instanceof CudaSeanet.LstmOp l) {
                int layers = l.layer().layers();
                int dim = l.layer().outChannels();
                float[] h = lstm.state(l, 0);
                float[] c = lstm.state(l, 1);
                float[][] h2 = new float[layers][dim];
                float[][] c2 = new float[layers][dim];
                for (int k = 0; k < layers; k++) {
                    System.arraycopy(h, k * dim, h2[k], 0, dim);
                    System.arraycopy(c, k * dim, c2[k], 0, dim);
                }
                children[l.module()] = l.layer().restoreState(h2, c2);
            }
        }
        return m.cpu.encoderState(children);
    }

    private static ModuleState convState(CudaSeanet.ConvOp c, Shape sh, long[] rawSeen, TailSource tails) {
        ConvShape cs = sh.before[c.sid];
        int cin = c.layer.inChannels();
        float[][] pending = new float[cin][0];
        if (cs.pending() > 0) {
            pending = tails.tail(c, cs.pending());
            if (c.elu) {
                pending = CpuOps.elu(pending, c.alpha); // the CPU keeps the conv's input after its ELU layer
            }
        }
        return c.layer.restoreState(pending, rawSeen[c.sid], cs.started());
    }

    @Override
    public String describe() {
        return "GPU StreamHub on " + model.describeDevice() + ", " + capacity + " slots, " + shapes.size()
                + " shape states, CUDA graphs " + (useGraphs ? "on" : "off") + graphNote + " (compiled, never run on a GPU)";
    }

    private void check(int slot) {
        if (slot < 0 || slot >= capacity) {
            throw new VocodexException("slot " + slot + " outside 0.." + (capacity - 1));
        }
    }

    @Override
    public void close() {
        synchronized (model) {
            if (closed) {
                return;
            }
            closed = true;
            cuda.makeCurrent();
            graphs.values().forEach(CudaGraph::close);
            lstmWs.values().forEach(CudaLstm.Workspace::close);
            for (DeviceBuffer[] hc : lstmState.values()) {
                hc[0].close();
                hc[1].close();
            }
            for (DeviceBuffer t : tails) {
                if (t != null) {
                    t.close();
                }
            }
            input.close();
            slotsBuf.close();
            for (DeviceBuffer a : act) {
                a.close();
            }
            window.close();
            codes.close();
        }
    }
}
