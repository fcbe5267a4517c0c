// `qbnet status`: what the running driver serves: boards, flows, traffic,
// drops and their reasons, forwards; --json for scripts.
package dev.qbkit.qbnet.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.GsonBuilder;

import dev.qbkit.qbnet.board.BoardStatus;
import dev.qbkit.qbnet.control.ControlClient;
import dev.qbkit.qbnet.control.ControlRequest;
import dev.qbkit.qbnet.control.StatusReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Show the boards the running 'qbnet run' serves: links, flows, traffic, drops, forwards.")
public final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions configOptions;

    @Mixin
    ControlOptions control;

    @Option(names = "--json", description = "Print the status as JSON, for scripts.")
    boolean json;

    @Option(names = "--gc", hidden = true, description = "Collect garbage first, so heap figures show live data only.")
    boolean gc;

    @Override
    public Integer call() {
        ControlRequest.Reply reply;
        try {
            reply = ControlClient.call(control.path(), new ControlRequest(ControlRequest.STATUS, null, gc));
        } catch (IOException e) {
            throw new CliError(e.getMessage());
        }
        if (!reply.ok())
            throw new CliError(reply.error());
        PrintWriter out = spec.commandLine().getOut();
        if (json)
            out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(reply.status()));
        else
            print(out, reply.status());
        out.flush();
        return 0;
    }

    private static void print(PrintWriter out, StatusReport s) {
        out.printf("qbnet %s on %s, up %s, heap %s%n", s.version(), s.link(), duration(s.uptimeSeconds()),
                bytes(s.jvm().heapUsedBytes()));
        if (s.boards().isEmpty())
            out.println("no boards attached");
        for (BoardStatus b : s.boards()) {
            out.printf("board %d: %s (%s) %s, protocol %d, MTU %d, %s, up %s%s%n", b.id(),
                    b.serial() == null ? "(no serial yet)" : b.serial(), b.software() == null ? "?" : b.software(),
                    b.link(), b.protocol(), b.mtu(), b.state(), duration(b.uptimeSeconds()),
                    b.keepaliveRttMs() == null ? "" : String.format(", keepalive RTT %.2f ms", b.keepaliveRttMs()));
            BoardStatus.Flows f = b.flows();
            out.printf("  flows: %d tcp %s, %d udp, %d dns queries; buffered %s of %s%n", f.tcp(), f.tcpByState(), f.udp(),
                    f.dnsInFlight(), bytes(f.bufferedBytes()), bytes(f.bufferLimitBytes()));
            BoardStatus.Traffic t = b.traffic();
            out.printf("  traffic: from board %s (%s/s), to board %s (%s/s)%n", bytes(t.bytesFromBoard()),
                    bytes((long) t.bytesPerSecondFromBoard()), bytes(t.bytesToBoard()), bytes((long) t.bytesPerSecondToBoard()));
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
