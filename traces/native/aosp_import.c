/* The native `import aosp`: Android memory_replay text dumps
 * (`<tid>: <op> <ptr> [args] [timestamps]`) into a v1 trace, through the
 * record converter's pointer → dense id tracking (convert.c, in its import
 * counting) and its writer (trace_out.c).
 *
 *   aosp-import HEADER_HEX OUT [--lenient]   < DUMP
 *
 * Reads the dump from standard input (a file, or the bytes of a zip's entry
 * through a pipe), writes OUT (the launcher's temporary name: it renames it,
 * or removes it on an error), and prints one JSON line on standard output:
 * the footer and counts, or {"error": …} with what the launcher needs to
 * word the error (traces/import/aosp.ts). HEADER_HEX is the msgpack header,
 * made by the TypeScript side, in hex.
 *
 * Every number is range-checked: a value beyond the trace format's 2^53-1
 * is a malformed line, never a wrapped one. Memory is the live set and one
 * read buffer (longer lines grow it), never the dump.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "convert.h"

#define READ_BYTES (4u << 20)
/* Timestamps are kept relative to the first; deltas stay encodable within this span (ns, ~52 days). */
#define MAX_TIME_SPAN ((1ull << 52) - 1)
/* FORMAT.md: thread indices 0 … MAX_THREADS − 1. */
#define MAX_THREADS 65536u
/* Bytes of a malformed line quoted in its error. */
#define QUOTE_BYTES 120
/* trace_out's flags: chunks written on its thread (tests build it with 0 to compare the bytes). */
#ifndef WRITER_FLAGS
#define WRITER_FLAGS TRACE_OUT_THREAD
#endif

/* One line as read: its op (a TRACE_OP_*), thread id, pointers (keys: the
 * value, any width; 0 is NULL) and up to three numbers of how many. */
struct line {
  unsigned op;
  uint64_t tid, ptr, old, n[3];
  unsigned count;
};

/* A cursor over one line's bytes [p, e): never reads past e. */
struct cursor {
  const uint8_t *p, *e;
  char problem[160]; /* why the line is malformed, when "cannot parse" is not enough */
};

