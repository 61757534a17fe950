package io.vocodex;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Serves many concurrent live streams with one codec: a pool of stream slots, and a scheduler
 * {@link #tick()} that advances, in ONE pass over the pool, every stream holding at least one
 * whole frame of audio. Each stream's state (conv tails, LSTM h/c) lives in its slot; a slot is
 * reset when a new stream takes it. Per-stream tokens equal those of a solo
 * {@link StreamingEncoder} fed the same audio, whatever joins or leaves in between.
 *
 * <pre>{@code
 * try (StreamHub hub = new StreamHub(codec, 6.0, 1000)) {
 *     StreamSession s = hub.open();
 *     s.push(pcmFromNetwork);            // any size; buffered
 *     hub.tick();                        // e.g. every 13.3 ms (one EnCodec frame) from a timer
 *     Tokens ready = s.poll();           // frames produced so far
 *     Tokens last = s.finish();          // end of stream: flush, slot freed
 * }
 * }</pre>
 *
 * <p>On the CPU backend a tick steps the ready streams in parallel on the codec's worker threads.
 * When the codec's model offers a batched stream pool ({@link CodecModel#openStreamPool}; the CUDA
 * EnCodec and the CUDA Mimi do, keeping every slot's state on the device), the hub uses it: a tick hands all ready
 * streams' frames to ONE pool step (one launch per layer over all of them). {@link #backend()} says
 * which; if the pool cannot be opened the hub falls back to the CPU path and says why.
 * Threading: {@code push}/{@code poll} may be called from any thread; {@code tick} from one
 * scheduler thread at a time.
 */
public final class StreamHub implements AutoCloseable {
    private final Codec codec;
    private final int codebooks;
    private final int frameSamples;
    private final StreamSession[] slots;
    private final CodecModel.StreamPool pool; // null: per-stream CPU encoders
    private final String backend;
    private final Object stepLock = new Object(); // pool mode: a tick and a finish/cancel never overlap
    private long ticks;
    private volatile boolean closed;

    /**
     * @param maxStreams slots in the pool; {@link #open()} fails when all are taken
     */
    public StreamHub(Codec codec, double bandwidthKbps, int maxStreams) {
        if (maxStreams < 1) {
            throw new VocodexException("maxStreams must be >= 1, got " + maxStreams);
        }
        this.codec = codec;
        this.codebooks = codec.codebooksFor(bandwidthKbps);
        if (codebooks > codec.maxCodebooks()) {
            throw new VocodexException("bandwidth " + bandwidthKbps + " kbps needs more codebooks than the model has");
        }
        this.frameSamples = codec.hopLength();
        this.slots = new StreamSession[maxStreams];
        CodecModel.StreamPool p = null;
        String why;
        try {
            p = codec.model().openStreamPool(maxStreams, codebooks, frameSamples);
            why = p == null ? "cpu (" + codec.device() + ")" : p.describe();
        } catch (RuntimeException e) {
            why = "cpu (" + codec.device() + "; the model's stream pool could not open: " + e.getMessage() + ")";
        }
        this.pool = p;
        this.backend = why;
    }

    /** What steps the streams: the CPU, or the model's pool (e.g. the GPU) with its description. */
    public String backend() {
        return backend;
    }

    /** A new stream in a free slot (its state freshly reset). */
    public synchronized StreamSession open() {
        checkOpen();
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null) {
                StreamSession s;
                if (pool != null) {
                    pool.reset(i);
                    s = new StreamSession(this, i, null);
                } else {
                    s = new StreamSession(this, i, codec.model().openEncoder(codebooks));
                }
                slots[i] = s;
                return s;
            }
        }
        throw new VocodexException("all " + slots.length + " stream slots are in use");
    }

    /** Streams currently open. */
    public synchronized int activeStreams() {
        int n = 0;
        for (StreamSession s : slots) {
            if (s != null) {
                n++;
            }
        }
        return n;
    }

    public int capacity() {
        return slots.length;
    }

    /** Samples per frame: a stream advances when it has this many buffered. */
    public int frameSamples() {
        return frameSamples;
    }

    public long ticks() {
        return ticks;
    }

    /**
     * One scheduler step: every open stream with a whole frame buffered consumes exactly one frame;
     * returns how many streams advanced.
     */
    public int tick() {
        checkOpen();
        if (pool != null) {
            return tickPool();
        }
        List<StreamSession> ready = new ArrayList<>();
        synchronized (this) {
            for (StreamSession s : slots) {
                if (s != null && s.hasFrame(frameSamples)) {
                    ready.add(s);
                }
            }
        }
        CpuContext pool = codec.context();
        CpuContext perStream = CpuContext.singleThreaded();
        pool.parallelFor(ready.size(), Long.MAX_VALUE / 4, i -> ready.get(i).stepOneFrame(perStream, frameSamples));
        ticks++;
        return ready.size();
    }

    private int tickPool() {
        synchronized (stepLock) {
            List<StreamSession> ready = new ArrayList<>();
            synchronized (this) {
                for (StreamSession s : slots) {
                    if (s != null && s.hasFrame(frameSamples)) {
                        ready.add(s);
                    }
                }
            }
            if (!ready.isEmpty()) {
                int[] ids = new int[ready.size()];
                float[][] frames = new float[ready.size()][];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = ready.get(i).slot();
                    frames[i] = ready.get(i).takeFrame(frameSamples);
                }
                int[][][] codes = pool.step(ids, frames);
                for (int i = 0; i < ids.length; i++) {
                    ready.get(i).deliver(codes[i]);
                }
            }
            ticks++;
            return ready.size();
        }
    }

    synchronized void release(StreamSession s) {
        if (slots[s.slot()] == s) {
            slots[s.slot()] = null;
        }
    }

    Codec codec() {
        return codec;
    }

    private void checkOpen() {
        if (closed) {
            throw new VocodexException("stream hub is closed");
        }
    }

    @Override
    public void close() {
        synchronized (stepLock) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                java.util.Arrays.fill(slots, null);
            }
            if (pool != null) {
                pool.close();
            }
        }
    }

    /** One stream of a {@link StreamHub}. */
    public static final class StreamSession {
        private final StreamHub hub;
        private final int slot;
        private final CodecModel.EncoderStream stream;
        private float[] pending = new float[0];
        private int pendingLen;
        private final List<int[][]> produced = new ArrayList<>();
        private long samplesIn;
        private boolean finished;

        StreamSession(StreamHub hub, int slot, CodecModel.EncoderStream stream) {
            this.hub = hub;
            this.slot = slot;
            this.stream = stream;
        }

        /** The slot index this stream occupies. */
        public int slot() {
            return slot;
        }

        /** Buffers {@code pcm} (mono, the codec's rate, finite) until the next ticks consume it. */
        public synchronized void push(float[] pcm) {
            if (finished) {
                throw new VocodexException("stream in slot " + slot + " is finished");
            }
            for (int i = 0; i < pcm.length; i++) {
                if (!Float.isFinite(pcm[i])) {
                    throw new VocodexException("stream in slot " + slot + ": sample " + (samplesIn + i) + " is " + pcm[i]);
                }
            }
            if (pendingLen + pcm.length > pending.length) {
                pending = java.util.Arrays.copyOf(pending, Math.max(pendingLen + pcm.length, pending.length * 2));
            }
            System.arraycopy(pcm, 0, pending, pendingLen, pcm.length);
            pendingLen += pcm.length;
            samplesIn += pcm.length;
        }

        synchronized boolean hasFrame(int frame) {
            return !finished && pendingLen >= frame;
        }

        void stepOneFrame(CpuContext ctx, int frame) {
            float[] chunk = takeFrame(frame);
            deliver(stream.push(ctx, chunk));
        }

        synchronized float[] takeFrame(int frame) {
            float[] chunk = java.util.Arrays.copyOf(pending, frame);
            System.arraycopy(pending, frame, pending, 0, pendingLen - frame);
            pendingLen -= frame;
            return chunk;
        }

        synchronized void deliver(int[][] codes) {
            produced.add(codes);
        }

        /** Tokens produced since the last poll (possibly zero frames). */
        public synchronized Tokens poll() {
            int[][] all = concat(produced, hub.codebooks);
            produced.clear();
            return hub.codec().tokens(all);
        }

        /**
         * Ends the stream: runs what is still buffered and the codec's end-of-stream padding, frees
         * the slot, and returns every frame not yet polled.
         */
        public Tokens finish() {
            synchronized (hub.pool != null ? hub.stepLock : this) {
                synchronized (this) {
                    if (finished) {
                        throw new VocodexException("stream in slot " + slot + " is already finished");
                    }
                    finished = true;
                    try {
                        if (samplesIn == 0) {
                            throw new VocodexException("stream in slot " + slot + " ended with no audio");
                        }
                        float[] rest = java.util.Arrays.copyOf(pending, pendingLen);
                        pendingLen = 0;
                        if (stream == null) {
                            produced.add(hub.pool.finish(slot, rest)); // the pool's state of this slot, finished on the CPU
                        } else {
                            CpuContext ctx = CpuContext.singleThreaded();
                            produced.add(stream.push(ctx, rest));
                            produced.add(stream.flush(ctx));
                        }
                        return poll();
                    } finally {
                        hub.release(this);
                    }
                }
            }
        }

        /** Abandons the stream without flushing; frees the slot. */
        public void cancel() {
            synchronized (hub.pool != null ? hub.stepLock : this) {
                synchronized (this) {
                    finished = true;
                    hub.release(this);
                }
            }
        }

        private static int[][] concat(List<int[][]> parts, int codebooks) {
            int frames = 0;
            for (int[][] p : parts) {
                frames += p.length == 0 ? 0 : p[0].length;
            }
            int[][] out = new int[codebooks][frames];
            int at = 0;
            for (int[][] p : parts) {
                int n = p.length == 0 ? 0 : p[0].length;
                for (int k = 0; k < codebooks && n > 0; k++) {
                    System.arraycopy(p[k], 0, out[k], at, n);
                }
                at += n;
            }
            return out;
        }
    }
}
