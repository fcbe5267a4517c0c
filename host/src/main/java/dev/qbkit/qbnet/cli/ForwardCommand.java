// `qbnet forward add|remove|list`: changes the port forwards of the running
// driver through its control socket.
package dev.qbkit.qbnet.cli;

import java.io.IOException;
import java.util.concurrent.Callable;

import dev.qbkit.qbnet.control.ControlClient;
import dev.qbkit.qbnet.control.ControlRequest;
import dev.qbkit.qbnet.forward.ForwardSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "forward", mixinStandardHelpOptions = true,
        description = { "Add, remove or list port forwards of the running 'qbnet run'.",
                "SPEC is [SERIAL/]tcp|udp:[BIND:]HOSTPORT:BOARDPORT, e.g. tcp:2222:22 (ssh -p 2222 localhost reaches",
                "the board's sshd); BIND defaults to 127.0.0.1; SERIAL picks one board when several are attached." })
public final class ForwardCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions configOptions;

    @Mixin
    ControlOptions control;

    @Parameters(index = "0", paramLabel = "add|remove|list", description = "What to do.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SPEC", description = "The forward (for add and remove).")
    String forward;

    @Override
    public Integer call() {
        String command = switch (action) {
            case "add" -> ControlRequest.FORWARD_ADD;
            case "remove" -> ControlRequest.FORWARD_REMOVE;
            case "list" -> ControlRequest.FORWARD_LIST;
            default -> throw new ParameterException(spec.commandLine(), "'" + action + "': use add, remove or list");
        };
        if (!action.equals("list")) {
            if (forward == null)
                throw new ParameterException(spec.commandLine(), "'forward " + action + "' needs a SPEC, e.g. tcp:2222:22");
            try {
                ForwardSpec.parse(forward);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        ControlRequest.Reply reply;
        try {
            reply = ControlClient.call(control.path(), new ControlRequest(command, forward, false));
        } catch (IOException e) {
            throw new CliError(e.getMessage());
        }
        if (!reply.ok())
            throw new CliError(reply.error());
        var out = spec.commandLine().getOut();
        if (reply.forwards() != null)
            for (String f : reply.forwards())
                out.println(f);
        out.flush();
        return 0;
    }
}
