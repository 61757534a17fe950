package io.vocodex.backend.cpu;

/**
 * Which form of the Vector API's float/int bit moves this JVM offers. JDK 17-19 have the
 * byte-array methods ({@code FloatVector.intoByteArray(byte[], int, ByteOrder)} and friends) that
 * {@link VectorElu} and {@link VectorSilu} use on Java 17, where C2 handled them more reliably than
 * a reinterpret (docs/architecture.md); JDK 20 removed them in favour of memory segments, and a
 * call to them there fails with {@code NoSuchMethodError}. Those kernels check this flag and use
 * {@code reinterpretAs*()} instead on newer JDKs. Plain Java (reflection only), so that it can be
 * read without the incubator module.
 */
final class VectorBits {
    /** True when {@code FloatVector.intoByteArray(byte[], int, ByteOrder)} exists (JDK 17-19). */
    static final boolean BYTE_ARRAYS = hasByteArrayMethods();

    private VectorBits() {
    }

    private static boolean hasByteArrayMethods() {
        try {
            Class<?> floatVector = Class.forName("jdk.incubator.vector.FloatVector");
            floatVector.getMethod("intoByteArray", byte[].class, int.class, java.nio.ByteOrder.class);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
