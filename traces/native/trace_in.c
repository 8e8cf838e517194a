/* Chunk and footer reader of trace format v1; see trace_in.h. Every check
 * below is one of traces/format/reader.ts, checks.ts or live.ts, made in the
 * same order with the same words, so a trace gets the same verdict and the
 * same error from either reader. */
#define _GNU_SOURCE
#include "trace_in.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msgpack_in.h"
#include "trace_out.h"

#define MAX_VALUE VALUE_MAX

static const char CORRUPT[] = "the file is corrupt; record or generate it again";
static const char NOT_TRACE[] = "the file is corrupt or not an allocreplay trace";

__attribute__((format(printf, 3, 4))) static int fail(struct trace_in *t, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->err, sizeof t->err, fmt, ap);
  va_end(ap);
  t->hint = hint;
  return -1;
}

/* A number as the TypeScript message prints it (a float64, so values past
 * 2^53 read as JavaScript rounds them). */
static const char *js(double x, char *buf) {
  js_number(x, buf);
  return buf;
}
#define NUM(x) js((double)(x), (char[32]){0})

/* ---- columns ---- */

/* Inflates one column into t->raw: its length, or -1 when it does not
 * inflate to at most `max` bytes (zlib's data after the stream's end is
 * ignored, as node:zlib ignores it). */
static long inflate_col(struct trace_in *t, const struct mp_val *bin, size_t max) {
  inflateReset(&t->z);
  t->z.next_in = (Bytef *)bin->p;
  t->z.avail_in = (uInt)bin->len;
  t->z.next_out = t->raw;
  t->z.avail_out = (uInt)(max + 1);
  const int r = inflate(&t->z, Z_FINISH);
  if (r != Z_STREAM_END || t->z.total_out > max) return -1;
  return (long)t->z.total_out;
}

/* n unsigned LEB128 values of at most 8 bytes, exactly filling b[0..len). */
static int uvarints(const uint8_t *b, size_t len, uint32_t n, uint64_t *out) {
  size_t p = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (p < len && b[p] < 0x80) { /* one byte: most threads, objects and args */
      out[i] = b[p++];
      continue;
    }
    uint64_t v = 0;
    for (int k = 0;; k++) {
      if (p >= len || k == 8) return 0;
      const uint8_t byte = b[p++];
      v |= (uint64_t)(byte & 0x7f) << (7 * k);
      if (byte < 0x80) break;
    }
    out[i] = v;
  }
  return p == len;
}

/* ---- the values of one map level ---- */

enum key { K_CHUNK, K_EVENTS, K_OP, K_THREAD, K_OBJECT, K_SIZE, K_ARG, K_TIME, K_FOOTER, K_OBJECTS, K_THREADS, K_PEAK_OBJECTS, K_PEAK_BYTES, K_CHECKSUM, NKEYS };
static const char *const KEY[NKEYS] = {"chunk", "events", "op", "thread", "object", "size", "arg", "time", "footer", "objects", "threads", "peakLiveObjects", "peakLiveBytes", "checksum"};
static const enum key COLUMN[6] = {K_OP, K_THREAD, K_OBJECT, K_SIZE, K_ARG, K_TIME};

struct level {
  struct mp_val v[NKEYS];
  /* The first key a chunk may not hold, in the order Object.keys lists
   * them: integer-like keys ascending, then the others as inserted. */
  int has_index, has_other;
  double index;
  struct mp_val other;
};

/* An array index as JavaScript orders property names: 0 … 2^32 − 2, canonical. */
static int as_index(const char *s, double *out) {
  size_t n = strlen(s);
  if (n == 0 || n > 10 || (n > 1 && s[0] == '0')) return 0;
  double v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  if (v > 4294967294.0) return 0;
  return *out = v, 1;
}

static void read_level(const uint8_t *p, uint64_t entries, int has_time, struct level *l) {
  memset(l, 0, sizeof *l);
  for (uint64_t i = 0; i < entries; i++) {
    struct mp_val k, v;
    const uint8_t *vp = mp_skip(p);
    mp_head(p, &k);
    mp_head(vp, &v);
    p = mp_skip(vp);
    int known = -1;
    if (k.t == MP_STR && k.len <= 16)
      for (int j = 0; j < NKEYS; j++)
        if (strlen(KEY[j]) == k.len && !memcmp(KEY[j], k.p, k.len)) known = j;
    if (known >= 0) l->v[known] = v;
    if (known >= 0 && known <= K_ARG) continue;
    if (known == K_TIME && has_time) continue;
    char name[64];
    double ix;
    mp_key(&k, name, sizeof name);
    if (as_index(name, &ix)) {
      if (!l->has_index || ix < l->index) l->index = ix, l->has_index = 1;
    } else if (!l->has_other) l->other = k, l->has_other = 1;
  }
}

