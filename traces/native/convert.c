/* Conversion of one image's records into trace events (see convert.h):
 * the reorder window that puts records back in sequence order, and the
 * pointer → dense id tracking of format v1 (traces/FORMAT.md). */
#define _GNU_SOURCE
#include "convert.h"

#include <stdlib.h>

/* The recorder's op codes are written into traces as they are: each must be
 * the format's (trace_out.h; test/traces/opcodes.test.ts checks those
 * against traces/vocabulary.ts). */
#define SAME_OP(name) _Static_assert((int)R_##name == (int)TRACE_OP_##name, "R_" #name " (raw_log.h) is the trace format's code")
SAME_OP(MALLOC);
SAME_OP(CALLOC);
SAME_OP(REALLOC);
SAME_OP(FREE);
SAME_OP(MEMALIGN);
SAME_OP(POSIX_MEMALIGN);
SAME_OP(ALIGNED_ALLOC);
SAME_OP(VALLOC);
SAME_OP(PVALLOC);
SAME_OP(THREAD_EXIT);
#undef SAME_OP

/* A live object's map value: its id above SIZE_BITS, its size below; sizes
 * from SIZE_BIG up are kept exactly in a second (small) map keyed by id. */
#define SIZE_BITS 24
#define SIZE_BIG ((1ull << SIZE_BITS) - 1)

struct slot {
  uint64_t seq1; /* sequence number + 1; 0 = empty */
  uint64_t stamp, ptr, size, arg;
  uint32_t tid, op;
};

int conversion_init(struct conversion *m) {
  m->next_id = 1;
  m->wcap = WINDOW;
  m->window = calloc(WINDOW, sizeof(struct slot));
  return !m->window || u64map_init(&m->live) || u64map_init(&m->big) || u64map_init(&m->threads) ? -1 : 0;
}

void conversion_free(struct conversion *m) {
  u64map_free(&m->live), u64map_free(&m->big), u64map_free(&m->threads);
  free(m->window);
}

/* Stamps → ns since the image's first event, through the latest
 * calibration; a record without a stamp takes the time of the one before. */
void conversion_to_ns(void *ctx, uint64_t *stamps, unsigned n) {
  struct conversion *m = ctx;
  double rate = 1.0;
  if (m->cal_stamp > m->stamp0 && m->cal_ns > m->ns0) rate = (double)(m->cal_ns - m->ns0) / (double)(m->cal_stamp - m->stamp0);
  for (unsigned i = 0; i < n; i++) {
    if (!stamps[i]) {
      stamps[i] = m->last_time;
      continue;
    }
    double rel = (double)(int64_t)(stamps[i] - m->stamp0) * rate;
    if (!m->t0_set) m->t0 = rel, m->t0_set = 1;
    stamps[i] = m->last_time = rel > m->t0 ? (uint64_t)(rel - m->t0) : 0;
  }
}

static void emit(struct conversion *m, unsigned op, uint64_t th, uint64_t object, uint64_t size, uint64_t arg, uint64_t stamp) {
  if (th >= m->event_threads) m->event_threads = th + 1;
  trace_out_event(&m->out, op, th, object, size, arg, stamp);
}

/* Dense thread index: in order of first appearance, and a new one for a
 * kernel thread id reused after its thread_exit. */
static int thread_of(struct conversion *m, uint64_t tid, uint64_t *th) {
  if (tid + 1 == m->last_tid) return *th = m->last_th, 0;
  uint32_t i = u64map_find(&m->threads, tid + 1);
  if (i) {
    m->last_th = u64map_val(&m->threads, i);
  } else {
    if (!u64map_add(&m->threads, tid + 1, m->nthreads)) return -1;
    m->last_th = m->nthreads++;
  }
  m->last_tid = tid + 1;
  *th = m->last_th;
  return 0;
}

