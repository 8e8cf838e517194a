/* A program with a known allocation sequence, for the recorder's tests.
 *   prog sequence : threads run one after another (so the order is known),
 *                   with realloc, aligned allocations and cross-thread frees;
 *                   every block is 1000..1999 bytes so the test can tell them
 *                   from the C library's own allocations.
 *   prog stress T N: T threads × N operations with cross-thread frees, then
 *                   a fork whose child allocates too; prints its own counts:
 *                   "parent M F" and "child M F" (mallocs, frees), sizes
 *                   3000..3999.
 *   prog idle N   : a thread makes 100 allocations (5000..5099 bytes) and
 *                   sleeps with its buffer part full while 4 threads make N
 *                   malloc/free pairs each (4000..4999); then it frees its
 *                   blocks and ends.
 *   prog exit T   : T threads allocate and free (4000..4999) without end;
 *                   main makes 1000 allocations (5000..5999) and calls
 *                   exit(0) while they run.
 *   prog exec     : 1000 malloc/free pairs (6000..6999), then execvpe of
 *                   itself as "prog after", which makes 10 (7000..7009).
 *   prog late     : a thread allocates and ends; a destructor that runs
 *                   after its thread_exit was recorded (a pthread key made
 *                   after the recorder's) allocates a block (8000) that
 *                   main frees: the same kernel thread id after its
 *                   thread_exit, as when a tid is reused.
 *   prog many N   : N threads one after another: the first makes 16130
 *                   calls (9000 bytes; with every 64th call's stamp they
 *                   take 16383 of the recorder's 16384 slots, so its
 *                   thread_exit, two slots, finds the buffer full), the
 *                   others one malloc/free pair;
 *                   prints "vm KiB" (VmSize at the end).
 *   prog killed   : 1000 allocations (10000..10999), then SIGTERM to itself.
 *   prog sizes    : sizes around the recorder's inline limit (65535) and
 *                   far above it: malloc 65534, 65535, 65536, 2^20, then
 *                   calloc(3, 70000) and a realloc of the first to 100000;
 *                   all freed.
 *   prog c11 T N  : the stress threads made with C11 thrd_create (which
 *                   does not go through pthread_create), no fork; prints
 *                   "parent M F". */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

static void *shared[4];
/* Blocks pass through here so the compiler cannot elide a malloc/free pair. */
static void *volatile sink;

static void *first(void *arg) {
  (void)arg;
  void *a = malloc(1001);
  void *b = calloc(2, 1002);
  void *c = memalign(64, 1003);
  void *d = NULL;
  if (posix_memalign(&d, 128, 1004)) return NULL;
  void *e = aligned_alloc(256, 1280);
  a = realloc(a, 1500);
  sink = b;
  free(sink);
  shared[0] = a;
  shared[1] = c;
  shared[2] = d;
  shared[3] = e;
  return NULL;
}

static void *second(void *arg) {
  (void)arg;
  /* Cross-thread frees of what `first` made, and a realloc of its block. */
  free(shared[1]);
  free(shared[2]);
  shared[0] = realloc(shared[0], 1900);
  free(shared[3]);
  free(shared[0]);
  return NULL;
}

static atomic_long mallocs, frees;
static _Atomic(void *) box[64];
static long per_thread;

static void *stress(void *arg) {
  unsigned seed = (unsigned)(long)arg;
  void *mine[32] = {0};
  for (long i = 0; i < per_thread; i++) {
    int s = rand_r(&seed) % 32;
    if (mine[s]) {
      /* Half the frees go through a mailbox: another thread frees them. */
      void *old = (i & 1) ? atomic_exchange(&box[rand_r(&seed) % 64], mine[s]) : mine[s];
      if (old) free(old), atomic_fetch_add(&frees, 1);
      mine[s] = NULL;
    } else {
      mine[s] = malloc(3000 + (size_t)(rand_r(&seed) % 1000));
      atomic_fetch_add(&mallocs, 1);
    }
  }
  for (int s = 0; s < 32; s++)
    if (mine[s]) free(mine[s]), atomic_fetch_add(&frees, 1);
  return NULL;
}

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int workers_done;

static void *idle_thread(void *arg) {
  (void)arg;
  void *mine[100];
  for (int i = 0; i < 100; i++) mine[i] = malloc(5000 + (size_t)i);
  pthread_mutex_lock(&idle_lock);
  while (!workers_done) pthread_cond_wait(&idle_cond, &idle_lock);
  pthread_mutex_unlock(&idle_lock);
  for (int i = 0; i < 100; i++) free(mine[i]);
  return NULL;
}

static void *pairs(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) {
    void *volatile p = malloc(4000 + (size_t)(i % 1000));
    free(p);
  }
  return NULL;
}

static void *forever(void *arg) {
  (void)arg;
  for (long i = 0;; i++) {
    void *p = malloc(4000 + (size_t)(i % 1000));
    sink = p;
    free(p);
  }
  return NULL;
}

static pthread_key_t late_key;
static void *_Atomic late_block;

static void late_destructor(void *arg) {
  (void)arg;
  atomic_store(&late_block, malloc(8000));
}