static int is_count(const struct mp_val *v, double max) { return v->t == MP_NUM && v->num >= 0 && v->num <= max && floor(v->num) == v->num; }

static int bad_field(struct trace_in *t, const char *where, const char *field, const char *want, const struct mp_val *got) {
  char d[600];
  mp_describe(got, d, sizeof d);
  return fail(t, CORRUPT, "%s: %s field '%s' must be %s, not %s", t->path, where, field, want, d);
}

/* checks.ts checkFooter, then what reader.ts holds the footer to. */
static int footer(struct trace_in *t, const struct level *l) {
  if (!(l->v[K_FOOTER].t == MP_BOOL && l->v[K_FOOTER].num)) return bad_field(t, "footer", "footer", "true", &l->v[K_FOOTER]);
  const enum key counts[5] = {K_EVENTS, K_OBJECTS, K_THREADS, K_PEAK_OBJECTS, K_PEAK_BYTES};
  for (int i = 0; i < 5; i++)
    if (!is_count(&l->v[counts[i]], (double)MAX_VALUE)) return bad_field(t, "footer", KEY[counts[i]], "an integer in 0 … 2^53 − 1", &l->v[counts[i]]);
  const struct mp_val *cs = &l->v[K_CHECKSUM];
  int hex = cs->t == MP_STR && cs->len == 64;
  for (uint64_t i = 0; hex && i < 64; i++) hex = (cs->p[i] >= '0' && cs->p[i] <= '9') || (cs->p[i] >= 'a' && cs->p[i] <= 'f');
  if (!hex) return bad_field(t, "footer", "checksum", "64 lowercase hex digits", cs);
  /* Nothing follows the footer. */
  if (t->pos < t->len) {
    size_t next;
    const char *why;
    const int m = mp_measure(t->map, t->pos, t->len, &next, &why);
    if (m < 0) return fail(t, NOT_TRACE, "%s: byte %zu: %s", t->path, t->pos, why);
    if (m > 0 && !mp_skip(t->map + t->pos)) return fail(t, CORRUPT, "%s: byte %zu: not a MessagePack value (Invalid property type for record: object)", t->path, t->pos);
    return fail(t, CORRUPT, "%s: byte %zu: data after the footer", t->path, m > 0 ? next : t->pos);
  }
  sha256_hex(&t->hash, t->checksum);
  memcpy(t->footer.checksum, cs->p, 64);
  t->footer.checksum[64] = 0;
  if (strcmp(t->footer.checksum, t->checksum)) return fail(t, CORRUPT, "%s: bad checksum (footer %.12s…, content %.12s…)", t->path, t->footer.checksum, t->checksum);
  const struct trace_live *lv = &t->live;
  const uint64_t got[5] = {lv->events, lv->next_id - 1, lv->threads, lv->peak_live_objects, lv->peak_live_bytes};
  uint64_t *said[5] = {&t->footer.events, &t->footer.objects, &t->footer.threads, &t->footer.peak_live_objects, &t->footer.peak_live_bytes};
  for (int i = 0; i < 5; i++) {
    *said[i] = (uint64_t)l->v[counts[i]].num;
    if (*said[i] != got[i]) return fail(t, CORRUPT, "%s: footer says %s %s, the chunks hold %s", t->path, KEY[counts[i]], NUM(*said[i]), NUM(got[i]));
  }
  t->has_footer = 1;
  return 0;
}

