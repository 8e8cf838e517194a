/**
 * The native SHA-256 (traces/native/sha256.c) gives the digest node's crypto
 * gives, both ways it can compress blocks: the processor's SHA extensions
 * where it has them (the default build) and the portable rounds
 * (-DAR_SHA256_PORTABLE), over lengths around every block boundary and a
 * few MiB fed in pieces of changing length.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileNative, Prng } from '../../traces/index.js';
import { ROOT } from '../helpers.js';

const probe = (portable: boolean): string =>
  compileNative({
    name: portable ? 'sha256-probe-portable' : 'sha256-probe',
    sources: [join(ROOT, 'test/traces/probes/sha256.c'), join(ROOT, 'traces/native/sha256.c')],
    deps: [join(ROOT, 'traces/native/sha256.h')],
    cflags: [`-I${join(ROOT, 'traces/native')}`, ...(portable ? ['-DAR_SHA256_PORTABLE'] : [])],
  });

function bytes(n: number, seed: number): Buffer {
  const rng = new Prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.below(256);
  return b;
}

describe('the native SHA-256', () => {
  it('gives node crypto’s digest, with the SHA extensions and with the portable rounds', () => {
    const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 3 * 2 ** 20 + 17];
    for (const portable of [false, true]) {
      const exe = probe(portable);
      for (const [k, n] of lengths.entries()) {
        const data = bytes(n, k + 1);
        const r = spawnSync(exe, [], { input: data, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect({ portable, n, digest: r.stdout.trim() }).toEqual({ portable, n, digest: createHash('sha256').update(data).digest('hex') });
      }
    }
  });
});
