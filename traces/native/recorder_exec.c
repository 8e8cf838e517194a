/* exec and _exit for the recorder (recorder.h): every buffered call is
 * written before the image goes away. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "recorder.h"

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

/* Looked up at load time: exec functions are async-signal-safe, dlsym is not. */
static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static fexecve_fn real_fexecve;

__attribute__((constructor)) static void exec_init(void) {
  real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
  real_execvpe = (execve_fn)dlsym(RTLD_NEXT, "execvpe");
  real_execv = (execv_fn)dlsym(RTLD_NEXT, "execv");
  real_execvp = (execv_fn)dlsym(RTLD_NEXT, "execvp");
  real_fexecve = (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
}

/* ---- exec: write everything first, or the buffered calls die with the
 * image; if the exec fails, recording goes on. glibc's own exec functions
 * call the kernel directly, so each one is wrapped. ---- */
int execve(const char *path, char *const argv[], char *const envp[]) {
  execve_fn real = real_execve ? real_execve : (execve_fn)dlsym(RTLD_NEXT, "execve");
  recorder_flush_final();
  int r = real(path, argv, envp);
  recorder_exec_failed();
  return r;
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
  execve_fn real = real_execvpe ? real_execvpe : (execve_fn)dlsym(RTLD_NEXT, "execvpe");
  recorder_flush_final();
  int r = real(file, argv, envp);
  recorder_exec_failed();
  return r;
}

int fexecve(int fd, char *const argv[], char *const envp[]) {
  fexecve_fn real = real_fexecve ? real_fexecve : (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
  recorder_flush_final();
  int r = real(fd, argv, envp);
  recorder_exec_failed();
  return r;
}

int execv(const char *path, char *const argv[]) {
  execv_fn real = real_execv ? real_execv : (execv_fn)dlsym(RTLD_NEXT, "execv");
  recorder_flush_final();
  int r = real(path, argv);
  recorder_exec_failed();
  return r;
}

int execvp(const char *file, char *const argv[]) {
  execv_fn real = real_execvp ? real_execvp : (execv_fn)dlsym(RTLD_NEXT, "execvp");
  recorder_flush_final();
  int r = real(file, argv);
  recorder_exec_failed();
  return r;
}

/* execl, execlp, execle: the variadic arguments into an array on the stack. */
#define ARGV_FROM_VA(first)                        \
  va_list ap;                                      \
  size_t argc = 1;                                 \
  va_start(ap, first);                             \
  while (va_arg(ap, char *)) argc++;               \
  va_end(ap);                                      \
  char *argv[argc + 1];                            \
  argv[0] = (char *)(first);                       \
  va_start(ap, first);                             \
  for (size_t i = 1; i <= argc; i++) argv[i] = va_arg(ap, char *);

int execl(const char *path, const char *arg, ...) {
  ARGV_FROM_VA(arg)
  va_end(ap);
  return execv(path, argv);
}

int execlp(const char *file, const char *arg, ...) {
  ARGV_FROM_VA(arg)
  va_end(ap);
  return execvp(file, argv);
}

int execle(const char *path, const char *arg, ...) {
  ARGV_FROM_VA(arg)
  char **envp = va_arg(ap, char **);
  va_end(ap);
  return execve(path, argv, envp);
}

/* ---- _exit skips destructors: write first (a forked child often ends so).
 * No lock that a signal handler could deadlock on (see flush_final). ---- */
void _exit(int status) {
  recorder_flush_final();
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void _Exit(int status) { _exit(status); }