/* checks.ts checkChunkKeys. */
static int chunk_keys(struct trace_in *t, const struct level *l, int ncols) {
  char where[32], want[80];
  snprintf(where, sizeof where, "chunk %llu", (unsigned long long)t->chunk_index);
  const struct mp_val *ix = &l->v[K_CHUNK];
  if (!(ix->t == MP_NUM && ix->num == (double)t->chunk_index)) {
    snprintf(want, sizeof want, "its index %llu", (unsigned long long)t->chunk_index);
    return bad_field(t, where, "chunk", want, ix);
  }
  const struct mp_val *ev = &l->v[K_EVENTS];
  if (!is_count(ev, t->chunk_events) || ev->num < 1) {
    snprintf(want, sizeof want, "an integer in 1 … %u (the header's chunkEvents)", t->chunk_events);
    return bad_field(t, where, "events", want, ev);
  }
  for (int k = 0; k < ncols; k++)
    if (l->v[COLUMN[k]].t != MP_BIN) return bad_field(t, where, KEY[COLUMN[k]], "a bin", &l->v[COLUMN[k]]);
  if (l->has_index || l->has_other) {
    char name[256];
    if (l->has_index) js_number(l->index, name);
    else if (l->other.t == MP_STR) {
      /* k.slice(0, 40): forty UTF-16 units (msgpackr's __proto__ guard applied first) */
      mp_key(&l->other, name, sizeof name);
      size_t units = 0, o = 0;
      while (name[o]) {
        const unsigned char c = (unsigned char)name[o];
        const size_t w = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if ((units += w == 4 ? 2 : 1) > 40) break;
        o += w;
      }
      name[o] = 0;
    } else mp_key(&l->other, name, sizeof name);
    const int time = !strcmp(name, "time");
    return fail(t, CORRUPT, "%s: %s has key '%s', which format v1 does not define%s", t->path, where, name, time ? " (the header says the trace has no time column)" : "");
  }
  return 0;
}

/* ---- reading ahead ---- */

/* What the read-ahead thread makes of the file's next top-level value. */
enum ahead_kind { AHEAD_ERROR = -1, AHEAD_END = 0, AHEAD_CHUNK = 1, AHEAD_FOOTER = 2 };

/* One value read ahead: a chunk's columns as stored (op; thread, object and
 * time as varints decode them; size; arg) or the footer's level. After an
 * error, the end or the footer the reader stops, so its error, position and
 * hash are the caller's to read. */
struct ahead_value {
  int kind;
  uint32_t n;
  uint8_t *op;
  uint64_t *vals; /* thread, object, time: n each */
  uint64_t *size, *arg;
  struct level *level; /* the chunk's or the footer's keys */
};

struct trace_ahead {
  struct trace_in rd; /* the reader's position, hash, inflater, scratch and error */
  struct ahead_value v[2];
  /* Values the reader has made, the caller has taken, and the caller is done
   * with (it uses the last one taken until its next call). */
  uint64_t made, taken, released;
  int stop, started, ended;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
};

static int read_value(struct trace_in *t, struct ahead_value *v);

static void *read_ahead(void *arg) {
  struct trace_ahead *a = arg;
  for (;;) {
    pthread_mutex_lock(&a->mu);
    while (!a->stop && a->made - a->released >= 2) pthread_cond_wait(&a->cv, &a->mu);
    const int stop = a->stop;
    struct ahead_value *v = &a->v[a->made % 2];
    pthread_mutex_unlock(&a->mu);
    if (stop) return NULL;
    const int kind = v->kind = read_value(&a->rd, v);
    pthread_mutex_lock(&a->mu);
    a->made++;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (kind != AHEAD_CHUNK) return NULL;
  }
}

int trace_in_open(struct trace_in *t, const char *path, uint64_t offset, int has_time, uint32_t chunk_events) {
  memset(t, 0, sizeof *t);
  t->path = path;
  t->has_time = has_time;
  t->chunk_events = chunk_events;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) {
    if (fd >= 0) close(fd);
    return fail(t, "check the path", "%s: cannot read trace (%s)", path, strerror(errno));
  }
  t->len = (size_t)st.st_size;
  if (t->len) {
    void *m = mmap(NULL, t->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      close(fd);
      return fail(t, "check the path", "%s: cannot map trace (%s)", path, strerror(errno));
    }
    madvise(m, t->len, MADV_SEQUENTIAL);
    t->map = m;
  }
  close(fd);
  t->pos = offset;
  t->dropped = 0;
  const size_t cap = chunk_events;
  struct trace_ahead *a = t->ahead = calloc(1, sizeof *a);
  if (!a) return fail(t, "free some memory", "%s: out of memory", path);
  struct trace_in *rd = &a->rd;
  rd->path = path, rd->map = t->map, rd->len = t->len, rd->pos = offset;
  rd->has_time = has_time, rd->chunk_events = chunk_events;
  rd->raw = malloc(cap * 8 + 2);
  sha256_init(&rd->hash);
  int ok = rd->raw && inflateInit(&rd->z) == Z_OK;
  for (int k = 0; k < 2; k++) {
    struct ahead_value *v = &a->v[k];
    v->op = malloc(cap);
    v->vals = malloc(cap * 3 * sizeof *v->vals);
    v->size = malloc(cap * sizeof *v->size);
    v->arg = malloc(cap * sizeof *v->arg);
    v->level = malloc(sizeof *v->level);
    ok = ok && v->op && v->vals && v->size && v->arg && v->level;
  }
  t->c.thread = malloc(cap * sizeof *t->c.thread);
  t->c.object = malloc(cap * sizeof *t->c.object);
  t->c.time = has_time ? malloc(cap * sizeof *t->c.time) : NULL;
  t->c.live_after = malloc(cap * sizeof *t->c.live_after);
  t->c.slot = malloc(cap * sizeof *t->c.slot);
  if (!ok || !t->c.thread || !t->c.object || (has_time && !t->c.time) || !t->c.live_after || !t->c.slot || trace_live_init(&t->live, path))
    return fail(t, "free some memory", "%s: out of memory", path);
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  if (pthread_create(&a->thread, NULL, read_ahead, a)) return fail(t, "free some memory", "%s: cannot start the thread that reads ahead", path);
  a->started = 1;
  return 0;
}

