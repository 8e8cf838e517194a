/* Chunk and footer writer of trace format v1; see trace_out.h. */
#define _GNU_SOURCE
#include "trace_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_all(struct trace_out *o, const void *p, size_t n) {
  const uint8_t *c = p;
  while (n && !o->failed) {
    ssize_t w = write(o->fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      o->failed = 1;
      o->err = w < 0 ? errno : EIO;
      return;
    }
    c += w, n -= (size_t)w;
  }
}

/* ---- msgpack: only the few forms a chunk and the footer need ---- */

static size_t mp_uint(uint8_t *p, uint64_t v) {
  if (v < 128) return p[0] = (uint8_t)v, 1;
  if (v < 256) return p[0] = 0xcc, p[1] = (uint8_t)v, 2;
  if (v < 65536) return p[0] = 0xcd, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v, 3;
  if (v < 4294967296ull) {
    p[0] = 0xce;
    for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(v >> (24 - 8 * i));
    return 5;
  }
  /* Larger counts as float64: exact below 2^53 and read as a plain number by
   * every msgpack library (a uint64 may come back as a big integer). */
  double d = (double)v;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  p[0] = 0xcb;
  for (int i = 0; i < 8; i++) p[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
  return 9;
}

static size_t mp_str(uint8_t *p, const char *s) {
  size_t n = strlen(s);
  size_t h = n < 32 ? (p[0] = (uint8_t)(0xa0 | n), 1) : (p[0] = 0xd9, p[1] = (uint8_t)n, 2);
  memcpy(p + h, s, n);
  return h + n;
}

static size_t mp_bin_header(uint8_t *p, size_t n) {
  if (n < 256) return p[0] = 0xc4, p[1] = (uint8_t)n, 2;
  if (n < 65536) return p[0] = 0xc5, p[1] = (uint8_t)(n >> 8), p[2] = (uint8_t)n, 3;
  p[0] = 0xc6;
  for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
  return 5;
}

/* ---- columns ---- */

static inline void uvarint(struct col *c, uint64_t v) {
  uint8_t *p = c->b + c->len;
  while (v >= 0x80) *p++ = (uint8_t)(v | 0x80), v >>= 7;
  *p++ = (uint8_t)v;
  c->len = (size_t)(p - c->b);
}

static const char *const NAMES[] = {"op", "thread", "object", "size", "arg", "time"};

/* Writes one chunk: its head, then each column deflated (and hashed). On
 * the writer's thread with TRACE_OUT_THREAD, else on the caller's. */
static void write_chunk(struct trace_out *o, struct col *cols, unsigned n, uint64_t chunk) {
  uint8_t head[64];
  size_t h = 0;
  head[h++] = 0x88; /* a map of 8 */
  h += mp_str(head + h, "chunk");
  h += mp_uint(head + h, chunk);
  h += mp_str(head + h, "events");
  h += mp_uint(head + h, n);
  put_all(o, head, h);
  for (int i = 0; i < 6; i++) {
    deflateReset(&o->z);
    o->z.next_in = cols[i].b;
    o->z.avail_in = (uInt)cols[i].len;
    o->z.next_out = o->zbuf;
    o->z.avail_out = (uInt)o->zcap;
    deflate(&o->z, Z_FINISH);
    size_t zlen = o->zcap - o->z.avail_out;
    sha256_update(&o->hash, o->zbuf, zlen);
    h = mp_str(head, NAMES[i]);
    h += mp_bin_header(head + h, zlen);
    put_all(o, head, h);
    put_all(o, o->zbuf, zlen);
    cols[i].len = 0;
  }
}

static void *worker(void *arg) {
  struct trace_out *o = arg;
  pthread_mutex_lock(&o->mu);
  for (;;) {
    while (!o->busy && !o->stop) pthread_cond_wait(&o->cv, &o->mu);
    if (!o->busy) break;
    pthread_mutex_unlock(&o->mu);
    write_chunk(o, o->job, o->job_n, o->job_chunk);
    pthread_mutex_lock(&o->mu);
    o->busy = 0;
    pthread_cond_broadcast(&o->cv);
  }
  pthread_mutex_unlock(&o->mu);
  return NULL;
}

/* Waits until the worker has written the chunk it was handed (the caller holds o->mu). */
static void wait_idle(struct trace_out *o) {
  while (o->busy) pthread_cond_wait(&o->cv, &o->mu);
}

static void columns(struct trace_out *o, struct col **cols) {
  cols[0] = &o->op, cols[1] = &o->thread, cols[2] = &o->object, cols[3] = &o->size, cols[4] = &o->arg, cols[5] = &o->time;
}

int trace_out_open(struct trace_out *o, const char *path, const uint8_t *header, size_t hlen, stamp_to_ns to_ns, void *ctx, unsigned flags) {
  memset(o, 0, sizeof *o);
  o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o->fd < 0) return -1;
  struct col *cols[6];
  columns(o, cols);
  /* A uvarint below 2^53 takes at most 8 bytes; a time delta at most 10. */
  for (int i = 0; i < 6; i++) {
    cols[i]->b = malloc(CHUNK_EVENTS * 10);
    if (!cols[i]->b) return -1;
    if (flags & TRACE_OUT_THREAD && !(o->job[i].b = malloc(CHUNK_EVENTS * 10))) return -1;
  }
  o->stamps = malloc(CHUNK_EVENTS * sizeof(uint64_t));
  o->zcap = compressBound(CHUNK_EVENTS * 10);
  o->zbuf = malloc(o->zcap);
  if (!o->stamps || !o->zbuf) return -1;
  /* Level 1, memLevel 9: what the TypeScript writer uses, for the same size/speed. */
  if (deflateInit2(&o->z, 1, Z_DEFLATED, 15, 9, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  sha256_init(&o->hash);
  o->to_ns = to_ns;
  o->ctx = ctx;
  o->flags = flags;
  put_all(o, header, hlen);
  if (o->failed) return -1;
  if (flags & TRACE_OUT_THREAD) {
    if (pthread_mutex_init(&o->mu, NULL) || pthread_cond_init(&o->cv, NULL) || pthread_create(&o->worker, NULL, worker, o)) return -1;
    o->threaded = 1;
  }
  return 0;
}

static void flush_chunk(struct trace_out *o) {
  if (!o->n) return;
  /* Times: ns since the trace started; with TRACE_OUT_MONOTONIC never
   * running backwards (stamps of different cores, and calibration that
   * improves as the run goes on). */
  o->to_ns(o->ctx, o->stamps, o->n);
  for (unsigned i = 0; i < o->n; i++) {
    uint64_t t = o->stamps[i];
    if (t < o->prev_time && (o->flags & TRACE_OUT_MONOTONIC)) t = o->prev_time;
    int64_t d = (int64_t)(t - o->prev_time);
    uvarint(&o->time, (uint64_t)d << 1 ^ (uint64_t)(d >> 63)); /* zigzag */
    o->prev_time = t;
  }
  struct col *cols[6];
  columns(o, cols);
  o->chunks++;
  if (!o->threaded) {
    struct col now[6];
    for (int i = 0; i < 6; i++) now[i] = *cols[i];
    write_chunk(o, now, o->n, o->chunks - 1);
    for (int i = 0; i < 6; i++) cols[i]->len = 0;
  } else {
    /* Hand the columns over and take the worker's emptied ones back. */
    pthread_mutex_lock(&o->mu);
    wait_idle(o);
    for (int i = 0; i < 6; i++) {
      struct col c = o->job[i];
      o->job[i] = *cols[i];
      *cols[i] = c;
      cols[i]->len = 0;
    }
    o->job_n = o->n;
    o->job_chunk = o->chunks - 1;
    o->busy = 1;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
  }
  o->n = 0;
}

void trace_out_event(struct trace_out *o, unsigned op, uint64_t thread, uint64_t object, uint64_t size, uint64_t arg, uint64_t stamp) {
  o->op.b[o->op.len++] = (uint8_t)op;
  uvarint(&o->thread, thread);
  uvarint(&o->object, object);
  uvarint(&o->size, size > VALUE_MAX ? VALUE_MAX : size);
  uvarint(&o->arg, arg > VALUE_MAX ? VALUE_MAX : arg);
  o->stamps[o->n] = stamp;
  o->events++;
  if (++o->n == CHUNK_EVENTS) flush_chunk(o);
}

int trace_out_close(struct trace_out *o, const struct trace_totals *t, char checksum[65]) {
  flush_chunk(o);
  if (o->threaded) {
    pthread_mutex_lock(&o->mu);
    wait_idle(o);
    o->stop = 1;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->worker, NULL);
    for (int i = 0; i < 6; i++) free(o->job[i].b);
  }
  sha256_hex(&o->hash, checksum);
  uint8_t f[256];
  size_t h = 0;
  f[h++] = 0x87; /* a map of 7 */
  h += mp_str(f + h, "footer");
  f[h++] = 0xc3; /* true */
  h += mp_str(f + h, "events");
  h += mp_uint(f + h, o->events);
  h += mp_str(f + h, "objects");
  h += mp_uint(f + h, t->objects);
  h += mp_str(f + h, "threads");
  h += mp_uint(f + h, t->threads);
  h += mp_str(f + h, "peakLiveObjects");
  h += mp_uint(f + h, t->peak_live_objects);
  h += mp_str(f + h, "peakLiveBytes");
  h += mp_uint(f + h, t->peak_live_bytes);
  h += mp_str(f + h, "checksum");
  h += mp_str(f + h, checksum);
  put_all(o, f, h);
  deflateEnd(&o->z);
  struct col *cols[6];
  columns(o, cols);
  for (int i = 0; i < 6; i++) free(cols[i]->b);
  free(o->stamps);
  free(o->zbuf);
  if (close(o->fd) && !o->failed) o->failed = 1, o->err = errno;
  return o->failed ? -1 : 0;
}
