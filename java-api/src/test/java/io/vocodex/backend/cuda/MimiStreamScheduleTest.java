package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiModel;
import io.vocodex.model.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU Mimi StreamHub's schedule WITHOUT a GPU: {@link MimiStreamSchedule} (the exact code
 * {@link CudaMimiStreams} runs: shape groups, padding rows on the scratch slot, per-slot conv tails, KV rings
 * indexed by slot, positions, the finish) runs on the CPU twins of the device kernels ({@link HostStreamKernels},
 * {@link HostTransformerKernels}) while streams join and leave at random ticks, push random amounts, finish or
 * are cancelled, and new streams reuse freed slots. Each stream's tokens must equal those of a solo
 * {@code MimiModel} streaming encoder fed the same audio. What this cannot check: the kernels themselves, the
 * launches, graphs and device buffers (the cuda-tagged {@code CudaMimiStreamsTest} does).
 */
class MimiStreamScheduleTest {
    @TempDir
    static Path tmp;

    private static final CpuContext CPU = CpuContext.singleThreaded();

    /** One emulated hub stream: its audio, what was pushed, its buffered samples, the codes it got. */
    private static final class Client {
        final float[] audio;
        final int slot;
        final boolean cancels;
        int pushed;
        float[] pending = new float[0];
        final List<int[][]> got = new ArrayList<>();

        Client(float[] audio, int slot, boolean cancels) {
            this.audio = audio;
            this.slot = slot;
            this.cancels = cancels;
        }
    }

    static MimiStreamSchedule<HostTransformerKernels.Buf, HostTransformerKernels.Rings> schedule(MimiModel m, int capacity, int nq) {
        CudaSeanet seanet = new CudaSeanet(null, Precision.FP32); // the plan only: nothing uploaded
        List<CudaSeanet.Op> ops = seanet.plan(m.encoderModules());
        CudaSeanet.ConvOp down = seanet.convOp(m.downsampleLayer(), null, -1);
        var plan = new MimiTransformerPlan<>(new HostTransformerKernels(CPU), m.encoderTransformerModule(), false);
        return new MimiStreamSchedule<>(new HostStreamKernels(CPU, m.quantizer()), plan, ops, down, capacity, nq, m.hopLength(),
                r -> { });
    }

    static int[][] concat(List<int[][]> parts, int nq) {
        return CudaStreamScheduleTest.concat(parts, nq);
    }

    /**
     * Runs {@code clients} streams through a pool of {@code capacity} slots; returns how many steps had padding
     * rows, ran more than one shape group, and reused a slot, for the caller to check that the run covered them.
     */
    static int[] run(String what, MimiModel m, int capacity, int nq, int clients, long seed) {
        int hop = m.hopLength();
        Random r = new Random(seed);
        var s = schedule(m, capacity, nq);
        int maxGroup = s.maxGroup;
        Client[] bySlot = new Client[capacity];
        boolean[] used = new boolean[capacity];
        List<Client> done = new ArrayList<>();
        int started = 0;
        int padded = 0;
        int multiGroup = 0;
        int reused = 0;
        int steps = 0;
        while (done.size() < clients) {
            // joins: a free slot, at a random tick
            for (int slot = 0; slot < capacity && started < clients; slot++) {
                if (bySlot[slot] == null && r.nextInt(2) == 0) {
                    float[] audio = CudaStreamScheduleTest.audio(r, 1 + r.nextInt(12 * hop));
                    s.reset(slot);
                    bySlot[slot] = new Client(audio, slot, r.nextInt(6) == 0);
                    reused += used[slot] ? 1 : 0;
                    used[slot] = true;
                    started++;
                }
            }
            // pushes of random sizes; leaves (finish or cancel) once everything was pushed
            for (int slot = 0; slot < capacity; slot++) {
                Client c = bySlot[slot];
                if (c == null) {
                    continue;
                }
                if (c.pushed < c.audio.length) {
                    int n = Math.min(c.audio.length - c.pushed, r.nextInt(3 * hop + 1));
                    float[] p = Arrays.copyOf(c.pending, c.pending.length + n);
                    System.arraycopy(c.audio, c.pushed, p, c.pending.length, n);
                    c.pending = p;
                    c.pushed += n;
                } else if (r.nextInt(3) == 0) {
                    if (!c.cancels) {
                        c.got.add(s.finish(slot, c.pending, (key, launches) -> launches.run()));
                    }
                    c.pending = new float[0];
                    bySlot[slot] = null;
                    done.add(c);
                }
            }
            // the tick: every stream with a whole frame, in a random order
            List<Client> ready = new ArrayList<>();
            for (Client c : bySlot) {
                if (c != null && c.pending.length >= hop) {
                    ready.add(c);
                }
            }
            Collections.shuffle(ready, r);
            if (ready.isEmpty()) {
                continue;
            }
            int[] slots = new int[ready.size()];
            float[][] frames = new float[ready.size()][];
            for (int i = 0; i < slots.length; i++) {
                Client c = ready.get(i);
                slots[i] = c.slot;
                frames[i] = Arrays.copyOf(c.pending, hop);
                c.pending = Arrays.copyOfRange(c.pending, hop, c.pending.length);
            }
            int[] rowsLaunched = {0, 0};
            int[][][] codes = s.step(slots, frames, (key, launches) -> {
                rowsLaunched[0] += (int) (key % (maxGroup + 1)); // the padded group size
                rowsLaunched[1]++;
                launches.run();
            });
            padded += rowsLaunched[0] > slots.length ? 1 : 0;
            multiGroup += rowsLaunched[1] > 1 ? 1 : 0;
            steps++;
            for (int i = 0; i < slots.length; i++) {
                ready.get(i).got.add(codes[i]);
            }
        }
        s.close();
        int checked = 0;
        for (Client c : done) {
            CodecModel.EncoderStream solo = m.openEncoder(nq);
            List<int[][]> want = new ArrayList<>();
            if (c.cancels) { // only the whole frames that were stepped before the stream left
                int frames = concat(c.got, nq)[0].length;
                want.add(solo.push(CPU, Arrays.copyOf(c.audio, frames * hop)));
            } else {
                want.add(solo.push(CPU, c.audio));
                want.add(solo.flush(CPU));
            }
            int[][] expected = concat(want, nq);
            int[][] got = concat(c.got, nq);
            for (int q = 0; q < nq; q++) {
                assertArrayEquals(expected[q], got[q], what + ": stream in slot " + c.slot + " (" + c.audio.length + " samples"
                        + (c.cancels ? ", cancelled" : "") + ") codebook " + q);
            }
            checked += expected[0].length;
        }
        System.out.printf("[mimi-schedule] %s: %d streams over %d slots, %d steps (%d with padding rows, %d with >1 shape group),"
                + " %d slot reuses, %d code frames equal to solo streams%n", what, clients, capacity, steps, padded, multiGroup,
                reused, checked);
        return new int[] {padded, multiGroup, reused};
    }