void trace_in_close(struct trace_in *t) {
  struct trace_ahead *a = t->ahead;
  if (a) {
    if (a->started) {
      pthread_mutex_lock(&a->mu);
      a->stop = 1;
      pthread_cond_broadcast(&a->cv);
      pthread_mutex_unlock(&a->mu);
      pthread_join(a->thread, NULL);
      pthread_mutex_destroy(&a->mu);
      pthread_cond_destroy(&a->cv);
    }
    for (int k = 0; k < 2; k++) free(a->v[k].op), free(a->v[k].vals), free(a->v[k].size), free(a->v[k].arg), free(a->v[k].level);
    free(a->rd.raw);
    inflateEnd(&a->rd.z);
    free(a);
    t->ahead = NULL;
  }
  if (t->map) munmap((void *)t->map, t->len);
  free(t->c.thread), free(t->c.object), free(t->c.time), free(t->c.live_after), free(t->c.slot);
  trace_live_free(&t->live);
  t->map = NULL;
}

static int bad_distance(struct trace_in *t, const char *op, uint64_t d) {
  return fail(t, CORRUPT, "%s: event %s: %s stores distance %s, which is not below the next id %s (id out of range)", t->path, NUM(t->live.events), op, NUM(d), NUM(t->live.next_id));
}

/* Gives back the pages of the values already read (they stay in the page
 * cache): the mapping must not grow the process by the trace's size. */
static void drop_read(struct trace_in *t) {
  const size_t upto = t->pos & ~(size_t)4095;
  if (upto - t->dropped < (8u << 20)) return;
  madvise((void *)(t->map + t->dropped), upto - t->dropped, MADV_DONTNEED);
  t->dropped = upto;
}

/* The reader's half (the read-ahead thread, on its own trace_in): the next
 * top-level value, checked and its columns decoded into `v`. */
static int read_value(struct trace_in *t, struct ahead_value *v) {
  if (t->pos >= t->len) return AHEAD_END; /* no footer: cut short */
  drop_read(t);
  size_t end;
  const char *why;
  const int m = mp_measure(t->map, t->pos, t->len, &end, &why);
  if (m < 0) return fail(t, NOT_TRACE, "%s: byte %zu: %s", t->path, t->pos, why);
  if (m == 0) return AHEAD_END; /* a partial value at the end: cut short */
  const uint8_t *p = t->map + t->pos;
  if (!mp_skip(p)) return fail(t, CORRUPT, "%s: byte %zu: not a MessagePack value (Invalid property type for record: object)", t->path, t->pos);
  t->pos = end;
  struct mp_val top;
  const uint8_t *body = mp_head(p, &top);
  const int ncols = t->has_time ? 6 : 5;
  struct level *l = v->level;
  if (top.t == MP_MAP) {
    read_level(body, top.len, t->has_time, l);
    if (l->v[K_FOOTER].t != MP_ABSENT) return AHEAD_FOOTER;
  } else {
    char d[600];
    mp_describe(&top, d, sizeof d);
    return fail(t, CORRUPT, "%s: chunk %llu is a %s, not a chunk map", t->path, (unsigned long long)t->chunk_index, d);
  }
  if (chunk_keys(t, l, ncols)) return AHEAD_ERROR;
  for (int k = 0; k < ncols; k++) sha256_update(&t->hash, l->v[COLUMN[k]].p, l->v[COLUMN[k]].len);

  const uint32_t n = (uint32_t)l->v[K_EVENTS].num;
  const unsigned long long ci = (unsigned long long)t->chunk_index;
  uint64_t *cols[6] = {NULL, v->vals, v->vals + n, v->size, v->arg, v->vals + 2 * (size_t)n};
  for (int k = 0; k < ncols; k++) {
    const char *name = KEY[COLUMN[k]];
    const long got = inflate_col(t, &l->v[COLUMN[k]], k == 0 ? n : (size_t)n * 8 + 1);
    if (got < 0) return fail(t, CORRUPT, "%s: chunk %llu column '%s' does not decompress to at most %u values (corrupt data)", t->path, ci, name, n);
    if (k == 0) {
      if ((uint32_t)got != n) return fail(t, CORRUPT, "%s: chunk %llu column 'op' holds %ld values for %u events", t->path, ci, got, n);
      memcpy(v->op, t->raw, n);
    } else if (!uvarints(t->raw, (size_t)got, n, cols[k])) {
      return fail(t, CORRUPT, "%s: chunk %llu column '%s' does not hold exactly %u varints of at most 8 bytes", t->path, ci, name, n);
    }
  }
  v->n = n;
  t->chunk_index++;
  return AHEAD_CHUNK;
}

