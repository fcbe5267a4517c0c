/* ConfigFS gadget lifecycle with plain file writes, mkdir, symlink and
 * mount(2): set-up in the order FunctionFS requires (with an ACM function
 * beside ours, or only our FunctionFS instance in someone else's gadget),
 * stale gadget removal, and teardown in reverse. Errors name the fix. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "child.h"
#include "gadget.h"
#include "log.h"
#include "state.h"

#define CONFIGFS_DIR "/sys/kernel/config"
#define GADGET_ROOT CONFIGFS_DIR "/usb_gadget"
#define UDC_CLASS_DIR "/sys/class/udc"
#define CONFIGFS_SUPER_MAGIC 0x62656570
#define CONFIG_DIR "configs/c.1"
#define LANG_DIR "0x409"
#define MODPROBE_HINT "modprobe -a libcomposite usb_f_fs"
#define MODPROBE_TIMEOUT_MS 30000

/* Formats an error line; permission problems get the fix appended. */
static int fail(char *err, size_t err_len, int error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int error, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (error && used < err_len)
		snprintf(err + used, err_len - used, ": %s%s", strerror(error),
			 error == EACCES || error == EPERM ?
			 " (run qbnetd as root: ConfigFS and mounts need CAP_SYS_ADMIN)" : "");
	return -1;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* dir/name into out (PATH_MAX bytes). A path too long becomes "", which
 * then fails with ENOENT and the caller's error names what it wanted. */
static char *join(char *out, const char *dir, const char *name)
{
	size_t dir_len = strlen(dir), name_len = strlen(name);

	if (dir_len + 1 + name_len >= PATH_MAX) {
		out[0] = '\0';
		return out;
	}
	memcpy(out, dir, dir_len);
	out[dir_len] = '/';
	memcpy(out + dir_len + 1, name, name_len + 1);
	return out;
}

static const char *in(const struct gadget *g, const char *rel, char *buf)
{
	return join(buf, g->dir, rel);
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, len);
	int error = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	close(fd);
	return -error;
}

static int read_line(const char *path, char *out, size_t out_len)
{
	char *data;
	ssize_t len = read_file(path, 4096, &data);

	if (len < 0)
		return (int)len;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	snprintf(out, out_len, "%.*s", (int)len, data);
	free(data);
	return 0;
}

static int set_attr(struct gadget *g, const char *rel, const char *value, char *err,
		    size_t err_len)
{
	char path[PATH_MAX];
	int rc = write_text(in(g, rel, path), value);

	if (rc)
		return fail(err, err_len, -rc, "cannot write '%s' to %s", value, path);
	return 0;
}

static int make_dir(struct gadget *g, const char *rel, char *err, size_t err_len)
{
	char path[PATH_MAX];

	if (mkdir(in(g, rel, path), 0755) && errno != EEXIST)
		return fail(err, err_len, errno, "cannot create %s", path);
	return 0;
}

static int make_link(struct gadget *g, const char *target_rel, const char *link_rel, char *err,
		     size_t err_len)
{
	char target[PATH_MAX], link_path[PATH_MAX];

	if (symlink(in(g, target_rel, target), in(g, link_rel, link_path)))
		return fail(err, err_len, errno, "cannot link %s to %s", link_path, target);
	return 0;
}

/* configfs mounted and libcomposite loaded: /sys/kernel/config/usb_gadget. */
static int configfs_ready(char *err, size_t err_len)
{
	struct statfs fs;

	if (is_dir(GADGET_ROOT))
		return 0;
	if (!is_dir(CONFIGFS_DIR))
		return fail(err, err_len, 0,
			    "%s does not exist: the kernel has no configfs (CONFIG_CONFIGFS_FS) or /sys is not mounted",
			    CONFIGFS_DIR);
	if (statfs(CONFIGFS_DIR, &fs) || fs.f_type != CONFIGFS_SUPER_MAGIC) {
		if (mount("configfs", CONFIGFS_DIR, "configfs", 0, NULL))
			return fail(err, err_len, errno,
				    "cannot mount configfs on %s (mount -t configfs none %s; the kernel needs CONFIG_CONFIGFS_FS)",
				    CONFIGFS_DIR, CONFIGFS_DIR);
		info("mounted configfs on %s", CONFIGFS_DIR);
		if (is_dir(GADGET_ROOT))
			return 0;
	}
	char *const modprobe[] = { "modprobe", "-a", "libcomposite", "usb_f_fs", NULL };
	struct child_result result = child_run(modprobe, NULL, 0, MODPROBE_TIMEOUT_MS);
	if (!child_ok(result)) {
		char outcome[128];
		child_describe(result, outcome, sizeof(outcome));
		warn("'%s' %s", MODPROBE_HINT, outcome);
	}
	if (is_dir(GADGET_ROOT))
		return 0;
	return fail(err, err_len, 0,
		    "%s is missing: run '%s' (the kernel needs CONFIG_USB_CONFIGFS and CONFIG_USB_CONFIGFS_F_FS)",
		    GADGET_ROOT, MODPROBE_HINT);
}

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape_mount_path(char *path)
{
	char *out = path;

	for (char *p = path; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*out++ = *p;
		}
	}
	*out = '\0';
}

