/* The driver's command line:
 *
 *   replay PLAN --result-fd N --samples N --sample-every N
 *          [--mode serial|threads] [--touch none|first|all|program]
 *          [--pace none|recorded] [--pace-scale N] [--repeat N] [--warmup N]
 *          [--plan auto|stream|expanded] [--chunk-ops N] [--expand-max BYTES]
 *
 * --plan auto (the default) streams a serial replay's plan unless it fits
 * one chunk, runs under valgrind, or its expanded ops take at most
 * --expand-max bytes (default 64 MiB, at most an eighth of the memory; see
 * AR_EXPAND_MAX_DEFAULT); the other two force a form, for the tests that
 * compare them.
 *
 * The RSS series' size and spacing come from the caller (engine/driver), which
 * computed the live-bytes points they are paired with: the driver has no
 * default of its own to drift from them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* A decimal in [lo, hi], or die() naming the option. */
static uint64_t number(const char *opt, const char *v, uint64_t lo, uint64_t hi) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (!*v || *end || errno || v[0] == '-' || n < lo || n > hi) die(opt, "expects a whole number in range");
  return (uint64_t)n;
}

void args_parse(int argc, char **argv, struct driver_args *a) {
  memset(a, 0, sizeof *a);
  a->result_fd = -1;
  a->repeat = 1;
  a->pace_scale = PACE_DEFAULT_SCALE;
  a->chunk_ops = AR_CHUNK_OPS_DEFAULT;
  a->expand_max = AR_EXPAND_MAX_DEFAULT;
  int have_samples = 0, have_every = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (o[0] != '-') {
      a->plan_path = o;
      continue;
    }
    if (i + 1 >= argc) die("option needs a value", o);
    const char *v = argv[++i];
    if (!strcmp(o, "--result-fd")) {
      a->result_fd = (int)number(o, v, 0, 1 << 20);
      g_result_fd = a->result_fd;
    } else if (!strcmp(o, "--mode")) {
      if (strcmp(v, "serial") && strcmp(v, "threads")) die("--mode expects serial or threads", v);
      a->threads = !strcmp(v, "threads");
    } else if (!strcmp(o, "--touch")) {
      if (!strcmp(v, "none")) a->touch = TOUCH_NONE;
      else if (!strcmp(v, "first")) a->touch = TOUCH_FIRST;
      else if (!strcmp(v, "all")) a->touch = TOUCH_ALL;
      else if (!strcmp(v, "program")) a->touch = TOUCH_PROGRAM;
      else die("--touch expects none, first, all or program", v);
    } else if (!strcmp(o, "--pace")) {
      if (strcmp(v, "none") && strcmp(v, "recorded")) die("--pace expects none or recorded", v);
      a->pace = !strcmp(v, "recorded");
    } else if (!strcmp(o, "--pace-scale")) {
      a->pace_scale = number(o, v, 1, 1000000);
    } else if (!strcmp(o, "--repeat")) a->repeat = (int)number(o, v, 1, AR_MAX_REPS);
    else if (!strcmp(o, "--warmup")) a->warmup = (int)number(o, v, 0, INT32_MAX); /* untimed: nothing kept per warm-up */
    else if (!strcmp(o, "--samples")) a->samples = (unsigned)number(o, v, 0, AR_MAX_SERIES), have_samples = 1;
    else if (!strcmp(o, "--sample-every")) a->sample_every = number(o, v, 1, UINT64_MAX), have_every = 1;
    else if (!strcmp(o, "--plan")) {
      if (strcmp(v, "auto") && strcmp(v, "stream") && strcmp(v, "expanded")) die("--plan expects auto, stream or expanded", v);
      a->expanded = !strcmp(v, "expanded");
      a->streamed = !strcmp(v, "stream");
    } else if (!strcmp(o, "--chunk-ops")) {
      a->chunk_ops = number(o, v, AR_CHUNK_QUANTUM, 1u << 26);
      if (a->chunk_ops % AR_CHUNK_QUANTUM) die("--chunk-ops expects a multiple of 1024", v);
    } else if (!strcmp(o, "--expand-max")) a->expand_max = number(o, v, 0, UINT64_MAX);
    else die("unknown option", o);
  }
  if (!a->plan_path || a->result_fd < 0 || !have_samples || !have_every)
    die("usage", "replay PLAN --result-fd N --samples N --sample-every N [--mode M] [--touch T] [--pace P] [--pace-scale N] [--repeat N] [--warmup N] [--plan F] [--chunk-ops N] [--expand-max BYTES]");
}
