/* What recorder.c shares with recorder_exec.c (hidden: not exported from
 * the shim). */
#ifndef ALLOCREPLAY_RECORDER_H
#define ALLOCREPLAY_RECORDER_H

/* Writes every thread's buffer; later calls are not written (see recorder.c). */
__attribute__((visibility("hidden"))) void recorder_flush_final(void);
/* An exec failed: recording resumes. */
__attribute__((visibility("hidden"))) void recorder_exec_failed(void);

#endif
