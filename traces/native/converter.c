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
 * thread's buffer (its watermark, STALE in recorder.h), so the window only
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
#include <time.h>
#include <unistd.h>

#include "convert.h"

#define READ_BUF (1u << 20)

/* One process image's connection: its socket, its ring, what has been read
 * of its stream and not yet parsed, and the conversion it feeds. */
struct image {
  int fd;
  unsigned serial;
  int started, broken;
  int eof;               /* the socket closed: the image is gone */
  struct ring_ctl *ring; /* shared with the image (raw_log.h), or NULL */
  uint8_t *ring_data;
  uint32_t pid;
  uint8_t *rbuf;
  size_t rlen;
  uint32_t blk_tid, blk_left;
  struct conversion conv;
};

/* How long the converter looks at the rings every millisecond after the
 * last data before it sleeps until woken (the fastest program takes ~25 ms
 * to fill a ring of RING_BYTES, so a look every 1 ms never makes it wait). */
#define NAP_MS 50

static const char *prefix;
static uint8_t *header;
static size_t header_len;

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Fails the converter with `what` and errno (out of memory, a file). */
static void converter_die(const char *what) __attribute__((noreturn));
static void converter_die(const char *what) {
  fprintf(stderr, "allocreplay converter: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Decodes the call whose REC_SLOTS slots start at s[0] (raw_log.h). */
static inline void decode(const struct rec_t *s, struct call *c) {
  unsigned f = rec_flags(s[0].head), n = 1;
  *c = (struct call){rec_seq(s[0].head), 0, s[0].word, rec_size(s[0].head), 0, rec_op(s[0].head)};
  if (f & X_STAMP_ARG) c->stamp = s[n].head, c->arg = s[n].word, n++;
  if (f & X_SIZE) c->size = s[n].head;
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
      if (!m->started) m->started = 1, m->pid = h.tid, m->conv.stamp0 = h.stamp, m->conv.ns0 = h.ns;
      else m->blk_tid = h.tid, m->blk_left = h.count;
      m->conv.cal_stamp = h.stamp, m->conv.cal_ns = h.ns;
      continue;
    }
    /* Whole calls only: a read may end in the middle of one. */
    size_t k = (m->rlen - off) / sizeof(struct rec_t);
    if (k > m->blk_left) k = m->blk_left;
    const struct rec_t *s = (const struct rec_t *)(m->rbuf + off);
    size_t i = 0;
    while (i < k) {
      unsigned op = rec_op(s[i].head);
      if (!op) {
        i++; /* padding */
        continue;
      }
      unsigned n = REC_SLOTS(rec_flags(s[i].head));
      if (n > m->blk_left - i) {
        m->broken = 1; /* a call longer than its block: not our recorder's */
        break;
      }
      if (i + n > k) break;
      /* Large live sets miss the cache on every lookup: ask for the
       * bucket of the pointer 16 slots ahead and for its entry 8 ahead
       * (a slot's second word: a pointer, or realloc's old one). */
      if (i + 16 < k) u64map_prefetch(&m->conv.live, s[i + 16].word, 0);
      if (i + 8 < k) u64map_prefetch(&m->conv.live, s[i + 8].word, 1);
      struct call c;
      decode(s + i, &c);
      if (conversion_place(&m->conv, &c, m->blk_tid)) converter_die("out of memory");
      i += n;
    }
    off += i * sizeof(struct rec_t);
    m->blk_left -= (uint32_t)i;
    if (i < k || !i) break;
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
  if (!m) converter_die("out of memory");
  m->fd = fd;
  m->serial = serial;
  m->rbuf = malloc(READ_BUF);
  if (!m->rbuf || conversion_init(&m->conv)) converter_die("out of memory");
  if (trace_out_open(&m->conv.out, part_path(serial), header, header_len, conversion_to_ns, &m->conv, TRACE_OUT_MONOTONIC)) converter_die(part_path(serial));
  return m;
}

/* Converts what is left in the window, writes the footer, reports the image. */
static void image_close(struct image *m) {
  while (pump_ring(m)) {
  }
  struct conversion *c = &m->conv;
  if (conversion_drain(c)) converter_die("out of memory");
  struct trace_totals t = {c->next_id - 1, c->nthreads, c->peak_objects, c->peak_bytes};
  char sum[65];
  int rc = trace_out_close(&c->out, &t, sum);
  if (!m->started) {
    unlink(part_path(m->serial)); /* connected, then died before a word */
  } else {
    printf("{\"image\":%u,\"pid\":%u,\"startNs\":%llu,\"events\":%llu,\"objects\":%llu,\"threads\":%llu,\"peakLiveObjects\":%llu,"
           "\"peakLiveBytes\":%llu,\"checksum\":\"%s\",\"nullFrees\":%llu,\"unknownFrees\":%llu,\"lostFrees\":%llu,"
           "\"failedAllocations\":%llu,\"lost\":%llu,\"late\":%llu,\"writeError\":\"%s\"}\n",
           m->serial, m->pid, (unsigned long long)c->ns0, (unsigned long long)c->out.events, (unsigned long long)t.objects,
           (unsigned long long)t.threads, (unsigned long long)t.peak_live_objects, (unsigned long long)t.peak_live_bytes, sum,
           (unsigned long long)c->null_frees, (unsigned long long)c->unknown_frees, (unsigned long long)c->lost_frees,
           (unsigned long long)c->failed, (unsigned long long)c->lost, (unsigned long long)c->late, rc ? strerror(c->out.err) : "");
    fflush(stdout);
  }
  close(m->fd);
  if (m->ring) munmap(m->ring, RING_CTL_BYTES + RING_BYTES);
  conversion_free(c);
  free(m->rbuf), free(m);
}

static void read_header(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) converter_die(path);
  header = malloc(1 << 20);
  if (!header) converter_die("out of memory");
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
    converter_die(argv[1]);
  }
  strcpy(addr.sun_path, argv[1]);
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 128)) converter_die(argv[1]);
  printf("ready\n");
  fflush(stdout);

  struct image **imgs = NULL;
  size_t n = 0, cap = 0;
  unsigned serial = 0;
  int stop = 0;
  struct pollfd *pf = NULL;
  uint64_t last_busy = 0;
  while (!stop) {
    /* Rings first: no system call while data flows. */
    int busy = 0;
    for (size_t i = 0; i < n; i++)
      for (int k = 0; k < 16 && pump_ring(imgs[i]); k++) busy = 1;
    /* Idle for a moment only (the program is between two of its buffers):
     * look again in a millisecond without asking for a wake-up, so that a
     * busy program makes no system call per buffer. Idle for longer: say
     * so on every ring, then look once more (see log_put in recorder_stream.c). */
    uint64_t now = monotonic_ms();
    if (busy) last_busy = now;
    int napping = !busy && now - last_busy < NAP_MS;
    if (!busy && !napping) {
      for (size_t i = 0; i < n; i++)
        if (imgs[i]->ring) {
          atomic_store(&imgs[i]->ring->waiting, 1);
          if (atomic_load(&imgs[i]->ring->head) != atomic_load(&imgs[i]->ring->tail)) busy = 1;
        }
    }
    pf = realloc(pf, (n + 2) * sizeof *pf);
    if (!pf) converter_die("out of memory");
    pf[0] = (struct pollfd){.fd = 0, .events = POLLIN};
    pf[1] = (struct pollfd){.fd = ls, .events = POLLIN};
    for (size_t i = 0; i < n; i++) pf[i + 2] = (struct pollfd){.fd = imgs[i]->fd, .events = POLLIN};
    if (poll(pf, n + 2, busy ? 0 : napping ? 1 : 250) < 0) {
      if (errno == EINTR) continue;
      converter_die("poll");
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
        if (!imgs) converter_die("out of memory");
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
