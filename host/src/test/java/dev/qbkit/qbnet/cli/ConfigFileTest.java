// qbnet.conf: the grammar, every kind of bad line named by file and line, the
// per-OS paths, and through Main.execute that settings reach the commands,
// flags win, --config replaces the default files and --no-config reads none.
package dev.qbkit.qbnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.Main;
import dev.qbkit.qbnet.platform.ConfigPaths;
import dev.qbkit.qbnet.platform.Platform;
import picocli.CommandLine;

class ConfigFileTest {
    @TempDir
    Path dir;

    private static final Path FILE = Path.of("/etc/qbnet/qbnet.conf");

    private static Map<String, ConfigFile.Setting> parse(String text) throws ConfigFile.ConfigError {
        return ConfigFile.parse(text, FILE, ConfigFile.knownKeys(new CommandLine(new Main())));
    }

    private static String error(String text) {
        return assertThrows(ConfigFile.ConfigError.class, () -> parse(text)).getMessage();
    }

    @Test
    void readsSettingsCommentsAndRepeatedFlags() throws Exception {
        Map<String, ConfigFile.Setting> s = parse("""
                \uFEFF# qbnet settings
                ; also a comment

                mtu = 1500
                forward=tcp:2222:22
                  forward = udp:5353:53
                allow-host-loopback
                no-ipv6 = False
                Log-Level = debug\r
                """);
        assertEquals(List.of("1500"), s.get("mtu").values());
        assertEquals(List.of("tcp:2222:22", "udp:5353:53"), s.get("forward").values());
        assertEquals(5, s.get("forward").line(), "a repeated flag is named by its first line");
        assertEquals(List.of("true"), s.get("allow-host-loopback").values());
        assertEquals(List.of("false"), s.get("no-ipv6").values());
        assertEquals(List.of("debug"), s.get("log-level").values());
    }

    @Test
    void everyBadLineIsNamedByFileAndLine() {
        assertEquals("/etc/qbnet/qbnet.conf line 2: unknown setting 'mut' (settings are the long flags of the qbnet "
                + "commands without '--', as 'qbnet run --help' lists them)", error("mtu = 1500\nmut = 1400\n"));
        assertTrue(error("# x\n\nmtu 1500\n").startsWith("/etc/qbnet/qbnet.conf line 3: 'mtu 1500' is not KEY = VALUE"));
        assertEquals("/etc/qbnet/qbnet.conf line 1: 'mtu' needs a value: mtu = BYTES", error("mtu =\n"));
        assertEquals("/etc/qbnet/qbnet.conf line 3: 'mtu' is set twice (also on line 1); it takes one value",
                error("mtu = 1500\nforward = tcp:1:2\nmtu = 1400\n"));
        assertEquals("/etc/qbnet/qbnet.conf line 1: 'no-ipv6' is true or false, not 'yes'", error("no-ipv6 = yes\n"));
        assertEquals("/etc/qbnet/qbnet.conf line 1: 'config' cannot be set in a configuration file",
                error("config = /tmp/x\n"));
        assertTrue(error("--mtu = 1500\n").contains("line 1: '--mtu = 1500' is not KEY = VALUE"));
        assertTrue(error("test-drop-frames = 0.1\n").contains("unknown setting 'test-drop-frames'"),
                "hidden test flags are not settings");
    }

