// How the host's fuzz tests read Jazzer's bytes: a few control values from
// the front (each as wide as its range needs), then the payload. Bytes past
// the end read as zero, so every input means something. The Writer lays out
// the same format, for the committed seed inputs.
package dev.qbkit.qbnet.robust;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

public final class FuzzInput {
    private final byte[] data;
    private int position;

    public FuzzInput(byte[] data) {
        this.data = data;
    }

    public boolean hasMore() {
        return position < data.length;
    }

    public int u8() {
        return position < data.length ? data[position++] & 0xff : 0;
    }

    public int u16() {
        return u8() << 8 | u8();
    }

    public long u32() {
        return (long) u16() << 16 | u16();
    }

    public boolean bool() {
        return (u8() & 1) != 0;
    }

    /** A value in {@code [lo, hi]}: one byte when the range has at most 256 values, two up to 65536, else four. */
    public int between(int lo, int hi) {
        long span = (long) hi - lo + 1;
        long raw = span <= 0x100 ? u8() : span <= 0x10000 ? u16() : u32();
        return (int) (lo + raw % span);
    }

    /** One of {@code options}, by a one-byte index. */
    @SafeVarargs
    public final <T> T pick(T... options) {
        return options[between(0, options.length - 1)];
    }

    /** Up to {@code n} bytes: fewer when the input ends first. */
    public byte[] bytes(int n) {
        int take = Math.max(0, Math.min(n, data.length - position));
        byte[] out = Arrays.copyOfRange(data, position, position + take);
        position += take;
        return out;
    }

    /** Everything not read yet. */
    public byte[] rest() {
        return bytes(data.length - position);
    }

    /** Writes what {@link FuzzInput} reads, value by value (seed inputs). */
    public static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        public Writer u8(int v) {
            out.write(v);
            return this;
        }

        public Writer u16(int v) {
            return u8(v >>> 8).u8(v);
        }

        public Writer u32(long v) {
            return u16((int) (v >>> 16)).u16((int) v);
        }

        public Writer bool(boolean v) {
            return u8(v ? 1 : 0);
        }

        public Writer between(int lo, int hi, int value) {
            if (value < lo || value > hi)
                throw new IllegalArgumentException(value + " is outside [" + lo + ", " + hi + "]");
            long span = (long) hi - lo + 1;
            long raw = (long) value - lo;
            return span <= 0x100 ? u8((int) raw) : span <= 0x10000 ? u16((int) raw) : u32(raw);
        }

        /** The index of {@code choice} among {@code count} options, as {@link FuzzInput#pick} reads it. */
        public Writer pick(int count, int choice) {
            return between(0, count - 1, choice);
        }

        public Writer bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        public byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
