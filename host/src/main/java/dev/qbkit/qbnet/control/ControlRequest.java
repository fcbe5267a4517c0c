// The control protocol between `qbnet status|forward` and a running
// `qbnet run`: one JSON object per line each way, one exchange per connection.
package dev.qbkit.qbnet.control;

public record ControlRequest(String command, String spec, boolean gc) {
    public static final String STATUS = "status";
    public static final String FORWARD_ADD = "forward-add";
    public static final String FORWARD_REMOVE = "forward-remove";
    public static final String FORWARD_LIST = "forward-list";
    /** The metrics in Prometheus text format, in {@link Reply#text()}. */
    public static final String METRICS = "metrics";

    /** The reply: ok with a status, a list or a text, or an error line for the user. */
    public record Reply(boolean ok, String error, StatusReport status, java.util.List<String> forwards, String text) {
        public static Reply failed(String error) {
            return new Reply(false, error, null, null, null);
        }

        public static Reply of(StatusReport status) {
            return new Reply(true, null, status, null, null);
        }

        public static Reply of(java.util.List<String> forwards) {
            return new Reply(true, null, null, forwards, null);
        }

        public static Reply of(String text) {
            return new Reply(true, null, null, null, text);
        }
    }
}
