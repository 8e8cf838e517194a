/* The record converter: turns the recorder's streams (raw_log.h) into v1
 * traces while the recorded program runs, so that a trace is nearly done
 * when the program exits and no raw log is ever kept.
 *
 *   converter SOCKET HEADER PREFIX
 *
 * Listens on the Unix socket SOCKET; every process image that records
 * connects once (raw_log.h: its stream comes through a shared ring, or the
 * socket) and becomes PREFIX.img<N>.part (N counts
 * connections from 0): HEADER's bytes (the msgpack header, made by the
 * TypeScript side), then chunks and the footer (trace_out.c). Prints
 * "ready" once listening, one JSON line per finished image, and a last line
 * with its own peak RSS. Standard input reaching EOF means the recorded
 * command has exited: whatever the open streams hold is converted, then it
 * exits.
 *
 * Memory is bounded by the live set (u64map.h: ~24 bytes per live object)
 * the reorder window (WINDOW records per image) and each image's ring
 * (RING_BYTES, shared with it), never by the length of the run.
 *
 * Records come in blocks of one thread; their sequence numbers say the
 * order they happened in. Each record is put in a window at its sequence
 * number and records leave the window in sequence order as soon as the next
 * one is present. The recorder bounds how long a record may sit in a
 * thread's buffer (its watermark, STALE in recorder.c), so the window only
 * fills when a thread was descheduled mid-call for a long time; it grows,
 * and past WINDOW_MAX the oldest missing numbers are given up on (counted
 * in "lost") rather than holding memory without bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "raw_log.h"
#include "trace_out.h"
#include "u64map.h"

/* The reorder window starts at WINDOW records (24 MiB, touched as used) and
 * doubles up to WINDOW_MAX (192 MiB) while a record is missing for long: a
 * thread descheduled in the middle of a call, or of writing its buffer. */
#define WINDOW (1u << 19)
#define WINDOW_MAX (1u << 22)
#define READ_BUF (1u << 20)
/* A live object's map value: its id above SIZE_BITS, its size below; sizes
 * from SIZE_BIG up are kept exactly in a second (small) map keyed by id. */
#define SIZE_BITS 24
#define SIZE_BIG ((1ull << SIZE_BITS) - 1)

struct slot {
  uint64_t seq1; /* sequence number + 1; 0 = empty */
  uint64_t stamp, ptr, size, arg;
  uint32_t tid, op;
};

struct image {
  int fd;
  unsigned serial;
  int started, broken;
  int eof;               /* the socket closed: the image is gone */
  struct ring_ctl *ring; /* shared with the image (raw_log.h), or NULL */
  uint8_t *ring_data;
  uint32_t pid;
  uint64_t stamp0, ns0, cal_stamp, cal_ns;
  int t0_set;
  double t0;
  uint64_t last_time; /* ns of the last stamped record */
  uint8_t *rbuf;
  size_t rlen;
  uint32_t blk_tid, blk_left;
  struct slot *window; /* reorder window, indexed by sequence number mod wcap */
  uint64_t wcap;
  uint64_t next, max_seq;
  int any;
  struct u64map live, big, threads;
  uint64_t last_tid, last_th; /* thread_of's last answer (tid + 1; 0 = none) */
  uint64_t next_id, live_objects, live_bytes, peak_objects, peak_bytes, nthreads;
  uint64_t null_frees, unknown_frees, lost_frees, failed, lost;
  uint64_t late; /* of `lost`: arrived after their number was passed (written twice, or given up on) */
  struct trace_out out;
};

static const char *prefix;
static uint8_t *header;
static size_t header_len;

