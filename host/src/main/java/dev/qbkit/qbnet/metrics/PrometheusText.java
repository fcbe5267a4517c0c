// The Prometheus text exposition format (version 0.0.4), written: a metric
// family is "# HELP", "# TYPE" and its samples, together; label values and
// help texts escaped as the format says (a board's serial is the board's to
// choose, so it may hold quotes, backslashes or newlines).
package dev.qbkit.qbnet.metrics;

import java.util.regex.Pattern;

public final class PrometheusText {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private final StringBuilder out = new StringBuilder();
    private String family;

    /** Starts a family of samples named {@code name}; {@code type} is counter or gauge. */
    public PrometheusText family(String name, String type, String help) {
        if (!METRIC_NAME.matcher(name).matches())
            throw new IllegalArgumentException("not a metric name: " + name);
        if (type.equals("counter") && !name.endsWith("_total"))
            throw new IllegalArgumentException("a counter's name ends in _total: " + name);
        family = name;
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample of the current family: {@code labels} are name, value, name, value... */
    public PrometheusText sample(double value, String... labels) {
        if (family == null)
            throw new IllegalStateException("a sample before its family");
        if (labels.length % 2 != 0)
            throw new IllegalArgumentException("labels come in name/value pairs");
        for (int i = 0; i < labels.length; i += 2)
            if (!LABEL_NAME.matcher(labels[i]).matches() || labels[i].startsWith("__"))
                throw new IllegalArgumentException("not a label name: " + labels[i]);
        out.append(family);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0)
                    out.append(',');
                out.append(labels[i]).append("=\"").append(escapeLabel(labels[i + 1])).append('"');
            }
            out.append('}');
        }
        return append(value);
    }

    private PrometheusText append(double value) {
        out.append(' ');
        if (Double.isNaN(value))
            out.append("NaN");
        else if (Double.isInfinite(value))
            out.append(value > 0 ? "+Inf" : "-Inf");
        else if (value == Math.rint(value) && Math.abs(value) < 1e15)
            out.append((long) value);
        else
            out.append(value);
        out.append('\n');
        return this;
    }

    static String escapeLabel(String value) {
        return (value == null ? "" : value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String escapeHelp(String help) {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
