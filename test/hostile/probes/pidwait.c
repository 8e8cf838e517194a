/* pidwait PID: waits for another process to end, through a pidfd. Prints
 * "watching PID" once the pidfd is open (from then on the pid cannot be
 * reused under it) and exits 0 when that process has terminated (a zombie
 * or reaped), 1 when it cannot watch it. test/hostile/cli.test.ts waits on
 * it for a killed driver's end instead of polling /proc on a timer. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: pidwait PID\n", stderr);
    return 2;
  }
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)atol(argv[1]), 0);
  if (fd < 0) {
    perror("pidwait: pidfd_open");
    return 1;
  }
  printf("watching %s\n", argv[1]);
  fflush(stdout);
  /* A pidfd is readable once its process has terminated. */
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, -1) < 0)
    if (errno != EINTR) {
      perror("pidwait: poll");
      return 1;
    }
  return 0;
}