/* The caller's half: takes the next value read ahead (the one before is
 * given back) and applies the rules of events to its chunk. */
int trace_in_chunk(struct trace_in *t) {
  struct trace_ahead *a = t->ahead;
  if (a->ended) return t->has_footer || !t->err[0] ? 0 : -1; /* asked again after the end */
  pthread_mutex_lock(&a->mu);
  a->released = a->taken;
  pthread_cond_broadcast(&a->cv);
  while (a->made == a->taken) pthread_cond_wait(&a->cv, &a->mu);
  struct ahead_value *v = &a->v[a->taken++ % 2];
  pthread_mutex_unlock(&a->mu);
  if (v->kind != AHEAD_CHUNK) {
    a->ended = 1;
    if (v->kind == AHEAD_ERROR) {
      memcpy(t->err, a->rd.err, sizeof t->err);
      t->hint = a->rd.hint;
      return -1;
    }
    if (v->kind == AHEAD_END) return 0;
    /* The footer, held to what the reader hashed and where it stopped. */
    t->pos = a->rd.pos;
    t->hash = a->rd.hash;
    return footer(t, v->level) ? -1 : 0;
  }
  const uint32_t n = v->n;
  struct trace_chunk *c = &t->c;
  c->op = v->op, c->size = v->size, c->arg = v->arg;
  const uint64_t *th = v->vals, *ob = v->vals + n, *tm = t->has_time ? v->vals + 2 * (size_t)n : NULL;
  uint64_t *sz = c->size, *ar = c->arg;
  for (uint32_t i = 0; i < n; i++) {
    const unsigned o = c->op[i];
    const uint64_t next = t->live.next_id, ov = ob[i];
    uint64_t object;
    if (o == TRACE_OP_FREE) {
      if (ov && ov >= next) return bad_distance(t, "free", ov);
      object = ov ? next - ov : 0;
    } else if (o == TRACE_OP_THREAD_EXIT) {
      object = ov;
    } else {
      if (ov > 1) return fail(t, CORRUPT, "%s: event %s: allocation stores object %s (only 0, made, or 1, failed, are allowed)", t->path, NUM(t->live.events), NUM(ov));
      object = ov == 0 ? next : 0;
      if (o == TRACE_OP_REALLOC && ar[i]) {
        if (ar[i] >= next) return bad_distance(t, "realloc", ar[i]);
        ar[i] = next - ar[i];
      }
    }
    if (trace_live_step(&t->live, o, th[i], object, sz[i], ar[i])) {
      snprintf(t->err, sizeof t->err, "%s", t->live.err);
      t->hint = t->live.hint;
      return -1;
    }
    c->live_after[i] = t->live.live_bytes;
    c->slot[i] = t->live.slot;
    c->thread[i] = (uint32_t)th[i];
    c->object[i] = object;
    if (tm) {
      /* The running sum as the TypeScript reader keeps it, in float64. */
      const double z = (double)tm[i];
      t->time_ns += fmod(z, 2) == 0 ? z / 2 : -(z + 1) / 2;
      if (!(fabs(t->time_ns) <= (double)MAX_VALUE))
        return fail(t, CORRUPT, "%s: event %s: time %s ns is beyond 2^53 − 1", t->path, NUM(t->live.events - 1), NUM(t->time_ns));
      c->time[i] = (int64_t)t->time_ns;
    }
  }
  c->n = n;
  t->chunk_index++;
  return 1;
}
