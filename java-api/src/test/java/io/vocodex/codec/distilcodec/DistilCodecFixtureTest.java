package io.vocodex.codec.distilcodec;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The committed fixture {@code fixtures/distilcodec_small} (a tiny random DistilCodec: 64 mels,
 * encoder [16, 24], 2048 codes of dimension 8, decoder width 32) against the outputs of the
 * project's own PyTorch implementation ({@code scripts/distilcodec_reference.py}, which
 * {@code scripts/make_distilcodec_fixtures.py --golden} checks against the original: codes
 * identical, tensors within 2.4e-6 rel L2). Runs on a fresh clone. Same tolerances as
 * {@link DistilCodecGoldenTest}; the fixture's smallest float64 code margin is 5e-4.
 */
class DistilCodecFixtureTest {
    @ParameterizedTest
    @ValueSource(strings = {"chirp", "noise", "short"})
    void matchesOwnReference(String name) {
        Path dir = Golden.fixture("distilcodec_small");
        try (Codec codec = Codec.load(dir, Device.cpu(2))) {
            DistilCodecModel m = (DistilCodecModel) codec.model();
            CpuContext ctx = CpuContext.singleThreaded();
            float[] x = Npy.read(dir.resolve("input_" + name + ".npy")).floats();
            float[][] mel = m.mel(ctx, x);
            DistilCodecGoldenTest.report(name + " mel", Npy.read(dir.resolve(name + "_mel.npy")).floats(), Compare.flatten(mel), 1e-5, 1e-3);
            float[][] pre = m.prequant(ctx, m.encodeMel(ctx, mel));
            DistilCodecGoldenTest.report(name + " latent_prequant", Npy.read(dir.resolve(name + "_latent_prequant.npy")).floats(),
                    Compare.flatten(pre), 1e-5, 1e-4);
            Tokens t = codec.encode(Audio.of(x, 24_000), codec.bandwidths()[0]);
            int[] expected = Npy.read(dir.resolve(name + "_codes.npy")).ints();
            assertArrayEquals(expected, t.codes()[0], name + " codes");
            DistilCodecGoldenTest.report(name + " quantized_latent", Npy.read(dir.resolve(name + "_quantized_latent.npy")).floats(),
                    Compare.flatten(m.dequantize(ctx, t.codes())), 1e-5, 1e-4);
            DistilCodecGoldenTest.report(name + " decoded", Npy.read(dir.resolve(name + "_decoded.npy")).floats(),
                    codec.decode(t).samples(), 1e-5, 1e-5);
        }
    }

    /**
     * {@code fixtures/distilcodec_wide}: a decoder of 128 and 64 channels at kernel 11, dilations 1
     * and 5, whose ResBlock1 convs Vocodex runs as Winograd F(4, 4) ({@code WinogradConv}; the chunk
     * alignment of 5 frames shows they do), against the reference's decode of 48 seeded random codes
     * (the weights are float16 values, the arithmetic float32 on both sides). Same tolerances as the
     * other decodes; chunked decoding equals whole decoding bit for bit, on 1 and 2 threads.
     */
    @Test
    void winogradDecoderMatchesOwnReference() {
        Path dir = Golden.fixture("distilcodec_wide");
        try (Codec codec = Codec.load(dir, Device.cpu(2)); CpuContext two = new CpuContext(2)) {
            DistilCodecModel m = (DistilCodecModel) codec.model();
            assertEquals(5, m.decoderChunkAlignment(), "Winograd tiles of 4 and 20 samples at 8 and 32 samples per frame");
            int[][] codes = {Npy.read(dir.resolve("codes.npy")).ints()};
            float[] y = m.decode(two, codes);
            DistilCodecGoldenTest.report("wide decoded", Npy.read(dir.resolve("decoded.npy")).floats(), y, 1e-5, 1e-5);
            CpuContext one = CpuContext.singleThreaded();
            assertArrayEquals(y, m.decode(one, codes), "1 vs 2 threads");
            assertArrayEquals(y, m.decodeChunked(one, codes, 7), "chunks of 7 frames");
        }
    }
}
