/* The recorder's life in a process image: whether this image is recorded
 * (at load), the final write (exit, and for recorder_exec.c exec and
 * _exit), fork children, and terminating signals left at their default. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"

static int follow_forks;

void recorder_flush_final(void) {
  if (!atomic_load(&rec_enabled) || getpid() != rec_image_pid) return; /* not ours, or a vfork child */
  atomic_store(&rec_closing, 1);
  if (!lock_log(1)) return;
  /* Published records only: one an owner is writing now (or that a signal
   * handler interrupted on this thread) is not, and is not written. */
  for (struct tbuf *b = rec_registry; b; b = b->next) write_buffer(b);
  unlock_log();
}

void recorder_exec_failed(void) { atomic_store(&rec_closing, 0); }

/* A process of the command that is not recorded (a child, without
 * --follow-forks) says so: its pid, one line appended to the file the
 * launcher names, so `record` can tell the user what the trace lacks. A
 * child that forks and then execs writes its pid twice; the launcher counts
 * distinct pids. Async-signal-safe: it runs in a fork child. */
static void note_unrecorded(void) {
  const char *path = getenv("ALLOCREPLAY_RECORD_UNRECORDED");
  if (!path || !*path) return;
  char line[24];
  int n = 0;
  char digits[20];
  for (unsigned long v = (unsigned long)getpid(); n == 0 || v; v /= 10) digits[n++] = (char)('0' + v % 10);
  int len = 0;
  while (n) line[len++] = digits[--n];
  line[len++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!write(fd, line, (size_t)len);
  close(fd);
}

static void at_fork_child(void) {
  threads_after_fork();
  stream_forget();
  atomic_store(&rec_closing, 0);
  atomic_store(&rec_threaded, 0); /* a child has one thread */
  rec_image_pid = getpid();
  atomic_store(&rec_enabled, 0);
  if (!follow_forks) {
    note_unrecorded();
    return;
  }
  atomic_store(&rec_seq_next, 0);
  atomic_store(&rec_enabled, stream_open(NULL));
}

/* A terminating signal whose action was the default (Ctrl-C, kill): write
 * everything, then die of it as the program would have. */
static void on_fatal(int sig) {
  recorder_flush_final();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void catch_fatal(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old;
    if (sigaction(sigs[i], NULL, &old) || old.sa_handler != SIG_DFL) continue; /* ignored or handled: the program's */
    struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

__attribute__((constructor)) static void rec_init(void) {
  const char *sock = getenv("ALLOCREPLAY_RECORD_SOCK");
  const char *parent = getenv("ALLOCREPLAY_RECORD_PPID");
  const char *forks = getenv("ALLOCREPLAY_RECORD_FORKS");
  follow_forks = forks && forks[0] == '1';
  if (!sock || strlen(sock) >= 108) return; /* sun_path */
  /* The launched command (whose parent is the launcher), and the images it
   * execs; other processes only when following forks. */
  if (!follow_forks && (!parent || (uint64_t)atoll(parent) != (uint64_t)getppid())) {
    note_unrecorded();
    return;
  }
  rec_image_pid = getpid();
  threads_start();
  pthread_atfork(NULL, NULL, at_fork_child);
  int open = stream_open(sock);
  atomic_store(&rec_enabled, open);
  if (open) catch_fatal();
}

__attribute__((destructor)) static void rec_fini(void) { recorder_flush_final(); }
