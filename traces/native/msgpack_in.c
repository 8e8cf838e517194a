/* MessagePack for the trace reader; see msgpack_in.h. */
#include "msgpack_in.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/* Mirrors stream.ts measureValue step for step, so the same bytes get the
 * same answer: an explicit stack of values still to read per depth. */
int mp_measure(const uint8_t *b, size_t pos, size_t end, size_t *out, const char **why) {
  const size_t start = pos;
  uint64_t pending[MP_MAX_NESTING + 1];
  int depth = 1;
  pending[0] = 1;
  while (depth > 0) {
    if (pending[depth - 1] == 0) {
      depth--;
      continue;
    }
    pending[depth - 1]--;
    if (pos >= end) return 0;
    const uint8_t t = b[pos];
    uint64_t head = 1, body = 0, children = 0;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) head = 1;
    else if (t <= 0x8f) children = (uint64_t)(t & 0x0f) * 2;
    else if (t <= 0x9f) children = t & 0x0f;
    else if (t <= 0xbf) body = t & 0x1f;
    else if (t == 0xc1) return *why = "byte 0xc1 is never used in MessagePack", -1;
    else if ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) return *why = "extension types are not part of the trace format", -1;
    else if (t == 0xca) head = 5;
    else if (t == 0xcb) head = 9;
    else if (t == 0xcc || t == 0xd0) head = 2;
    else if (t == 0xcd || t == 0xd1) head = 3;
    else if (t == 0xce || t == 0xd2) head = 5;
    else if (t == 0xcf || t == 0xd3) head = 9;
    else {
      /* Lengths: bin/str 8·16·32, array 16·32, map 16·32. */
      const int width = t == 0xc4 || t == 0xd9 ? 1 : t == 0xc5 || t == 0xda || t == 0xdc || t == 0xde ? 2 : 4;
      if (pos + 1 + width > end) return 0;
      const uint64_t n = be(b + pos + 1, width);
      head = 1 + (uint64_t)width;
      if (t == 0xdc || t == 0xdd) children = n;
      else if (t == 0xde || t == 0xdf) children = n * 2;
      else body = n;
    }
    pos += head + body;
    if (pos - start > MP_MAX_VALUE_BYTES) return *why = "a value larger than 64 MiB", -1;
    if (children > 0) {
      if (depth >= MP_MAX_NESTING) return *why = "values nested more than 16 deep", -1;
      /* Each child takes at least one byte: a count beyond the cap is a lie. */
      if (children > MP_MAX_VALUE_BYTES) return *why = "a value larger than 64 MiB", -1;
      pending[depth++] = children;
    }
  }
  if (pos > end) return 0;
  *out = pos;
  return 1;
}

