// SPDX-License-Identifier: Apache-2.0
// execstamp CMD [ARGS...]: writes "ig-bench-exec-at SECS" (CLOCK_MONOTONIC) to stderr, then execs
// CMD in this process (same pid, stdio and signals). The first-event figures count from here, the
// exec of the tool, as the sink's "first" line gives the same clock's time of the tool's first line:
// counted from before the bench's node process forked, every tool's figure also held that fork
// (~7-9 ms on this guest for a ~60 MB process).
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: execstamp CMD [ARGS...]\n");
		return 2;
	}
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "ig-bench-exec-at %.6f\n", t.tv_sec + t.tv_nsec / 1e9);
	fflush(stderr);
	execvp(argv[1], argv + 1);
	perror("execstamp: exec");
	return 127;
}
