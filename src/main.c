/*
 * main: the command line (design.md 3). A static table of subcommands, as in
 * wireguard-tools' wg.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "ctl.h"
#include "daemon.h"
#include "kite.h"
#include "log.h"
#include "x509.h"

struct globals {
	const char *config;
	int level;
};

struct command {
	const char *name;
	int (*fn)(struct globals *g, int argc, char **argv);
	const char *usage;
	const char *help;
};

static int cmd_connect(struct globals *g, int argc, char **argv);
static int cmd_disconnect(struct globals *g, int argc, char **argv);
static int cmd_status(struct globals *g, int argc, char **argv);
static int cmd_check(struct globals *g, int argc, char **argv);
static int cmd_password(struct globals *g, int argc, char **argv);
static int cmd_help(struct globals *g, int argc, char **argv);

static const struct command commands[] = {
	{ "connect", cmd_connect, "connect [NAME] [--foreground]",
	  "Connect the profile NAME (default: the only profile in the config file).\n"
	  "Returns once traffic can flow through the tunnel; the connection is then\n"
	  "kept by a background process that logs to the journal (journalctl -t kite).\n"
	  "  --foreground  stay attached and log to stderr (systemd, tests)\n"
	  "Exit status: 0 connected, 1 connection or authentication failure,\n"
	  "2 usage or configuration error, 3 not permitted (needs root)." },
	{ "disconnect", cmd_disconnect, "disconnect [NAME | --all]",
	  "Close the connection NAME (default: the only one running): the gateway is told\n"
	  "(IKE DELETE) and everything kite changed on this host is undone.\n"
	  "Exit status: 0 closed, 4 not connected, 3 not permitted." },
	{ "status", cmd_status, "status [NAME] [--json]",
	  "Show the state of the connection NAME (default: every running connection):\n"
	  "gateway, addresses, SAs, traffic counters. --json prints one JSON object\n"
	  "(an array when more than one connection is shown); field names are stable.\n"
	  "Exit status: 0 shown, 4 not connected, 3 not permitted." },
	{ "check", cmd_check, "check NAME",
	  "Make the running connection NAME re-check its network path and the gateway's\n"
	  "liveness at once (kite also does this by itself on address and route changes).\n"
	  "Exit status: 0 done, 4 not connected, 3 not permitted." },
	{ "password", cmd_password, "password NAME",
	  "Hand the EAP password (one line on standard input, never an argument) to the\n"
	  "connection NAME that is waiting for it: a profile with auth = eap and no\n"
	  "password_file, started without a terminal (NetworkManager, scripts).\n"
	  "Exit status: 0 accepted, 4 not connected, 1 not waiting for a password." },
	{ "help", cmd_help, "help [COMMAND]", "Show help for kite or for one command." },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: kite [-c FILE] [-v|-q] COMMAND [ARGS]\n"
		   "       kite --version\n\n"
		   "IKEv2/IPsec road-warrior VPN client.\n\n"
		   "Options:\n"
		   "  -c FILE    configuration file (default %s)\n"
		   "  -v         verbose (debug) logging\n"
		   "  -q         quiet: errors only\n\n"
		   "Commands:\n", KITE_DEFAULT_CONFIG);
	for (size_t i = 0; i < KITE_ARRAY_SIZE(commands); i++)
		fprintf(f, "  kite %s\n", commands[i].usage);
	fprintf(f, "\nExit status: 0 ok, 1 connection/authentication failure, 2 usage or\n"
		   "configuration error, 3 not permitted, 4 not connected.\n"
		   "See 'kite help COMMAND', kite(8) and vpn.ini.example.\n");
}

static int cmd_help(struct globals *g, int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return KITE_EXIT_OK;
	}
	for (size_t i = 0; i < KITE_ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i].name, argv[1])) {
			printf("Usage: kite [-c FILE] %s\n\n%s\n", commands[i].usage, commands[i].help);
			return KITE_EXIT_OK;
		}
	}
	fprintf(stderr, "kite: error: no command '%s'; see 'kite help'\n", argv[1]);
	return KITE_EXIT_USAGE;
}

static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "kite: error: %s needs root (CAP_NET_ADMIN); run it with sudo\n", what);
	return KITE_EXIT_PERM;
}

/* The EAP password from the terminal, without echo; never from argv. */
static int read_password(const struct kite_profile *prof, uint8_t *out, size_t *len)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	char buf[KITE_PSK_MAX + 2];
	size_t n;

	if (!tty) {
		fprintf(stderr, "kite: error: %s:%d: no password_file and no terminal to ask for the password; "
				"set password_file (mode 0600, owned by root)\n", prof->file, prof->line);
		return -1;
	}
	fprintf(tty, "Password for %s@%s: ", prof->username ? prof->username : "", prof->name);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (!fgets(buf, sizeof(buf), tty))
		buf[0] = '\0';
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	n = strcspn(buf, "\r\n");
	if (n == 0 || n > KITE_PSK_MAX) {
		crypto_wipe(buf, sizeof(buf));
		fprintf(stderr, "kite: error: no password given\n");
		return -1;
	}
	memcpy(out, buf, n);
	*len = n;
	crypto_wipe(buf, sizeof(buf));
	return 0;
}

