package io.vocodex.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared golden outputs of the original implementations (tests skip when absent). */
public final class Golden {
    private Golden() {
    }

    /** {@code <golden>/<codec>/tiny}, or a skipped test with one clear line when it is not there. */
    public static Path dir(String codec) {
        String root = System.getProperty("vocodex.golden.dir", "../shared/golden");
        Path p = Path.of(root, codec, "tiny");
        Assumptions.assumeTrue(Files.isDirectory(p), "golden outputs not found at " + p + " (set -Dvocodex.golden.dir); skipping");
        return p;
    }

    /** A committed fixture folder under src/test/resources/fixtures. */
    public static Path fixture(String name) {
        Path p = Path.of("src/test/resources/fixtures", name);
        if (!Files.isDirectory(p)) { // e.g. the gpu-check bundle: the fixtures sit in test-classes on the class path
            java.net.URL u = Golden.class.getResource("/fixtures/" + name);
            if (u != null && "file".equals(u.getProtocol())) {
                try {
                    p = Path.of(u.toURI());
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        Assumptions.assumeTrue(Files.isDirectory(p), "fixture " + p + " not found; skipping");
        return p;
    }
}