    /**
     * A small random Mimi (published 24 kHz SEANet layout at 2 filters, d 16, context 6 so the rings wrap after
     * three frames) with up to 14 live streams in 14 slots: groups of 9, 11 or 13 rows get padding rows.
     */
    @Test
    void randomJoinsLeavesAndSlotReuseGiveSoloTokens() {
        for (boolean projected : new boolean[] {false, true}) {
            MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("hub" + projected),
                    MimiTransformerPlanTest.config(6, projected, true), projected ? 31 : 32);
            int[] seen = run("d16 context 6" + (projected ? " projected" : ""), m, 14, 3, 70, projected ? 5 : 6);
            assertTrue(seen[0] > 0, "no step had padding rows");
            assertTrue(seen[1] > 0, "no step ran two shape groups");
            assertTrue(seen[2] > 0, "no slot was reused");
        }
    }

    /** The golden tiny model (the original's weights, context 8). */
    @Test
    void goldenTinyModelGivesSoloTokens() throws Exception {
        MimiModel m = (MimiModel) ModelFolder.load(MimiTransformerPlanTest.goldenModelFolder(io.vocodex.testing.Golden.dir("mimi"),
                tmp.resolve("golden")));
        int[] seen = run("golden tiny", m, 4, Math.min(4, m.maxCodebooks()), 10, 7);
        assertTrue(seen[2] > 0, "no slot was reused");
    }

    /** The published layout: one code frame per 1920-sample frame from the first one, a steady state at once. */
    @Test
    void publishedLayoutSettlesAtOnce() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("full"), MimiConfig.mimi(), 3);
        CudaSeanet seanet = new CudaSeanet(null, Precision.FP32);
        List<CudaSeanet.Op> ops = seanet.plan(m.encoderModules());
        CudaSeanet.ConvOp down = seanet.convOp(m.downsampleLayer(), null, -1);
        List<CudaEncodecStreams.Shape> shapes = MimiStreamSchedule.shapes(ops, down, m.hopLength());
        System.out.printf("[mimi-schedule] published layout: hop %d, %d shape states, steady from frame %d%n", m.hopLength(),
                shapes.size(), shapes.get(shapes.size() - 1).next);
        assertTrue(shapes.size() <= 2, shapes.size() + " shape states");
        for (CudaEncodecStreams.Shape sh : shapes) {
            assertEquals(1, sh.frames, "code frames per step");
            assertEquals(2, sh.nIn[down.sid], "transformer columns per step");
        }
    }

    @Test
    void misuseIsRefused() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("misuse"), MimiTransformerPlanTest.config(6, false, true), 4);
        var s = schedule(m, 3, 2);
        float[] f = new float[m.hopLength()];
        MimiStreamSchedule.Launcher run = (key, launches) -> launches.run();
        assertThrows(VocodexException.class, () -> s.step(new int[] {3}, new float[][] {f}, run), "slot outside the pool");
        assertThrows(VocodexException.class, () -> s.step(new int[] {1, 1}, new float[][] {f, f}, run), "a slot twice");
        assertThrows(VocodexException.class, () -> s.step(new int[] {0}, new float[][] {new float[7]}, run), "a short frame");
        s.close();
    }
}
