/* The live launcher: runs a program once, as `allocreplay live` measures it.
 *
 *   live-runner RESULT_FD TIMEOUT_MS STDOUT STDERR -- BINARY ARGV0 ARGS...
 *
 * The program runs in its own process group with stdin from /dev/null,
 * stdout and stderr to the files named, address-space randomisation off (as
 * the replay driver runs), and LD_PRELOAD set to ALLOCREPLAY_LIVE_PRELOAD in
 * the child only, so the launcher itself never runs on the allocator under
 * test. The wall time is taken from just before fork to the moment wait4
 * returns; CPU time, peak RSS, page faults and context switches are the
 * child's own (wait4's rusage). The result is one JSON line on RESULT_FD.
 *
 * Invariant: the launcher allocates nothing between the first clock read
 * and the last (the timed span), and waits with sigtimedwait, not a poll,
 * so the wall time is not rounded up to a polling period. SIGTERM or SIGINT
 * sent to the launcher kills the program's process group first, so an
 * interrupted `live` leaves nothing running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int result_fd = 2;

static void emit(const char *json) {
  size_t n = strlen(json);
  while (n) {
    ssize_t w = write(result_fd, json, n);
    if (w <= 0) return;
    json += w, n -= (size_t)w;
  }
}

static void fail(const char *what, int err) {
  char line[512];
  snprintf(line, sizeof line, "{\"status\":\"failed\",\"error\":\"%s: %s\"}\n", what, strerror(err));
  emit(line);
  exit(3);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void child(const char *binary, char **argv, const char *out, const char *err, int report) {
  setpgid(0, 0);
  personality(ADDR_NO_RANDOMIZE);
  int in = open("/dev/null", O_RDONLY);
  int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
    int x = errno;
    (void)!write(report, &x, sizeof x);
    _exit(127);
  }
  const char *lib = getenv("ALLOCREPLAY_LIVE_PRELOAD");
  if (lib && *lib) setenv("LD_PRELOAD", lib, 1);
  else unsetenv("LD_PRELOAD");
  unsetenv("ALLOCREPLAY_LIVE_PRELOAD");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(binary, argv);
  int x = errno;
  (void)!write(report, &x, sizeof x);
  _exit(127);
}

int main(int argc, char **argv) {
  if (argc < 8 || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "usage: live-runner RESULT_FD TIMEOUT_MS STDOUT STDERR -- BINARY ARGV0 ARGS...\n");
    return 2;
  }
  result_fd = atoi(argv[1]);
  long timeout_ms = atol(argv[2]);
  const char *binary = argv[6];
  char **prog = argv + 7;

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) fail("pipe", errno);
  /* The signals waited for are blocked first, so none is lost before the wait. */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGTERM);
  sigaddset(&chld, SIGINT);
  sigprocmask(SIG_BLOCK, &chld, NULL);

  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) fail("fork", errno);
  if (pid == 0) child(binary, prog, argv[3], argv[4], pipefd[1]);
  close(pipefd[1]);

  struct timespec limit = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000u;
  int timed_out = 0;
  for (;;) {
    int s = sigtimedwait(&chld, NULL, &limit);
    if (s == SIGCHLD) break;
    if (s == SIGTERM || s == SIGINT) {
      kill(-pid, SIGKILL), kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
      return 128 + s;
    }
    if (s < 0 && errno == EINTR) {
      uint64_t t = now_ns();
      if (t >= deadline) { timed_out = 1; break; }
      uint64_t left = deadline - t;
      limit.tv_sec = (time_t)(left / 1000000000u), limit.tv_nsec = (long)(left % 1000000000u);
      continue;
    }
    timed_out = 1;
    break;
  }
  if (timed_out) kill(-pid, SIGKILL), kill(pid, SIGKILL);
  struct rusage ru;
  int status = 0;
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  uint64_t wall = now_ns() - t0;

  int exec_err = 0;
  if (read(pipefd[0], &exec_err, sizeof exec_err) == (ssize_t)sizeof exec_err) {
    char what[256];
    snprintf(what, sizeof what, "cannot run %s", prog[0]);
    fail(what, exec_err);
  }
  char line[1024];
  snprintf(line, sizeof line,
           "{\"status\":\"%s\",\"exit\":%d,\"signal\":%d,\"wall_ns\":%llu,\"user_us\":%lld,\"sys_us\":%lld,"
           "\"maxrss_kib\":%ld,\"minflt\":%ld,\"majflt\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld}\n",
           timed_out ? "timeout" : "ok", WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
           (unsigned long long)wall, (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
           (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw);
  emit(line);
  return 0;
}
