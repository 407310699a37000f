/*
 * dns: see dns.h. Commands run with fork/execve (absolute path, fixed
 * environment, no shell), bounded in time. The resolv.conf back end never
 * renames over /etc/resolv.conf: it may be a bind mount (ip netns exec) or a
 * symlink that another program owns, so it is rewritten in place.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "kite.h"
#include "log.h"

#define RESOLV_CONF		"/etc/resolv.conf"
#define RESOLVED_VARLINK	"/run/systemd/resolve/io.systemd.Resolve"
#define RESOLVCONF_ORDER	"/etc/resolvconf/interface-order"
#define CMD_TIMEOUT_MS		5000
#define FILE_MAX		(64 * 1024)	/* larger resolv.conf or backup: refused */
#define RESOLV_MAXNS		3		/* glibc MAXNS: later nameserver lines are ignored */
#define RESOLV_MAXDNSRCH	6		/* glibc MAXDNSRCH */
#define DOMAIN_MAX		253
#define N_SERVERS		8		/* dns_config holds 4 + 4 */
#define HEADER_FMT		"# written by kite for %s; restored on disconnect\n"
#define PROFILE_MAX		sizeof(((struct dns_state *)0)->profile)
#define IFNAME_MAX		sizeof(((struct dns_state *)0)->ifname)

static const char *const resolvectl_paths[] = { "/usr/bin/resolvectl", "/bin/resolvectl", NULL };
static const char *const resolvconf_paths[] = { "/sbin/resolvconf", "/usr/sbin/resolvconf", NULL };

static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
static char env_lang[] = "LC_ALL=C";

const char *dns_backend_name(enum dns_backend b)
{
	switch (b) {
	case DNS_NONE: return "none";
	case DNS_RESOLVED: return "systemd-resolved";
	case DNS_RESOLVCONF: return "resolvconf";
	case DNS_FILE: return "resolv.conf";
	}
	return "?";
}

/* ---- names ------------------------------------------------------------------------------ */

static int name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* Profile and interface names: the config's profile alphabet (no '/', no space). */
static int name_ok(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!name_char(s[n]))
			return 0;
	return n >= 1 && n < max;
}

/*
 * A DNS domain as kite passes it on: 1..253 characters of [A-Za-z0-9._-], not
 * starting with '-' (an option to resolvectl/resolvconf) or '.'.
 */
static int domain_ok(const char *s, size_t n)
{
	if (n == 0 || n > DOMAIN_MAX || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return 0;
	return 1;
}

struct domains {
	char d[RESOLV_MAXDNSRCH][DOMAIN_MAX + 1];
	size_t n;
};

/* Split the space-separated list, dropping (with a warning) what is not a plain domain. */
static void domains_parse(const char *in, struct domains *out)
{
	const char *p = in ? in : "";

	out->n = 0;
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		for (n = 0; p[n] && p[n] != ' ' && p[n] != '\t'; n++)
			;
		if (n == 0)
			break;
		if (!domain_ok(p, n))
			log_warn("ignoring a malformed DNS domain (%zu bytes)", n);
		else if (out->n == RESOLV_MAXDNSRCH)
			log_warn("more than %d DNS domains; ignoring the rest", RESOLV_MAXDNSRCH);
		else {
			memcpy(out->d[out->n], p, n);
			out->d[out->n++][n] = '\0';
		}
		p += n;
	}
}

struct servers {
	char s[N_SERVERS][INET6_ADDRSTRLEN];
	size_t n;
};

static void servers_get(const struct dns_config *c, struct servers *out)
{
	unsigned n4 = c->n_v4 < 4 ? c->n_v4 : 4, n6 = c->n_v6 < 4 ? c->n_v6 : 4;

	out->n = 0;
	for (unsigned i = 0; i < n4; i++)
		if (inet_ntop(AF_INET, c->v4[i], out->s[out->n], INET6_ADDRSTRLEN))
			out->n++;
	for (unsigned i = 0; i < n6; i++)
		if (inet_ntop(AF_INET6, c->v6[i], out->s[out->n], INET6_ADDRSTRLEN))
			out->n++;
}

