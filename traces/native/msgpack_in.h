/* The MessagePack a trace reader needs (traces/FORMAT.md): where a value
 * ends, refusing what the format refuses (traces/format/stream.ts
 * measureValue), and the scalars of one map level, read as msgpackr reads
 * them (numbers as float64, map keys as strings). Words for error messages
 * follow the TypeScript reader: a value described as checks.ts `describe`
 * does, a number as JavaScript prints it. */
#ifndef ALLOCREPLAY_MSGPACK_IN_H
#define ALLOCREPLAY_MSGPACK_IN_H
#include <stddef.h>
#include <stdint.h>

/* What format v1 allows (traces/format/spec.ts). */
#define MP_MAX_VALUE_BYTES (64u << 20)
#define MP_MAX_NESTING 16

enum mp_type { MP_ABSENT, MP_NIL, MP_BOOL, MP_NUM, MP_STR, MP_BIN, MP_ARRAY, MP_MAP };

struct mp_val {
  enum mp_type t;
  double num;       /* MP_NUM; MP_BOOL: 0 or 1 */
  const uint8_t *p; /* MP_STR, MP_BIN: the bytes */
  uint64_t len;     /* MP_STR, MP_BIN: bytes; MP_ARRAY, MP_MAP: entries */
};

/* Where the value at b[pos] ends: 1 and *out; 0 when `end` comes first; -1
 * and *why when the bytes are not a value the format accepts. */
int mp_measure(const uint8_t *b, size_t pos, size_t end, size_t *out, const char **why);
/* Reads the head of the element at p (a measured value) into v; returns the
 * first byte after its head and body (a container's first child). */
const uint8_t *mp_head(const uint8_t *p, struct mp_val *v);
/* Skips the whole value at p; NULL when a map inside it has a key msgpackr
 * refuses (an array, a map or a bin). */
const uint8_t *mp_skip(const uint8_t *p);
/* A map key as msgpackr makes it a property name (NUL-terminated, cut to cap). */
void mp_key(const struct mp_val *k, char *out, size_t cap);
/* checks.ts describe(): nil, bin, array, map, a quoted string, a number. */
void mp_describe(const struct mp_val *v, char *out, size_t cap);
/* String(x) in JavaScript: the shortest digits that read back as x. */
void js_number(double x, char out[32]);

#endif
