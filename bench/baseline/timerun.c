// SPDX-License-Identifier: Apache-2.0
// timerun CMD [ARGS...]: runs CMD once, its stdout on /dev/null, and prints the wall time from the
// fork to its exit in ms (CLOCK_MONOTONIC), as `perf stat` or hyperfine take it. The whole-run
// figures measured from the bench's node process also counted node forking itself (a process of
// ~60 MB on a guest where each page table copy and page fault is slow): `ps -e` read 23 ms that
// way and 14 ms with `perf stat`. Exit status 1 (and a line on stderr) when CMD fails.
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: timerun CMD [ARGS...]\n");
		return 2;
	}
	double start = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("timerun: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) < 0) _exit(126);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		perror("timerun: waitpid");
		return 1;
	}
	double ms = now_ms() - start;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "timerun: %s failed (wait status %d)\n", argv[1], status);
		return 1;
	}
	printf("%.3f\n", ms);
	return 0;
}
