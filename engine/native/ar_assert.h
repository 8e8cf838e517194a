/* ar_assert: the driver's stated invariants (driver.h, plan.h, stream.c),
 * checked in debug builds (-DAR_DEBUG) and compiled out in release ones, so
 * a release build's timed loops carry not one instruction of them.
 *
 * A broken invariant is the driver's own bug, never the allocator's: it is
 * reported on stderr as "invariant broken: EXPR (FILE:LINE)" and the process
 * exits with AR_ASSERT_EXIT, distinct from a crash (128 + signal) and from a
 * refused plan (3). The report is async-signal-safe (write + _exit). */
#ifndef AR_ASSERT_H
#define AR_ASSERT_H

#define AR_ASSERT_EXIT 70

#ifdef AR_DEBUG
void ar_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define ar_assert(e) ((e) ? (void)0 : ar_assert_fail(#e, __FILE__, __LINE__))
#else
#define ar_assert(e) ((void)0)
#endif

#endif