static void *late_thread(void *arg) {
  (void)arg;
  pthread_setspecific(late_key, (void *)1);
  sink = malloc(8001);
  free(sink);
  return NULL;
}

static void *fill_buffer(void *arg) {
  for (long i = 0; i < (long)arg; i++) {
    void *volatile p = malloc(9000);
    free(p);
  }
  return NULL;
}

static int scenario(int argc, char **argv) {
  if (!strcmp(argv[1], "idle")) {
    long n = argc > 2 ? atol(argv[2]) : 300000;
    pthread_t idle, w[4];
    pthread_create(&idle, NULL, idle_thread, NULL);
    for (int i = 0; i < 4; i++) pthread_create(&w[i], NULL, pairs, (void *)n);
    for (int i = 0; i < 4; i++) pthread_join(w[i], NULL);
    pthread_mutex_lock(&idle_lock);
    workers_done = 1;
    pthread_cond_signal(&idle_cond);
    pthread_mutex_unlock(&idle_lock);
    pthread_join(idle, NULL);
    return 0;
  }
  if (!strcmp(argv[1], "exit")) {
    int t = argc > 2 ? atoi(argv[2]) : 4;
    pthread_t th;
    for (int i = 0; i < t; i++) pthread_create(&th, NULL, forever, NULL);
    static void *keep[1000];
    for (int i = 0; i < 1000; i++) keep[i] = malloc(5000 + (size_t)i);
    sink = keep;
    usleep(20000);
    exit(0);
  }
  if (!strcmp(argv[1], "exec")) {
    for (int i = 0; i < 1000; i++) {
      sink = malloc(6000 + (size_t)i);
      free(sink);
    }
    char *args[] = {argv[0], "after", NULL};
    extern char **environ;
    execvpe(argv[0], args, environ);
    return 127;
  }
  if (!strcmp(argv[1], "after")) {
    for (int i = 0; i < 10; i++) sink = malloc(7000 + (size_t)i);
    return 0;
  }
  if (!strcmp(argv[1], "late")) {
    pthread_key_create(&late_key, late_destructor);
    pthread_t t;
    pthread_create(&t, NULL, late_thread, NULL);
    pthread_join(t, NULL);
    free(atomic_load(&late_block));
    return 0;
  }
  if (!strcmp(argv[1], "killed")) {
    static void *keep[1000];
    for (int i = 0; i < 1000; i++) keep[i] = malloc(10000 + (size_t)i);
    sink = keep;
    kill(getpid(), SIGTERM);
    pause();
    return 0;
  }
  if (!strcmp(argv[1], "sizes")) {
    void *b[4] = {malloc(65534), malloc(65535), malloc(65536), malloc(1 << 20)};
    sink = calloc(3, 70000);
    free(sink);
    b[0] = realloc(b[0], 100000);
    for (int i = 0; i < 4; i++) sink = b[i], free(sink);
    return 0;
  }
  if (!strcmp(argv[1], "many")) {
    long n = argc > 2 ? atol(argv[2]) : 1000;
    for (long i = 0; i < n; i++) {
      pthread_t t;
      pthread_create(&t, NULL, fill_buffer, (void *)(i ? 1L : 8065L));
      pthread_join(t, NULL);
    }
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
      if (!strncmp(line, "VmSize:", 7)) printf("vm %ld\n", atol(line + 7));
    if (f) fclose(f);
    return 0;
  }
  return -1;
}

static int stress_c11(void *arg) {
  stress(arg);
  return 0;
}

/* Frees what the mailboxes still hold. */
static void empty_boxes(void) {
  for (int i = 0; i < 64; i++) {
    void *p = atomic_exchange(&box[i], NULL);
    if (p) free(p), atomic_fetch_add(&frees, 1);
  }
}

int main(int argc, char **argv) {
  if (argc > 3 && !strcmp(argv[1], "c11")) {
    int threads = atoi(argv[2]);
    per_thread = atol(argv[3]);
    thrd_t th[64];
    for (int i = 0; i < threads && i < 64; i++) thrd_create(&th[i], stress_c11, (void *)(long)(i + 1));
    for (int i = 0; i < threads && i < 64; i++) thrd_join(th[i], NULL);
    empty_boxes();
    printf("parent %ld %ld\n", atomic_load(&mallocs), atomic_load(&frees));
    return 0;
  }
  if (argc > 1) {
    int r = scenario(argc, argv);
    if (r >= 0) return r;
  }
  if (argc > 1 && !strcmp(argv[1], "sequence")) {
    pthread_t t;
    pthread_create(&t, NULL, first, NULL);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, second, NULL);
    pthread_join(t, NULL);
    return 0;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 8;
  per_thread = argc > 3 ? atol(argv[3]) : 200000;
  pthread_t th[64];
  for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, stress, (void *)(long)(i + 1));
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  empty_boxes();
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long m = 0, f = 0;
    for (int i = 0; i < 1000; i++) {
      sink = malloc(3500);
      m++;
      free(sink);
      f++;
    }
    printf("child %ld %ld\n", m, f);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("parent %ld %ld\n", atomic_load(&mallocs), atomic_load(&frees));
  return 0;
}
