// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4): every comparison
// of two sequence numbers in the NAT goes through here. Sequence numbers stay
// plain ints (Java 25 has no value classes; a wrapper would allocate per use).
package dev.qbkit.qbnet.nat;

final class Seq {
    private Seq() {
    }

    /** a < b */
    static boolean before(int a, int b) {
        return a - b < 0;
    }

    /** a <= b */
    static boolean atOrBefore(int a, int b) {
        return a - b <= 0;
    }

    /** a > b */
    static boolean after(int a, int b) {
        return a - b > 0;
    }

    /** a >= b */
    static boolean atOrAfter(int a, int b) {
        return a - b >= 0;
    }

    /** a - b as a signed distance. */
    static int diff(int a, int b) {
        return a - b;
    }

    /** start <= seq < start + size, for a window of {@code size} bytes (size may exceed 2^31 - 1 only as a long). */
    static boolean inWindow(int seq, int start, long size) {
        return atOrAfter(seq, start) && diff(seq, start) < size;
    }

    /** The later of two sequence numbers. */
    static int max(int a, int b) {
        return after(a, b) ? a : b;
    }
}
