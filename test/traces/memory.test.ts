/**
 * A trace is read as a stream: `trace validate` and `trace info` on a 220 MiB
 * trace that does not compress keep their peak RSS (measured by
 * /usr/bin/time, the kernel's figure for the process) under 160 MiB — far
 * below the trace's size, which a reader holding the file could not.
 * (`ulimit -v` was tried first: Node's own address-space needs vary by more
 * than 128 MiB from run to run, so a cap there cannot separate the two.)
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Op, Prng } from '../../traces/index.js';
import { ROOT, tempDir } from '../helpers.js';
import { defaultHeader } from './craft.js';

const CHUNKS = 240;
const N = 65536;

/** Runs the CLI under /usr/bin/time; peak RSS in KiB. */
function measured(args: string[]): { status: number; stderr: string; stdout: string; rssKiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(ROOT, 'cli/bin/run.js'), ...args], { encoding: 'utf8' });
  const lines = r.stderr.trim().split('\n');
  return { status: r.status ?? -1, stderr: lines.slice(0, -1).join('\n'), stdout: r.stdout, rssKiB: Number(lines.at(-1)) };
}

describe('bounded memory', () => {
  it('validate and info read a 220 MiB trace in less than 160 MiB of RSS', () => {
    const dir = tempDir();
    // 240 chunks of 65,536 failed callocs with random 8-byte sizes and counts: valid, and incompressible.
    const rng = new Prng(7);
    const varints = (): Uint8Array => {
      const b = new Uint8Array(N * 8);
      randomFillSync(b);
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < 7; k++) b[i * 8 + k]! |= 0x80;
        b[i * 8 + 7] = rng.below(16); // < 2^53 in all
      }
      return b;
    };
    const cols = { op: deflateSync(new Uint8Array(N).fill(Op.calloc)), thread: deflateSync(new Uint8Array(N)), object: deflateSync(new Uint8Array(N).fill(1)), size: deflateSync(varints()), arg: deflateSync(varints()) };
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const big = join(dir, 'big.trace.msgpack');
    const fd = openSync(big, 'w');
    const hash = createHash('sha256');
    writeSync(fd, packr.pack(defaultHeader(false, N)));
    for (let c = 0; c < CHUNKS; c++) {
      for (const z of Object.values(cols)) hash.update(z);
      writeSync(fd, packr.pack({ chunk: c, events: N, ...cols }));
    }
    writeSync(fd, packr.pack({ footer: true, events: CHUNKS * N, objects: 0, threads: 1, peakLiveObjects: 0, peakLiveBytes: 0, checksum: hash.digest('hex') }));
    closeSync(fd);
    const bytes = statSync(big).size;
    expect(bytes).toBeGreaterThan(200 * 2 ** 20);

    try {
      for (const cmd of ['validate', 'info']) {
        const r = measured(['trace', cmd, big, '--json']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ events: CHUNKS * N });
        expect(r.rssKiB).toBeGreaterThan(0);
        expect(r.rssKiB).toBeLessThan(160 * 1024);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