static int create(struct conversion *m, uint64_t ptr, uint64_t bytes) {
  uint64_t id = m->next_id++;
  uint64_t code = bytes < SIZE_BIG ? bytes : SIZE_BIG;
  if (code == SIZE_BIG && !u64map_add(&m->big, id, bytes)) return -1;
  if (!u64map_add(&m->live, ptr, id << SIZE_BITS | code)) return -1;
  m->live_bytes += bytes;
  if (++m->live_objects > m->peak_objects) m->peak_objects = m->live_objects;
  if (m->live_bytes > m->peak_bytes) m->peak_bytes = m->live_bytes;
  return 0;
}

/* Ends the object whose map value is `val`; returns its id. */
static uint64_t end(struct conversion *m, uint64_t val) {
  uint64_t id = val >> SIZE_BITS, bytes = val & SIZE_BIG;
  if (bytes == SIZE_BIG) u64map_take(&m->big, id, &bytes);
  m->live_objects--;
  m->live_bytes -= bytes;
  return id;
}

/* An address handed out again while we thought it live: its free was not
 * seen (made before recording started, or lost); synthesise it. */
static void forget(struct conversion *m, uint64_t ptr, uint64_t th, uint64_t stamp) {
  uint64_t v;
  if (!u64map_take(&m->live, ptr, &v)) return;
  m->lost_frees++;
  uint64_t id = end(m, v);
  emit(m, TRACE_OP_FREE, th, m->next_id - id, 0, 0, stamp);
}

/* A successful aligned allocation's alignment as the trace must hold it, a
 * power of two (FORMAT.md): glibc's memalign accepts any and rounds it up
 * so, which is what the program got. Other ops' arg passes unchanged. */
static uint64_t aligned_arg(unsigned op, uint64_t a) {
  if (op != R_MEMALIGN && op != R_POSIX_MEMALIGN && op != R_ALIGNED_ALLOC) return a;
  uint64_t p = 1;
  while (p < a && p < (1ull << 52)) p <<= 1;
  return p;
}

/* Converts one call; returns -1 when out of memory. */
static int convert(struct conversion *m, const struct slot *s, uint64_t tid) {
  uint64_t th = 0, v;
  if (!(m->import && s->op == R_FREE) && thread_of(m, tid, &th)) return -1;
  switch (s->op) {
  case R_FREE:
    if (!s->ptr) {
      /* Kept: free(NULL) is a call the program made; replay makes it too. */
      m->null_frees++;
      if (!m->import) emit(m, TRACE_OP_FREE, th, 0, 0, 0, s->stamp);
    } else if (u64map_take(&m->live, s->ptr, &v)) {
      if (m->import && thread_of(m, tid, &th)) return -1;
      uint64_t id = end(m, v);
      emit(m, TRACE_OP_FREE, th, m->next_id - id, 0, 0, s->stamp);
    } else {
      m->unknown_frees++;
    }
    return 0;
  case R_THREAD_EXIT:
    emit(m, TRACE_OP_THREAD_EXIT, th, 0, 0, 0, s->stamp);
    u64map_take(&m->threads, tid + 1, &v);
    m->last_tid = 0;
    return 0;
  case R_REALLOC: {
    uint32_t e = s->arg ? u64map_find(&m->live, s->arg) : 0;
    if (s->arg && !e) m->unknown_frees++;
    if (!s->ptr && s->size) {
      /* Failed: the old block lives on. */
      m->failed++;
      emit(m, TRACE_OP_REALLOC, th, 1, s->size, e ? m->next_id - (u64map_val(&m->live, e) >> SIZE_BITS) : 0, s->stamp);
      return 0;
    }
    uint64_t old_id = 0;
    if (e && u64map_take(&m->live, s->arg, &v)) old_id = end(m, v);
    if (!s->ptr) {
      if (old_id) emit(m, TRACE_OP_REALLOC, th, 1, 0, m->next_id - old_id, s->stamp);
      return 0;
    }
    forget(m, s->ptr, th, s->stamp);
    uint64_t rel = old_id ? m->next_id - old_id : 0;
    if (create(m, s->ptr, s->size)) return -1;
    emit(m, TRACE_OP_REALLOC, th, 0, s->size, rel, s->stamp);
    return 0;
  }
  case R_MALLOC: case R_CALLOC: case R_MEMALIGN: case R_POSIX_MEMALIGN: case R_ALIGNED_ALLOC: case R_VALLOC: case R_PVALLOC:
    if (!s->ptr) {
      m->failed++;
      emit(m, s->op, th, 1, s->size, s->arg, s->stamp);
      return 0;
    }
    forget(m, s->ptr, th, s->stamp);
    if (create(m, s->ptr, s->op == R_CALLOC ? s->size * s->arg : s->size)) return -1;
    emit(m, s->op, th, 0, s->size, aligned_arg(s->op, s->arg), s->stamp);
    return 0;
  default:
    m->lost++; /* not an op the recorder writes: a corrupt record */
    return 0;
  }
}

