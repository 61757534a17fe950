package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;

/**
 * Host side of {@code codebook_search.cu}: the nearest code of every frame in ONE large Euclidean
 * codebook (DistilCodec: 32768 codes of dimension 3584), giving exactly the codes of the CPU's
 * {@link io.vocodex.backend.cpu.CodebookSearch#nearest} (same fma chains, same ranking: lowest index on
 * ties, a NaN distance first). The codebook and its squared norms are uploaded once, at construction;
 * each call uploads the frames, computes their norms on the device, runs one fused distance-GEMM +
 * argmin launch per chunk of frames and downloads one code per frame.
 *
 * <pre>{@code
 * try (CudaContext cuda = new CudaContext(0);
 *      CudaCodebookSearch search = new CudaCodebookSearch(cuda, codebook, null, 32768, 3584)) {
 *     int[] codes = search.nearest(frames);              // frames [T][3584]
 *     int[][] perClip = search.nearestBatch(clipFrames);  // [clip][T_i][3584]: all frames in one search
 * }
 * }</pre>
 *
 * <p>Calls are synchronized and bind the context to the calling thread, so one instance may be shared.
 * STATUS: compiled, never run on a GPU (docs/gpu-verification.md).
 */
public final class CudaCodebookSearch implements AutoCloseable {
    static final int TILE = 128;          // VX_SEARCH_TILE: frames and codes per block tile
    static final int THREADS = 256;       // VX_SEARCH_THREADS
    static final int NORM_THREADS = 256;  // VX_ELT_THREADS
    static final int BLOCKS_PER_SM = 2;   // __launch_bounds__(256, 2): <= 128 registers, 17 KB smem
    static final int TARGET_WAVES = 8;    // enough waves that the last, partial one costs <= ~1/8
    /** Upper bound on the bytes of frames per launch (the frames buffer is pooled at this size). */
    static final long MAX_LAUNCH_BYTES = 256L << 20;

    private final CudaContext cuda;
    private final boolean ownsContext;
    private final int numCodes;
    private final int dim;
    private final DeviceBuffer codebook;
    private final DeviceBuffer norms;
    private boolean closed;

    /**
     * Uploads {@code codebook (numCodes, dim)} row-major and its squared norms: {@code norms} as given
     * (e.g. {@code CodebookSearch.codeNorms}, which the model already holds) or, when null, computed on
     * the device with the same fma chain.
     */
    public CudaCodebookSearch(CudaContext cuda, float[] codebook, float[] norms, int numCodes, int dim) {
        this(cuda, false, codebook, norms, numCodes, dim);
    }

    private CudaCodebookSearch(CudaContext cuda, boolean ownsContext, float[] codebook, float[] norms, int numCodes, int dim) {
        if (numCodes < 1 || dim < 1 || (long) numCodes * dim != codebook.length) {
            throw new VocodexException("codebook of " + codebook.length + " values is not (" + numCodes + ", " + dim + ")");
        }
        if (norms != null && norms.length != numCodes) {
            throw new VocodexException(norms.length + " code norms for " + numCodes + " codes");
        }
        this.cuda = cuda;
        this.ownsContext = ownsContext;
        this.numCodes = numCodes;
        this.dim = dim;
        cuda.makeCurrent();
        this.codebook = cuda.upload(codebook);
        if (norms != null) {
            this.norms = cuda.upload(norms);
        } else {
            this.norms = cuda.allocate(4L * numCodes);
            rowNorms(cuda.stream(), this.codebook, this.norms, numCodes);
            cuda.stream().synchronize();
        }
    }

    /** A search on its own context for CUDA device {@code ordinal}, closed with it. */
    public static CudaCodebookSearch open(int ordinal, float[] codebook, float[] norms, int numCodes, int dim) {
        CudaContext cuda = new CudaContext(ordinal);
        try {
            return new CudaCodebookSearch(cuda, true, codebook, norms, numCodes, dim);
        } catch (RuntimeException e) {
            cuda.close();
            throw e;
        }
    }

    public int numCodes() {
        return numCodes;
    }

    public int dim() {
        return dim;
    }

    /** The codebook's squared norms as held on the device (for tests: equal to {@code CodebookSearch.codeNorms}). */
    public synchronized float[] deviceNorms() {
        check();
        cuda.makeCurrent();
        return norms.download(cuda.stream(), numCodes);
    }

    /** Nearest code of every frame {@code [T][dim]}. */
    public int[] nearest(float[][] frames) {
        return nearestBatch(new float[][][] {frames})[0];
    }

