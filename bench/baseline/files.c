// SPDX-License-Identifier: Apache-2.0
/*
 * files: the toppers' workload. Creates N files in DIR, keeps them open, and reads one byte
 * of each in turn, a pass every 10 ms, until killed: every map fetch of top_file (or of
 * bpftrace counting reads per file) then holds N rows of this process.
 *
 *   files DIR N
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: files DIR N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	int *fds = calloc(n, sizeof(int));
	char path[4096], c;
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%05d", argv[1], i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fds[i] < 0 || write(fds[i], "x", 1) != 1) {
			perror(path);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	while (!stop) {
		for (int i = 0; i < n; i++)
			(void)!pread(fds[i], &c, 1, 0);
		nanosleep(&pause, NULL);
	}
	return 0;
}
