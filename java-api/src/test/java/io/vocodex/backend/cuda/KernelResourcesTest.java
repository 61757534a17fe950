package io.vocodex.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No GPU needed. The {@link Kernel} enum and {@code cuda-kernels/*.cu} name the same kernels; and when
 * nvcc was available to the build, every module's PTX is on the class path for every arch and defines
 * every kernel of the enum, so a kernel missing from a .cu (or a .cu that failed to compile) fails CI.
 */
class KernelResourcesTest {
    private static final Path SOURCES = Path.of("..", "cuda-kernels");
    private static final Pattern EXTERN = Pattern.compile("extern \"C\" __global__ void(?:\\s+__launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\s*\\(");

    @Test
    void enumMatchesTheCudaSources() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(SOURCES), "cuda-kernels/ not found next to java-api (not a source checkout)");
        Set<String> fromSources = new TreeSet<>();
        Set<String> files = new TreeSet<>();
        try (var s = Files.list(SOURCES)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".cu")).toList()) {
                files.add(p.getFileName().toString().replace(".cu", ""));
                Matcher m = EXTERN.matcher(Files.readString(p));
                while (m.find()) {
                    fromSources.add(m.group(1));
                }
            }
        }
        Set<String> fromEnum = new TreeSet<>();
        for (Kernel k : Kernel.values()) {
            fromEnum.add(k.symbol());
            assertTrue(k.symbol().matches("[a-z0-9_]+_(f32|tf32|bf16|f16|i32)"), k.symbol() + " is not named {op}_{dtype}");
        }
        Set<String> modules = new TreeSet<>();
        for (KernelModule m : KernelModule.values()) {
            modules.add(m.file());
        }
        assertEquals(files, modules, "KernelModule values vs cuda-kernels/*.cu");
        assertEquals(fromSources, fromEnum, "extern \"C\" kernels in cuda-kernels/*.cu vs the Kernel enum");
    }

    @Test
    void everyKernelIsInThePtxOfEveryArch() throws IOException {
        boolean skipped = Boolean.getBoolean("vocodex.kernels.skip");
        boolean nvcc = onPath("nvcc");
        boolean anyPtx = CudaProbe.missingPtx(KernelModule.ARCHS[0]) == null || KernelResourcesTest.class.getResource(
                KernelModule.CONV1D.resource(80)) != null;
        Assumptions.assumeTrue(!skipped && (nvcc || anyPtx),
                "nvcc was not available to the build (or -Dvocodex.kernels.skip=true): no PTX to check");
        Set<Kernel> seen = EnumSet.noneOf(Kernel.class);
        for (int arch : KernelModule.ARCHS) {
            for (KernelModule m : KernelModule.values()) {
                String ptx;
                try (InputStream in = KernelResourcesTest.class.getResourceAsStream(m.resource(arch))) {
                    assertNotNull(in, m.resource(arch) + " missing from the build output although nvcc is on PATH");
                    ptx = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                }
                assertTrue(ptx.contains(".target sm_" + arch), m.resource(arch) + " is not compute_" + arch + " PTX");
                Set<String> entries = new HashSet<>();
                Matcher e = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(").matcher(ptx);
                while (e.find()) {
                    entries.add(e.group(1));
                }
                for (Kernel k : Kernel.values()) {
                    if (k.module() == m) {
                        assertTrue(entries.contains(k.symbol()), k.symbol() + " is not an entry of " + m.resource(arch)
                                + " (entries: " + entries + ")");
                        seen.add(k);
                    }
                }
            }
        }
        assertEquals(EnumSet.allOf(Kernel.class), seen);
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }
}
