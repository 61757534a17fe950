package io.vocodex.codec.distilcodec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.SafetensorsWriter;
import io.vocodex.model.TensorInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch invariance, thread-count invariance, bad input, LLM token ids and the importer's error
 * reports, on random-weight models: the golden "tiny" shape, and an odd one (2 groups x 2 residual
 * layers, downsample factor 2, 3 encoder stages, even-kernel transposed convs) that exercises the
 * general paths the released model does not use.
 */
class DistilCodecModelTest {
    static Path tmp;
    static Codec tiny;
    static Codec tinyOneThread;
    static Codec odd;

    static DistilCodecConfig oddConfig() {
        ObjectNode j = DistilCodecConfig.releasedJson();
        ObjectNode e = (ObjectNode) j.get("encoder");
        e.set("depths", e.arrayNode().add(1).add(2).add(1));
        e.set("dims", e.arrayNode().add(12).add(20).add(24));
        e.put("kernel_size", 5);
        ObjectNode q = (ObjectNode) j.get("quantizer");
        q.put("input_dim", 24);
        q.put("n_groups", 2);
        q.put("n_codebooks", 2);
        q.put("codebook_size", 512);
        q.put("codebook_dim", 6);
        q.set("downsample_factor", q.arrayNode().add(2));
        ObjectNode d = (ObjectNode) j.get("decoder");
        d.put("num_mels", 24);
        d.put("upsample_initial_channel", 32);
        d.set("upsample_rates", d.arrayNode().add(8).add(4).add(8));
        d.set("upsample_kernel_sizes", d.arrayNode().add(16).add(9).add(16));
        d.set("resblock_kernel_sizes", d.arrayNode().add(3).add(5));
        d.set("resblock_dilation_sizes", d.arrayNode().add(d.arrayNode().add(1).add(2)).add(d.arrayNode().add(1).add(3)));
        return DistilCodecConfig.fromJson(j);
    }

    @BeforeAll
    static void build(@TempDir Path dir) {
        tmp = dir;
        Path t = DistilCodecRandom.writeModelFolder(DistilCodecConfig.tiny(), 5, dir.resolve("tiny"));
        tiny = Codec.load(t, Device.cpu(2));
        tinyOneThread = Codec.load(t, Device.cpu(1));
        odd = Codec.load(DistilCodecRandom.writeModelFolder(oddConfig(), 6, dir.resolve("odd")), Device.cpu(2));
    }

    @AfterAll
    static void close() {
        tiny.close();
        tinyOneThread.close();
        odd.close();
    }