    @Test
    void pathsPerOs() {
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", "/x/config", "APPDATA", "C:\\Users\\u\\AppData\\Roaming",
                "PROGRAMDATA", "C:\\ProgramData");
        assertEquals(List.of(FILE, Path.of("/x/config/qbnet/qbnet.conf")),
                ConfigPaths.defaults(Platform.Os.LINUX, env::get, "/home/u"));
        assertEquals(List.of(FILE, Path.of("/home/u/.config/qbnet/qbnet.conf")),
                ConfigPaths.defaults(Platform.Os.LINUX, k -> k.equals("XDG_CONFIG_HOME") ? "relative" : null, "/home/u"));
        assertEquals(List.of(FILE, Path.of("/Users/u/Library/Application Support/qbnet/qbnet.conf")),
                ConfigPaths.defaults(Platform.Os.MACOS, env::get, "/Users/u"));
        assertEquals(List.of(Path.of("C:\\ProgramData", "qbnet", "qbnet.conf"),
                Path.of("C:\\Users\\u\\AppData\\Roaming", "qbnet", "qbnet.conf")),
                ConfigPaths.defaults(Platform.Os.WINDOWS, env::get, "C:\\Users\\u"));
    }

    @Test
    void theUserFileOverridesTheSystemFileKeyByKey() throws Exception {
        Path system = Files.writeString(dir.resolve("system.conf"), "mtu = 1500\nforward = tcp:1:2\nforward = tcp:3:4\n");
        Path user = Files.writeString(dir.resolve("user.conf"), "forward = tcp:5:6\n");
        CommandLine cli = new CommandLine(new Main());
        ConfigFile config = ConfigFile.load(cli, ConfigFile.Selection.of("run"),
                List.of(system, dir.resolve("missing.conf"), user));
        assertEquals(List.of(system, user), config.files());
        var run = cli.getSubcommands().get("run").getCommandSpec();
        assertEquals("1500", config.defaultValue(run.findOption("--mtu")));
        assertEquals("tcp:5:6", config.defaultValue(run.findOption("--forward")), "the user's list replaces the system's");
    }

    @Test
    void aDefaultFileThisUserMayNotReadIsSkippedWithAWarning() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(!"root".equals(System.getProperty("user.name")),
                "root reads every file");
        Path locked = Files.writeString(dir.resolve("locked.conf"), "mtu = 1500\n");
        Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
        ConfigFile config = ConfigFile.load(new CommandLine(new Main()), ConfigFile.Selection.of("run"), List.of(locked));
        assertEquals(List.of(), config.files());
        assertEquals(List.of("cannot read " + locked + ": permission denied; skipped"), config.warnings());
    }

    /** Runs qbnet in this JVM; returns exit code and stderr. */
    private static Result qbnet(String... args) {
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, err.toString(StandardCharsets.UTF_8).strip(), out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    record Result(int code, String err, String out) {
    }

    @Test
    void settingsReachTheCommandAndFlagsWin() throws IOException {
        Path conf = Files.writeString(dir.resolve("qbnet.conf"), "control = " + dir.resolve("from-config.sock") + "\n");
        Result r = qbnet("status", "--config", conf.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("from-config.sock"), r.err());
        r = qbnet("status", "--config=" + conf, "--control", dir.resolve("from-flag.sock").toString());
        assertTrue(r.err().contains("from-flag.sock") && !r.err().contains("from-config.sock"), r.err());
    }

    @Test
    void aBadValueNamesTheFileAndLine() throws IOException {
        Path conf = Files.writeString(dir.resolve("qbnet.conf"), "# mine\nmtu = abc\n");
        Result r = qbnet("run", "--config", conf.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().lines().findFirst().orElseThrow().startsWith("qbnet: ")
                && r.err().contains("--mtu") && r.err().contains(conf + " line 2"), r.err());
        conf = Files.writeString(dir.resolve("range.conf"), "mtu = 100\n");
        r = qbnet("run", "--config", conf.toString());
        assertTrue(r.err().contains("--mtu 100 must be within 576..65535 (" + conf + " line 1)"), r.err());
        // The same bad value from the command line names no file.
        r = qbnet("run", "--config", conf.toString(), "--mtu", "100");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("qbnet: --mtu 100 must be within 576..65535\n"), r.err());
    }

    @Test
    void anUnknownKeyStopsEveryCommandWithOneLine() throws IOException {
        Path conf = Files.writeString(dir.resolve("qbnet.conf"), "mtu = 1500\nfrobnicate = yes\n");
        Result r = qbnet("status", "--config", conf.toString());
        assertEquals(2, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("qbnet: " + conf + " line 2: unknown setting 'frobnicate'"), r.err());
        assertTrue(r.err().endsWith("(fix it, or run with --no-config)"), r.err());
    }

    @Test
    void aMissingConfigFileIsAnErrorOnlyWhenNamed() {
        Result r = qbnet("status", "--config", dir.resolve("nope.conf").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--config " + dir.resolve("nope.conf") + ": no such file"), r.err());
    }

    @Test
    void noConfigReadsNothing() throws IOException {
        Path conf = Files.writeString(dir.resolve("qbnet.conf"), "bogus = 1\n");
        Result r = qbnet("status", "--no-config", "--config", conf.toString(), "--control",
                dir.resolve("x.sock").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("x.sock"), r.err());
    }

    @Test
    void helpShowsTheConfiguredDefault() throws IOException {
        Path conf = Files.writeString(dir.resolve("qbnet.conf"), "mtu = 9000\n");
        Result r = qbnet("run", "--config", conf.toString(), "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("(default: 9000)"), r.out());
        assertTrue(r.out().contains("--config=FILE") && r.out().contains("--no-config"), r.out());
    }
}
