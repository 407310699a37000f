/*
 * udpflood: send UDP datagrams of SIZE bytes to ADDR:PORT as fast as possible for SECONDS
 * (sendmmsg, 32 per call). A load generator for make bench; needs no server.
 * Usage: udpflood ADDR PORT SIZE SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in to;
	static char buf[65536];
	struct mmsghdr m[32];
	struct iovec iov;
	struct timespec t0, t;
	unsigned long long sent = 0;
	int fd, size;
	double secs;

	if (argc != 5)
		return 2;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return 2;
	size = atoi(argv[3]);
	secs = atof(argv[4]);
	if (size <= 0 || size > (int)sizeof(buf) || (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return 2;
	iov.iov_base = buf;
	iov.iov_len = (size_t)size;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 32; i++) {
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int r = sendmmsg(fd, m, 32, 0);

		if (r > 0)
			sent += (unsigned)r;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	printf("%llu\n", sent);
	close(fd);
	return 0;
}
