package io.vocodex.bench;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.FusedResidual;
import io.vocodex.backend.cpu.NnOps;
import io.vocodex.backend.cpu.PackedLinear;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.backend.cpu.WinogradConv;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CPU kernel benchmarks on the shapes of the 24 kHz EnCodec model for one second of audio
 * (T = 24000 samples, 75 frames), plus a 10 s variant of the bottleneck conv. Names read
 * {@code cpu_<op>_f32_c<in>to<out>_k<kernel>[_s<stride>]_t<output frames>}.
 *
 * <p>GFLOP/s = FLOP / (µs/op * 1000), with FLOP = {@code 2 * Cout * Cin/groups * K * Tout} for a conv,
 * {@code 2 * Cout * Cin * K * T} for a transposed conv (T input frames), {@code 2 * O * I * T} for a
 * linear layer and {@code 2 * 2 * 4H * H * T} for an LSTM layer; each benchmark's FLOP count is in
 * its comment. Run e.g. {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar OpBench -p threads=1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class OpBench {
    @Param({"1", "2"})
    public int threads;

    private CpuContext ctx;
    private final Random rnd = new Random(42);

    // conv inputs (already padded: Tin = (Tout-1)*stride + K)
    private float[][] x1x24006;
    private float[][] x32x24002;
    private float[][] x16x24000;
    private float[][] x64x240002;
    private float[][] x32x240000;
    private float[] w32x64x3;
    private float[] w64x32x1;
    private float[][] x32x24006;
    private float[][] x32x24002s2;
    private float[][] x64x12004;
    private float[][] x128x3005;
    private float[][] x256x602;
    private float[][] x256x608;
    private float[][] x512x756;
    private float[][] x512x81;
    private float[] w32x1x7;
    private float[][] x1x240006;
    private float[][] x64x240006;
    private float[][] x64x240000;
    private float[] w64x1x7;
    private float[] w1x64x7;
    // Mimi's deep encoder convs over 10 s (input padded for the stride)
    private float[][] x256x12006;
    private float[] w512x256x12;
    private PackedLinear p512x256x12;
    private float[][] x512x2008;
    private float[] w1024x512x16;
    private PackedLinear p1024x512x16;
    private PackedLinear p512x256x16;
    private float[] w32x32x3;
    // DistilCodec's HiFi-GAN ResBlock1 convs (dilated, same channels in and out)
    private float[][] x512x2098;
    private float[] w512x512x11;
    private float[][] x256x8210;
    private float[] w256x256x7;
    private float[][] x128x16386;
    private float[] w128x128x3;
    private float[][] x512x2048;
    private float[][] x256x8192;
    private float[][] x128x16384;
    private WinogradConv winograd512k11d5;
    private WinogradConv winograd256k7d3;
    private WinogradConv winograd128k3;
    private float[] w16x32x3;
    private float[] w32x16x1;
    private float[] w64x32x4;
    private float[] w128x64x8;
    private float[] w256x128x10;
    private float[] w128x256x3;
    private float[] w512x256x16;
    private float[] w128x512x7;
    private float[] w1x32x7;
    private float[] bias512;
    // transposed convs
    private float[][] x512x75;
    private float[][] x64x12000;
    private float[] wt512x256x16;
    private float[] wt64x32x4;
    // lstm / linear
    private float[][] x512x75l;
    private float[][] x512x750;
    // Mimi's transformer rows: 250 frames (10 s at 12.5 Hz) x 512
    private float[][] x250x512;
    private float[] ln512;
    private float[] wih;
    private PackedLinear wihPacked; // as LstmLayer keeps it: the LSTM rows time no repacking
    private float[] whh;
    private float[] bih;
    private float[] bhh;
    private float[] v512;
    private float[] y2048;
    // DistilCodec's ConvNeXt pointwise layers (768 channels, 10 s = 938 mel frames)
    private float[][] x768x938;
    private float[][] x3072x938;
    private float[] w3072x768;
    private float[] w768x3072;
    private float[] bias3072;
    private float[][] x938x768;
    private PackedLinear p3072x768;
    // rvq
    private float[][] x128x750;
    private float[] codebook;
    private float[] codeNorms;

    private float[][] x(int c, int t) {
        float[][] x = new float[c][t];
        for (float[] r : x) {
            for (int i = 0; i < t; i++) {
                r[i] = (float) rnd.nextGaussian();
            }
        }
        return x;
    }

    private float[] w(int n, int fanIn) {
        float[] w = new float[n];
        double s = 1.0 / Math.sqrt(fanIn);
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rnd.nextGaussian() * s);
        }
        return w;
    }

    @Setup(Level.Trial)
    public void setup() {
        ctx = new CpuContext(threads);
        x1x24006 = x(1, 24006);
        x32x24002 = x(32, 24002);
        x16x24000 = x(16, 24000);
        x64x240002 = x(64, 240002);
        x32x240000 = x(32, 240000);
        w32x64x3 = w(32 * 64 * 3, 192);
        w64x32x1 = w(64 * 32, 32);
        x32x24006 = x(32, 24006);
        x32x24002s2 = x(32, 24002);
        x64x12004 = x(64, 12004);
        x128x3005 = x(128, 3005);
        x256x602 = x(256, 602);
        x256x608 = x(256, 608);
        x512x756 = x(512, 756);
        x512x81 = x(512, 81);
        w32x1x7 = w(32 * 7, 7);
        x1x240006 = x(1, 240006);
        x64x240006 = x(64, 240006);
        x64x240000 = x(64, 240000);
        w64x1x7 = w(64 * 7, 7);
        w1x64x7 = w(64 * 7, 448);
        x256x12006 = x(256, 12006);
        w512x256x12 = w(512 * 256 * 12, 3072);
        p512x256x12 = PackedLinear.pack(w512x256x12, 512, 256 * 12);
        x512x2008 = x(512, 2008);
        w1024x512x16 = w(1024 * 512 * 16, 8192);
        p1024x512x16 = PackedLinear.pack(w1024x512x16, 1024, 512 * 16);
        w32x32x3 = w(32 * 32 * 3, 96);
        x512x2098 = x(512, 2048 + 10 * 5);
        w512x512x11 = w(512 * 512 * 11, 512 * 11);
        x256x8210 = x(256, 8192 + 6 * 3);
        w256x256x7 = w(256 * 256 * 7, 256 * 7);
        x128x16386 = x(128, 16384 + 2);
        w128x128x3 = w(128 * 128 * 3, 128 * 3);
        x512x2048 = x(512, 2048);
        x256x8192 = x(256, 8192);
        x128x16384 = x(128, 16384);
        winograd512k11d5 = new WinogradConv(w512x512x11, 512, 512, 11, 5);
        winograd256k7d3 = new WinogradConv(w256x256x7, 256, 256, 7, 3);
        winograd128k3 = new WinogradConv(w128x128x3, 128, 128, 3, 1);
        w16x32x3 = w(16 * 32 * 3, 96);
        w32x16x1 = w(32 * 16, 16);
        w64x32x4 = w(64 * 32 * 4, 128);
        w128x64x8 = w(128 * 64 * 8, 512);
        w256x128x10 = w(256 * 128 * 10, 1280);
        w128x256x3 = w(128 * 256 * 3, 768);
        w512x256x16 = w(512 * 256 * 16, 4096);
        p512x256x16 = PackedLinear.pack(w512x256x16, 512, 256 * 16);
        w128x512x7 = w(128 * 512 * 7, 3584);
        w1x32x7 = w(32 * 7, 224);
        bias512 = w(512, 1);
        x512x75 = x(512, 75);
        x64x12000 = x(64, 12000);
        wt512x256x16 = w(512 * 256 * 16, 1024);
        wt64x32x4 = w(64 * 32 * 4, 128);
        x512x75l = x(512, 75);
        x512x750 = x(512, 750);
        x250x512 = x(250, 512);
        ln512 = w(512, 1);
        wih = w(2048 * 512, 512);
        wihPacked = PackedLinear.pack(wih, 2048, 512);
        whh = w(2048 * 512, 512);
        bih = w(2048, 512);
        bhh = w(2048, 512);
        v512 = w(512, 1);
        y2048 = new float[2048];
        x768x938 = x(768, 938);
        x3072x938 = x(3072, 938);
        w3072x768 = w(3072 * 768, 768);
        w768x3072 = w(768 * 3072, 3072);
        bias3072 = w(3072, 1);
        x938x768 = x(938, 768);
        p3072x768 = PackedLinear.pack(w3072x768, 3072, 768);
        x128x750 = x(128, 750);
        codebook = w(1024 * 128, 1);
        codeNorms = CpuOps.rowSquaredNorms(codebook, 1024, 128);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ctx.close();
    }

    /**
     * SiLU over 32 channels x 24000 samples (768k values; a new tensor), DistilCodec's activation:
     * with {@code -jvmArgsAppend -Dvocodex.simd=false} the same op on the plain block loops.
     */
    @Benchmark
    public float[][] cpu_silu_f32_c32_t24000() {
        return NnOps.silu(ctx, x32x24002);
    }

    /** Encoder input conv. 10.75 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c1to32_k7_t24000() {
        return CpuOps.conv1d(ctx, x1x24006, w32x1x7, bias512, 32, 7, 1, 1, 1);
    }

    /** Mimi's encoder input conv over 10 s at 24 kHz: 1 -> 64, k7 (215 MFLOP; 61 MB out). */
    @Benchmark
    public float[][] cpu_conv1d_f32_c1to64_k7_t240000() {
        return CpuOps.conv1d(ctx, x1x240006, w64x1x7, bias512, 64, 7, 1, 1, 1);
    }

    /** Mimi's third downsampling conv over 10 s, on the time-vectorised kernel: 256 -> 512, k12, s6 (6.29 GFLOP). */
    @Benchmark
    public float[][] cpu_conv1d_f32_c256to512_k12_s6_t2000() {
        return CpuOps.conv1d(ctx, x256x12006, w512x256x12, bias512, 512, 12, 6, 1, 1);
    }

    /** The same conv on the channel-vectorised kernel over gathered windows ({@code CpuOps.conv1dFewFrames}). */
    @Benchmark
    public float[][] cpu_convpacked_f32_c256to512_k12_s6_t2000() {
        return CpuOps.conv1dFewFrames(ctx, x256x12006, 12006, p512x256x12, bias512, 12, 6, 1);
    }

    /** Mimi's last downsampling conv over 10 s, time-vectorised: 512 -> 1024, k16, s8 (4.29 GFLOP). */
    @Benchmark
    public float[][] cpu_conv1d_f32_c512to1024_k16_s8_t250() {
        return CpuOps.conv1d(ctx, x512x2008, w1024x512x16, null, 1024, 16, 8, 1, 1);
    }

    /** The same conv, channel-vectorised over gathered windows. */
    @Benchmark
    public float[][] cpu_convpacked_f32_c512to1024_k16_s8_t250() {
        return CpuOps.conv1dFewFrames(ctx, x512x2008, 2008, p1024x512x16, null, 16, 8, 1);
    }

    /** Mimi's decoder output conv over 10 s: 64 -> 1, k7 (215 MFLOP; 61 MB in). */
    @Benchmark
    public float[][] cpu_conv1d_f32_c64to1_k7_t240000() {
        return CpuOps.conv1d(ctx, x64x240006, w1x64x7, bias512, 1, 7, 1, 1, 1);
    }

    /** ELU over Mimi's full-rate activations (64 x 240000 = 15.4 M values; a new tensor). */
    @Benchmark
    public float[][] cpu_elu_f32_c64_t240000() {
        return CpuOps.elu(ctx, x64x240000, 1f);
    }

    /** 32 -> 32, k3 (the brief's reference shape). 147.5 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c32_k3_t24000() {
        return CpuOps.conv1d(ctx, x32x24002, w32x32x3, bias512, 32, 3, 1, 1, 1);
    }

    /** DistilCodec's first HiFi-GAN stage: ResBlock1 conv 512 -> 512, k11, dilation 5, 2048 frames. 11.8 GFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c512_k11_d5_t2048() {
        return CpuOps.conv1d(ctx, x512x2098, w512x512x11, bias512, 512, 11, 1, 5, 1);
    }

    /** DistilCodec's second HiFi-GAN stage: ResBlock1 conv 256 -> 256, k7, dilation 3, 8192 frames. 7.5 GFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c256_k7_d3_t8192() {
        return CpuOps.conv1d(ctx, x256x8210, w256x256x7, bias512, 256, 7, 1, 3, 1);
    }

    /** DistilCodec's third HiFi-GAN stage: ResBlock1 conv 128 -> 128, k3, 16384 frames. 1.6 GFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c128_k3_t16384() {
        return CpuOps.conv1d(ctx, x128x16386, w128x128x3, bias512, 128, 3, 1, 1, 1);
    }

    /**
     * {@link #cpu_conv1d_f32_c512_k11_d5_t2048}'s conv by Winograd F(4, 4) ({@link WinogradConv}), "same"
     * padding read in place: 11.8 GFLOP of direct-conv work (the figure to divide by), of which the
     * transformed domain multiplies 5.6.
     */
    @Benchmark
    public float[][] cpu_winogradconv_f32_c512_k11_d5_t2048() {
        return winograd512k11d5.forward(ctx, x512x2048, bias512, 25, 25, null);
    }

    /** {@link #cpu_conv1d_f32_c256_k7_d3_t8192} by Winograd F(4, 4): 7.5 GFLOP of direct-conv work, 3.8 multiplied. */
    @Benchmark
    public float[][] cpu_winogradconv_f32_c256_k7_d3_t8192() {
        return winograd256k7d3.forward(ctx, x256x8192, java.util.Arrays.copyOf(bias512, 256), 9, 9, null);
    }

    /** {@link #cpu_conv1d_f32_c128_k3_t16384} by Winograd F(4, 4): 1.6 GFLOP of direct-conv work, 0.9 multiplied. */
    @Benchmark
    public float[][] cpu_winogradconv_f32_c128_k3_t16384() {
        return winograd128k3.forward(ctx, x128x16384, java.util.Arrays.copyOf(bias512, 128), 1, 1, null);
    }

    /** Residual block, first conv at 32 channels. 73.7 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c32to16_k3_t24000() {
        return CpuOps.conv1d(ctx, x32x24002, w16x32x3, bias512, 16, 3, 1, 1, 1);
    }

    /** Residual block, 1x1 conv at 32 channels. 24.6 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c16to32_k1_t24000() {
        return CpuOps.conv1d(ctx, x16x24000, w32x16x1, bias512, 32, 1, 1, 1, 1);
    }

    /**
     * Mimi's first residual block at 24 kHz, 10 s: the k3 conv 64 -> 32 over 240000 samples (2.95
     * GFLOP); 61 MB of input, far beyond L2, read through the prefetch pass of
     * {@code CpuOps.prefetchRows} ({@code -jvmArgsAppend -Dvocodex.prefetch=false} leaves it out).
     */
    @Benchmark
    public float[][] cpu_conv1d_f32_c64to32_k3_t240000() {
        return CpuOps.conv1d(ctx, x64x240002, w32x64x3, bias512, 32, 3, 1, 1, 1);
    }

    /** The same block's 1x1 conv 32 -> 64 over 240000 samples (0.98 GFLOP, 92 MB in and out). */
    @Benchmark
    public float[][] cpu_conv1d_f32_c32to64_k1_t240000() {
        return CpuOps.conv1d(ctx, x32x240000, w64x32x1, bias512, 64, 1, 1, 1, 1);
    }

    /**
     * Mimi's full-rate residual block in one pass over time tiles ({@link FusedResidual}): ELU, the
     * 64 -> 32 k3 conv above (causal zero padding), ELU, the 1x1 conv above, identity skip; 3.9
     * GFLOP, 61 MB in and out. The two conv rows above plus the ELU row are its ops one by one.
     */
    @Benchmark
    public float[][] cpu_resblock_f32_c64_k3_t240000() {
        return FusedResidual.forward(ctx, x64x240000, new float[64][2], new float[64][0], 1f,
                new FusedResidual.Conv(w32x64x3, java.util.Arrays.copyOf(bias512, 32), 64, 32, 3, 1), 1f,
                new FusedResidual.Conv(w64x32x1, java.util.Arrays.copyOf(bias512, 64), 32, 64, 1, 1), null, Float.NaN, 0, 0);
    }

    /** First downsampling conv. 196.6 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c32to64_k4_s2_t12000() {
        return CpuOps.conv1d(ctx, x32x24002s2, w64x32x4, bias512, 64, 4, 2, 1, 1);
    }

    /** Second downsampling conv. 393.2 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c64to128_k8_s4_t3000() {
        return CpuOps.conv1d(ctx, x64x12004, w128x64x8, bias512, 128, 8, 4, 1, 1);
    }

    /** Third downsampling conv. 393.2 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c128to256_k10_s5_t600() {
        return CpuOps.conv1d(ctx, x128x3005, w256x128x10, bias512, 256, 10, 5, 1, 1);
    }

    /** Residual block, first conv at 256 channels. 117.96 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c256to128_k3_t600() {
        return CpuOps.conv1d(ctx, x256x602, w128x256x3, bias512, 128, 3, 1, 1, 1);
    }

    /** Last downsampling conv. 314.6 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c256to512_k16_s8_t75() {
        return CpuOps.conv1d(ctx, x256x608, w512x256x16, bias512, 512, 16, 8, 1, 1);
    }

    /** Bottleneck conv over 10 s. 688.1 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c512to128_k7_t750() {
        return CpuOps.conv1d(ctx, x512x756, w128x512x7, bias512, 128, 7, 1, 1, 1);
    }

    /** Bottleneck conv over 1 s. 68.8 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c512to128_k7_t75() {
        return CpuOps.conv1d(ctx, x512x81, w128x512x7, bias512, 128, 7, 1, 1, 1);
    }

    /**
     * {@link #cpu_conv1d_f32_c256to512_k16_s8_t75} on the channel-vectorised kernel over gathered
     * windows: 75 columns fill 59 % of the time kernel's two 64-column blocks, where this one wins.
     */
    @Benchmark
    public float[][] cpu_convpacked_f32_c256to512_k16_s8_t75() {
        return CpuOps.conv1dFewFrames(ctx, x256x608, 608, p512x256x16, bias512, 16, 8, 1);
    }

    /** Decoder output conv. 10.75 MFLOP. */
    @Benchmark
    public float[][] cpu_conv1d_f32_c32to1_k7_t24000() {
        return CpuOps.conv1d(ctx, x32x24006, w1x32x7, bias512, 1, 7, 1, 1, 1);
    }

    /** First decoder upsampling. 314.6 MFLOP. */
    @Benchmark
    public float[][] cpu_convtr1d_f32_c512to256_k16_s8_t75() {
        return CpuOps.convTranspose1dFrames(ctx, x512x75, wt512x256x16, bias512, 256, 16, 8, 1, 0, 76);
    }

    /** Last decoder upsampling. 196.6 MFLOP. */
    @Benchmark
    public float[][] cpu_convtr1d_f32_c64to32_k4_s2_t12000() {
        return CpuOps.convTranspose1dFrames(ctx, x64x12000, wt64x32x4, bias512, 32, 4, 2, 1, 0, 12001);
    }

    /**
     * Mimi's layer norm over 250 rows of 512 (a 10 s batch), float64 sums: the threaded form
     * (rows over the threads, four rows' sums side by side). 128 K elements.
     */
    @Benchmark
    public float[][] cpu_layernorm_f32_d512_t250() {
        return TransformerOps.layerNorm(ctx, x250x512, ln512, ln512, 1e-5);
    }

    /** The same layer norm on the serial reference path (one row at a time, one thread whatever {@code threads}). */
    @Benchmark
    public float[][] cpu_layernormserial_f32_d512_t250() {
        return TransformerOps.layerNorm(x250x512, ln512, ln512, 1e-5);
    }

    /** LSTM input projection. 157.3 MFLOP. */
    @Benchmark
    public float[][] cpu_linear_f32_c512to2048_t75() {
        return CpuOps.linearColumns(ctx, x512x75l, wih, bih, 2048);
    }

    /** DistilCodec ConvNeXt's first pointwise layer at 768 channels over 10 s (pwconv1). 4.43 GFLOP. */
    @Benchmark
    public float[][] cpu_linear_f32_c768to3072_t938() {
        return CpuOps.linearColumns(ctx, x768x938, w3072x768, bias3072, 3072);
    }

    /** pwconv1 on time-major rows through the packed linear (TransformerOps.linearRows). 4.43 GFLOP. */
    @Benchmark
    public float[][] cpu_linearrows_f32_c768to3072_t938() {
        return TransformerOps.linearRows(ctx, x938x768, p3072x768);
    }

    /** DistilCodec ConvNeXt's second pointwise layer at 768 channels over 10 s (pwconv2). 4.43 GFLOP. */
    @Benchmark
    public float[][] cpu_linear_f32_c3072to768_t938() {
        return CpuOps.linearColumns(ctx, x3072x938, w768x3072, bias3072, 768);
    }

    /** One LSTM recurrence step's product (single-threaded API). 2.10 MFLOP. */
    @Benchmark
    public float[] cpu_matvec_f32_c512to2048() {
        CpuOps.matVec(whh, 2048, 512, v512, y2048);
        return y2048;
    }

    /** One LSTM layer over 1 s (75 steps). 314.6 MFLOP. */
    @Benchmark
    public float[][] cpu_lstm_f32_h512_t75() {
        return CpuOps.lstmLayer(ctx, x512x75l, wihPacked, whh, bih, bhh, new float[512], new float[512]);
    }

    /** One of EnCodec's two LSTM layers over 10 s (750 steps): 3.15 GFLOP; the input projection alone is 6 MB. */
    @Benchmark
    public float[][] cpu_lstm_f32_h512_t750() {
        return CpuOps.lstmLayer(ctx, x512x750, wihPacked, whh, bih, bhh, new float[512], new float[512]);
    }

    /** One codebook's nearest codes over 10 s: 1024 codes x 128 dims x 750 frames. 196.6 MFLOP. */
    @Benchmark
    public int[] cpu_nearest_f32_n1024_d128_t750() {
        return CpuOps.nearestCodes(ctx, x128x750, codebook, codeNorms, 1024);
    }
}
