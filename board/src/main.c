/* qbnetd entry point: command line (and `qbnetd status`), crash recovery,
 * TUN and link setup, the epoll loop (signals via signalfd, TUN, link fds,
 * the status socket, session timers) and an orderly shutdown that undoes
 * every change to the system. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "apply.h"
#include "clock.h"
#include "datapath.h"
#include "dns.h"
#include "epoll_ref.h"
#include "link.h"
#include "log.h"
#include "netlink.h"
#include "notify.h"
#include "options.h"
#include "routes.h"
#include "serial.h"
#include "state.h"
#include "stats.h"
#include "status.h"
#include "tun.h"
#include "version.h"

#define EVENTS_MAX 32

/* IPv6 can be configured on new interfaces (CAPS bit 0). */
static bool ipv6_available(void)
{
	char *data;
	ssize_t len = read_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", 64, &data);

	if (len < 0)
		return false;
	bool enabled = data[0] == '0';
	free(data);
	return enabled;
}

/* Adds sig to the signals read from the signalfd. SIGHUP, SIGINT and
 * SIGQUIT inherited as ignored (nohup; a background job of a script) stay
 * ignored, as in the classic signal(sig, SIG_IGN) != SIG_IGN idiom: a
 * blocked signal would be queued even though it is ignored. */
static void watch_signal(sigset_t *set, int sig, const char *name, bool unless_ignored)
{
	struct sigaction current;

	if (unless_ignored && !sigaction(sig, NULL, &current) && current.sa_handler == SIG_IGN) {
		info("%s is ignored (inherited, e.g. from nohup): it will not stop qbnetd", name);
		return;
	}
	sigaddset(set, sig);
}