/* ---- commands --------------------------------------------------------------------------- */

static const char *find_exe(const char *const *paths)
{
	for (; *paths; paths++)
		if (access(*paths, X_OK) == 0)
			return *paths;
	return NULL;
}

/* An argv whose strings live in the struct itself (execve wants char *const[]). */
struct cmd {
	char buf[2048];
	size_t used;
	char *argv[32];
	int argc;
	int overflow;
};

static void cmd_add(struct cmd *c, const char *s)
{
	size_t n = strlen(s) + 1;

	if (c->overflow || c->argc >= (int)KITE_ARRAY_SIZE(c->argv) - 1 ||
	    n > sizeof(c->buf) - c->used) {
		c->overflow = 1;
		return;
	}
	memcpy(c->buf + c->used, s, n);
	c->argv[c->argc++] = c->buf + c->used;
	c->argv[c->argc] = NULL;
	c->used += n;
}

static void cmd_str(const struct cmd *c, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < c->argc && o < len; i++) {
		int w = snprintf(out + o, len - o, "%s%s", i ? " " : "", c->argv[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Run c (argv[0] an absolute path) with stdin from `in` (may be NULL), stdout
 * and stderr to /dev/null (to stderr at debug level). Killed after 5 s.
 * Returns 0 when it exits with status 0.
 */
static int cmd_run(struct cmd *c, const char *in, size_t inlen)
{
	char *envp[] = { env_path, env_lang, NULL };
	int pfd[2] = { -1, -1 }, nullfd, status, ret = KITE_ERR_SYS;
	uint64_t deadline;
	char desc[256];
	pid_t pid, w;

	if (c->overflow || c->argc == 0)
		return KITE_ERR_INVAL;
	cmd_str(c, desc, sizeof(desc));
	log_debug("running %s", desc);
	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		log_err("/dev/null: %s", strerror(errno));
		return KITE_ERR_SYS;
	}
	if (in) {
		/* Written before the fork: the data fits in the pipe, and no SIGPIPE can hit us. */
		if (inlen > 4096 || pipe2(pfd, O_CLOEXEC) != 0 ||
		    write(pfd[1], in, inlen) != (ssize_t)inlen) {
			log_err("%s: cannot prepare its input: %s", desc,
				inlen > 4096 ? "too long" : strerror(errno));
			goto out;
		}
		close(pfd[1]);
		pfd[1] = -1;
	}
	if ((pid = fork()) < 0) {
		log_err("fork for %s: %s", desc, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		int outfd = log_level() >= LOG_LVL_DEBUG ? STDERR_FILENO : nullfd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in ? pfd[0] : nullfd, STDIN_FILENO) < 0 ||
		    dup2(outfd, STDOUT_FILENO) < 0 || dup2(outfd, STDERR_FILENO) < 0)
			_exit(126);
		execve(c->argv[0], c->argv, envp);
		_exit(127);
	}
	deadline = mono_ms() + CMD_TIMEOUT_MS;
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			log_err("waitpid for %s: %s", desc, strerror(errno));
			goto out;
		}
		if (mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			log_err("%s: no answer after %d s, killed", desc, CMD_TIMEOUT_MS / 1000);
			errno = ETIMEDOUT;
			ret = KITE_ERR_TIMEOUT;
			goto out;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ret = 0;
	} else if (WIFEXITED(status)) {
		log_err("%s failed (exit status %d%s)", desc, WEXITSTATUS(status),
			WEXITSTATUS(status) == 127 ? ": could not be started" : "");
		errno = EIO;
	} else {
		log_err("%s killed by signal %d", desc, WTERMSIG(status));
		errno = EIO;
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	close(nullfd);
	return ret;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Whole file into a NUL-terminated buffer (caller frees). Returns 0 or a positive errno. */
static int file_read(const char *path, int flags, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, e = 0;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) < 0)
		return errno;
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		e = ENOMEM;
		goto out;
	}
	while ((r = read(fd, buf + n, FILE_MAX + 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			goto out;
		}
		n += (size_t)r;
		if (n > FILE_MAX) {
			e = EFBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return e;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Rewrite an existing file in place (never created, never renamed over). */
static int file_rewrite(const char *path, const char *buf, size_t len)
{
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return errno;
	e = write_all(fd, buf, len);
	if (e == 0 && fsync(fd) != 0 && errno != EINVAL)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	return e;
}

/*
 * The backup, complete or not at all: written to NAME.resolv.conf.tmp (O_EXCL,
 * O_NOFOLLOW), then linked to its name (fails if one exists), so a crash never
 * leaves a truncated backup that the next start would restore.
 */
static int backup_write(const char *path, const char *buf, size_t len)
{
	char tmp[160];
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ENAMETOOLONG;
	if (unlink(tmp) != 0 && errno != ENOENT)
		return errno;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		return errno;
	e = write_all(fd, buf, len);
	if (e == 0 && fchmod(fd, 0644) != 0)
		e = errno;
	if (e == 0 && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && link(tmp, path) != 0)
		e = errno;
	unlink(tmp);
	return e;
}

static int backup_path(char *out, size_t len, const char *run_dir, const char *profile)
{
	if ((size_t)snprintf(out, len, "%s/%s.resolv.conf", run_dir, profile) >= len) {
		log_err("run directory path too long: %s", run_dir);
		return KITE_ERR_INVAL;
	}
	return 0;
}

/*
 * Put the backup back into /etc/resolv.conf and remove it. The file is only
 * written while it still carries kite's header for this profile (or is empty:
 * a crash between truncation and write); if another program has rewritten it
 * since, its content is newer than the backup and is left alone.
 */
static int file_restore(const char *backup, const char *profile)
{
	char header[128], *saved = NULL, *cur = NULL;
	size_t saved_len, cur_len;
	int e, ret = KITE_ERR_SYS;

	if ((e = file_read(backup, O_NOFOLLOW, &saved, &saved_len)) != 0) {
		log_err("cannot read the saved resolv.conf %s: %s", backup, strerror(e));
		goto out;
	}
	snprintf(header, sizeof(header), HEADER_FMT, profile);
	e = file_read(RESOLV_CONF, 0, &cur, &cur_len);
	if (e != 0 && e != ENOENT) {
		log_err("cannot read %s: %s", RESOLV_CONF, strerror(e));
		goto out;
	}
	if (e == 0 && (cur_len == 0 || strncmp(cur, header, strlen(header)) == 0)) {
		if ((e = file_rewrite(RESOLV_CONF, saved, saved_len)) != 0) {
			log_err("cannot restore %s (the original stays in %s): %s", RESOLV_CONF,
				backup, strerror(e));
			goto out;
		}
		log_debug("%s restored from %s", RESOLV_CONF, backup);
	} else {
		log_warn("%s was changed by another program since kite wrote it; left as it is",
			 RESOLV_CONF);
	}
	if (unlink(backup) != 0 && errno != ENOENT) {
		e = errno;
		log_err("cannot remove %s: %s", backup, strerror(e));
		goto out;
	}
	ret = 0;
out:
	free(saved);
	free(cur);
	if (ret)
		errno = e;
	return ret;
}

/* Append to a bounded buffer; returns -1 once it would overflow. */
static int buf_add(char *buf, size_t size, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (n >= size - *off)
		return -1;
	memcpy(buf + *off, s, n + 1);
	*off += n;
	return 0;
}

/*
 * The new resolv.conf: header, at most 3 nameservers (glibc reads no more),
 * the search line, and the original's "options" lines (edns0, trust-ad, ...).
 */
static int file_content(char *out, size_t size, size_t *len, const char *profile,
			const struct servers *sv, const struct domains *dm, const char *orig)
{
	char line[DOMAIN_MAX + 32];
	size_t off = 0;
	const char *p;
	int bad = 0;

	snprintf(line, sizeof(line), HEADER_FMT, profile);
	bad |= buf_add(out, size, &off, line);
	for (size_t i = 0; i < sv->n && i < RESOLV_MAXNS; i++) {
		snprintf(line, sizeof(line), "nameserver %s\n", sv->s[i]);
		bad |= buf_add(out, size, &off, line);
	}
	if (sv->n > RESOLV_MAXNS)
		log_warn("%zu DNS servers; resolv.conf takes the first %d", sv->n, RESOLV_MAXNS);
	if (dm->n) {
		bad |= buf_add(out, size, &off, "search");
		for (size_t i = 0; i < dm->n; i++) {
			bad |= buf_add(out, size, &off, " ");
			bad |= buf_add(out, size, &off, dm->d[i]);
		}
		bad |= buf_add(out, size, &off, "\n");
	}
	for (p = orig; *p; ) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > 8 && strncmp(p, "options", 7) == 0 && (p[7] == ' ' || p[7] == '\t') &&
		    n < sizeof(line) - 1) {
			memcpy(line, p, n);
			line[n] = '\n';
			line[n + 1] = '\0';
			bad |= buf_add(out, size, &off, line);
		}
		p += n + (eol ? 1 : 0);
	}
	*len = off;
	return bad ? KITE_ERR_INVAL : 0;
}

static int apply_file(struct dns_state *st, const char *run_dir, const struct servers *sv,
		      const struct domains *dm)
{
	char *orig = NULL, *out = NULL;
	size_t orig_len, out_len;
	struct stat sb;
	int e, ret = KITE_ERR_SYS;

	if (mkdir(run_dir, 0700) != 0 && errno != EEXIST) {
		e = errno;
		log_err("cannot create %s: %s", run_dir, strerror(e));
		goto out;
	}
	/* A backup from a crashed run: the file it saved is the real original. */
	if (lstat(st->backup, &sb) == 0) {
		log_info("restoring %s saved by an earlier run", RESOLV_CONF);
		if (file_restore(st->backup, st->profile) != 0) {
			e = errno;
			goto out;
		}
	}
	if ((e = file_read(RESOLV_CONF, 0, &orig, &orig_len)) != 0) {
		log_err("cannot read %s: %s", RESOLV_CONF, strerror(e));
		goto out;
	}
	if ((out = malloc(FILE_MAX)) == NULL) {
		e = ENOMEM;
		log_err("out of memory");
		goto out;
	}
	if (file_content(out, FILE_MAX, &out_len, st->profile, sv, dm, orig) != 0) {
		e = EFBIG;
		log_err("new resolv.conf too large");
		goto out;
	}
	if ((e = backup_write(st->backup, orig, orig_len)) != 0) {
		log_err("cannot save %s to %s: %s", RESOLV_CONF, st->backup, strerror(e));
		goto out;
	}
	if ((e = file_rewrite(RESOLV_CONF, out, out_len)) != 0) {
		log_err("cannot write %s: %s", RESOLV_CONF, strerror(e));
		/* the original may be half-written now: put it back from the backup */
		if (file_rewrite(RESOLV_CONF, orig, orig_len) == 0)
			unlink(st->backup);
		goto out;
	}
	ret = 0;
	e = 0;
out:
	free(orig);
	free(out);
	errno = e;
	return ret;
}

/* ---- resolvconf ------------------------------------------------------------------------- */

/*
 * The resolvconf record: IFNAME.kite, prefixed like wg-quick does with the
 * first "name*" pattern of Debian's interface-order (normally "tun."), so the
 * record sorts with the other tunnels, before the LAN's servers.
 */
static void resolvconf_record(const char *ifname, char *out, size_t len)
{
	char *order = NULL, prefix[32] = "";
	size_t olen;

	if (file_read(RESOLVCONF_ORDER, 0, &order, &olen) == 0) {
		char *save = NULL;

		for (char *l = strtok_r(order, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			size_t n = strlen(l), i;

			for (i = 0; i + 1 < n; i++)
				if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
				      (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
					break;
			if (n >= 2 && n < sizeof(prefix) && i == n - 1 && l[n - 1] == '*') {
				snprintf(prefix, sizeof(prefix), "%.*s.", (int)(n - 1), l);
				break;
			}
		}
		free(order);
	}
	snprintf(out, len, "%s%s.kite", prefix, ifname);
}

static int apply_resolvconf(struct dns_state *st, const char *exe, const struct servers *sv,
			    const struct domains *dm)
{
	struct cmd c = { .argc = 0 };
	char rec[80], in[2048], line[DOMAIN_MAX + 32];
	size_t off = 0;
	int bad = 0;

	for (size_t i = 0; i < sv->n; i++) {
		snprintf(line, sizeof(line), "nameserver %s\n", sv->s[i]);
		bad |= buf_add(in, sizeof(in), &off, line);
	}
	if (dm->n) {
		bad |= buf_add(in, sizeof(in), &off, "search");
		for (size_t i = 0; i < dm->n; i++) {
			bad |= buf_add(in, sizeof(in), &off, " ");
			bad |= buf_add(in, sizeof(in), &off, dm->d[i]);
		}
		bad |= buf_add(in, sizeof(in), &off, "\n");
	}
	if (bad)
		return KITE_ERR_INVAL;
	resolvconf_record(st->ifname, rec, sizeof(rec));
	cmd_add(&c, exe);
	cmd_add(&c, "-a");
	cmd_add(&c, rec);
	return cmd_run(&c, in, off);
}

/* ---- systemd-resolved ------------------------------------------------------------------- */

static int apply_resolved(struct dns_state *st, const char *exe, const struct servers *sv,
			  const struct domains *dm, int full)
{
	struct cmd c = { .argc = 0 };
	int r;

	cmd_add(&c, exe);
	cmd_add(&c, "dns");
	cmd_add(&c, st->ifname);
	for (size_t i = 0; i < sv->n; i++)
		cmd_add(&c, sv->s[i]);
	if ((r = cmd_run(&c, NULL, 0)) != 0)
		return r;

	/* Full tunnel: "~." routes every query here; split: only the given domains. */
	if (full || dm->n) {
		c = (struct cmd){ .argc = 0 };
		cmd_add(&c, exe);
		cmd_add(&c, "domain");
		cmd_add(&c, st->ifname);
		if (full)
			cmd_add(&c, "~.");
		for (size_t i = 0; i < dm->n; i++)
			cmd_add(&c, dm->d[i]);
		if ((r = cmd_run(&c, NULL, 0)) != 0)
			goto fail;
	}
	/*
	 * A split tunnel with domains must not become resolved's default route for
	 * every other name; a full tunnel must. Older resolvectl lacks the verb: not fatal.
	 */
	if (full || dm->n) {
		c = (struct cmd){ .argc = 0 };
		cmd_add(&c, exe);
		cmd_add(&c, "default-route");
		cmd_add(&c, st->ifname);
		cmd_add(&c, full ? "yes" : "no");
		if (cmd_run(&c, NULL, 0) != 0)
			log_warn("could not set the DNS default route of %s; continuing", st->ifname);
	}
	return 0;
fail:
	c = (struct cmd){ .argc = 0 };
	cmd_add(&c, exe);
	cmd_add(&c, "revert");
	cmd_add(&c, st->ifname);
	cmd_run(&c, NULL, 0);
	return r;
}

/* ---- apply / undo ----------------------------------------------------------------------- */

static enum dns_backend detect(const char **exe)
{
	const char *force = getenv("KITE_DNS_BACKEND");
	const char *rctl = find_exe(resolvectl_paths), *rconf = find_exe(resolvconf_paths);

	*exe = NULL;
	if (force && *force) {
		if (strcmp(force, "file") == 0)
			return DNS_FILE;
		if (strcmp(force, "resolved") == 0 && rctl) {
			*exe = rctl;
			return DNS_RESOLVED;
		}
		if (strcmp(force, "resolvconf") == 0 && rconf) {
			*exe = rconf;
			return DNS_RESOLVCONF;
		}
		log_warn("KITE_DNS_BACKEND=%.20s: unknown or not installed; detecting", force);
	}
	if (rctl && access(RESOLVED_VARLINK, F_OK) == 0) {
		*exe = rctl;
		return DNS_RESOLVED;
	}
	if (rconf) {
		*exe = rconf;
		return DNS_RESOLVCONF;
	}
	return DNS_FILE;
}

int dns_apply(struct dns_state *st, const char *run_dir, const char *profile, const char *ifname,
	      const struct dns_config *c)
{
	enum dns_backend b;
	struct servers sv;
	struct domains dm;
	const char *exe;
	int r;

	if (!st)
		return KITE_ERR_INVAL;
	memset(st, 0, sizeof(*st));
	st->backend = DNS_NONE;
	if (!run_dir || !profile || !ifname || !c)
		return KITE_ERR_INVAL;
	if (!name_ok(profile, PROFILE_MAX) || !name_ok(ifname, IFNAME_MAX)) {
		log_err("bad profile or interface name");
		return KITE_ERR_INVAL;
	}
	memcpy(st->profile, profile, strlen(profile) + 1);
	memcpy(st->ifname, ifname, strlen(ifname) + 1);
	if (backup_path(st->backup, sizeof(st->backup), run_dir, profile) != 0)
		return KITE_ERR_INVAL;
	servers_get(c, &sv);
	if (sv.n == 0) {
		log_debug("no DNS servers to apply");
		return 0;
	}
	domains_parse(c->domains, &dm);

	b = detect(&exe);
	log_debug("DNS back end: %s", dns_backend_name(b));
	switch (b) {
	case DNS_RESOLVED:
		r = apply_resolved(st, exe, &sv, &dm, c->full_tunnel);
		break;
	case DNS_RESOLVCONF:
		r = apply_resolvconf(st, exe, &sv, &dm);
		break;
	default:
		r = apply_file(st, run_dir, &sv, &dm);
		break;
	}
	if (r == 0)
		st->backend = b;
	return r;
}

void dns_undo(struct dns_state *st)
{
	struct cmd c = { .argc = 0 };
	const char *exe;
	char rec[80];

	if (!st)
		return;
	switch (st->backend) {
	case DNS_NONE:
		break;
	case DNS_RESOLVED:
		/* gone with the device already, usually; a failure here is expected then */
		if ((exe = find_exe(resolvectl_paths)) == NULL)
			break;
		cmd_add(&c, exe);
		cmd_add(&c, "revert");
		cmd_add(&c, st->ifname);
		if (cmd_run(&c, NULL, 0) != 0)
			log_debug("resolvectl revert %s failed (device already gone?)", st->ifname);
		break;
	case DNS_RESOLVCONF:
		if ((exe = find_exe(resolvconf_paths)) == NULL) {
			log_err("resolvconf has disappeared; cannot remove kite's DNS record");
			break;
		}
		resolvconf_record(st->ifname, rec, sizeof(rec));
		cmd_add(&c, exe);
		cmd_add(&c, "-d");
		cmd_add(&c, rec);
		cmd_run(&c, NULL, 0);
		break;
	case DNS_FILE:
		file_restore(st->backup, st->profile);
		break;
	}
	st->backend = DNS_NONE;
}

void dns_cleanup_stale(const char *run_dir, const char *profile)
{
	char path[160];
	struct stat sb;

	if (!run_dir || !profile || !name_ok(profile, PROFILE_MAX) ||
	    backup_path(path, sizeof(path), run_dir, profile) != 0)
		return;
	if (lstat(path, &sb) != 0)
		return;
	log_info("restoring %s saved by a run that did not end cleanly", RESOLV_CONF);
	file_restore(path, profile);
}
