// What `qbnet status` shows of one board, taken on the board's loop thread.
package dev.qbkit.qbnet.control;

import java.util.List;
import java.util.Map;

public record BoardStatus(
        int id,
        String serial,
        String software,
        String link,
        String state,
        int protocol,
        int mtu,
        long uptimeSeconds,
        Double keepaliveRttMs,
        Flows flows,
        Traffic traffic,
        Map<String, Long> drops,
        List<String> forwards,
        // Seconds until a held board's flows are reset; null when it is not held.
        Long heldSecondsLeft) {

    /** A board that is not held. */
    public BoardStatus(int id, String serial, String software, String link, String state, int protocol, int mtu,
            long uptimeSeconds, Double keepaliveRttMs, Flows flows, Traffic traffic, Map<String, Long> drops,
            List<String> forwards) {
        this(id, serial, software, link, state, protocol, mtu, uptimeSeconds, keepaliveRttMs, flows, traffic, drops,
                forwards, null);
    }

    public record Flows(int tcp, Map<String, Integer> tcpByState, int udp, int dnsInFlight, long bufferedBytes,
            long bufferLimitBytes) {
    }

    public record Traffic(long bytesFromBoard, long bytesToBoard, long bundlesFromBoard, long bundlesToBoard,
            double bytesPerSecondFromBoard, double bytesPerSecondToBoard) {
    }
}