/* Passphrase of an encrypted client key, asked on the terminal without echo. */
static int key_passphrase(char *buf, size_t cap, void *arg)
{
	const char *path = arg;
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	size_t n;

	if (!tty)
		return -1;
	fprintf(tty, "Passphrase for %s: ", path);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (!fgets(buf, (int)cap, tty))
		buf[0] = '\0';
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n ? (int)n : -1;
}

/* Wait for the daemon's one-line report: "up" or "fail CODE reason". */
static int wait_report(int fd, const char *name)
{
	char buf[600];
	size_t off = 0;
	ssize_t n;

	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(buf, "up")) {
		fprintf(stderr, "kite: '%s' connected (see 'kite status %s')\n", name, name);
		return KITE_EXIT_OK;
	}
	if (!strncmp(buf, "fail ", 5)) {
		char *reason = NULL;
		long code = strtol(buf + 5, &reason, 10);

		fprintf(stderr, "kite: error: %s\n", reason && *reason ? reason + 1 : "connection failed");
		return code > 0 && code < 5 ? (int)code : KITE_EXIT_CONNECT;
	}
	fprintf(stderr, "kite: error: the kite daemon for '%s' exited unexpectedly (see journalctl -t kite)\n",
		name);
	return KITE_EXIT_CONNECT;
}

