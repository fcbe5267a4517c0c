// A strict reader of the Prometheus text format 0.0.4, written from the
// format's description (not from our writer): it rejects anything a
// Prometheus server would, and a few things it tolerates that we never
// should write (a family split in two, a counter not named _total).
package dev.qbkit.qbnet.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

final class ExpositionParser {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern VALUE = Pattern.compile("NaN|[+-]Inf|[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private ExpositionParser() {
    }

    static List<Sample> parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n"))
            throw new AssertionError("the last line has no newline");
        List<Sample> samples = new ArrayList<>();
        Map<String, String> types = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Set<String> closed = new HashSet<>();
        String current = null;
        int number = 0;
        for (String line : text.split("\n")) {
            number++;
            String at = "line " + number + " '" + line + "': ";
            if (line.startsWith("#")) {
                Matcher h = HELP.matcher(line);
                Matcher t = TYPE.matcher(line);
                String name;
                if (h.matches()) {
                    name = h.group(1);
                    checkHelpEscapes(h.group(2), at);
                    if (!helped.add(name))
                        throw new AssertionError(at + "a second HELP");
                } else if (t.matches()) {
                    name = t.group(1);
                    if (types.put(name, t.group(2)) != null)
                        throw new AssertionError(at + "a second TYPE");
                    if (t.group(2).equals("counter") && !name.endsWith("_total"))
                        throw new AssertionError(at + "a counter not named _total");
                } else if (line.startsWith("# HELP") || line.startsWith("# TYPE")) {
                    throw new AssertionError(at + "malformed HELP or TYPE");
                } else {
                    continue; // a plain comment
                }
                if (samples.stream().anyMatch(s -> s.name().equals(name)))
                    throw new AssertionError(at + "HELP or TYPE after the family's samples");
                current = open(current, name, closed, at);
                continue;
            }
            if (line.isBlank())
                throw new AssertionError(at + "an empty line");
            Sample s = sample(line, at);
            if (types.get(s.name()) == null)
                throw new AssertionError(at + "a sample without a TYPE");
            current = open(current, s.name(), closed, at);
            samples.add(s);
        }
        Set<String> seen = new HashSet<>();
        for (Sample s : samples)
            if (!seen.add(s.name() + s.labels()))
                throw new AssertionError("the same series twice: " + s.name() + s.labels());
        return samples;
    }

    private static String open(String current, String name, Set<String> closed, String at) {
        if (name.equals(current))
            return current;
        if (closed.contains(name))
            throw new AssertionError(at + "family " + name + " appears in two places");
        if (current != null)
            closed.add(current);
        return name;
    }

    private static Sample sample(String line, String at) {
        Matcher n = NAME.matcher(line);
        if (!n.lookingAt())
            throw new AssertionError(at + "no metric name");
        String name = n.group();
        int i = n.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                Matcher l = LABEL.matcher(line).region(i, line.length());
                if (!l.lookingAt())
                    throw new AssertionError(at + "a bad label name at " + i);
                String label = l.group();
                i = l.end();
                if (line.charAt(i) != '=' || line.charAt(i + 1) != '"')
                    throw new AssertionError(at + "label " + label + " without =\"");
                i += 2;
                StringBuilder value = new StringBuilder();
                while (line.charAt(i) != '"') {
                    char c = line.charAt(i++);
                    if (c == '\\') {
                        char e = line.charAt(i++);
                        value.append(switch (e) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new AssertionError(at + "a bad escape \\" + e);
                        });
                    } else {
                        value.append(c);
                    }
                }
                i++;
                if (labels.put(label, value.toString()) != null)
                    throw new AssertionError(at + "label " + label + " twice");
                if (line.charAt(i) == ',')
                    i++;
                else if (line.charAt(i) != '}')
                    throw new AssertionError(at + "expected , or } at " + i);
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ')
            throw new AssertionError(at + "no space before the value");
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2 || !VALUE.matcher(rest[0]).matches())
            throw new AssertionError(at + "a bad value '" + rest[0] + "'");
        if (rest.length == 2 && !rest[1].matches("-?\\d+"))
            throw new AssertionError(at + "a bad timestamp");
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(rest[0]);
        };
        return new Sample(name, labels, value);
    }

    private static void checkHelpEscapes(String help, String at) {
        for (int i = 0; i < help.length(); i++)
            if (help.charAt(i) == '\\') {
                char e = i + 1 < help.length() ? help.charAt(i + 1) : ' ';
                if (e != '\\' && e != 'n')
                    throw new AssertionError(at + "a bad escape in HELP");
                i++;
            }
    }
}
