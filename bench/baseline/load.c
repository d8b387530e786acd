// SPDX-License-Identifier: Apache-2.0
/*
 * load: the bench's load generator, so that Node is never the bottleneck.
 *
 *   load getppid SECONDS [RATE]    getppid(2) in a tight loop for SECONDS, or paced at RATE per second
 *   load open RATE SECONDS PATH    open(PATH)+close at RATE per second (0 = as fast as possible)
 *   load openloop COUNT PATH       COUNT open+close as fast as possible (the overhead workload)
 *   load probe PATH                open(PATH)+close every 2 ms until killed
 *
 * Options before the mode: --wait  wait for a line on stdin before starting
 *                          --probe PATH  while waiting, open PATH every 2 ms
 *                          --probe-getppid  while waiting, getppid(2) every 2 ms from another thread
 *                                  (a tracer of getppid shows it is attached; its events carry another tid)
 * Prints "done calls=N secs=S" on stdout when finished (SIGTERM/SIGINT end it early, still printing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void open_close(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
}

static volatile int probe_done;

static void *getppid_probe(void *arg)
{
	(void)arg;
	while (!probe_done && !stop) {
		syscall(SYS_getppid);
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void call_getppid(const char *unused)
{
	(void)unused;
	syscall(SYS_getppid);
}

/*
 * `call(arg)` at `rate` per second for `secs` from t0: catching up to rate * elapsed in steps of at
 * most 64, sleeping 0.1 ms when ahead. Returns the calls made (fewer when stopped).
 */
static unsigned long long paced(double t0, double rate, double secs, void (*call)(const char *), const char *arg)
{
	unsigned long long calls = 0, total = (unsigned long long)(rate * secs);
	while (!stop && calls < total) {
		unsigned long long due = (unsigned long long)((now() - t0) * rate) + 1;
		if (due > total)
			due = total;
		if (calls >= due) {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
			continue;
		}
		for (int k = 0; k < 64 && calls < due; k++, calls++)
			call(arg);
	}
	return calls;
}

static void wait_go(const char *probe)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char buf[64];
	for (;;) {
		if (stop)
			return;
		int r = poll(&p, 1, probe ? 2 : 1000);
		if (r > 0) {
			(void)!read(0, buf, sizeof(buf));
			return;
		}
		if (probe)
			open_close(probe);
	}
}

int main(int argc, char **argv)
{
	int wait = 0, probe_getppid = 0;
	const char *probe = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "--probe") && i + 1 < argc)
			probe = argv[++i];
		else if (!strcmp(argv[i], "--probe-getppid"))
			probe_getppid = 1;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: load [--wait] [--probe PATH] getppid|open|openloop|probe ...\n");
		return 2;
	}
	const char *mode = argv[i++];
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	pthread_t prober;
	int probing = wait && probe_getppid && pthread_create(&prober, NULL, getppid_probe, NULL) == 0;
	if (wait)
		wait_go(probe);
	if (probing) {
		probe_done = 1;
		pthread_join(prober, NULL);
	}

	unsigned long long calls = 0;
	double t0 = now(), t;
	if (!strcmp(mode, "getppid") && i < argc) {
		double secs = atof(argv[i]), end = t0 + secs;
		double rate = i + 1 < argc ? atof(argv[i + 1]) : 0;
		if (rate > 0)
			calls = paced(t0, rate, secs, call_getppid, NULL);
		while (rate <= 0 && !stop) {
			for (int k = 0; k < 256; k++)
				syscall(SYS_getppid);
			calls += 256;
			if (now() >= end)
				break;
		}
	} else if (!strcmp(mode, "open") && i + 2 < argc) {
		double rate = atof(argv[i]), secs = atof(argv[i + 1]);
		const char *path = argv[i + 2];
		double end = t0 + secs;
		if (rate > 0)
			calls = paced(t0, rate, secs, open_close, path);
		while (rate <= 0 && !stop && now() < end) {
			for (int k = 0; k < 64; k++, calls++)
				open_close(path);
		}
	} else if (!strcmp(mode, "openloop") && i + 1 < argc) {
		unsigned long long n = strtoull(argv[i], NULL, 10);
		const char *path = argv[i + 1];
		for (; calls < n && !stop; calls++)
			open_close(path);
	} else if (!strcmp(mode, "probe") && i < argc) {
		while (!stop) {
			open_close(argv[i]);
			calls++;
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
		}
	} else {
		fprintf(stderr, "load: bad arguments for mode %s\n", mode);
		return 2;
	}
	t = now();
	printf("done calls=%llu secs=%.6f\n", calls, t - t0);
	fflush(stdout);
	return 0;
}
