// Reasons a receiver drops a whole bundle (doc/PROTOCOL.md section 2).
package dev.qbkit.qbnet.link;

public enum BundleDrop {
    BAD_MAGIC("bad-magic"),
    BAD_FORMAT("bad-format"),
    BAD_LENGTH("bad-length"),
    TRUNCATED_FRAME("truncated-frame");

    private final String wireName;

    BundleDrop(String wireName) {
        this.wireName = wireName;
    }

    /** The reason's name as written in the protocol document and the test vectors. */
    public String wireName() {
        return wireName;
    }
}