static double f32(const uint8_t *p) {
  uint32_t u = (uint32_t)be(p, 4);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static double f64(const uint8_t *p) {
  uint64_t u = be(p, 8);
  double d;
  memcpy(&d, &u, 8);
  return d;
}

const uint8_t *mp_head(const uint8_t *p, struct mp_val *v) {
  const uint8_t t = *p++;
  v->p = NULL;
  v->len = 0;
  v->num = 0;
  if (t <= 0x7f) return v->t = MP_NUM, v->num = t, p;
  if (t >= 0xe0) return v->t = MP_NUM, v->num = (int8_t)t, p;
  if (t <= 0x8f) return v->t = MP_MAP, v->len = t & 0x0f, p;
  if (t <= 0x9f) return v->t = MP_ARRAY, v->len = t & 0x0f, p;
  if (t <= 0xbf) return v->t = MP_STR, v->len = t & 0x1f, v->p = p, p + v->len;
  switch (t) {
    case 0xc0: return v->t = MP_NIL, p;
    case 0xc2: case 0xc3: return v->t = MP_BOOL, v->num = t == 0xc3, p;
    case 0xca: return v->t = MP_NUM, v->num = f32(p), p + 4;
    case 0xcb: return v->t = MP_NUM, v->num = f64(p), p + 8;
    case 0xcc: return v->t = MP_NUM, v->num = (double)be(p, 1), p + 1;
    case 0xcd: return v->t = MP_NUM, v->num = (double)be(p, 2), p + 2;
    case 0xce: return v->t = MP_NUM, v->num = (double)be(p, 4), p + 4;
    case 0xcf: return v->t = MP_NUM, v->num = (double)be(p, 8), p + 8;
    case 0xd0: return v->t = MP_NUM, v->num = (int8_t)be(p, 1), p + 1;
    case 0xd1: return v->t = MP_NUM, v->num = (int16_t)be(p, 2), p + 2;
    case 0xd2: return v->t = MP_NUM, v->num = (int32_t)be(p, 4), p + 4;
    case 0xd3: return v->t = MP_NUM, v->num = (double)(int64_t)be(p, 8), p + 8;
    case 0xc4: case 0xc5: case 0xc6: case 0xd9: case 0xda: case 0xdb: {
      const int w = t == 0xc4 || t == 0xd9 ? 1 : t == 0xc5 || t == 0xda ? 2 : 4;
      v->t = t <= 0xc6 ? MP_BIN : MP_STR;
      v->len = be(p, w);
      v->p = p + w;
      return v->p + v->len;
    }
    case 0xdc: return v->t = MP_ARRAY, v->len = be(p, 2), p + 2;
    case 0xdd: return v->t = MP_ARRAY, v->len = be(p, 4), p + 4;
    case 0xde: return v->t = MP_MAP, v->len = be(p, 2), p + 2;
    default: return v->t = MP_MAP, v->len = be(p, 4), p + 4; /* 0xdf: measured, so nothing else */
  }
}

const uint8_t *mp_skip(const uint8_t *p) {
  struct mp_val v;
  p = mp_head(p, &v);
  if (v.t == MP_ARRAY) {
    for (uint64_t i = 0; i < v.len && p; i++) p = mp_skip(p);
  } else if (v.t == MP_MAP) {
    for (uint64_t i = 0; i < v.len && p; i++) {
      struct mp_val k;
      mp_head(p, &k);
      /* msgpackr makes keys property names: a container or bin cannot be one. */
      if (k.t == MP_ARRAY || k.t == MP_MAP || k.t == MP_BIN) return NULL;
      p = mp_skip(p);
      if (p) p = mp_skip(p);
    }
  }
  return p;
}

void js_number(double x, char out[32]) {
  if (isnan(x)) return (void)strcpy(out, "NaN");
  if (isinf(x)) return (void)strcpy(out, x > 0 ? "Infinity" : "-Infinity");
  if (x == 0) return (void)strcpy(out, "0");
  char e[40];
  int prec = 0;
  for (prec = 0; prec < 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec, x);
    if (strtod(e, NULL) == x) break;
  }
  /* e is [-]d[.ddd]e±XX: the digits and the decimal exponent. */
  char digits[24];
  int k = 0;
  const char *s = e;
  int neg = *s == '-';
  if (neg) s++;
  for (; *s && *s != 'e'; s++)
    if (*s != '.') digits[k++] = *s;
  while (k > 1 && digits[k - 1] == '0') k--;
  digits[k] = 0;
  const int n = atoi(s + 1) + 1; /* the position of the decimal point */
  char *o = out;
  if (neg) *o++ = '-';
  if (k <= n && n <= 21) {
    o += sprintf(o, "%s", digits);
    for (int i = k; i < n; i++) *o++ = '0';
    *o = 0;
  } else if (0 < n && n <= 21) {
    sprintf(o, "%.*s.%s", n, digits, digits + n);
  } else if (-6 < n && n <= 0) {
    o += sprintf(o, "0.");
    for (int i = 0; i < -n; i++) *o++ = '0';
    sprintf(o, "%s", digits);
  } else {
    if (k == 1) o += sprintf(o, "%c", digits[0]);
    else o += sprintf(o, "%c.%s", digits[0], digits + 1);
    sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
  }
}