    static float[] signal(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * (180 + seed * 40) * i / 24000.0) + 0.05 * r.nextGaussian());
        }
        return x;
    }

    @Test
    void shapesAndRates() {
        assertEquals("distilcodec", tiny.architecture());
        assertEquals(93.75, tiny.frameRate());
        assertEquals(1.40625, tiny.bandwidths()[0], 1e-12);
        Tokens t = tiny.encode(Audio.of(signal(24_000, 1), 24_000), tiny.bandwidths()[0]);
        assertEquals(93, t.numFrames()); // floor((24000 + 1) / 256)
        assertEquals(93 * 256, tiny.decode(t).length());
        Tokens o = odd.encode(Audio.of(signal(24_000, 1), 24_000), odd.bandwidths()[0]);
        assertEquals(4, o.numCodebooks());
        assertEquals(46, o.numFrames()); // 93 mel frames, conv k=2 s=2
        // PyTorch ConvTranspose1d with padding (k-u)//2: an odd k-u (here k=9, u=4) adds one sample
        assertEquals(((46 * 2 * 8) * 4 + 1) * 8, odd.decode(o).length());
        assertTrue(o.equals(odd.encode(Audio.of(signal(24_000, 1), 24_000), 99)), "bandwidth is ignored: always every codebook");
    }

    @Test
    void batchAndThreadInvariance() {
        List<Audio> clips = new ArrayList<>();
        int[] lengths = {24_000, 385, 7_777, 12_345, 256 * 40 + 255};
        for (int i = 0; i < lengths.length; i++) {
            clips.add(Audio.of(signal(lengths[i], i), 24_000));
        }
        for (Codec c : new Codec[] {tiny, odd}) {
            List<Tokens> batch = c.encodeBatch(clips, c.bandwidths()[0]);
            List<Audio> rev = new ArrayList<>(clips);
            java.util.Collections.reverse(rev);
            List<Tokens> reversed = c.encodeBatch(rev, c.bandwidths()[0]);
            for (int i = 0; i < clips.size(); i++) {
                Tokens alone = c.encode(clips.get(i), c.bandwidths()[0]);
                assertEquals(alone, batch.get(i), "clip " + i + " in a batch");
                assertEquals(alone, reversed.get(clips.size() - 1 - i), "clip " + i + " in the reversed batch");
            }
        }
        for (Audio a : clips) {
            Tokens t2 = tiny.encode(a, 1.40625);
            assertEquals(t2, tinyOneThread.encode(a, 1.40625), "1 vs 2 threads");
            assertArrayEquals(tiny.decode(t2).samples(), tinyOneThread.decode(t2).samples(), "decode, 1 vs 2 threads");
        }
    }

    @Test
    void chunkedDecodingEqualsWholeDecoding() {
        DistilCodecModel m = (DistilCodecModel) tiny.model();
        Random r = new Random(9);
        int[][] codes = new int[1][80];
        for (int t = 0; t < 80; t++) {
            codes[0][t] = r.nextInt(32768);
        }
        io.vocodex.backend.cpu.CpuContext ctx = io.vocodex.backend.cpu.CpuContext.singleThreaded();
        float[] whole = m.decode(ctx, codes);
        for (int chunk : new int[] {7, 33, 79, 500}) {
            assertArrayEquals(whole, m.decodeChunked(ctx, codes, chunk), "chunks of " + chunk + " frames");
        }
        // the context is needed: without it the chunk edges differ
        int rf = m.decoderReceptiveField();
        assertTrue(rf > 5 && rf < 40, "receptive field " + rf);
        int[][] part = {java.util.Arrays.copyOfRange(codes[0], 50, 80)};
        float[] bare = m.decode(ctx, part);
        assertTrue(bare[0] != whole[50 * 256], "a chunk without context differs at its edge");
    }

    /**
     * A decoder wide enough that its ResBlock1 convs run as Winograd (256, 128 and 64 channels at
     * kernels 3, 7, 11 and dilations 1, 3, 5; {@code WinogradConv.suits}): chunked decoding, whose
     * pieces then start on the tiles' grid ({@link DistilCodecModel#decoderChunkAlignment()}, 15
     * frames here) with the tiles' reach added to the context, still equals whole decoding bit for
     * bit, and so do 1 and 2 threads.
     */
    @Test
    void chunkedDecodingEqualsWholeDecodingWithWinogradConvs(@TempDir Path dir) {
        ObjectNode j = DistilCodecConfig.releasedJson();
        ObjectNode e = (ObjectNode) j.get("encoder");
        e.set("depths", e.arrayNode().add(1));
        e.set("dims", e.arrayNode().add(16));
        ObjectNode q = (ObjectNode) j.get("quantizer");
        q.put("input_dim", 16);
        q.put("codebook_size", 256);
        q.put("codebook_dim", 8);
        ObjectNode d = (ObjectNode) j.get("decoder");
        d.put("num_mels", 16);
        d.put("upsample_initial_channel", 512);
        d.set("upsample_rates", d.arrayNode().add(8).add(4).add(8));
        d.set("upsample_kernel_sizes", d.arrayNode().add(16).add(8).add(16));
        DistilCodecConfig config = DistilCodecConfig.fromJson(j);
        try (Codec wide = Codec.load(DistilCodecRandom.writeModelFolder(config, 11, dir.resolve("wide")), Device.cpu(2))) {
            DistilCodecModel m = (DistilCodecModel) wide.model();
            assertEquals(15, m.decoderChunkAlignment(), "tiles of 4, 12 and 20 samples at 8, 32 and 256 samples per frame");
            Random r = new Random(12);
            int[][] codes = new int[1][64];
            for (int t = 0; t < 64; t++) {
                codes[0][t] = r.nextInt(256);
            }
            float[] whole;
            try (io.vocodex.backend.cpu.CpuContext two = new io.vocodex.backend.cpu.CpuContext(2)) {
                whole = m.decode(two, codes);
            }
            io.vocodex.backend.cpu.CpuContext one = io.vocodex.backend.cpu.CpuContext.singleThreaded();
            assertArrayEquals(whole, m.decode(one, codes), "1 vs 2 threads");
            for (int chunk : new int[] {4, 17, 40}) {
                assertArrayEquals(whole, m.decodeChunked(one, codes, chunk), "chunks of " + chunk + " frames");
            }
        }
    }

    /**
     * A projection narrower than half the codebook (2 groups of 12 features into 40-dimensional
     * codebooks of 1000 codes, 2 residual layers): once the model has searched 12 frames of a group
     * it builds the factored search for the first layer (before that, and for the second layer, the
     * full search runs). Every clip's codes, batched or solo, equal those of the same model with
     * the plain full search installed, before and after the build, on 1 and 2 threads; the random
     * latents include frames equal to a code and a NaN frame.
     */
    @Test
    void factoredSearchGivesTheFullSearchCodes(@TempDir Path dir) {
        ObjectNode j = DistilCodecConfig.releasedJson();
        ObjectNode e = (ObjectNode) j.get("encoder");
        e.set("depths", e.arrayNode().add(1));
        e.set("dims", e.arrayNode().add(24));
        ObjectNode q = (ObjectNode) j.get("quantizer");
        q.put("input_dim", 24);
        q.put("n_groups", 2);
        q.put("n_codebooks", 2);
        q.put("codebook_size", 1000);
        q.put("codebook_dim", 40);
        ObjectNode d = (ObjectNode) j.get("decoder");
        d.put("num_mels", 24);
        d.put("upsample_initial_channel", 32);
        DistilCodecConfig config = DistilCodecConfig.fromJson(j);
        try (Codec codec = Codec.load(DistilCodecRandom.writeModelFolder(config, 21, dir.resolve("narrow")), Device.cpu(2))) {
            DistilCodecModel m = (DistilCodecModel) codec.model();
            DistilCodecModel full = m.withCodeSearch(new DistilCodecModel.CodeSearch() {
                @Override
                public int[][] nearest(io.vocodex.backend.cpu.CpuContext ctx, int group, int layer, float[][][] clips) {
                    int[][] out = new int[clips.length][];
                    for (int i = 0; i < clips.length; i++) {
                        out[i] = io.vocodex.backend.cpu.CodebookSearch.nearest(ctx, clips[i], m.tiledCodebook(group, layer));
                    }
                    return out;
                }

                @Override
                public String where() {
                    return "cpu (full search)";
                }

                @Override
                public void close() {
                }
            });
            Random r = new Random(22);
            int[] lengths = {5, 40, 1, 77, 13};
            float[][][] latents = new float[lengths.length][24][];
            for (int i = 0; i < lengths.length; i++) {
                for (int c = 0; c < 24; c++) {
                    latents[i][c] = new float[lengths[i]];
                    for (int t = 0; t < lengths[i]; t++) {
                        latents[i][c][t] = (float) r.nextGaussian();
                    }
                }
            }
            latents[3][7][20] = Float.NaN;
            boolean expectBuilt = io.vocodex.backend.cpu.FactoredSearch.worthwhile(m.tiledCodebook(0, 0), 12);
            try (io.vocodex.backend.cpu.CpuContext two = new io.vocodex.backend.cpu.CpuContext(2)) {
                io.vocodex.backend.cpu.CpuContext one = io.vocodex.backend.cpu.CpuContext.singleThreaded();
                // 5 frames: below the 12 that pay for the build
                assertArrayEquals(full.quantize(two, latents[0]), m.quantize(two, latents[0]));
                assertTrue(!m.factoredSearchBuilt(0) && !m.factoredSearchBuilt(1));
                int[][][] batch = m.quantizeBatch(two, latents);
                assertEquals(expectBuilt, m.factoredSearchBuilt(0) && m.factoredSearchBuilt(1), "built once 12 frames were searched");
                int[][][] want = full.quantizeBatch(two, latents);
                for (int i = 0; i < lengths.length; i++) {
                    assertArrayEquals(want[i], batch[i], "clip " + i + " in the batch");
                    assertArrayEquals(want[i], m.quantize(one, latents[i]), "clip " + i + " solo, 1 thread");
                }
                assertEquals(0, want[3][0][20], "the NaN frame: code 0, as the original's argmax");
            }
        }
    }

    @Test
    void llmTokenIds() {
        DistilCodecModel m = (DistilCodecModel) tiny.model();
        int[][] codes = {{0, 1, 32767, 555}};
        int[] ids = m.toLlmTokenIds(codes);
        assertArrayEquals(new int[] {152064, 152065, 152064 + 32767, 152064 + 555}, ids);
        assertArrayEquals(codes[0], m.fromLlmTokenIds(ids)[0]);
        assertThrows(VocodexException.class, () -> m.fromLlmTokenIds(new int[] {5}));
        DistilCodecModel om = (DistilCodecModel) odd.model();
        int[][] four = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
        int[] oids = om.toLlmTokenIds(four);
        assertArrayEquals(new int[] {152065, 152064 + 512 + 3, 152064 + 1024 + 5, 152064 + 1536 + 7,
                152066, 152064 + 512 + 4, 152064 + 1024 + 6, 152064 + 1536 + 8}, oids);
        assertArrayEquals(four, om.fromLlmTokenIds(oids));
    }

    @Test
    void badInput() {
        double bw = tiny.bandwidths()[0];
        VocodexException e = assertThrows(VocodexException.class, () -> tiny.encode(Audio.of(new float[48_000], 48_000), bw));
        assertTrue(e.getMessage().contains("48000 Hz"), e.getMessage());
        e = assertThrows(VocodexException.class, () -> tiny.encode(Audio.of(new float[0], 24_000), bw));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(VocodexException.class, () -> tiny.encode(Audio.of(new float[100], 24_000), bw));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
        float[] nan = signal(1000, 1);
        nan[500] = Float.NaN;
        assertThrows(VocodexException.class, () -> tiny.encode(Audio.of(nan, 24_000), bw));
        e = assertThrows(VocodexException.class, () -> tiny.streamingEncoder(bw));
        assertTrue(e.getMessage().contains("non-causal"), e.getMessage());
        assertThrows(VocodexException.class, () -> tiny.streamingDecoder());
        e = assertThrows(VocodexException.class, () -> tiny.model().decode(io.vocodex.backend.cpu.CpuContext.singleThreaded(),
                new int[][] {{152064 + 3}}));
        assertTrue(e.getMessage().contains("token_id_offset"), e.getMessage());
        assertThrows(VocodexException.class, () -> odd.decode(new Tokens(new int[][] {{1, 2}}, odd.frameRate(), 512)));
        assertEquals(0, tiny.decode(new Tokens(new int[][] {{}}, 93.75, 32768)).length());
    }

    @Test
    void importerReportsEveryProblem() throws Exception {
        Path src = tmp.resolve("tiny").resolve(ModelFolder.WEIGHTS);
        Path bad = tmp.resolve("bad.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(src)) {
            for (TensorInfo t : f.tensors().values()) {
                if (t.name().equals("encoder.norm.bias")) {
                    continue; // missing
                }
                long[] shape = t.name().equals("generator.conv_pre.bias") ? new long[] {63} : t.shape();
                float[] data = t.name().equals("generator.conv_pre.bias") ? new float[63] : f.floats(t.name());
                w.put(t.name(), shape, data);
            }
        }
        w.put("generator.noise_convs.0.weight", new long[] {2}, new float[2]); // extra
        w.write(bad);
        Path cfg = tmp.resolve("cfg.json");
        ModelFolder.writeJson(cfg, DistilCodecConfig.tiny().toJson());
        VocodexException e = assertThrows(VocodexException.class, () -> DistilCodecImporter.importModel(bad, cfg, tmp.resolve("out")));
        assertTrue(e.getMessage().contains("missing tensor 'encoder.norm.bias'"), e.getMessage());
        assertTrue(e.getMessage().contains("generator.conv_pre.bias"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected tensor 'generator.noise_convs.0.weight'"), e.getMessage());
    }

    @Test
    void configRoundTripsTheOriginalDocument() {
        ObjectNode j = DistilCodecConfig.releasedJson();
        j.putObject("descriminators").put("anything", 1); // unused sections survive verbatim
        DistilCodecConfig c = DistilCodecConfig.fromJson(j);
        assertEquals(j, c.toJson());
        assertEquals(3584, c.codebookDim());
        assertEquals(32768, c.codebookSize());
        assertEquals(152064, c.tokenIdOffset());
        ObjectNode broken = DistilCodecConfig.releasedJson();
        ((ObjectNode) broken.get("decoder")).put("num_mels", 512);
        VocodexException e = assertThrows(VocodexException.class, () -> DistilCodecConfig.fromJson(broken));
        assertTrue(e.getMessage().contains("num_mels"), e.getMessage());
    }
}
