// `qbnet status`: what the running driver serves: boards, flows, traffic,
// drops and their reasons, forwards; --json for scripts, --prometheus for
// metrics, --watch to refresh in place (rates over each interval) until
// Ctrl-C or until qbnet stops.
package dev.qbkit.qbnet.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.control.ControlClient;
import dev.qbkit.qbnet.control.ControlRequest;
import dev.qbkit.qbnet.control.StatusReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = { "Show the boards the running 'qbnet run' serves: links, flows, traffic, drops, forwards.",
                "With --watch, again every --interval seconds: redrawn in place on a terminal, one block after",
                "another otherwise; it ends on Ctrl-C (exit 130) or when qbnet stops (exit 0)." })
public final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions configOptions;

    @Mixin
    ControlOptions control;

    @Option(names = "--json", description = "Print the status as JSON, for scripts.")
    boolean json;

    @Option(names = "--prometheus", description = "Print qbnet's metrics in Prometheus text format (what 'qbnet run --metrics' serves).")
    boolean prometheus;

    @Option(names = "--watch", description = "Refresh until Ctrl-C or until qbnet stops, with rates over each interval "
            + "(with --json: one JSON object a line).")
    boolean watch;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
            description = "Seconds between refreshes with --watch, 0.2..3600 (default: ${DEFAULT-VALUE}).")
    double interval;

    @Option(names = "--gc", hidden = true, description = "Collect garbage first, so heap figures show live data only.")
    boolean gc;

    @Override
    public Integer call() throws InterruptedException {
        if (json && prometheus)
            throw new ParameterException(spec.commandLine(), "--json and --prometheus: choose one");
        if (watch && prometheus)
            throw new ParameterException(spec.commandLine(),
                    "--watch and --prometheus: a scraper polls 'qbnet run --metrics' itself; choose one");
        if (!(interval >= 0.2 && interval <= 3600))
            throw new ParameterException(spec.commandLine(), "--interval " + interval + " must be within 0.2..3600 seconds");
        PrintWriter out = spec.commandLine().getOut();
        if (watch)
            return watch(out, System.console() != null && System.console().isTerminal());
        ControlRequest.Reply reply = request(prometheus ? ControlRequest.METRICS : ControlRequest.STATUS);
        if (prometheus)
            out.print(reply.text());
        else if (json)
            out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(reply.status()));
        else
            out.print(render(reply.status(), null, 0));
        out.flush();
        return 0;
    }

    private ControlRequest.Reply request(String command) {
        ControlRequest.Reply reply;
        try {
            reply = ControlClient.call(control.path(), new ControlRequest(command, null, gc));
        } catch (IOException e) {
            throw new CliError(e.getMessage());
        }
        if (!reply.ok())
            throw new CliError(reply.error());
        return reply;
    }

    /** Status again and again until qbnet stops (exit 0) or the user stops us (Ctrl-C: the JVM exits 130). */
    int watch(PrintWriter out, boolean terminal) throws InterruptedException {
        long pause = Math.round(interval * 1000);
        StatusReport previous = null;
        long previousAt = 0;
        boolean first = true;
        var compact = new GsonBuilder().serializeNulls().create();
        while (true) {
            ControlRequest.Reply reply;
            try {
                reply = ControlClient.call(control.path(), new ControlRequest(ControlRequest.STATUS, null, gc));
            } catch (IOException e) {
                if (first)
                    throw new CliError(e.getMessage());
                out.println("qbnet stopped (" + control.path() + " no longer answers)");
                out.flush();
                return 0;
            }
            if (!reply.ok())
                throw new CliError(reply.error());
            long now = System.nanoTime();
            if (json) {
                out.println(compact.toJson(reply.status()));
            } else {
                String header = java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                        + " every " + seconds(interval) + " s" + (terminal ? ", Ctrl-C to stop" : "") + "\n";
                String block = header + render(reply.status(), previous, (now - previousAt) / 1e9);
                out.print(terminal ? redraw(block, first) : block + "\n");
            }
            out.flush();
            previous = reply.status();
            previousAt = now;
            first = false;
            Thread.sleep(pause);
        }
    }

    /**
     * One frame on a terminal: home the cursor (clear the screen the first
     * time), each line cleared to its end, and whatever the last frame left
     * below cleared, so nothing flickers and nothing stale stays.
     */
    static String redraw(String block, boolean first) {
        StringBuilder b = new StringBuilder(first ? "\033[H\033[2J" : "\033[H");
        String body = block.endsWith("\n") ? block.substring(0, block.length() - 1) : block;
        for (String line : body.split("\n", -1))
            b.append(line).append("\033[K\n");
        return b.append("\033[J").toString();
    }

    /** Bytes per second each way for {@code board}: over the interval since {@code previous}, else the driver's last second. */
    static double[] rates(BoardStatus board, StatusReport previous, double seconds) {
        if (previous != null && seconds > 0)
            for (BoardStatus p : previous.boards())
                if (p.id() == board.id() && p.traffic().bytesFromBoard() <= board.traffic().bytesFromBoard()
                        && p.traffic().bytesToBoard() <= board.traffic().bytesToBoard())
                    return new double[] { (board.traffic().bytesFromBoard() - p.traffic().bytesFromBoard()) / seconds,
                            (board.traffic().bytesToBoard() - p.traffic().bytesToBoard()) / seconds };
        return new double[] { board.traffic().bytesPerSecondFromBoard(), board.traffic().bytesPerSecondToBoard() };
    }

    static String render(StatusReport s, StatusReport previous, double seconds) {
        java.io.StringWriter text = new java.io.StringWriter();
        print(new PrintWriter(text), s, previous, seconds);
        return text.toString();
    }

    private static void print(PrintWriter out, StatusReport s, StatusReport previous, double seconds) {
        out.printf("qbnet %s on %s, up %s, heap %s%n", s.version(), s.link(), duration(s.uptimeSeconds()),
                bytes(s.jvm().heapUsedBytes()));
        if (s.boards().isEmpty())
            out.println("no boards attached");
        for (BoardStatus b : s.boards()) {
            out.printf("board %d: %s (%s) %s, protocol %d, MTU %d, %s, up %s%s%n", b.id(),
                    b.serial() == null ? "(no serial yet)" : b.serial(), b.software() == null ? "?" : b.software(),
                    b.link(), b.protocol(), b.mtu(),
                    b.heldSecondsLeft() == null ? b.state() : "held, " + b.heldSecondsLeft() + " s left",
                    duration(b.uptimeSeconds()),
                    b.keepaliveRttMs() == null ? "" : String.format(", keepalive RTT %.2f ms", b.keepaliveRttMs()));
            BoardStatus.Flows f = b.flows();
            out.printf("  flows: %d tcp %s, %d udp, %d dns queries; buffered %s of %s%n", f.tcp(), f.tcpByState(), f.udp(),
                    f.dnsInFlight(), bytes(f.bufferedBytes()), bytes(f.bufferLimitBytes()));
            BoardStatus.Traffic t = b.traffic();
            double[] rate = rates(b, previous, seconds);
            out.printf("  traffic: from board %s (%s/s), to board %s (%s/s)%n", bytes(t.bytesFromBoard()),
                    bytes((long) rate[0]), bytes(t.bytesToBoard()), bytes((long) rate[1]));
            if (b.drops().isEmpty())
                out.println("  drops: none");
            for (Map.Entry<String, Long> d : b.drops().entrySet())
                out.printf("  drop: %-45s %d%n", d.getKey(), d.getValue());
            for (String fw : b.forwards())
                out.printf("  forward: %s%n", fw);
        }
        for (StatusReport.ForwardState f : s.forwards())
            if (f.boardId() == null)
                out.printf("forward %s: waiting for a board%n", f.spec());
    }

    static String seconds(double s) {
        return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
    }

    static String bytes(long n) {
        if (n < 10 * 1024)
            return n + " B";
        if (n < 10L << 20)
            return (n >> 10) + " KiB";
        if (n < 10L << 30)
            return (n >> 20) + " MiB";
        return (n >> 30) + " GiB";
    }

    static String duration(long seconds) {
        if (seconds < 120)
            return seconds + " s";
        if (seconds < 7200)
            return seconds / 60 + " min";
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
    }
}