/* Unmounts every functionfs mount of the instance; -1 when one is in use. */
static int unmount_instance(const char *name, char *err, size_t err_len)
{
	FILE *mounts = fopen("/proc/self/mounts", "re");
	char line[PATH_MAX * 2], source[256], target[PATH_MAX], type[64];
	int rc = 0;

	if (!mounts)
		return 0;
	while (!rc && fgets(line, sizeof(line), mounts)) {
		if (sscanf(line, "%255s %4095s %63s", source, target, type) != 3 ||
		    strcmp(type, "functionfs") || strcmp(source, name))
			continue;
		unescape_mount_path(target);
		if (!umount2(target, 0)) {
			info("unmounted the functionfs %s left at %s", name, target);
		} else if (errno == EBUSY) {
			rc = fail(err, err_len, 0,
				  "the functionfs of gadget '%s' at %s is in use by another process (another qbnetd?): stop it, or choose another --usb-gadget",
				  name, target);
		} else {
			rc = fail(err, err_len, errno, "cannot unmount the functionfs at %s", target);
		}
	}
	fclose(mounts);
	return rc;
}

static void unlink_symlinks(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((entry = readdir(d))) {
		if (entry->d_type != DT_LNK)
			continue;
		join(path, dir, entry->d_name);
		if (unlink(path))
			debug("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

/* rmdir of each subdirectory of dir (after calling before() on it). */
static void rmdir_children(const char *dir, void (*before)(const char *path))
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((entry = readdir(d))) {
		if (entry->d_type != DT_DIR || entry->d_name[0] == '.')
			continue;
		join(path, dir, entry->d_name);
		if (before)
			before(path);
		if (rmdir(path))
			debug("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

static void remove_strings(const char *dir)
{
	char path[PATH_MAX];

	join(path, dir, "strings");
	rmdir_children(path, NULL);
}

static void empty_config(const char *config)
{
	unlink_symlinks(config);
	remove_strings(config);
}

/* Removes a gadget's ConfigFS tree (any shape: ours or a crashed run's):
 * function links, configuration strings and configurations, os_desc link,
 * functions, strings, the gadget. */
static void remove_tree(const char *dir)
{
	char path[PATH_MAX];

	join(path, dir, "os_desc");
	unlink_symlinks(path);
	join(path, dir, "configs");
	rmdir_children(path, empty_config);
	join(path, dir, "functions");
	rmdir_children(path, NULL);
	remove_strings(dir);
	if (rmdir(dir) && errno != ENOENT)
		warn("cannot remove %s: %s", dir, strerror(errno));
}

static int remove_stale(struct gadget *g, const char *name, char *err, size_t err_len)
{
	char path[PATH_MAX], udc[GADGET_UDC_MAX] = "";

	if (!is_dir(g->dir))
		return 0;
	if (unmount_instance(name, err, err_len))
		return -1;
	if (!read_line(in(g, "UDC", path), udc, sizeof(udc)) && udc[0])
		write_text(path, "\n");
	remove_tree(g->dir);
	if (is_dir(g->dir))
		return fail(err, err_len, 0,
			    "cannot remove the stale gadget %s left by an earlier run: remove it by hand, or choose another --usb-gadget",
			    g->dir);
	info("removed the stale gadget %s left by an earlier run", g->dir);
	return 0;
}

static int first_udc(char *out, size_t out_len)
{
	struct dirent **names;
	int n = scandir(UDC_CLASS_DIR, &names, NULL, alphasort);
	int rc = -1;

	for (int i = 0; i < n; i++) {
		if (rc && names[i]->d_name[0] != '.' && strlen(names[i]->d_name) < out_len) {
			memcpy(out, names[i]->d_name, strlen(names[i]->d_name) + 1);
			rc = 0;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return rc;
}

static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

static int write_blob(int fd, const uint8_t *blob, size_t len)
{
	ssize_t n = write(fd, blob, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* FunctionFS: mount, descriptors and strings on ep0, then the endpoint
 * files (they exist only now). */
static int start_function(struct gadget *g, const struct gadget_config *c, char *err,
			  size_t err_len)
{
	uint8_t blob[USB_DESC_BLOB_MAX];
	char path[PATH_MAX];

	if (mkdir_parents(g->ffs_dir))
		return fail(err, err_len, errno, "cannot create the functionfs mount point %s",
			    g->ffs_dir);
	if (mount(c->name, g->ffs_dir, "functionfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return fail(err, err_len, errno, errno == ENODEV ?
			    "cannot mount functionfs on %s: run 'modprobe usb_f_fs' (the kernel needs CONFIG_USB_FUNCTIONFS)" :
			    "cannot mount functionfs on %s", g->ffs_dir);
	g->mounted = true;

	join(path, g->ffs_dir, "ep0");
	g->ep0 = open(path, O_RDWR | O_CLOEXEC);
	if (g->ep0 < 0)
		return fail(err, err_len, errno, "cannot open %s", path);
	size_t len = usb_desc_build(c->function, blob, sizeof(blob));
	int rc = len ? write_blob(g->ep0, blob, len) : -EINVAL;
	if (rc)
		return fail(err, err_len, -rc, "FunctionFS refused the USB descriptors (%zu bytes)", len);
	len = usb_desc_strings(c->function, blob, sizeof(blob));
	rc = len ? write_blob(g->ep0, blob, len) : -EINVAL;
	if (rc)
		return fail(err, err_len, -rc, "FunctionFS refused the USB strings (%zu bytes)", len);
	/* From now on ep0 is only read when epoll says it has events. */
	if (fcntl(g->ep0, F_SETFL, fcntl(g->ep0, F_GETFL) | O_NONBLOCK))
		return fail(err, err_len, errno, "cannot make ep0 non-blocking");

	unsigned files = 0;
	for (unsigned i = 0; i < c->function->interface_count; i++)
		files += c->function->interfaces[i].endpoint_count;
	for (unsigned n = 1; n <= files && n <= GADGET_ENDPOINTS_MAX; n++) {
		char name[16];
		snprintf(name, sizeof(name), "ep%u", n);
		join(path, g->ffs_dir, name);
		/* Non-blocking: I/O on a disabled endpoint fails instead of
		 * waiting inside io_submit. */
		g->eps[n] = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (g->eps[n] < 0)
			return fail(err, err_len, errno, "cannot open %s", path);
	}
	return 0;
}

int gadget_bind(struct gadget *g, const struct gadget_config *c, char *err, size_t err_len)
{
	char path[PATH_MAX];

	if (c->udc) {
		snprintf(g->udc, sizeof(g->udc), "%s", c->udc);
	} else if (first_udc(g->udc, sizeof(g->udc))) {
		fail(err, err_len, 0,
		     "no USB device controller (UDC): is the board's gadget driver loaded? (e.g. modprobe dummy_hcd for tests; --wait-udc waits for one)");
		return GADGET_NO_UDC;
	}
	char udc_dir[PATH_MAX];
	join(udc_dir, UDC_CLASS_DIR, g->udc);
	if (!is_dir(udc_dir)) {
		fail(err, err_len, 0, "no UDC named '%s': see ls %s, or omit --usb-udc", g->udc,
		     UDC_CLASS_DIR);
		g->udc[0] = '\0';
		return GADGET_NO_UDC;
	}
	int rc = write_text(in(g, "UDC", path), g->udc);
	if (rc == -EBUSY)
		return fail(err, err_len, 0,
			    "UDC %s is already used by another gadget: unbind it (echo '' > its UDC file) or choose another with --usb-udc",
			    g->udc);
	if (rc)
		return fail(err, err_len, -rc, "cannot bind the gadget to UDC %s", g->udc);
	g->bound = true;
	return 0;
}

/* --usb-acm: an ACM serial function linked after ours, so that the qbnet
 * interface stays number 0 and the ACM pair (with its IAD) follows. */
static int add_acm(struct gadget *g, const struct gadget_config *c, char *err, size_t err_len)
{
	char function_rel[64], rel[80], path[PATH_MAX], port[16];

	snprintf(function_rel, sizeof(function_rel), "functions/acm.%s", c->name);
	if (mkdir(in(g, function_rel, path), 0755))
		return fail(err, err_len, errno, errno == ENOENT || errno == ENODEV ?
			    "cannot create %s: run 'modprobe usb_f_acm' (the kernel needs CONFIG_USB_CONFIGFS_ACM)" :
			    "cannot create %s", path);
	snprintf(rel, sizeof(rel), CONFIG_DIR "/acm.%s", c->name);
	if (make_link(g, function_rel, rel, err, err_len))
		return -1;
	snprintf(rel, sizeof(rel), "%s/port_num", function_rel);
	if (read_line(in(g, rel, path), port, sizeof(port)) || !port[0])
		snprintf(port, sizeof(port), "?");
	snprintf(g->acm_tty, sizeof(g->acm_tty), "/dev/ttyGS%s", port);
	return 0;
}

/* The gadget (under GADGET_ROOT) whose functions hold ffs.NAME, into dir. */
static int find_owner(const char *name, char *dir)
{
	struct dirent **names;
	char function_rel[64], path[PATH_MAX];
	int n = scandir(GADGET_ROOT, &names, NULL, alphasort);
	int rc = -1;

	snprintf(function_rel, sizeof(function_rel), "functions/ffs.%s", name);
	for (int i = 0; i < n; i++) {
		if (rc && names[i]->d_name[0] != '.') {
			join(dir, GADGET_ROOT, names[i]->d_name);
			if (is_dir(join(path, dir, function_rel)))
				rc = 0;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return rc;
}

/* --usb-function-only: our FunctionFS instance in a gadget set up by
 * someone else, who links it into a configuration and binds the UDC once
 * the endpoint files exist. */
static int create_function_only(struct gadget *g, const struct gadget_config *c, char *err,
				size_t err_len)
{
	/* configfs may be mounted only outside our mount namespace (ip netns
	 * exec, PrivateMounts=): mount it here too, as for our own gadget. */
	if (configfs_ready(err, err_len))
		return -1;
	if (find_owner(c->name, g->dir))
		return fail(err, err_len, 0,
			    "--usb-function-only: no gadget in %s has a function ffs.%s: create it there first (mkdir %s/GADGET/functions/ffs.%s, then link it into a configuration), or drop --usb-function-only",
			    GADGET_ROOT, c->name, GADGET_ROOT, c->name);
	if (unmount_instance(c->name, err, err_len) || start_function(g, c, err, err_len)) {
		gadget_destroy(g);
		return -1;
	}
	info("FunctionFS ffs.%s of gadget %s ready at %s: the gadget may now be bound to a UDC",
	     c->name, g->dir, g->ffs_dir);
	return 0;
}

int gadget_create(struct gadget *g, const struct gadget_config *c, char *err, size_t err_len)
{
	char function_rel[64], rel[PATH_MAX], target[PATH_MAX];

	memset(g, 0, sizeof(*g));
	g->ep0 = -1;
	for (unsigned i = 0; i <= GADGET_ENDPOINTS_MAX; i++)
		g->eps[i] = -1;
	snprintf(g->ffs_dir, sizeof(g->ffs_dir), "%s", c->ffs_dir);
	if (c->function_only)
		return create_function_only(g, c, err, err_len);
	join(g->dir, GADGET_ROOT, c->name);

	if (configfs_ready(err, err_len) || remove_stale(g, c->name, err, err_len))
		return -1;
	if (mkdir(g->dir, 0755)) {
		fail(err, err_len, errno, "cannot create the gadget %s", g->dir);
		return -1;
	}
	g->created = true;

	struct {
		const char *rel;
		char value[GADGET_STRING_MAX + 8];
	} attrs[] = {
		{ "idVendor", "" }, { "idProduct", "" }, { "bcdDevice", "" }, { "bcdUSB", "" },
		{ "strings/" LANG_DIR "/manufacturer", "" }, { "strings/" LANG_DIR "/product", "" },
		{ "strings/" LANG_DIR "/serialnumber", "" },
		{ CONFIG_DIR "/strings/" LANG_DIR "/configuration", GADGET_CONFIG_NAME },
		{ CONFIG_DIR "/MaxPower", "" },
		{ "os_desc/use", "1" }, { "os_desc/b_vendor_code", "" },
		{ "os_desc/qw_sign", GADGET_OS_SIGN },
	};
	snprintf(attrs[0].value, sizeof(attrs[0].value), "0x%04x", c->vendor);
	snprintf(attrs[1].value, sizeof(attrs[1].value), "0x%04x", c->product);
	snprintf(attrs[2].value, sizeof(attrs[2].value), "0x%04x",
		 c->acm ? GADGET_BCD_DEVICE_ACM : GADGET_BCD_DEVICE);
	snprintf(attrs[3].value, sizeof(attrs[3].value), "0x%04x", GADGET_BCD_USB);
	snprintf(attrs[4].value, sizeof(attrs[4].value), "%s", c->manufacturer);
	snprintf(attrs[5].value, sizeof(attrs[5].value), "%s", c->product_name);
	snprintf(attrs[6].value, sizeof(attrs[6].value), "%s", c->serial);
	snprintf(attrs[8].value, sizeof(attrs[8].value), "%d", GADGET_MAX_POWER_MA);
	snprintf(attrs[10].value, sizeof(attrs[10].value), "0x%02x", GADGET_OS_VENDOR_CODE);

	snprintf(function_rel, sizeof(function_rel), "functions/ffs.%s", c->name);
	if (make_dir(g, "strings/" LANG_DIR, err, err_len) ||
	    make_dir(g, CONFIG_DIR, err, err_len) ||
	    make_dir(g, CONFIG_DIR "/strings/" LANG_DIR, err, err_len))
		goto failed;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (set_attr(g, attrs[i].rel, attrs[i].value, err, err_len))
			goto failed;
	if (mkdir(in(g, function_rel, target), 0755)) {
		fail(err, err_len, errno, errno == EBUSY || errno == EEXIST ?
		     "cannot create %s: the FunctionFS instance name is taken by another gadget; choose another --usb-gadget" :
		     errno == ENOENT || errno == ENODEV ?
		     "cannot create %s: run 'modprobe usb_f_fs' (the kernel needs CONFIG_USB_CONFIGFS_F_FS)" :
		     "cannot create %s", target);
		goto failed;
	}
	snprintf(rel, sizeof(rel), CONFIG_DIR "/ffs.%s", c->name);
	if (make_link(g, CONFIG_DIR, "os_desc/c.1", err, err_len) ||
	    make_link(g, function_rel, rel, err, err_len))
		goto failed;
	/* A composite device with an IAD: Windows groups the ACM pair by it
	 * only under the Miscellaneous/Common/IAD device class. */
	if (c->acm && (set_attr(g, "bDeviceClass", "0xef", err, err_len) ||
		       set_attr(g, "bDeviceSubClass", "0x02", err, err_len) ||
		       set_attr(g, "bDeviceProtocol", "0x01", err, err_len) ||
		       add_acm(g, c, err, err_len)))
		goto failed;
	if (start_function(g, c, err, err_len))
		goto failed;
	if (g->acm_tty[0])
		info("ACM serial function: %s on the board (the host sees a CDC ACM port)", g->acm_tty);
	int rc = gadget_bind(g, c, err, err_len);
	if (rc == GADGET_NO_UDC && c->wait_udc)
		return GADGET_NO_UDC;
	if (rc)
		goto failed;
	info("USB gadget %s bound to UDC %s (%04x:%04x, functionfs at %s)", g->dir, g->udc,
	     c->vendor, c->product, g->ffs_dir);
	return 0;
failed:
	gadget_destroy(g);
	return -1;
}

void gadget_unbind(struct gadget *g)
{
	char path[PATH_MAX];

	if (!g->bound)
		return;
	int rc = write_text(in(g, "UDC", path), "\n");
	if (rc && rc != -ENODEV)
		warn("cannot unbind the gadget from %s: %s", g->udc, strerror(-rc));
	g->bound = false;
}

void gadget_destroy(struct gadget *g)
{
	gadget_unbind(g);
	for (unsigned i = 0; i <= GADGET_ENDPOINTS_MAX; i++) {
		if (g->eps[i] >= 0)
			close(g->eps[i]);
		g->eps[i] = -1;
	}
	if (g->ep0 >= 0)
		close(g->ep0);
	g->ep0 = -1;
	if (g->mounted && umount2(g->ffs_dir, 0) && umount2(g->ffs_dir, MNT_DETACH))
		warn("cannot unmount functionfs at %s: %s", g->ffs_dir, strerror(errno));
	if (g->mounted)
		rmdir(g->ffs_dir);
	g->mounted = false;
	if (g->created)
		remove_tree(g->dir);
	g->created = false;
}

int gadget_udc_speed(const struct gadget *g, char *out, size_t out_len)
{
	char path[PATH_MAX], udc[GADGET_UDC_MAX];
	char rel[GADGET_UDC_MAX + 16];

	/* --usb-function-only: the UDC the owner bound its gadget to. */
	if (g->udc[0])
		snprintf(udc, sizeof(udc), "%s", g->udc);
	else if (read_line(in(g, "UDC", path), udc, sizeof(udc)) || !udc[0])
		return -1;
	snprintf(rel, sizeof(rel), "%s/current_speed", udc);
	join(path, UDC_CLASS_DIR, rel);
	return read_line(path, out, out_len);
}
