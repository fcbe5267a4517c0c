// qbnet status --watch against a control server in this JVM: blocks one after
// another when stdout is not a terminal, rates over each interval, and a
// clean exit 0 when qbnet goes away; the terminal frame's escape codes.
package dev.qbkit.qbnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.Main;
import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.control.ControlRequest;
import dev.qbkit.qbnet.control.ControlServer;
import dev.qbkit.qbnet.control.StatusReport;

class StatusWatchTest {
    @TempDir
    Path dir;

    static StatusReport report(long fromBoard, long toBoard) {
        BoardStatus b = new BoardStatus(1, "QB-1", "qbnetd", "unix:x", "active", 1, 1500, 9, null,
                new BoardStatus.Flows(0, Map.of(), 0, 0, 0, 1 << 20),
                new BoardStatus.Traffic(fromBoard, toBoard, 0, 0, 7, 7), Map.of(), List.of());
        return new StatusReport("0.1.0", "unix:x", 10, List.of(b), List.of(), new StatusReport.Jvm(1, 2, 3, false));
    }

    @Test
    void ratesAreOverTheIntervalBetweenTwoReports() {
        BoardStatus now = report(3_000_000, 1_000_000).boards().getFirst();
        double[] r = StatusCommand.rates(now, report(1_000_000, 500_000), 2.0);
        assertEquals(1_000_000, r[0], 1e-9);
        assertEquals(250_000, r[1], 1e-9);
        r = StatusCommand.rates(now, null, 0);
        assertEquals(7, r[0], 1e-9, "the first block shows the driver's last second");
        r = StatusCommand.rates(now, report(5_000_000, 0), 1.0);
        assertEquals(7, r[0], 1e-9, "counters that went back (another board with the same id) are not a rate");
    }

    @Test
    void aTerminalFrameRedrawsInPlace() {
        assertEquals("\033[H\033[2Ja\033[K\nb\033[K\n\033[J", StatusCommand.redraw("a\nb\n", true));
        assertEquals("\033[Ha\033[K\n\033[J", StatusCommand.redraw("a\n", false));
    }

    @Test
    void watchPrintsBlocksUntilQbnetStops() throws Exception {
        Path socket = dir.resolve("control.sock");
        AtomicInteger served = new AtomicInteger();
        ControlServer server = new ControlServer(socket, request -> {
            int n = served.incrementAndGet();
            return ControlRequest.Reply.of(report(n * 1_000_000L, n * 10_000L));
        });
        server.start();
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> Main.execute("status", "--no-config",
                    "--watch", "--interval", "0.2", "--control", socket.toString()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (served.get() < 3 && System.nanoTime() < deadline)
                Thread.sleep(20);
            server.close();
            assertEquals(0, code.get(20, TimeUnit.SECONDS), "qbnet went away: a clean exit");
        } finally {
            System.setOut(oldOut);
            server.close();
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(!text.contains("\033["), "no escape codes when stdout is not a terminal");
        List<String> blocks = List.of(text.split("\n\n"));
        assertTrue(blocks.size() >= 3, text);
        assertTrue(blocks.getFirst().contains("every 0.2 s") && blocks.getFirst().contains("board 1: QB-1"), text);
        assertTrue(text.strip().endsWith("qbnet stopped (" + socket + " no longer answers)"), text);
    }
}
