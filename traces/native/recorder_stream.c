/* The recorder's stream to the converter (raw_log.h): the log lock that
 * serialises it, the shared ring it flows through and the socket that
 * carries it when there is no ring, wake-ups and the end of the image. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "recorder.h"

static atomic_uint log_owner; /* thread id holding the log lock, or 0 */
static int log_fd = -1;
static struct ring_ctl *ring; /* shared with the converter; NULL: the socket carries the stream */
static uint8_t *ring_data;
static char sock_path[108];

int lock_log(int final) {
  unsigned me = self();
  for (unsigned spins = 0;; spins++) {
    /* Checked first: once the final write is done nothing may follow it (a
     * block written later could hold a free whose allocation was dropped). */
    if (!final && atomic_load(&rec_closing)) return 0;
    unsigned free_ = 0;
    if (atomic_compare_exchange_weak_explicit(&log_owner, &free_, me, memory_order_acquire, memory_order_relaxed)) return 1;
    if (free_ == me) return 0;
    if (spins > 64) sched_yield();
    else relax();
  }
}

void unlock_log(void) { atomic_store_explicit(&log_owner, 0, memory_order_release); }

void fill_header(struct block_header *h, uint32_t tid, uint32_t count) {
  *h = (struct block_header){BLOCK_MAGIC, tid, count, 0, stamp(), now_ns()};
}

/* Through the socket (no ring). A failed send (the converter is gone) stops recording. */
static void send_all(const void *p, size_t n) {
  const char *c = p;
  while (n && log_fd >= 0) {
    ssize_t w = send(log_fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      atomic_store(&rec_enabled, 0);
      return;
    }
    c += w, n -= (size_t)w;
  }
}

/* Waits until the ring has `n` bytes free; 0 when the converter is gone. */
static int ring_room(uint64_t head, size_t n) {
  for (unsigned i = 0; RING_BYTES - (head - atomic_load_explicit(&ring->tail, memory_order_acquire)) < n; i++) {
    if (i < 32) {
      relax();
      continue;
    }
    /* The converter is behind: sleep, so that it gets the CPU if it shares ours. */
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
    char c;
    if ((i & 63) == 0 && recv(log_fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0) {
      atomic_store(&rec_enabled, 0);
      return 0;
    }
  }
  return 1;
}

void log_put(const void *p, size_t n) {
  if (!ring) {
    send_all(p, n);
    return;
  }
  uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  if (!ring_room(head, n)) return;
  size_t off = head % RING_BYTES, first = RING_BYTES - off < n ? RING_BYTES - off : n;
  memcpy(ring_data + off, p, first);
  memcpy(ring_data, (const char *)p + first, n - first);
  atomic_store(&ring->head, head + n);
  /* Seen after the head moved (both sequentially consistent): a reader that
   * announced its sleep either sees the new head or gets the byte. */
  if (atomic_load(&ring->waiting) && atomic_exchange(&ring->waiting, 0)) send(log_fd, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The shared ring, or NULL (then the socket carries the stream). */
static int make_ring(void) {
  int fd = memfd_create("allocreplay-ring", MFD_CLOEXEC);
  if (fd < 0) return -1;
  void *m = MAP_FAILED;
  if (!ftruncate(fd, RING_CTL_BYTES + RING_BYTES)) m = mmap(NULL, RING_CTL_BYTES + RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    close(fd);
    return -1;
  }
  ring = m;
  ring_data = (uint8_t *)m + RING_CTL_BYTES;
  return fd;
}

/* The first block names the process and carries the ring. */
int stream_open(const char *sock) {
  if (sock) strcpy(sock_path, sock); /* the caller checked its length */
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  _Static_assert(sizeof sock_path == sizeof addr.sun_path, "a socket path");
  memcpy(addr.sun_path, sock_path, sizeof sock_path);
  log_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (log_fd < 0) return 0;
  if (connect(log_fd, (struct sockaddr *)&addr, sizeof addr)) {
    close(log_fd);
    log_fd = -1;
    return 0;
  }
  struct block_header h;
  fill_header(&h, (uint32_t)getpid(), 0);
  struct iovec iov = {&h, sizeof h};
  union {
    struct cmsghdr c;
    char b[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  int rfd = make_ring();
  if (rfd >= 0) {
    msg.msg_control = u.b;
    msg.msg_controllen = sizeof u.b;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &rfd, sizeof rfd);
  }
  if (sendmsg(log_fd, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof h) {
    close(log_fd);
    log_fd = -1;
  }
  if (rfd >= 0) close(rfd); /* the mapping stays */
  return log_fd >= 0;
}

void stream_forget(void) {
  atomic_store(&log_owner, 0);
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  if (ring) munmap(ring, RING_CTL_BYTES + RING_BYTES);
  ring = NULL;
}
