// SPDX-License-Identifier: Apache-2.0
/*
 * sink: reads JSON lines from stdin as fast as possible, discards them, and
 * reports on stdout (one line each, flushed):
 *   first SECS MONO           when the first event line arrives (one containing READY, if given):
 *                             seconds since the sink started, and CLOCK_MONOTONIC seconds then
 *   window LINES SECS         event lines counted during the window (after the warm-up)
 *   eof LINES MARKERS LOSTTOTAL LOSTLINES   at end of input
 * Lines starting with {"lost": are not events: their "lostTotal" is tracked.
 *
 *   sink [--ready STR] [--marker STR] [--warmup-ms N] [--window-ms N]
 * MARKERS counts the event lines containing MARKER.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (4 << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *marker = NULL, *ready = NULL;
	double warmup = 0, window = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ready"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--marker"))
			marker = argv[i + 1];
		else if (!strcmp(argv[i], "--warmup-ms"))
			warmup = atof(argv[i + 1]) / 1000;
		else if (!strcmp(argv[i], "--window-ms"))
			window = atof(argv[i + 1]) / 1000;
	}
	size_t mlen = marker ? strlen(marker) : 0;
	char *buf = malloc(BUFSZ + 1);
	size_t have = 0;
	unsigned long long lines = 0, markers = 0, lostTotal = 0, lostLines = 0, base = 0;
	double t_start = now(), t_first = 0, t_win = 0;
	int state = 0; /* 0 no event yet, 1 warm-up, 2 window, 3 done */
	struct pollfd p = { .fd = 0, .events = POLLIN };

	for (;;) {
		int pr = poll(&p, 1, 50);
		double t = now();
		if (pr > 0) {
			ssize_t n = read(0, buf + have, BUFSZ - have);
			if (n <= 0)
				break;
			have += n;
			char *s = buf, *end = buf + have, *nl;
			while ((nl = memchr(s, '\n', end - s))) {
				if (nl - s >= 8 && !memcmp(s, "{\"lost\":", 8)) {
					lostLines++;
					char *q = memmem(s, nl - s, "\"lostTotal\":", 12);
					if (q) {
						unsigned long long v = strtoull(q + 12, NULL, 10);
						if (v > lostTotal)
							lostTotal = v;
					}
				} else {
					lines++;
					if (marker && memmem(s, nl - s, marker, mlen))
						markers++;
					if (state == 0 && (!ready || memmem(s, nl - s, ready, strlen(ready)))) {
						t_first = t;
						printf("first %.6f %.6f\n", t - t_start, t);
						fflush(stdout);
						state = 1;
					}
				}
				s = nl + 1;
			}
			have = end - s;
			if (have == BUFSZ)
				have = 0; /* an absurdly long line: drop it */
			memmove(buf, s, have);
		}
		if (state == 1 && window > 0 && t - t_first >= warmup) {
			state = 2;
			t_win = t;
			base = lines;
		} else if (state == 2 && t - t_win >= window) {
			state = 3;
			printf("window %llu %.6f\n", lines - base, t - t_win);
			fflush(stdout);
		}
	}
	printf("eof %llu %llu %llu %llu\n", lines, markers, lostTotal, lostLines);
	fflush(stdout);
	return 0;
}
