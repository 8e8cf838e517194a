/* The driver's JSON output: one line on the result descriptor, written
 * through a small static buffer that is flushed whenever it fills, so the
 * output has no size limit (1000 repetitions are ~250 KB) and needs no
 * malloc. Only used outside the timed region. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ar_assert.h"
#include "ar_text.h"
#include "driver.h"

int g_result_fd = -1;

static char buf[4096];
static size_t used;
static int flushed; /* some output already went out */

void out_flush(void) {
  size_t off = 0;
  while (off < used && g_result_fd >= 0) {
    ssize_t w = write(g_result_fd, buf + off, used - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  flushed |= used > 0;
  used = 0;
}

static void out_char(char c) {
  if (used == sizeof buf) out_flush();
  buf[used++] = c;
}

void out_fmt(const char *fmt, ...) {
  char item[512]; /* every formatted item is one number or key, far shorter */
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(item, sizeof item, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof item) n = (int)sizeof item - 1;
  for (int i = 0; i < n; i++) out_char(item[i]);
}

void out_json_str(const char *s) {
  static const char hex[] = "0123456789abcdef";
  out_char('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      out_char('\\');
      out_char((char)*p);
    } else if (*p < 0x20 || *p == 0x7f) {
      out_char('\\');
      out_char('u');
      out_char('0');
      out_char('0');
      out_char(hex[*p >> 4]);
      out_char(hex[*p & 15]);
    } else {
      out_char((char)*p); /* other bytes as they are: UTF-8 passes through */
    }
  }
  out_char('"');
}

void die(const char *what, const char *detail) {
  if (g_result_fd < 0) {
    fprintf(stderr, "replay: %s: %s\n", what, detail);
    _exit(3);
  }
  used = 0; /* anything still buffered is dropped: the last line is the failure */
  if (flushed) out_char('\n');
  char msg[1024];
  snprintf(msg, sizeof msg, "%s: %s", what, detail);
  out_fmt("{\"status\":\"failed\",\"error\":");
  out_json_str(msg);
  out_fmt("}\n");
  out_flush();
  _exit(3);
}

#ifdef AR_DEBUG
void ar_assert_fail(const char *expr, const char *file, int line) {
  /* Async-signal-safe: it may fire in a crash handler or a refill. */
  char msg[512], *p = msg, *end = msg + sizeof msg - 2;
  const char *parts[] = {"replay: invariant broken: ", expr, " (", file, ":"};
  for (unsigned k = 0; k < sizeof parts / sizeof parts[0]; k++)
    for (const char *s = parts[k]; *s && p < end - 24; s++) *p++ = *s;
  p = ar_put_u64(p, (uint64_t)line);
  *p++ = ')';
  *p++ = '\n';
  ssize_t w = write(2, msg, (size_t)(p - msg));
  (void)w;
  _exit(AR_ASSERT_EXIT);
}
#endif
