package io.vocodex.corpus;

import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** fsync and rename helpers: what makes a shard appear whole or not at all. */
final class Durable {
    private Durable() {
    }

    /** Flushes {@code p} (a file, or a folder's entries) to disk. */
    static void fsync(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (Files.isDirectory(p)) {
                return; // some file systems refuse to fsync folders; the rename is still atomic
            }
            throw new VocodexException(p + ": fsync failed: " + e.getMessage(), e);
        }
    }

    /** Renames {@code from} to {@code to} atomically (replacing it) and syncs the folder. */
    static void rename(Path from, Path to) {
        try {
            try {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new VocodexException(to + ": cannot rename " + from.getFileName() + " into place: " + e.getMessage(), e);
        }
        fsync(to.toAbsolutePath().getParent());
    }

    /** Writes {@code bytes} to {@code p} via a synced temporary sibling and a rename. */
    static void writeAtomically(Path p, byte[] bytes) {
        Path tmp = p.resolveSibling("." + p.getFileName() + ".tmp");
        try {
            Files.write(tmp, bytes);
        } catch (IOException e) {
            throw new VocodexException(tmp + ": write failed: " + e.getMessage(), e);
        }
        fsync(tmp);
        rename(tmp, p);
    }

    /** Deletes a file or a folder tree if present. */
    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException e) {
            throw new VocodexException(p + ": cannot delete: " + e.getMessage(), e);
        }
    }
}
