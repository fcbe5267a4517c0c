// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4).
package dev.qbkit.qbnet.nat;

final class Seq {
    private Seq() {
    }

    static boolean before(int a, int b) {
        return a - b < 0;
    }

    static boolean after(int a, int b) {
        return a - b > 0;
    }

    /** a - b as a signed distance. */
    static int diff(int a, int b) {
        return a - b;
    }
}
