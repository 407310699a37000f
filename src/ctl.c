/* ctl: see ctl.h. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto.h"
#include "ctl.h"
#include "kite.h"
#include "log.h"

#define CTL_TIMEOUT_MS	15000

void ctl_path(const char *profile, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.sock", KITE_RUN_DIR, profile);
}

static int ctl_addr(const char *profile, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strchr(profile, '/') || strlen(KITE_RUN_DIR) + strlen(profile) + 7 > sizeof(sun->sun_path)) {
		errno = EINVAL;
		return -1;
	}
	ctl_path(profile, sun->sun_path, sizeof(sun->sun_path));
	return 0;
}

int ctl_connect(const char *profile)
{
	struct sockaddr_un sun;
	int fd;

	if (ctl_addr(profile, &sun) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int ctl_listen(const char *profile)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, probe;

	if (ctl_addr(profile, &sun) != 0)
		return -1;
	if (mkdir(KITE_RUN_DIR, 0700) != 0 && errno != EEXIST)
		return -1;
	probe = ctl_connect(profile);
	if (probe >= 0) {
		close(probe);
		errno = EADDRINUSE;
		return -1;
	}
	if (errno == ECONNREFUSED) {
		/* A socket left by a crashed daemon (wireguard-tools ipc-uapi-unix.h). */
		log_info("replacing the stale control socket %s", sun.sun_path);
		unlink(sun.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		umask(old);
		close(fd);
		errno = e;
		return -1;
	}
	umask(old);
	chmod(sun.sun_path, 0600);
	if (listen(fd, 8) != 0) {
		int e = errno;

		close(fd);
		unlink(sun.sun_path);
		errno = e;
		return -1;
	}
	return fd;
}

int ctl_request(const char *profile, const char *req, char *out, size_t len)
{
	size_t off = 0;
	int fd = ctl_connect(profile);

	if (fd < 0)
		return -1;
	char line[600];
	int ll = snprintf(line, sizeof(line), "%s\n", req);

	/* One write: the daemon reads one request line and answers at once. */
	if (ll <= 0 || (size_t)ll >= sizeof(line) || send(fd, line, (size_t)ll, MSG_NOSIGNAL) != ll) {
		close(fd);
		return -1;
	}
	while (len && off < len - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0) {
			close(fd);
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(fd, out + off, len - 1 - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (len)
		out[off] = '\0';
	close(fd);
	crypto_wipe(line, sizeof(line));
	return 0;
}

int ctl_list(char names[][40], int n)
{
	DIR *d = opendir(KITE_RUN_DIR);
	struct dirent *e;
	int k = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL && k < n) {
		size_t l = strlen(e->d_name);

		if (l > 5 && l - 5 < 40 && !strcmp(e->d_name + l - 5, ".sock")) {
			memcpy(names[k], e->d_name, l - 5);
			names[k][l - 5] = '\0';
			k++;
		}
	}
	closedir(d);
	return k;
}
