package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.CodebookSearch;
import io.vocodex.backend.cpu.CodebookSearchCases;
import io.vocodex.backend.cpu.CpuContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code codebook_search.cu} against its CPU twin {@link CodebookSearch}: codes identical (not merely
 * close) on every {@link CodebookSearchCases} case (planted exact ties and 1-ulp near-ties at 32768 codes,
 * ties straddling the 128-code GPU tiles and the CPU's cache tiles, all-equal distances, NaN/inf frames
 * and codes, dims 1/3/5/8/13/20/64), on the full DistilCodec size (32768 x 3584, planted ties), for frame
 * counts that leave partial frame tiles and split the codebook differently, and batched over clips;
 * device-computed code norms bit-identical to {@link CodebookSearch#codeNorms}. Skips with one line
 * when no usable CUDA device is present.
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaCodebookSearchTest {
    private static CudaContext cuda;

    @BeforeAll
    static void open() {
        cuda = new CudaContext(0);
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    private static void check(CodebookSearchCases.Case cs) {
        float[] norms = cs.norms();
        int[] cpu;
        try (CpuContext ctx = new CpuContext(Runtime.getRuntime().availableProcessors())) {
            cpu = CodebookSearch.nearest(ctx, cs.frames(), cs.codebook(), norms, cs.numCodes(), cs.dim());
        }
        // norms uploaded (the model's path) and norms computed on the device
        for (float[] given : new float[][] {norms, null}) {
            try (CudaCodebookSearch s = new CudaCodebookSearch(cuda, cs.codebook(), given, cs.numCodes(), cs.dim())) {
                if (given == null) {
                    float[] dev = s.deviceNorms();
                    for (int c = 0; c < norms.length; c++) {
                        assertEquals(Float.floatToIntBits(norms[c]), Float.floatToIntBits(dev[c]), cs.name() + ": norm of code " + c);
                    }
                }
                int[] gpu = s.nearest(cs.frames());
                for (int t = 0; t < cpu.length; t++) {
                    if (cpu[t] != gpu[t]) {
                        assertEquals(cpu[t], gpu[t], cs.name() + ": frame " + t + " (cpu " + cpu[t] + ", gpu " + gpu[t] + ")");
                    }
                    if (cs.expected()[t] >= 0) {
                        assertEquals(cs.expected()[t], gpu[t], cs.name() + ": planted answer of frame " + t);
                    }
                }
            }
        }
    }

    @Test
    void edgeCasesGiveTheCpuCodes() {
        for (CodebookSearchCases.Case cs : CodebookSearchCases.edgeCases()) {
            check(cs);
        }
    }

    @Test
    void plantedTiesAt32768CodesGiveTheCpuCodes() {
        for (int dim : new int[] {8, 13, 64}) {
            check(CodebookSearchCases.plantedTies(dim, 32768));
        }
    }

    /** The released DistilCodec size, 32768 x 3584: 300 frames (3 partial frame tiles), planted ties included. */
    @Test
    void fullSizeGivesTheCpuCodes() {
        CodebookSearchCases.Case planted = CodebookSearchCases.plantedTies(3584, 32768);
        Random r = new Random(8);
        float[][] frames = Arrays.copyOf(planted.frames(), 300);
        for (int t = planted.frames().length; t < frames.length; t++) {
            frames[t] = new float[3584];
            for (int d = 0; d < 3584; d++) {
                frames[t][d] = (float) (0.3 * r.nextGaussian());
            }
        }
        int[] expected = Arrays.copyOf(planted.expected(), frames.length);
        Arrays.fill(expected, planted.expected().length, frames.length, -1);
        check(new CodebookSearchCases.Case("32768 x 3584", planted.codebook(), 32768, 3584, frames, expected));
    }

    /** Codes do not depend on the batch: clips of many lengths searched together == each alone. */
    @Test
    void batchedClipsEqualSoloSearches() {
        CodebookSearchCases.Case cs = CodebookSearchCases.plantedTies(64, 32768);
        float[][] all = cs.frames();
        List<float[][]> clips = new ArrayList<>();
        int at = 0;
        for (int len : new int[] {1, 0, 13, 40, 23}) {
            clips.add(Arrays.copyOfRange(all, at, at + len));
            at += len;
        }
        try (CudaCodebookSearch s = new CudaCodebookSearch(cuda, cs.codebook(), cs.norms(), 32768, 64)) {
            int[][] batched = s.nearestBatch(clips.toArray(new float[0][][]));
            for (int i = 0; i < clips.size(); i++) {
                assertArrayEquals(s.nearest(clips.get(i)), batched[i], "clip " + i);
                assertArrayEquals(CodebookSearch.nearest(CpuContext.singleThreaded(), clips.get(i), cs.codebook(), cs.norms(), 32768, 64),
                        batched[i], "clip " + i + " vs CPU");
            }
        }
    }
}
