package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.distilcodec.DistilCodecConfig;
import io.vocodex.codec.distilcodec.DistilCodecModel;

/**
 * DistilCodec's nearest-code search on a GPU: one {@link CudaCodebookSearch} per (group, residual
 * layer) codebook (the released model: one, 32768 x 3584), uploaded once with the model's code norms.
 * The rest of the model stays on the CPU; codes equal the CPU search's bit for bit.
 *
 * <pre>{@code
 * DistilCodecModel gpu = model.withCodeSearch(CudaDistilSearch.open(0, model));
 * int[][][] codes = gpu.encodeBatch(ctx, clips, gpu.maxCodebooks()); // one GPU search over all clips' frames
 * gpu.close(); // frees the device copies
 * }</pre>
 */
public final class CudaDistilSearch implements DistilCodecModel.CodeSearch {
    private final CudaContext cuda;
    private final CudaCodebookSearch[][] searches; // [group][layer]

    private CudaDistilSearch(CudaContext cuda, CudaCodebookSearch[][] searches) {
        this.cuda = cuda;
        this.searches = searches;
    }

    /** Opens CUDA device {@code ordinal} and uploads every codebook of {@code model}. */
    public static CudaDistilSearch open(int ordinal, DistilCodecModel model) {
        DistilCodecConfig c = model.config();
        CudaContext cuda = new CudaContext(ordinal);
        CudaCodebookSearch[][] s = new CudaCodebookSearch[c.nGroups()][c.nCodebooks()];
        try {
            for (int g = 0; g < s.length; g++) {
                for (int r = 0; r < s[g].length; r++) {
                    s[g][r] = new CudaCodebookSearch(cuda, model.codebook(g, r), model.codeNorms(g, r), c.codebookSize(), c.codebookDim());
                }
            }
        } catch (RuntimeException e) {
            closeAll(s);
            cuda.close();
            throw e;
        }
        return new CudaDistilSearch(cuda, s);
    }

    @Override
    public int[][] nearest(CpuContext ctx, int group, int layer, float[][][] clips) {
        return searches[group][layer].nearestBatch(clips);
    }

    @Override
    public String where() {
        return "cuda:" + cuda.ordinal() + " (" + cuda.deviceName() + ")";
    }

    @Override
    public synchronized void close() {
        closeAll(searches);
        cuda.close();
    }

    private static void closeAll(CudaCodebookSearch[][] s) {
        for (CudaCodebookSearch[] row : s) {
            for (CudaCodebookSearch x : row) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }
}
