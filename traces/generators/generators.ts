import { usageError } from '../platform/errors.js';
import { type TraceFooter, TraceWriter } from '../format/index.js';
import { Emitter } from './emitter.js';
import { larson, type Params, phases, producerConsumer, randomMixed, reallocGrow, tinyHot } from './workloads.js';

/** A generator parameter: its default and the smallest value it accepts. */
export interface ParamDef {
  default: number;
  min: number;
  description: string;
}

export interface GeneratorDef {
  name: string;
  description: string;
  params: Record<string, ParamDef>;
  run: (e: Emitter, p: Params) => void;
}

const ops: ParamDef = { default: 1_000_000, min: 1, description: 'events in the trace (every object is freed by the end)' };
const seed: ParamDef = { default: 42, min: 0, description: 'PRNG seed' };
const minSize: ParamDef = { default: 16, min: 0, description: 'smallest request, bytes' };
const maxSize: ParamDef = { default: 1024, min: 0, description: 'largest request, bytes' };

/** Every generator, by name. */
export const GENERATORS: Record<string, GeneratorDef> = {
  'random-mixed': {
    name: 'random-mixed',
    description: "hakmem's random_mixed: a working set of N slots; a random slot is freed if full, else filled with a size in [min,max]",
    params: { slots: { default: 256, min: 1, description: 'working-set slots' }, ops, min: minSize, max: maxSize, seed },
    run: randomMixed,
  },
  'tiny-hot': {
    name: 'tiny-hot',
    description: 'alloc/free of one size in a tight loop (batches allocated, then freed in reverse)',
    params: { size: { default: 16, min: 0, description: 'request size, bytes' }, ops, batch: { default: 1, min: 1, description: 'objects per batch' } },
    run: tinyHot,
  },
  larson: {
    name: 'larson',
    description: 'threads working on their own slots and, at a rate, on each other\'s: cross-thread frees',
    params: {
      threads: { default: 4, min: 1, description: 'threads' },
      slots: { default: 1000, min: 1, description: 'slots per thread' },
      ops,
      min: minSize,
      max: { default: 512, min: 0, description: 'largest request, bytes' },
      cross: { default: 25, min: 0, description: 'percent of steps on another thread\'s slot' },
      seed,
    },
    run: larson,
  },
  'producer-consumer': {
    name: 'producer-consumer',
    description: 'thread 0 allocates, thread 1 frees, through a bounded queue',
    params: { depth: { default: 1024, min: 1, description: 'queue depth' }, ops, min: minSize, max: maxSize, seed },
    run: producerConsumer,
  },
  'realloc-grow': {
    name: 'realloc-grow',
    description: 'buffers grown by realloc up to max, then freed',
    params: {
      slots: { default: 64, min: 1, description: 'buffers alive at once' },
      ops,
      min: minSize,
      max: { default: 65536, min: 1, description: 'size at which a buffer is freed' },
      growth: { default: 150, min: 101, description: 'growth per realloc, percent' },
      seed,
    },
    run: reallocGrow,
  },
  phases: {
    name: 'phases',
    description: 'waves of short-lived objects with some kept long-lived: fragmentation',
    params: {
      slots: { default: 4096, min: 1, description: 'long-lived slots' },
      wave: { default: 2000, min: 1, description: 'short-lived objects per phase' },
      keep: { default: 5, min: 0, description: 'percent of a wave kept long-lived' },
      ops,
      min: minSize,
      max: { default: 4096, min: 0, description: 'largest request, bytes' },
      seed,
    },
    run: phases,
  },
};

/** Fills in defaults and checks every value; unknown names are usage errors. */
export function resolveParams(name: string, given: Record<string, number | undefined>): Params {
  const def = GENERATORS[name];
  if (!def) throw usageError(`unknown generator '${name}'`, `choose one of ${Object.keys(GENERATORS).join(', ')}`);
  const out: Params = {};
  for (const [k, v] of Object.entries(given)) {
    if (v !== undefined && !(k in def.params)) throw usageError(`generator ${name} has no parameter --${k}`, `its parameters: ${Object.keys(def.params).join(', ')}`);
  }
  for (const [k, d] of Object.entries(def.params)) {
    const v = given[k] ?? d.default;
    if (!Number.isInteger(v) || v < d.min) throw usageError(`--${k} ${v} is out of range for ${name}`, `give an integer ≥ ${d.min}`);
    out[k] = v;
  }
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) throw usageError(`--min ${out.min} is above --max ${out.max}`, 'swap them');
  return out;
}

/** Generates a trace into `out`; the same name and params always give the same bytes. */
export function generate(name: string, given: Record<string, number | undefined>, out: string): TraceFooter {
  const params = resolveParams(name, given);
  const def = GENERATORS[name]!;
  const w = TraceWriter.open(out, {
    producer: { kind: 'generate', name, params, ...(params.seed !== undefined ? { seed: params.seed } : {}) },
    created: null,
    host: null,
  });
  try {
    def.run(new Emitter(w, params.ops!), params);
    return w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}
