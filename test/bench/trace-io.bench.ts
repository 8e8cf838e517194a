/**
 * Trace I/O throughput on a 5M-event random-mixed trace: write (the
 * TraceWriter alone, events already in memory) and read (openTrace with
 * full validation), each beside a plain sequential read of the same file's
 * bytes measured in the same run. Goals: read ≥ 5M events/s, write ≥ 3M.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type EventChunk, generate, openTrace, TraceWriter } from '../../traces/index.js';
import { tempDir } from '../helpers.js';
import { fastest } from './timing.js';

const EVENTS = 5_000_000;


export default async function bench(): Promise<void> {
  const dir = tempDir('allocreplay-bench-');
  const src = join(dir, 'src.trace.msgpack');
  generate('random-mixed', { slots: 256, ops: EVENTS, seed: 42 }, src);
  const chunks: EventChunk[] = [];
  for (const c of openTrace(src).chunks()) {
    chunks.push({ length: c.length, op: c.op.slice(0, c.length), thread: c.thread.slice(0, c.length), object: c.object.slice(0, c.length), size: c.size.slice(0, c.length), arg: c.arg.slice(0, c.length) });
  }
  const out = join(dir, 'out.trace.msgpack');
  const write = fastest(3, () => {
    const w = TraceWriter.open(out, { producer: { kind: 'generate', name: 'bench' } });
    for (const c of chunks) w.pushChunk(c);
    w.close();
  });
  let n = 0;
  const read = fastest(3, () => {
    n = 0;
    for (const c of openTrace(out).chunks()) n += c.length;
  });
  const plain = fastest(3, () => {
    readFileSync(out);
  });
  const bytes = statSync(out).size;
  const mevs = (s: number): string => `${(EVENTS / s / 1e6).toFixed(2)}M events/s`;
  console.log(`trace: ${EVENTS.toLocaleString('en-US')} events, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${(bytes / EVENTS).toFixed(2)} bytes/event`);
  console.log(`plain read of the file's bytes: ${(plain * 1000).toFixed(1)} ms (${(bytes / plain / 2 ** 20).toFixed(0)} MiB/s)`);
  console.log(`read  (decode + validate): ${mevs(read)}  ${(read * 1000).toFixed(0)} ms = ${(read / plain).toFixed(1)}× the plain read   goal ≥ 5M events/s: ${EVENTS / read >= 5e6 ? 'met' : 'MISSED'}`);
  console.log(`write (encode + compress): ${mevs(write)}  ${(write * 1000).toFixed(0)} ms = ${(write / plain).toFixed(1)}× the plain read   goal ≥ 3M events/s: ${EVENTS / write >= 3e6 ? 'met' : 'MISSED'}`);
  if (n !== EVENTS) throw new Error(`read ${n} events, expected ${EVENTS}`);
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('trace-io.bench.js')) await bench();