/* The next code point of UTF-8 text (U+FFFD for a byte that starts none). */
static uint32_t utf8_next(const uint8_t **p, const uint8_t *end) {
  const uint8_t *s = *p;
  uint32_t c = *s++;
  int more = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
  if (c >= 0x80 && !more) return *p = s, 0xfffd;
  if (more) c &= 0x3f >> more;
  for (int i = 0; i < more; i++) {
    if (s >= end || (*s & 0xc0) != 0x80) return *p = *p + 1, 0xfffd;
    c = c << 6 | (*s++ & 0x3f);
  }
  *p = s;
  return c;
}

static size_t put_utf8(char *o, uint32_t c) {
  if (c < 0x80) return o[0] = (char)c, 1;
  if (c < 0x800) return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3f)), 2;
  if (c < 0x10000) return o[0] = (char)(0xe0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 0x3f)), o[2] = (char)(0x80 | (c & 0x3f)), 3;
  o[0] = (char)(0xf0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 0x3f)), o[2] = (char)(0x80 | (c >> 6 & 0x3f)), o[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* The first `units` UTF-16 units of a string (as `s.slice(0, units)`), JSON-escaped
 * when `json`; a pair cut in half leaves its lone high surrogate. Returns
 * whether the string was longer. */
static int utf16_slice(const uint8_t *p, uint64_t len, size_t units, int json, char *out, size_t cap) {
  const uint8_t *end = p + len;
  size_t u = 0, o = 0;
  while (p < end && o + 8 < cap) {
    uint32_t c = utf8_next(&p, end);
    const size_t w = c >= 0x10000 ? 2 : 1;
    if (u + w > units) {
      if (u < units) { /* half a pair: its high surrogate */
        uint32_t hi = 0xd800 + ((c - 0x10000) >> 10);
        o += json ? (size_t)snprintf(out + o, cap - o, "\\u%04x", hi) : put_utf8(out + o, 0xfffd);
      }
      out[o] = 0;
      return 1;
    }
    u += w;
    if (json && (c == '"' || c == '\\')) out[o++] = '\\', out[o++] = (char)c;
    else if (json && c < 0x20) {
      const char *esc = c == 8 ? "\\b" : c == 9 ? "\\t" : c == 10 ? "\\n" : c == 12 ? "\\f" : c == 13 ? "\\r" : NULL;
      o += esc ? (size_t)snprintf(out + o, cap - o, "%s", esc) : (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else o += put_utf8(out + o, c);
  }
  out[o] = 0;
  return p < end;
}

void mp_key(const struct mp_val *k, char *out, size_t cap) {
  switch (k->t) {
    case MP_STR:
      utf16_slice(k->p, k->len, (size_t)-1, 0, out, cap);
      if (!strcmp(out, "__proto__")) out[8] = 0; /* msgpackr's guard */
      return;
    case MP_NUM: {
      char n[32];
      js_number(k->num, n);
      snprintf(out, cap, "%s", n);
      return;
    }
    case MP_BOOL: snprintf(out, cap, "%s", k->num ? "true" : "false"); return;
    default: snprintf(out, cap, "null"); return;
  }
}

void mp_describe(const struct mp_val *v, char *out, size_t cap) {
  switch (v->t) {
    case MP_ABSENT: snprintf(out, cap, "undefined"); return;
    case MP_NIL: snprintf(out, cap, "nil"); return;
    case MP_BIN: snprintf(out, cap, "bin"); return;
    case MP_ARRAY: snprintf(out, cap, "array"); return;
    case MP_MAP: snprintf(out, cap, "map"); return;
    case MP_BOOL: snprintf(out, cap, "%s", v->num ? "true" : "false"); return;
    case MP_NUM: {
      char n[32];
      js_number(v->num, n);
      snprintf(out, cap, "%s", n);
      return;
    }
    case MP_STR: {
      /* JSON.stringify of the string, cut to 40 units and an ellipsis. */
      char body[512];
      const int longer = utf16_slice(v->p, v->len, 40, 1, body, sizeof body);
      snprintf(out, cap, "\"%s%s\"", body, longer ? "\xe2\x80\xa6" : "");
      return;
    }
  }
}
