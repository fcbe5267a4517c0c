// qbnet's configuration files: one setting a line, the long flag of a command
// without its dashes ("mtu = 1500", "forward = tcp:2222:22", a repeatable
// flag once a line), served to picocli as default values, so flags given on
// the command line win. Unknown keys and bad values name the file and line.
package dev.qbkit.qbnet.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

public final class ConfigFile implements CommandLine.IDefaultValueProvider {
    /** A file larger than this is not a qbnet configuration. */
    static final int MAX_SIZE = 1 << 20;
    /** Flags that choose the configuration or print and exit: never settings. */
    private static final List<String> NOT_SETTINGS = List.of("config", "no-config", "help", "version");
    private static final Pattern LINE = Pattern.compile("\\s*([A-Za-z0-9][A-Za-z0-9-]*)\\s*(?:=\\s*(.*?))?\\s*");
    private static final Pattern FLAG_IN_MESSAGE = Pattern.compile("--([a-z0-9][a-z0-9-]*)");

    /** A bad configuration file: the message names the file and line. */
    public static final class ConfigError extends Exception {
        ConfigError(String message) {
            super(message, null, false, false);
        }
    }

    /** What the command line says about configuration files. */
    public record Selection(boolean none, Path explicit) {
        /** Finds --no-config and --config FILE (or --config=FILE) among the raw arguments. */
        public static Selection of(String... args) {
            boolean none = false;
            Path explicit = null;
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--"))
                    break;
                if (args[i].equals("--no-config"))
                    none = true;
                else if (args[i].equals("--config") && i + 1 < args.length)
                    explicit = Path.of(args[++i]);
                else if (args[i].startsWith("--config="))
                    explicit = Path.of(args[i].substring("--config=".length()));
            }
            return new Selection(none, explicit);
        }
    }

    /** One key's values (several for a repeatable flag) and the line that set it. */
    record Setting(String key, List<String> values, Path file, int line) {
    }

    private final Map<String, Setting> settings;
    private final List<Path> files;
    private final List<String> warnings;

    private ConfigFile(Map<String, Setting> settings, List<Path> files, List<String> warnings) {
        this.settings = settings;
        this.files = files;
        this.warnings = warnings;
    }

    /** No configuration at all (--no-config). */
    public static ConfigFile empty() {
        return new ConfigFile(Map.of(), List.of(), List.of());
    }

    /** Default files that were there but could not be read, one line each. */
    public List<String> warnings() {
        return warnings;
    }

    /**
     * Reads the configuration the command line selects: nothing with
     * --no-config, only FILE with --config FILE (which must exist), else
     * {@code defaults} in order, missing ones skipped; a key in a later file
     * replaces that key of an earlier one. Keys are checked against every
     * option of the command tree under {@code root}.
     */
    public static ConfigFile load(CommandLine root, Selection selection, List<Path> defaults) throws ConfigError {
        if (selection.none())
            return empty();
        Map<String, OptionSpec> known = knownKeys(root);
        Map<String, Setting> merged = new LinkedHashMap<>();
        List<Path> read = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (Path file : selection.explicit() != null ? List.of(selection.explicit()) : defaults) {
            String text;
            try {
                text = read(file);
            } catch (NoSuchFileException e) {
                if (selection.explicit() != null)
                    throw new ConfigError("--config " + file + ": no such file");
                continue;
            } catch (java.nio.file.AccessDeniedException e) {
                // A default file this user may not read (another user's HOME, as git does): skipped, said once.
                if (selection.explicit() != null)
                    throw new ConfigError("--config " + file + ": permission denied");
                warnings.add("cannot read " + file + ": permission denied; skipped");
                continue;
            } catch (IOException e) {
                throw new ConfigError("cannot read the configuration file " + file + ": " + e.getMessage()
                        + (selection.explicit() != null ? "" : " (fix its permissions, or run with --no-config)"));
            }
            merged.putAll(parse(text, file, known));
            read.add(file);
        }
        return new ConfigFile(merged, List.copyOf(read), List.copyOf(warnings));
    }

    private static String read(Path file) throws IOException {
        if (Files.isDirectory(file))
            throw new IOException("is a directory");
        byte[] bytes;
        try (var in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_SIZE + 1);
        }
        if (bytes.length > MAX_SIZE)
            throw new IOException("larger than " + (MAX_SIZE >> 10) + " KiB: not a qbnet configuration file");
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Every setting a file may hold: the long names of the visible options of all commands. */
    static Map<String, OptionSpec> knownKeys(CommandLine root) {
        Map<String, OptionSpec> keys = new LinkedHashMap<>();
        collect(root, keys);
        return keys;
    }

    private static void collect(CommandLine cmd, Map<String, OptionSpec> keys) {
        for (OptionSpec option : cmd.getCommandSpec().options()) {
            String key = key(option);
            if (!option.hidden() && key != null && !NOT_SETTINGS.contains(key))
                keys.putIfAbsent(key, option);
        }
        for (CommandLine sub : cmd.getSubcommands().values())
            collect(sub, keys);
    }

    /** An option's key: its long name without "--" (null when it has none). */
    private static String key(OptionSpec option) {
        String name = option.longestName();
        return name.startsWith("--") ? name.substring(2) : null;
    }

    /** Parses one file's text; pure, so the grammar is tested apart from the disk. */
    static Map<String, Setting> parse(String text, Path file, Map<String, OptionSpec> known) throws ConfigError {
        Map<String, Setting> out = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int number = i + 1;
            String line = lines[i];
            if (i == 0 && line.startsWith("\uFEFF"))
                line = line.substring(1);
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";"))
                continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches())
                throw error(file, number, "'" + trimmed + "' is not KEY = VALUE (KEY is a long flag without '--', "
                        + "e.g. 'mtu = 1500')");
            String key = m.group(1).toLowerCase(Locale.ROOT);
            String value = m.group(2);
            if (NOT_SETTINGS.contains(key))
                throw error(file, number, "'" + key + "' cannot be set in a configuration file");
            OptionSpec option = known.get(key);
            if (option == null)
                throw error(file, number, "unknown setting '" + key + "' (settings are the long flags of the qbnet "
                        + "commands without '--', as 'qbnet run --help' lists them)");
            boolean flag = option.arity().max() == 0;
            if (flag) {
                if (value == null || value.isEmpty())
                    value = "true";
                String v = value.toLowerCase(Locale.ROOT);
                if (!v.equals("true") && !v.equals("false"))
                    throw error(file, number, "'" + key + "' is true or false, not '" + value + "'");
                value = v;
            } else if (value == null || value.isEmpty()) {
                throw error(file, number, "'" + key + "' needs a value: " + key + " = " + option.paramLabel());
            }
            Setting before = out.get(key);
            if (before != null && !option.isMultiValue())
                throw error(file, number, "'" + key + "' is set twice (also on line " + before.line()
                        + "); it takes one value");
            List<String> values = new ArrayList<>(before == null ? List.of() : before.values());
            values.add(value);
            out.put(key, new Setting(key, List.copyOf(values), file, before == null ? number : before.line()));
        }
        return out;
    }

    private static ConfigError error(Path file, int line, String what) {
        return new ConfigError(file + " line " + line + ": " + what);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option))
            return null;
        String key = key(option);
        Setting s = key == null ? null : settings.get(key);
        if (s == null)
            return null;
        // picocli interpolates ${...} in defaults: a value is taken as written.
        return String.join(",", s.values()).replace("${", "$${");
    }

    /**
     * Where a bad value came from, as " (FILE line N)", when the error is
     * about an option the configuration set and the command line did not;
     * else "". {@code args} are the raw command-line arguments.
     */
    public String origin(ParameterException e, String... args) {
        String key = null;
        if (e.getArgSpec() instanceof OptionSpec option)
            key = key(option);
        if (key == null && e.getMessage() != null) {
            Matcher m = FLAG_IN_MESSAGE.matcher(e.getMessage());
            while (key == null && m.find())
                if (settings.containsKey(m.group(1)))
                    key = m.group(1);
        }
        Setting s = key == null ? null : settings.get(key);
        if (s == null)
            return "";
        for (String a : args)
            if (a.equals("--" + key) || a.startsWith("--" + key + "="))
                return "";
        return " (" + s.file() + " line " + s.line() + ")";
    }

    /** The files that were read, in order. */
    public List<Path> files() {
        return files;
    }

    /** How many keys are set. */
    public int size() {
        return settings.size();
    }
}
