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
        List<String> forwards) {

    public record Flows(int tcp, Map<String, Integer> tcpByState, int udp, int dnsInFlight, long bufferedBytes,
            long bufferLimitBytes) {
    }

    public record Traffic(long bytesFromBoard, long bytesToBoard, long bundlesFromBoard, long bundlesToBoard,
            double bytesPerSecondFromBoard, double bytesPerSecondToBoard) {
    }
}