static inline void blanks(struct cursor *c) {
  while (c->p < c->e && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

static int fail(struct cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cursor *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (!c->problem[0]) vsnprintf(c->problem, sizeof c->problem, fmt, ap);
  va_end(ap);
  return 0;
}

/* A decimal ≤ VALUE_MAX into *v; 0 when absent or too big (then `problem` says so). */
static int dec(struct cursor *c, uint64_t *v) {
  blanks(c);
  const uint8_t *s = c->p;
  uint64_t x = 0;
  int big = 0;
  for (; c->p < c->e && (unsigned)(*c->p - '0') < 10; c->p++) {
    /* Once past VALUE_MAX the value stays there: no wrap. */
    if (!big) x = x * 10 + (uint64_t)(*c->p - '0'), big = x > VALUE_MAX;
  }
  if (c->p == s) return 0;
  if (big) {
    int n = c->p - s > 24 ? 24 : (int)(c->p - s);
    return fail(c, "number %.*s%s is above the trace format's limit of 2^53-1", n, (const char *)s, c->p - s > 24 ? "\xe2\x80\xa6" : "");
  }
  *v = x;
  return 1;
}

static int expect(struct cursor *c, uint8_t ch) {
  blanks(c);
  if (c->p >= c->e || *c->p != ch) return 0;
  c->p++;
  return 1;
}

static const char *const WORDS[] = {"malloc", "free", "calloc", "realloc", "memalign", "thread_done"};
static const unsigned OPS[] = {TRACE_OP_MALLOC, TRACE_OP_FREE, TRACE_OP_CALLOC, TRACE_OP_REALLOC, TRACE_OP_MEMALIGN, TRACE_OP_THREAD_EXIT};

/* The op word next (up to a blank or a colon), exactly one of WORDS; 0 when none. */
static unsigned op_word(struct cursor *c) {
  blanks(c);
  const uint8_t *s = c->p;
  while (c->p < c->e && *c->p != ' ' && *c->p != '\t' && *c->p != ':') c->p++;
  size_t len = (size_t)(c->p - s);
  /* Told by its first letter ('m': malloc or memalign, by its second), then checked whole. */
  unsigned w = s[0] == 'm' ? (len > 1 && s[1] == 'a' ? 0 : 4) : s[0] == 'f' ? 1 : s[0] == 'c' ? 2 : s[0] == 'r' ? 3 : s[0] == 't' ? 5 : 6;
  if (len == 0 || w == 6 || strlen(WORDS[w]) != len || memcmp(s, WORDS[w], len)) return 0;
  return OPS[w];
}

/* A hex digit's value (either case), or -1 for any other byte. */
static int8_t HEX[256];

static void hex_init(void) {
  memset(HEX, -1, sizeof HEX);
  for (int i = 0; i < 10; i++) HEX['0' + i] = (int8_t)i;
  for (int i = 0; i < 6; i++) HEX['a' + i] = HEX['A' + i] = (int8_t)(10 + i);
}

/* A 0x-prefixed hex pointer (or `(nil)`) as a key into *k: its value (0 is
 * NULL; leading zeros and case do not matter). One wider than 64 bits (no
 * ABI has one) keys by a 64-bit hash of its digits. 0 when absent. */
static int pointer(struct cursor *c, uint64_t *k) {
  blanks(c);
  if (c->e - c->p >= 5 && c->p[0] == '(' && !memcmp(c->p, "(nil)", 5)) {
    c->p += 5;
    *k = 0;
    return 1;
  }
  if (c->e - c->p < 3 || c->p[0] != '0' || (c->p[1] | 32) != 'x') return 0;
  c->p += 2;
  const uint8_t *s = c->p;
  while (c->p < c->e && *c->p == '0') c->p++;
  const uint8_t *first = c->p;
  uint64_t v = 0;
  int d;
  for (; c->p < c->e && (d = HEX[*c->p]) >= 0; c->p++) v = v << 4 | (uint64_t)d;
  if (c->p == s) return 0;
  if (c->p - first > 16) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the digits' values */
    for (const uint8_t *q = first; q < c->p; q++) h = (h ^ (uint64_t)HEX[*q]) * 0x100000001b3ull;
    v = h | 1;
  }
  *k = v;
  return 1;
}

/* Reads one non-blank line into *l; 0 when it is malformed (c->problem may say why). */
static int parse(struct cursor *c, struct line *l) {
  uint64_t v;
  if (!dec(c, &l->tid) || !expect(c, ':')) return 0;
  if (!(l->op = op_word(c)) || !pointer(c, &l->ptr)) return 0;
  l->old = 0;
  if (l->op == TRACE_OP_REALLOC && !pointer(c, &l->old)) return 0;
  /* Up to three numbers: the op's own arguments, then timestamps (ns) of which the first is kept. */
  l->count = 0;
  for (;;) {
    blanks(c);
    if (c->p >= c->e) return 1;
    if (!dec(c, &v)) return 0;
    if (l->count < 3) l->n[l->count] = v;
    l->count++;
  }
}

static int power_of_two(uint64_t v) { return v && !(v & (v - 1)) && v <= 1ull << 52; }

/* The import's state besides the conversion. */
struct import {
  struct conversion conv;
  int t0_set; /* the first kept line's time: every later one within MAX_TIME_SPAN of it */
  uint64_t t0;
  int times_set; /* the first event's time, which event times are relative to */
  uint64_t times0;
  uint64_t lines, skipped;
};

/* trace_out's stamp_to_ns: ns since the first event's, never below 0. */
static void since_first(void *ctx, uint64_t *stamps, unsigned n) {
  struct import *im = ctx;
  for (unsigned i = 0; i < n; i++) {
    if (!im->times_set) im->times0 = stamps[i], im->times_set = 1;
    stamps[i] = stamps[i] > im->times0 ? stamps[i] - im->times0 : 0;
  }
}

static void out_of_memory(void) {
  printf("{\"error\":\"memory\"}\n");
  exit(1);
}

/* The event index and message of a trace rule an import broke (the writer's
 * checks in traces/format/live.ts, same words). */
static void broken(uint64_t event, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void broken(uint64_t event, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("{\"error\":\"event\",\"event\":%" PRIu64 ",\"message\":\"%s\"}\n", event, msg);
  exit(1);
}

/* Checks a parsed line's values and hands its call to the conversion; 0 (nothing changed) when they do not make one. */
static int emit(struct import *im, struct cursor *c, const struct line *l) {
  unsigned op = l->op;
  unsigned need = op == TRACE_OP_MALLOC || op == TRACE_OP_REALLOC ? 1 : op == TRACE_OP_CALLOC || op == TRACE_OP_MEMALIGN ? 2 : 0;
  if (l->count < need) return 0;
  if (op == TRACE_OP_MEMALIGN && !power_of_two(l->n[0])) return fail(c, "alignment %" PRIu64 " is not a power of two", l->n[0]);
  if (op == TRACE_OP_CALLOC && l->ptr && l->n[1] && l->n[0] > VALUE_MAX / l->n[1])
    return fail(c, "calloc of %" PRIu64 " \xc3\x97 %" PRIu64 " bytes is above the trace format's limit of 2^53-1", l->n[0], l->n[1]);
  uint64_t ns = l->count > need ? l->n[need] : 0;
  if (!im->t0_set) im->t0 = ns, im->t0_set = 1;
  else if (ns > im->t0 && ns - im->t0 > MAX_TIME_SPAN) return fail(c, "timestamp more than 2^52 ns after the first");
  struct call r = {0, ns, l->ptr, l->n[0], 0, op};
  if (op == TRACE_OP_REALLOC) r.arg = l->old;
  else if (op == TRACE_OP_CALLOC || op == TRACE_OP_MEMALIGN) r.size = l->n[1], r.arg = l->n[0]; /* nmemb size; alignment size */
  else if (op != TRACE_OP_MALLOC) r.size = 0;
  struct conversion *m = &im->conv;
  uint64_t before = m->out.events;
  if (conversion_call(m, &r, l->tid)) out_of_memory();
  if (m->event_threads > MAX_THREADS) broken(before, "thread index %u is not in 0 \xe2\x80\xa6 %u", MAX_THREADS, MAX_THREADS - 1);
  if (m->live_bytes > VALUE_MAX)
    broken(m->out.events - 1, "allocation of %" PRIu64 " bytes brings the live bytes past 2^53 \xe2\x88\x92 1 (the footer's peakLiveBytes could not hold them)",
           op == TRACE_OP_CALLOC ? r.size * r.arg : r.size);
  return 1;
}

/* A malformed line, as the launcher words it: its number, why, and its first bytes in hex. */
static void malformed(const struct import *im, const struct cursor *c, const uint8_t *start, const uint8_t *end) {
  printf("{\"error\":\"malformed\",\"line\":%" PRIu64 ",\"problem\":\"%s\",\"text\":\"", im->lines, c->problem);
  for (const uint8_t *q = start; q < end && q < start + QUOTE_BYTES; q++) printf("%02x", *q);
  printf("\"}\n");
  exit(1);
}

/* Imports the line [s, e) (its LF and a CR before it already cut off). */
static void line(struct import *im, const uint8_t *s, const uint8_t *e, int lenient) {
  struct cursor c;
  c.p = s, c.e = e, c.problem[0] = 0;
  struct line l;
  im->lines++;
  blanks(&c);
  if (c.p == c.e) return;
  if (parse(&c, &l) && emit(im, &c, &l)) return;
  if (!lenient) malformed(im, &c, s, e);
  im->skipped++;
}

/* Reads the whole of `n` bytes from fd 0 into b; returns the bytes read (fewer at the end). */
static size_t read_some(uint8_t *b, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(0, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      printf("{\"error\":\"read\",\"message\":\"%s\"}\n", strerror(errno));
      exit(1);
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return got;
}

static uint8_t *unhex(const char *s, size_t *n) {
  size_t len = strlen(s) / 2;
  uint8_t *b = malloc(len + 1);
  if (!b) out_of_memory();
  for (size_t i = 0; i < len; i++) b[i] = (uint8_t)(HEX[(uint8_t)s[2 * i]] << 4 | HEX[(uint8_t)s[2 * i + 1]]);
  *n = len;
  return b;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--lenient"))) {
    fprintf(stderr, "usage: aosp-import HEADER_HEX OUT [--lenient] < DUMP\n");
    return 2;
  }
  /* The launcher owns the output: when it is gone (a Ctrl-C), so is this. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int lenient = argc == 4;
  hex_init();
  static struct import im;
  size_t hlen;
  uint8_t *header = unhex(argv[1], &hlen);
  if (conversion_init(&im.conv)) out_of_memory();
  im.conv.import = 1;
  if (trace_out_open(&im.conv.out, argv[2], header, hlen, since_first, &im, WRITER_FLAGS)) {
    printf("{\"error\":\"write\",\"message\":\"%s\"}\n", strerror(errno));
    return 1;
  }
  size_t cap = READ_BYTES, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) out_of_memory();
  for (int eof = 0; !eof;) {
    size_t got = read_some(buf + len, cap - len);
    eof = got < cap - len;
    len += got;
    const uint8_t *p = buf, *end = buf + len, *lf;
    while ((lf = memchr(p, '\n', (size_t)(end - p)))) {
      line(&im, p, lf > p && lf[-1] == '\r' ? lf - 1 : lf, lenient);
      p = lf + 1;
    }
    if (eof) {
      if (p < end) line(&im, p, end[-1] == '\r' ? end - 1 : end, lenient); /* the last line, without its LF (a CR still cut off) */
      break;
    }
    /* The partial line after the last LF starts the next read; a line longer than the buffer grows it. */
    len = (size_t)(end - p);
    if (p == buf && len == cap) {
      uint8_t *bigger = realloc(buf, cap *= 2);
      if (!bigger) out_of_memory();
      buf = bigger;
    } else {
      memmove(buf, p, len);
    }
  }
  struct conversion *m = &im.conv;
  struct trace_totals t = {m->next_id - 1, m->event_threads, m->peak_objects, m->peak_bytes};
  char sum[65];
  if (trace_out_close(&m->out, &t, sum)) {
    printf("{\"error\":\"write\",\"message\":\"%s\"}\n", strerror(m->out.err));
    return 1;
  }
  printf("{\"events\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"threads\":%" PRIu64 ",\"peakLiveObjects\":%" PRIu64 ",\"peakLiveBytes\":%" PRIu64
         ",\"checksum\":\"%s\",\"nullFrees\":%" PRIu64 ",\"unknownFrees\":%" PRIu64 ",\"lostFrees\":%" PRIu64 ",\"failedAllocations\":%" PRIu64
         ",\"lines\":%" PRIu64 ",\"skipped\":%" PRIu64 "}\n",
         m->out.events, t.objects, t.threads, t.peak_live_objects, t.peak_live_bytes, sum, m->null_frees, m->unknown_frees, m->lost_frees, m->failed, im.lines,
         im.skipped);
  conversion_free(m);
  return 0;
}
