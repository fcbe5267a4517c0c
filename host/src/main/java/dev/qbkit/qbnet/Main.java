// Entry point of the qbnet host driver: the picocli command tree, and the
// rule that errors are one clear line plus a non-zero exit code.
package dev.qbkit.qbnet;

import dev.qbkit.qbnet.cli.CliError;
import dev.qbkit.qbnet.cli.ConfigFile;
import dev.qbkit.qbnet.cli.ConfigOptions;
import dev.qbkit.qbnet.cli.LinkTestCommand;
import dev.qbkit.qbnet.cli.ListCommand;
import dev.qbkit.qbnet.cli.Logging;
import dev.qbkit.qbnet.cli.ForwardCommand;
import dev.qbkit.qbnet.cli.RunCommand;
import dev.qbkit.qbnet.cli.StatusCommand;
import dev.qbkit.qbnet.platform.ConfigPaths;
import dev.qbkit.qbnet.platform.Journal;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "qbnet", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        subcommands = { RunCommand.class, StatusCommand.class, ForwardCommand.class, ListCommand.class,
                LinkTestCommand.class, CommandLine.HelpCommand.class },
        description = { "USB networking for qbkit boards: each attached board reaches this host's network",
                "through a userspace NAT. No host driver or network setup is needed." })
public final class Main implements Runnable {
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] { "qbnet " + Version.get() + " (link protocol 1, Java " + Runtime.version() + ")" };
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ConfigOptions configOptions;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: try 'qbnet run --help'");
    }

    public static void main(String[] args) {
        if (Journal.stderrIsJournal())
            Logging.toJournal();
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        ConfigFile config;
        try {
            config = ConfigFile.load(cli, ConfigFile.Selection.of(args), ConfigPaths.defaults());
        } catch (ConfigFile.ConfigError e) {
            cli.getErr().println("qbnet: " + e.getMessage() + " (fix it, or run with --no-config)");
            cli.getErr().flush();
            return 2;
        }
        for (String warning : config.warnings())
            cli.getErr().println("qbnet: warning: " + warning);
        ConfigOptions.setLoaded(config);
        cli.setDefaultValueProvider(config);
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("qbnet: " + e.getMessage() + config.origin(e, args));
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CliError) {
                cmd.getErr().println("qbnet: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