static int cmd_connect(struct globals *g, int argc, char **argv)
{
	struct kite_config cfg;
	struct daemon_opts o = { .foreground = 0, .level = g->level, .report_fd = -1 };
	const struct kite_profile *prof;
	const char *name = NULL;
	uint8_t psk[KITE_PSK_MAX];
	size_t psk_len = 0;
	char err[512];
	int r, weak = 0, pfd[2];
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground") || !strcmp(argv[i], "-f")) {
			o.foreground = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "kite: error: unknown option '%s' for connect; see 'kite help connect'\n",
				argv[i]);
			return KITE_EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else {
			fprintf(stderr, "kite: error: connect takes one profile name; see 'kite help connect'\n");
			return KITE_EXIT_USAGE;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	if ((r = config_load(&cfg, g->config, err, sizeof(err))) != 0) {
		fprintf(stderr, "kite: error: %s\n", err);
		config_free(&cfg);
		return r == KITE_ERR_SYS && errno == EACCES ? KITE_EXIT_PERM : KITE_EXIT_USAGE;
	}
	prof = config_profile(&cfg, name, err, sizeof(err));
	if (!prof) {
		fprintf(stderr, "kite: error: %s\n", err);
		config_free(&cfg);
		return KITE_EXIT_USAGE;
	}
	if ((r = need_root("connecting")) != 0)
		goto out;
	psk_len = sizeof(psk);
	if (prof->auth == KITE_AUTH_EAP && prof->eap_method == KITE_EAP_TLS) {
		fprintf(stderr, "kite: error: %s:%d: eap_method = tls is not available in this version; "
				"use mschapv2 or md5, or auth = cert\n", prof->file, prof->line);
		r = KITE_EXIT_USAGE;
		goto out;
	}
	if (prof->auth == KITE_AUTH_CERT) {
		char reason[X509_REASON_LEN];

		if (x509_cert_load(prof->cert, o.certs, KITE_ARRAY_SIZE(o.certs), &o.n_certs, reason,
				   sizeof(reason)) != 0 || !o.n_certs) {
			fprintf(stderr, "kite: error: %s:%d: cert = %s: %s\n", prof->file, prof->line,
				prof->cert, reason);
			r = KITE_EXIT_USAGE;
			goto out;
		}
		o.key = x509_key_load(prof->key, key_passphrase, (void *)(uintptr_t)prof->key, reason,
				      sizeof(reason));
		if (!o.key) {
			fprintf(stderr, "kite: error: %s:%d: key = %s: %s\n", prof->file, prof->line,
				prof->key, reason);
			r = KITE_EXIT_USAGE;
			goto out;
		}
		if (!x509_key_matches_cert(o.key, o.certs[0])) {
			fprintf(stderr, "kite: error: %s:%d: key %s does not belong to the certificate in %s\n",
				prof->file, prof->line, prof->key, prof->cert);
			r = KITE_EXIT_USAGE;
			goto out;
		}
		psk_len = 0;
	} else if (prof->auth == KITE_AUTH_EAP && !prof->password_file) {
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

		if (tty < 0) {
			/* No terminal: the password is handed over on the control socket. */
			o.await_secret = 1;
			psk_len = 0;
			fprintf(stderr, "kite: waiting for the password of '%s': send it with "
					"'kite password %s' (reads standard input)\n", prof->name, prof->name);
		} else {
			close(tty);
			if (read_password(prof, psk, &psk_len) != 0) {
				r = KITE_EXIT_USAGE;
				goto out;
			}
		}
	} else if (config_read_psk(prof->auth == KITE_AUTH_EAP ? prof->password_file : prof->psk_file,
				   psk, &psk_len, &weak, err, sizeof(err)) != 0) {
		fprintf(stderr, "kite: error: %s\n", err);
		r = KITE_EXIT_USAGE;
		goto out;
	}
	if (weak && prof->auth == KITE_AUTH_PSK)
		fprintf(stderr, "kite: warning: the PSK in %s is short: anyone who records one connection "
				"can guess it offline; use 20+ random characters, or EAP/certificates\n",
			prof->psk_file);
	{
		int fd = ctl_connect(prof->name);

		if (fd >= 0) {
			close(fd);
			fprintf(stderr, "kite: error: '%s' is already connected (see 'kite status %s', "
					"'kite disconnect %s')\n", prof->name, prof->name, prof->name);
			r = KITE_EXIT_CONNECT;
			goto out;
		}
	}
	if (o.foreground) {
		log_init("kite", 0, g->level);
		r = daemon_run(prof, &o, psk, psk_len);
		o.key = NULL;		/* freed by daemon_run */
		o.n_certs = 0;
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "kite: error: cannot start the background process: %s\n", strerror(errno));
		r = KITE_EXIT_CONNECT;
		goto out;
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);
		const char *lf = getenv("KITE_LOG_FILE");

		close(pfd[0]);
		setsid();
		if (chdir("/") != 0)
			_exit(KITE_EXIT_CONNECT);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 1);
			dup2(dn, 2);
			if (dn > 2)
				close(dn);
		}
		/* Debug aid: KITE_LOG_FILE=/path logs there instead of syslog. */
		if (lf && *lf) {
			int lfd = open(lf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

			if (lfd >= 0) {
				dup2(lfd, 2);
				close(lfd);
			}
		}
		log_init("kite", !(lf && *lf), g->level);
		o.report_fd = pfd[1];
		r = daemon_run(prof, &o, psk, psk_len);
		crypto_wipe(psk, sizeof(psk));
		config_free(&cfg);
		_exit(r);
	}
	close(pfd[1]);
	crypto_wipe(psk, sizeof(psk));
	r = wait_report(pfd[0], prof->name);
	close(pfd[0]);
out:
	crypto_wipe(psk, sizeof(psk));
	/* Credentials not handed to a daemon_run in this process. */
	x509_key_free(o.key);
	for (size_t i = 0; i < o.n_certs; i++)
		x509_cert_free(o.certs[i]);
	config_free(&cfg);
	return r;
}

/* Names of running connections: the one given, or all. */
static int pick_running(const char *name, char names[][40], int max)
{
	if (name) {
		snprintf(names[0], 40, "%s", name);
		return 1;
	}
	return ctl_list(names, max);
}

static int ctl_error(const char *name)
{
	if (errno == ENOENT || errno == ECONNREFUSED) {
		fprintf(stderr, "kite: error: '%s' is not connected\n", name);
		return KITE_EXIT_NOTCONN;
	}
	if (errno == EACCES || errno == EPERM) {
		fprintf(stderr, "kite: error: permission denied on %s/%s.sock; run with sudo\n",
			KITE_RUN_DIR, name);
		return KITE_EXIT_PERM;
	}
	fprintf(stderr, "kite: error: cannot talk to the kite daemon for '%s': %s\n", name, strerror(errno));
	return KITE_EXIT_CONNECT;
}