static int signals_open(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	watch_signal(&set, SIGTERM, "SIGTERM", false);
	watch_signal(&set, SIGUSR1, "SIGUSR1", false);
	watch_signal(&set, SIGINT, "SIGINT", true);
	watch_signal(&set, SIGHUP, "SIGHUP", true);
	watch_signal(&set, SIGQUIT, "SIGQUIT", true);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Returns the terminating signal, or 0 to keep running. SIGHUP (the
 * terminal or session went away) and SIGQUIT get the same orderly teardown
 * as SIGTERM: their default action would leave the routes, resolv.conf and
 * the gadget behind. */
static int handle_signals(int fd)
{
	struct signalfd_siginfo info;

	while (read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		switch (info.ssi_signo) {
		case SIGUSR1:
			stats_log();
			break;
		case SIGINT:
		case SIGTERM:
		case SIGHUP:
		case SIGQUIT:
			return (int)info.ssi_signo;
		}
	}
	return 0;
}

static void recover(int nl, const char *state_dir)
{
	int routes = routes_recover(nl, state_dir);

	if (routes > 0)
		info("restored %d default route%s saved by a previous run", routes,
		     routes == 1 ? "" : "s");
	dns_recover(state_dir);
}

static int run(const struct options *options)
{
	char err_text[512], serial[SERIAL_MAX + 1], policy[32];
	const char *serial_source = "--serial";
	struct epoll_event events[EVENTS_MAX];
	struct apply apply;
	struct datapath dp;
	int stop_signal = 0;

	int signal_fd = signals_open();
	if (signal_fd < 0) {
		err("cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	int lock_fd = state_dir_open(options->state_dir, err_text, sizeof(err_text));
	if (lock_fd < 0) {
		err("%s", err_text);
		return 1;
	}
	int nl = nl_open(err_text, sizeof(err_text));
	if (nl < 0) {
		err("%s", err_text);
		return 1;
	}
	recover(nl, options->state_dir);

	if (options->has_serial)
		memcpy(serial, options->serial, sizeof(serial));
	else
		serial_detect(serial, &serial_source);
	route_policy_describe(&options->route, policy, sizeof(policy));
	char link_text[OPTIONS_LINK_PATH_MAX + 160];
	if (options->link_kind == LINK_KIND_USB && options->usb_function_only)
		snprintf(link_text, sizeof(link_text), "usb (FunctionFS ffs.%s in an existing gadget)",
			 options->usb_gadget);
	else if (options->link_kind == LINK_KIND_USB)
		snprintf(link_text, sizeof(link_text), "usb (gadget %s, %04x:%04x, UDC %s%s%s)",
			 options->usb_gadget, options->usb_vendor, options->usb_product,
			 options->usb_udc ? options->usb_udc : "first",
			 options->wait_udc ? ", waited for" : "", options->usb_acm ? ", with ACM" : "");
	else
		snprintf(link_text, sizeof(link_text), "unix:%s", options->link_path);
	info("qbnetd %s: serial %s (from %s), link %s, TUN %s, route mode %s, DNS %s%s%s, state %s",
	     QBNETD_VERSION, serial, serial_source, link_text, options->tun, policy,
	     dns_mode_name(options->dns_mode), options->dns_mode == DNS_FILE ? " " : "",
	     options->dns_mode == DNS_FILE ? options->resolv_conf : "", options->state_dir);

	struct tun_info tun;
	int tun_fd = tun_open(options->tun, &tun, err_text, sizeof(err_text));
	if (tun_fd < 0) {
		err("%s", err_text);
		return 1;
	}
	bool ipv6 = ipv6_available();
	if (!ipv6)
		info("IPv6 is disabled on this system: not offering IPv6 configuration");
	if (apply_init(&apply, nl, options->tun, &options->route, options->dns_mode,
		       options->resolv_conf, ipv6, options->state_dir, err_text, sizeof(err_text))) {
		err("%s", err_text);
		return 1;
	}
	const struct session_params params = {
		.max_bundle = options->max_bundle,
		.mtu_max = PROTO_MTU_MAX,
		.caps = (ipv6 ? PROTO_CAP_IPV6 : 0) | (tun.offload ? PROTO_CAP_OFFLOAD : 0),
		.serial = serial,
		.software = "qbnetd " QBNETD_VERSION,
	};

	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = epoll_ref(EPOLL_OWNER_SIGNAL, signal_fd) };
	if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &ev)) {
		err("cannot set up epoll: %s", strerror(errno));
		return 1;
	}
	if (datapath_init(&dp, epoll_fd, tun_fd, &tun, &apply, &params))
		return 1;
	char ffs_dir[PATH_MAX];
	if (options->usb_ffs)
		snprintf(ffs_dir, sizeof(ffs_dir), "%s", options->usb_ffs);
	else if (state_path(ffs_dir, sizeof(ffs_dir), options->state_dir, "ffs"))
		ffs_dir[0] = '\0';
	const struct gadget_config gadget = {
		.name = options->usb_gadget,
		.vendor = options->usb_vendor,
		.product = options->usb_product,
		.manufacturer = options->usb_manufacturer,
		.product_name = options->usb_product_name,
		.serial = serial,
		.ffs_dir = ffs_dir,
		.udc = options->usb_udc,
		.function = &usb_desc_qbnet,
		.acm = options->usb_acm,
		.function_only = options->usb_function_only,
		.wait_udc = options->wait_udc,
	};
	struct link *link = options->link_kind == LINK_KIND_USB ?
		link_usb_new(&gadget, options->max_bundle, options->usb_request_size,
			     &datapath_link_callbacks, &dp) :
		link_unix_new(options->link_path, options->max_bundle, &datapath_link_callbacks, &dp);
	if (!link) {
		err("cannot create the link: out of memory");
		return 1;
	}
	datapath_set_link(&dp, link);
	if (link->ops->start(link, epoll_fd)) {
		link->ops->stop(link);
		close(tun_fd);
		return 1;
	}
	/* `qbnetd status`: not fatal when it cannot listen, the daemon's job goes on. */
	const struct status_view status = {
		.version = QBNETD_VERSION,
		.serial = serial,
		.link = link_text,
		.tun = options->tun,
		.started_ms = clock_now_ms(),
		.link_up = &dp.link_up,
		.session = &dp.session,
		.stats = &stats,
	};
	char status_path[PATH_MAX];
	int status_fd = -1;
	if (state_path(status_path, sizeof(status_path), options->state_dir, STATUS_SOCKET_NAME))
		warn("no status socket: the state directory path is too long");
	else if ((status_fd = status_listen(status_path, err_text, sizeof(err_text))) < 0)
		warn("no status socket ('qbnetd status' will not work): %s", err_text);
	if (status_fd >= 0) {
		ev.data.u64 = epoll_ref(EPOLL_OWNER_STATUS, status_fd);
		if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, status_fd, &ev)) {
			warn("no status socket: epoll: %s", strerror(errno));
			close(status_fd);
			unlink(status_path);
			status_fd = -1;
		}
	}

	/* Ready: set up and waiting for the host, who may come much later. */
	if (options->pid_file) {
		int rc = pid_file_write(options->pid_file);
		if (rc)
			warn("cannot write the pid file %s: %s", options->pid_file, strerror(-rc));
	}
	notify("READY=1\nSTATUS=waiting for the host (link %s)", link_text);

	while (!stop_signal && !dp.tun_failed && !link->failed) {
		int n = epoll_wait(epoll_fd, events, EVENTS_MAX, datapath_timeout_ms(&dp));
		if (n < 0 && errno != EINTR) {
			err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t ref = events[i].data.u64;
			switch (epoll_ref_owner(ref)) {
			case EPOLL_OWNER_SIGNAL:
				stop_signal = handle_signals(signal_fd);
				break;
			case EPOLL_OWNER_TUN:
				datapath_tun_event(&dp, events[i].events);
				break;
			case EPOLL_OWNER_LINK:
				link->ops->handle_event(link, epoll_ref_fd(ref), events[i].events);
				break;
			case EPOLL_OWNER_STATUS:
				status_serve(status_fd, &status);
				break;
			}
		}
		datapath_tick(&dp);
	}

	info("%s: shutting down", stop_signal ? strsignal(stop_signal) :
	     dp.tun_failed ? "TUN failure" : link->failed ? "link failure" : "event loop failure");
	notify("STOPPING=1\nSTATUS=shutting down");
	if (status_fd >= 0) {
		close(status_fd);
		unlink(status_path);
	}
	link->ops->stop(link);
	apply_undo(&apply);
	close(tun_fd);
	if (log_get_level() >= LOG_LEVEL_DEBUG)
		stats_log();
	datapath_free(&dp);
	close(epoll_fd);
	close(nl);
	close(signal_fd);
	if (options->pid_file)
		pid_file_remove(options->pid_file);
	close(lock_fd);
	notify_close();
	return stop_signal ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct options options;

	if (argc > 1 && !strcmp(argv[1], "status"))
		return status_client_main(argc - 1, argv + 1, stdout, stderr);
	switch (options_parse(&options, argc, argv, stdout, stderr)) {
	case OPTIONS_EXIT:
		return 0;
	case OPTIONS_USAGE:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(options.log_level);
	notify_init();
	return run(&options);
}
