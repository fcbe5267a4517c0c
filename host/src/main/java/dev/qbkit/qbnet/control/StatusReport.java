// The whole answer to `qbnet status`: the driver, its boards, its forwards,
// and the JVM's memory (to judge the cost per flow).
package dev.qbkit.qbnet.control;

import java.util.List;

public record StatusReport(String version, String link, long uptimeSeconds, List<BoardStatus> boards,
        List<ForwardState> forwards, Jvm jvm) {

    /** A configured forward and the board that holds it now (null: waiting for a board). */
    public record ForwardState(String spec, Integer boardId) {
    }

    public record Jvm(long heapUsedBytes, long heapCommittedBytes, int threads, boolean gcRequested) {
    }
}