static int cmd_disconnect(struct globals *g, int argc, char **argv)
{
	char names[KITE_MAX_PROFILES][40], out[256];
	const char *name = NULL;
	int all = 0, n, ret = KITE_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "kite: error: usage: kite disconnect [NAME | --all]\n");
			return KITE_EXIT_USAGE;
		}
	}
	if (all && name) {
		fprintf(stderr, "kite: error: give a NAME or --all, not both\n");
		return KITE_EXIT_USAGE;
	}
	n = pick_running(name, names, KITE_MAX_PROFILES);
	if (n == 0) {
		fprintf(stderr, "kite: error: no connection is running\n");
		return KITE_EXIT_NOTCONN;
	}
	if (n > 1 && !all) {
		fprintf(stderr, "kite: error: %d connections are running; name one or use --all\n", n);
		return KITE_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		if (ctl_request(names[i], "disconnect", out, sizeof(out)) != 0) {
			ret = ctl_error(names[i]);
			continue;
		}
		fprintf(stderr, "kite: '%s' disconnected\n", names[i]);
	}
	return ret;
}

static int cmd_check(struct globals *g, int argc, char **argv)
{
	char out[64];

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "kite: error: usage: kite check NAME\n");
		return KITE_EXIT_USAGE;
	}
	if (ctl_request(argv[1], "check", out, sizeof(out)) != 0)
		return ctl_error(argv[1]);
	return KITE_EXIT_OK;
}

static int cmd_password(struct globals *g, int argc, char **argv)
{
	char line[KITE_PSK_MAX + 16], req[KITE_PSK_MAX + 32], out[128];
	size_t n;
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "kite: error: usage: kite password NAME < file\n");
		return KITE_EXIT_USAGE;
	}
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "kite: error: no password on standard input\n");
		return KITE_EXIT_USAGE;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0 || n > KITE_PSK_MAX) {
		crypto_wipe(line, sizeof(line));
		fprintf(stderr, "kite: error: the password must be 1 to %d characters\n", KITE_PSK_MAX);
		return KITE_EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "password %s", line);
	crypto_wipe(line, sizeof(line));
	r = ctl_request(argv[1], req, out, sizeof(out));
	crypto_wipe(req, sizeof(req));
	if (r != 0)
		return ctl_error(argv[1]);
	if (strncmp(out, "ok", 2) != 0) {
		fprintf(stderr, "kite: error: '%s' is not waiting for a password\n", argv[1]);
		return KITE_EXIT_CONNECT;
	}
	return KITE_EXIT_OK;
}

static int cmd_status(struct globals *g, int argc, char **argv)
{
	char names[KITE_MAX_PROFILES][40], out[4096];
	const char *name = NULL;
	int json = 0, n, shown = 0, ret = KITE_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--all"))
			name = NULL;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "kite: error: usage: kite status [NAME] [--json]\n");
			return KITE_EXIT_USAGE;
		}
	}
	n = pick_running(name, names, KITE_MAX_PROFILES);
	if (n == 0) {
		if (json)
			printf("[]\n");
		else
			fprintf(stderr, "kite: no connection is running\n");
		return KITE_EXIT_NOTCONN;
	}
	if (json && n > 1)
		printf("[");
	for (int i = 0; i < n; i++) {
		if (ctl_request(names[i], json ? "status-json" : "status", out, sizeof(out)) != 0) {
			ret = ctl_error(names[i]);
			continue;
		}
		if (json && n > 1) {
			out[strcspn(out, "\n")] = '\0';
			printf("%s%s", shown ? "," : "", out);
		} else {
			printf("%s%s", shown && !json ? "\n" : "", out);
		}
		shown++;
	}
	if (json && n > 1)
		printf("]\n");
	return shown ? KITE_EXIT_OK : ret;
}

int main(int argc, char **argv)
{
	struct globals g = { KITE_DEFAULT_CONFIG, LOG_LVL_INFO };
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("kite %s\n%s\n", KITE_VERSION, crypto_version());
			return KITE_EXIT_OK;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return KITE_EXIT_OK;
		} else if (!strcmp(argv[i], "-c")) {
			if (++i >= argc) {
				fprintf(stderr, "kite: error: -c needs a file name\n");
				return KITE_EXIT_USAGE;
			}
			g.config = argv[i];
		} else if (!strcmp(argv[i], "-v")) {
			g.level = LOG_LVL_DEBUG;
		} else if (!strcmp(argv[i], "-q")) {
			g.level = LOG_LVL_ERR;
		} else {
			fprintf(stderr, "kite: error: unknown option '%s'; see 'kite help'\n", argv[i]);
			return KITE_EXIT_USAGE;
		}
	}
	log_init("kite", 0, g.level);
	if (i >= argc) {
		usage(stderr);
		return KITE_EXIT_USAGE;
	}
	for (size_t k = 0; k < KITE_ARRAY_SIZE(commands); k++)
		if (!strcmp(commands[k].name, argv[i]))
			return commands[k].fn(&g, argc - i, argv + i);
	fprintf(stderr, "kite: error: unknown command '%s'; see 'kite help'\n", argv[i]);
	return KITE_EXIT_USAGE;
}