/* Converts the record at `next` (or counts it lost) and moves on; -1 when out of memory. */
static int advance(struct conversion *m) {
  struct slot *s = &m->window[m->next & (m->wcap - 1)];
  if (s->seq1 == m->next + 1) {
    if (convert(m, s, s->tid)) return -1;
    s->seq1 = 0;
  } else {
    m->lost++;
  }
  m->next++;
  return 0;
}

/* Converts the records waiting in order from `next` on. */
static int advance_ready(struct conversion *m) {
  while (m->window[m->next & (m->wcap - 1)].seq1 == m->next + 1)
    if (advance(m)) return -1;
  return 0;
}

/* Doubles the window; every waiting record keeps its sequence number. */
static int grow_window(struct conversion *m) {
  uint64_t cap = m->wcap * 2;
  struct slot *w = calloc(cap, sizeof *w);
  if (!w) return -1;
  for (uint64_t k = 0; k < m->wcap; k++) {
    struct slot *s = &m->window[k];
    if (s->seq1) w[(s->seq1 - 1) & (cap - 1)] = *s;
  }
  free(m->window);
  m->window = w;
  m->wcap = cap;
  return 0;
}

int conversion_place(struct conversion *m, const struct call *r, uint32_t tid) {
  /* The full number: the next one expected plus how far ahead the cut
   * number is. Behind it (ahead wraps past 2^SEQ_BITS / 2): given up on
   * already or written twice. No run has 2^32 calls in flight, so a
   * number that far ahead is corrupt and counted with them. */
  uint64_t ahead = (r->seq - m->next) & SEQ_MASK;
  if (ahead >= 1ull << 32) {
    m->lost++, m->late++;
    return 0;
  }
  uint64_t seq = m->next + ahead;
  if (seq == m->next) {
    /* In order (one thread, or threads taking turns): no trip through the window. */
    struct slot now = {seq + 1, r->stamp, r->ptr, r->size, r->arg, tid, r->op};
    if (convert(m, &now, tid)) return -1;
    m->next++;
    if (!m->any || seq > m->max_seq) m->max_seq = seq, m->any = 1;
    return advance_ready(m);
  }
  while (seq >= m->next + m->wcap && m->wcap < WINDOW_MAX)
    if (grow_window(m)) return -1;
  while (seq >= m->next + m->wcap)
    if (advance(m)) return -1;
  struct slot *s = &m->window[seq & (m->wcap - 1)];
  *s = (struct slot){seq + 1, r->stamp, r->ptr, r->size, r->arg, tid, r->op};
  if (!m->any || seq > m->max_seq) m->max_seq = seq, m->any = 1;
  return advance_ready(m);
}

int conversion_call(struct conversion *m, const struct call *r, uint64_t tid) {
  struct slot now = {0, r->stamp, r->ptr, r->size, r->arg, 0, r->op};
  return convert(m, &now, tid);
}

int conversion_drain(struct conversion *m) {
  while (m->any && m->next <= m->max_seq)
    if (advance(m)) return -1;
  return 0;
}