static void die(const char *what) {
  fprintf(stderr, "allocreplay converter: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Stamps → ns since the image's first event, through the latest
 * calibration; a record without a stamp takes the time of the one before. */
static void to_ns(void *ctx, uint64_t *stamps, unsigned n) {
  struct image *m = ctx;
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

static void emit(struct image *m, unsigned op, uint64_t th, uint64_t object, uint64_t size, uint64_t arg, uint64_t stamp) {
  trace_out_event(&m->out, op, th, object, size, arg, stamp);
}

/* Dense thread index: in order of first appearance, and a new one for a
 * kernel thread id reused after its thread_exit. */
static uint64_t thread_of(struct image *m, uint32_t tid) {
  if (tid + 1ull == m->last_tid) return m->last_th;
  uint32_t i = u64map_find(&m->threads, (uint64_t)tid + 1);
  if (i) {
    m->last_th = u64map_val(&m->threads, i);
  } else {
    if (!u64map_add(&m->threads, (uint64_t)tid + 1, m->nthreads)) die("out of memory");
    m->last_th = m->nthreads++;
  }
  m->last_tid = tid + 1ull;
  return m->last_th;
}

static void create(struct image *m, uint64_t ptr, uint64_t bytes) {
  uint64_t id = m->next_id++;
  uint64_t code = bytes < SIZE_BIG ? bytes : SIZE_BIG;
  if (code == SIZE_BIG && !u64map_add(&m->big, id, bytes)) die("out of memory");
  if (!u64map_add(&m->live, ptr, id << SIZE_BITS | code)) die("out of memory");
  m->live_bytes += bytes;
  if (++m->live_objects > m->peak_objects) m->peak_objects = m->live_objects;
  if (m->live_bytes > m->peak_bytes) m->peak_bytes = m->live_bytes;
}

/* Ends the object whose map value is `val`; returns its id. */
static uint64_t end(struct image *m, uint64_t val) {
  uint64_t id = val >> SIZE_BITS, bytes = val & SIZE_BIG;
  if (bytes == SIZE_BIG) u64map_take(&m->big, id, &bytes);
  m->live_objects--;
  m->live_bytes -= bytes;
  return id;
}

/* An address handed out again while we thought it live: its free was not
 * seen (made before recording started, or lost); synthesise it. */
static void forget(struct image *m, uint64_t ptr, uint64_t th, uint64_t stamp) {
  uint64_t v;
  if (!u64map_take(&m->live, ptr, &v)) return;
  m->lost_frees++;
  uint64_t id = end(m, v);
  emit(m, R_FREE, th, m->next_id - id, 0, 0, stamp);
}

static void convert(struct image *m, const struct slot *s) {
  uint64_t th = thread_of(m, s->tid), v;
  switch (s->op) {
  case R_FREE:
    if (!s->ptr) {
      /* Kept: free(NULL) is a call the program made; replay makes it too. */
      m->null_frees++;
      emit(m, R_FREE, th, 0, 0, 0, s->stamp);
    } else if (u64map_take(&m->live, s->ptr, &v)) {
      uint64_t id = end(m, v);
      emit(m, R_FREE, th, m->next_id - id, 0, 0, s->stamp);
    } else {
      m->unknown_frees++;
    }
    return;
  case R_THREAD_EXIT:
    emit(m, R_THREAD_EXIT, th, 0, 0, 0, s->stamp);
    u64map_take(&m->threads, (uint64_t)s->tid + 1, &v);
    m->last_tid = 0;
    return;
  case R_REALLOC: {
    uint32_t e = s->arg ? u64map_find(&m->live, s->arg) : 0;
    if (s->arg && !e) m->unknown_frees++;
    if (!s->ptr && s->size) {
      /* Failed: the old block lives on. */
      m->failed++;
      emit(m, R_REALLOC, th, 1, s->size, e ? m->next_id - (u64map_val(&m->live, e) >> SIZE_BITS) : 0, s->stamp);
      return;
    }
    uint64_t old_id = 0;
    if (e && u64map_take(&m->live, s->arg, &v)) old_id = end(m, v);
    if (!s->ptr) {
      if (old_id) emit(m, R_REALLOC, th, 1, 0, m->next_id - old_id, s->stamp);
      return;
    }
    forget(m, s->ptr, th, s->stamp);
    uint64_t rel = old_id ? m->next_id - old_id : 0;
    create(m, s->ptr, s->size);
    emit(m, R_REALLOC, th, 0, s->size, rel, s->stamp);
    return;
  }
  case R_MALLOC: case R_CALLOC: case R_MEMALIGN: case R_POSIX_MEMALIGN: case R_ALIGNED_ALLOC: case R_VALLOC: case R_PVALLOC:
    if (!s->ptr) {
      m->failed++;
      emit(m, s->op, th, 1, s->size, s->arg, s->stamp);
      return;
    }
    forget(m, s->ptr, th, s->stamp);
    create(m, s->ptr, s->op == R_CALLOC ? s->size * s->arg : s->size);
    emit(m, s->op, th, 0, s->size, s->arg, s->stamp);
    return;
  default:
    m->lost++; /* not an op the recorder writes: a corrupt record */
  }
}

/* Converts the record at `next` (or counts it lost) and moves on. */
static void advance(struct image *m) {
  struct slot *s = &m->window[m->next & (m->wcap - 1)];
  if (s->seq1 == m->next + 1) {
    convert(m, s);
    s->seq1 = 0;
  } else {
    m->lost++;
  }
  m->next++;
}

/* Doubles the window; every waiting record keeps its sequence number. */
static void grow_window(struct image *m) {
  uint64_t cap = m->wcap * 2;
  struct slot *w = calloc(cap, sizeof *w);
  if (!w) die("out of memory");
  for (uint64_t k = 0; k < m->wcap; k++) {
    struct slot *s = &m->window[k];
    if (s->seq1) w[(s->seq1 - 1) & (cap - 1)] = *s;
  }
  free(m->window);
  m->window = w;
  m->wcap = cap;
}

static void place(struct image *m, const struct rec_t *r, uint32_t tid) {
  uint64_t seq = r->seq_op >> 8;
  if (seq < m->next || seq - m->next >= (1ull << 40)) {
    m->lost++, m->late++; /* given up on already, written twice, or corrupt */
    return;
  }
  if (seq == m->next) {
    /* In order (one thread, or threads taking turns): no trip through the window. */
    struct slot now = {seq + 1, r->stamp, r->ptr, r->size, r->arg, tid, (uint32_t)(r->seq_op & 0xff)};
    convert(m, &now);
    m->next++;
    if (!m->any || seq > m->max_seq) m->max_seq = seq, m->any = 1;
    while (m->window[m->next & (m->wcap - 1)].seq1 == m->next + 1) advance(m);
    return;
  }
  while (seq >= m->next + m->wcap && m->wcap < WINDOW_MAX) grow_window(m);
  while (seq >= m->next + m->wcap) advance(m);
  struct slot *s = &m->window[seq & (m->wcap - 1)];
  *s = (struct slot){seq + 1, r->stamp, r->ptr, r->size, r->arg, tid, (uint32_t)(r->seq_op & 0xff)};
  if (!m->any || seq > m->max_seq) m->max_seq = seq, m->any = 1;
  while (m->window[m->next & (m->wcap - 1)].seq1 == m->next + 1) advance(m);
}

/* The pointer a raw record looks up: realloc's old block, else its own. */
static inline uint64_t rec_ptr(const uint8_t *p) {
  struct rec_t r;
  memcpy(&r, p, sizeof r);
  return (r.seq_op & 0xff) == R_REALLOC && r.arg ? r.arg : r.ptr;
}

static void parse(struct image *m) {
  size_t off = 0;
  while (!m->broken) {
    if (!m->blk_left) {
      if (m->rlen - off < sizeof(struct block_header)) break;
      struct block_header h;
      memcpy(&h, m->rbuf + off, sizeof h);
      off += sizeof h;
      if (h.magic != BLOCK_MAGIC) {
        m->broken = 1; /* not a stream from our recorder */
        break;
      }
      if (!m->started) m->started = 1, m->pid = h.tid, m->stamp0 = h.stamp, m->ns0 = h.ns;
      else m->blk_tid = h.tid, m->blk_left = h.count;
      m->cal_stamp = h.stamp, m->cal_ns = h.ns;
      continue;
    }
    size_t k = (m->rlen - off) / sizeof(struct rec_t);
    if (k > m->blk_left) k = m->blk_left;
    if (!k) break;
    for (size_t i = 0; i < k; i++, off += sizeof(struct rec_t)) {
      /* Large live sets miss the cache on every lookup: ask for the
       * bucket 16 records ahead and for its entry 8 ahead. */
      if (i + 16 < k) u64map_prefetch(&m->live, rec_ptr(m->rbuf + off + 16 * sizeof(struct rec_t)), 0);
      if (i + 8 < k) u64map_prefetch(&m->live, rec_ptr(m->rbuf + off + 8 * sizeof(struct rec_t)), 1);
      struct rec_t r;
      memcpy(&r, m->rbuf + off, sizeof r);
      place(m, &r, m->blk_tid);
    }
    m->blk_left -= (uint32_t)k;
  }
  memmove(m->rbuf, m->rbuf + off, m->rlen - off);
  m->rlen -= off;
}

/* The first read: the first block, with the ring's memfd when there is one. */
static void first_read(struct image *m) {
  union {
    struct cmsghdr c;
    char b[CMSG_SPACE(sizeof(int))];
  } u;
  struct iovec iov = {m->rbuf, sizeof(struct block_header)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  ssize_t n = recvmsg(m->fd, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    m->eof = 1;
    return;
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    int rfd;
    memcpy(&rfd, CMSG_DATA(c), sizeof rfd);
    void *p = mmap(NULL, RING_CTL_BYTES + RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
    close(rfd);
    if (p != MAP_FAILED) m->ring = p, m->ring_data = (uint8_t *)p + RING_CTL_BYTES;
  }
  m->rlen = (size_t)n;
  parse(m);
}

/* Reads what the socket holds (the stream, or wake-up bytes when there is
 * a ring): 1 more may come, 0 end of stream. */
static int pump(struct image *m, int rounds) {
  if (!m->started && !m->rlen) {
    first_read(m);
    if (m->eof) return 0;
    if (!m->started && m->rlen < sizeof(struct block_header)) return 1;
  }
  while (rounds--) {
    uint8_t sink[256];
    ssize_t n = m->ring ? read(m->fd, sink, sizeof sink) : read(m->fd, m->rbuf + m->rlen, READ_BUF - m->rlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    if (n <= 0) return 0;
    if (m->ring) continue;
    m->rlen += (size_t)n;
    parse(m);
  }
  return 1;
}

/* Moves what the ring holds into the read buffer and converts it; returns
 * whether there was any. */
static int pump_ring(struct image *m) {
  if (!m->ring) return 0;
  uint64_t t = atomic_load_explicit(&m->ring->tail, memory_order_relaxed);
  uint64_t avail = atomic_load_explicit(&m->ring->head, memory_order_acquire) - t;
  if (!avail) return 0;
  size_t n = READ_BUF - m->rlen < avail ? READ_BUF - m->rlen : (size_t)avail;
  size_t off = t % RING_BYTES, first = RING_BYTES - off < n ? RING_BYTES - off : n;
  memcpy(m->rbuf + m->rlen, m->ring_data + off, first);
  memcpy(m->rbuf + m->rlen + first, m->ring_data, n - first);
  atomic_store_explicit(&m->ring->tail, t + n, memory_order_release);
  m->rlen += n;
  parse(m);
  return 1;
}

static char *part_path(unsigned serial) {
  static char path[4200];
  snprintf(path, sizeof path, "%s.img%u.part", prefix, serial);
  return path;
}

static struct image *image_open(int fd, unsigned serial) {
  struct image *m = calloc(1, sizeof *m);
  if (!m) die("out of memory");
  m->fd = fd;
  m->serial = serial;
  m->next_id = 1;
  m->rbuf = malloc(READ_BUF);
  m->wcap = WINDOW;
  m->window = calloc(WINDOW, sizeof(struct slot));
  if (!m->rbuf || !m->window || u64map_init(&m->live) || u64map_init(&m->big) || u64map_init(&m->threads)) die("out of memory");
  if (trace_out_open(&m->out, part_path(serial), header, header_len, to_ns, m)) die(part_path(serial));
  return m;
}

/* Converts what is left in the window, writes the footer, reports the image. */
static void image_close(struct image *m) {
  while (pump_ring(m)) {
  }
  while (m->any && m->next <= m->max_seq) advance(m);
  struct trace_totals t = {m->next_id - 1, m->nthreads, m->peak_objects, m->peak_bytes};
  char sum[65];
  int rc = trace_out_close(&m->out, &t, sum);
  if (!m->started) {
    unlink(part_path(m->serial)); /* connected, then died before a word */
  } else {
    printf("{\"image\":%u,\"pid\":%u,\"startNs\":%llu,\"events\":%llu,\"objects\":%llu,\"threads\":%llu,\"peakLiveObjects\":%llu,"
           "\"peakLiveBytes\":%llu,\"checksum\":\"%s\",\"nullFrees\":%llu,\"unknownFrees\":%llu,\"lostFrees\":%llu,"
           "\"failedAllocations\":%llu,\"lost\":%llu,\"late\":%llu,\"writeError\":\"%s\"}\n",
           m->serial, m->pid, (unsigned long long)m->ns0, (unsigned long long)m->out.events, (unsigned long long)t.objects,
           (unsigned long long)t.threads, (unsigned long long)t.peak_live_objects, (unsigned long long)t.peak_live_bytes, sum,
           (unsigned long long)m->null_frees, (unsigned long long)m->unknown_frees, (unsigned long long)m->lost_frees,
           (unsigned long long)m->failed, (unsigned long long)m->lost, (unsigned long long)m->late, rc ? strerror(m->out.err) : "");
    fflush(stdout);
  }
  close(m->fd);
  if (m->ring) munmap(m->ring, RING_CTL_BYTES + RING_BYTES);
  u64map_free(&m->live), u64map_free(&m->big), u64map_free(&m->threads);
  free(m->rbuf), free(m->window), free(m);
}

static void read_header(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  header = malloc(1 << 20);
  if (!header) die("out of memory");
  header_len = fread(header, 1, 1 << 20, f);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: converter SOCKET HEADER PREFIX\n");
    return 2;
  }
  prefix = argv[3];
  /* Ctrl-C stops the recorded program, not the trace: this process ends
   * when its standard input does (the launcher is done or gone). */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  read_header(argv[2]);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    die(argv[1]);
  }
  strcpy(addr.sun_path, argv[1]);
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 128)) die(argv[1]);
  printf("ready\n");
  fflush(stdout);

  struct image **imgs = NULL;
  size_t n = 0, cap = 0;
  unsigned serial = 0;
  int stop = 0;
  struct pollfd *pf = NULL;
  while (!stop) {
    /* Rings first: no system call while data flows. */
    int busy = 0;
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 16 && pump_ring(imgs[i]); k++) busy = 1;
    if (!busy) {
      /* About to sleep: say so on every ring, then look once more (see log_put in recorder.c). */
      for (size_t i = 0; i < n; i++)
        if (imgs[i]->ring) {
          atomic_store(&imgs[i]->ring->waiting, 1);
          if (atomic_load(&imgs[i]->ring->head) != atomic_load(&imgs[i]->ring->tail)) busy = 1;
        }
    }
    pf = realloc(pf, (n + 2) * sizeof *pf);
    if (!pf) die("out of memory");
    pf[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    pf[1] = (struct pollfd){.fd = ls, .events = POLLIN};
    for (size_t i = 0; i < n; i++) pf[i + 2] = (struct pollfd){.fd = imgs[i]->fd, .events = POLLIN};
    if (poll(pf, n + 2, busy ? 0 : 250) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (size_t i = 0; i < n; i++)
      if (imgs[i]->ring) atomic_store(&imgs[i]->ring->waiting, 0);
    if (pf[0].revents) {
      char b[64];
      ssize_t r = read(0, b, sizeof b);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) stop = 1;
    }
    /* Sockets, then new connections (pf indexes the images as they were). */
    for (size_t i = n; i-- > 0;) {
      if (!pf[i + 2].revents) continue;
      if (!pump(imgs[i], 8)) {
        image_close(imgs[i]);
        imgs[i] = imgs[--n];
      }
    }
    for (int fd; (fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
      if (n == cap) {
        cap = cap ? cap * 2 : 16;
        imgs = realloc(imgs, cap * sizeof *imgs);
        if (!imgs) die("out of memory");
      }
      imgs[n++] = image_open(fd, serial++);
    }
  }
  /* The command has exited: convert what every stream still holds. */
  for (int fd; (fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
    struct image *m = image_open(fd, serial++);
    pump(m, 1 << 30);
    image_close(m);
  }
  for (size_t i = 0; i < n; i++) {
    pump(imgs[i], 1 << 30);
    image_close(imgs[i]);
  }
  unlink(argv[1]);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"done\":true,\"maxRssKiB\":%ld}\n", ru.ru_maxrss);
  return 0;
}