    /**
     * Nearest codes of the frames of many clips, {@code clips[i]} being {@code [T_i][dim]}: all frames
     * go through one search (chunked by {@link #MAX_LAUNCH_BYTES}), so many short clips fill the GPU
     * as well as one long one. A frame's code does not depend on the other frames.
     */
    public synchronized int[][] nearestBatch(float[][][] clips) {
        check();
        long total = 0;
        for (float[][] c : clips) {
            for (float[] f : c) {
                if (f.length != dim) {
                    throw new VocodexException("frame of " + f.length + " values, the codebook has dimension " + dim);
                }
            }
            total += c.length;
        }
        int[][] out = new int[clips.length][];
        for (int i = 0; i < clips.length; i++) {
            out[i] = new int[clips[i].length];
        }
        if (total == 0) {
            return out;
        }
        cuda.makeCurrent();
        CudaStream s = cuda.stream();
        int chunk = (int) Math.max(1, Math.min(total, MAX_LAUNCH_BYTES / (4L * dim)));
        float[] host = new float[chunk * dim];
        try (DeviceBuffer x = cuda.allocate(4L * chunk * dim); DeviceBuffer xx = cuda.allocate(4L * chunk);
             DeviceBuffer best = cuda.allocate(8L * chunk)) {
            int clip = 0;
            int frame = 0;
            while (clip < clips.length) {
                // gather up to `chunk` frames, remembering where each came from
                int n = 0;
                int startClip = clip;
                int startFrame = frame;
                while (n < chunk && clip < clips.length) {
                    if (frame >= clips[clip].length) {
                        clip++;
                        frame = 0;
                        continue;
                    }
                    System.arraycopy(clips[clip][frame], 0, host, n * dim, dim);
                    n++;
                    frame++;
                }
                if (n == 0) {
                    break;
                }
                x.copyFrom(host, n * dim);
                rowNorms(s, x, xx, n);
                search(s, x, xx, best, n);
                int[] words = best.downloadInts(s, 2 * n);
                int c = startClip;
                int f = startFrame;
                for (int i = 0; i < n; i++) {
                    while (f >= clips[c].length) {
                        c++;
                        f = 0;
                    }
                    out[c][f++] = codeOf(words, i);
                }
            }
        }
        return out;
    }

    /**
     * Device level: the best 64-bit word ({@code rank(key) << 32 | code}, see {@code codebook_search.cu})
     * of each of the {@code n} frames {@code (n, dim)} in {@code frames} with squared norms
     * {@code frameNorms}, into {@code best} (8 bytes per frame), on stream {@code s}.
     */
    public void search(CudaStream s, DeviceBuffer frames, DeviceBuffer frameNorms, DeviceBuffer best, int n) {
        check();
        best.fill(s, -1, 2L * n); // all ones: above every word
        int[] g = grid(n, numCodes, cuda.multiprocessors());
        Args a = new Args().buf(frames).buf(frameNorms).buf(codebook).buf(norms).buf(best)
                .i32(n).i32(numCodes).i32(dim).i32(g[2]);
        cuda.launch(Kernel.CODEBOOK_SEARCH_F32, s, g[0], g[1], 1, THREADS, a.build());
    }

    /** {@code norms[r] = |rows[r]|^2} (one fma chain per row, d ascending) for {@code numRows} rows of {@code dim}. */
    void rowNorms(CudaStream s, DeviceBuffer rows, DeviceBuffer out, int numRows) {
        Args a = new Args().buf(rows).buf(out).i32(numRows).i32(dim);
        cuda.launch(Kernel.CODEBOOK_ROW_NORMS_F32, s, (numRows + NORM_THREADS - 1) / NORM_THREADS, 1, 1, NORM_THREADS, a.build());
    }

    /** The code in frame {@code i}'s word: its low half (little-endian: the first int). */
    private int codeOf(int[] words, int i) {
        int code = words[2 * i];
        if (code < 0 || code >= numCodes) {
            throw new VocodexException("codebook search returned code " + code + " for frame " + i + " (no candidate?)");
        }
        return code;
    }

    /**
     * Launch geometry {@code {frameTiles, codeSplits, tilesPerSplit}}: one block per (frame tile, code
     * range); the codebook is split into ranges of whole 128-code tiles so that the grid has about
     * {@link #TARGET_WAVES} waves of {@link #BLOCKS_PER_SM} blocks per SM (few frames: one tile per
     * block; many frames: long ranges, fewer atomics).
     */
    static int[] grid(int frames, int codes, int multiprocessors) {
        int frameTiles = (frames + TILE - 1) / TILE;
        int codeTiles = (codes + TILE - 1) / TILE;
        long wanted = (long) TARGET_WAVES * BLOCKS_PER_SM * Math.max(1, multiprocessors);
        int splits = (int) Math.max(1, Math.min(codeTiles, (wanted + frameTiles - 1) / frameTiles));
        int perSplit = (codeTiles + splits - 1) / splits;
        splits = (codeTiles + perSplit - 1) / perSplit;
        if (splits > 65535) {
            throw new VocodexException("codebook of " + codes + " codes needs " + splits + " code splits (> 65535)");
        }
        return new int[] {frameTiles, splits, perSplit};
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("codebook search is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cuda.makeCurrent();
        codebook.close();
        norms.close();
        if (ownsContext) {
            cuda.close();
        }
    }
}
