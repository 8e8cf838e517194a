import { writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { loadConfig } from '../engine/index.js';
import { emptyNote, type Store } from '../reports/index.js';
import { type Metric, METRICS } from '../traces/index.js';
import { dbFlag } from './common.js';

/** Name configurations by every field instead of by what differs between them (`--json` always carries every field). */
export const longFlag = {
  long: Flags.boolean({ description: 'name each configuration by every field of its identity, not only by what differs' }),
};

/** Flags every report takes. */
export const reportFlags = {
  ...dbFlag,
  metric: Flags.option({ description: 'time (ns/op) or instructions', options: METRICS, default: 'time' })(),
  format: Flags.option({ description: 'output format', options: ['table', 'markdown', 'json', 'csv', 'html'] as const, default: 'table' })(),
  output: Flags.string({ char: 'o', description: 'write to this file instead of stdout' }),
  json: Flags.boolean({ description: 'same as --format json' }),
  ...longFlag,
};

/** Writes a report where it was asked to go. */
export function emitReport(text: string, output: string | undefined): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (output) writeFileSync(output, body);
  else process.stdout.write(body);
}

/** A report that selected nothing: says on stderr what the database holds and which flag selects it; exit 1. */
export function reportEmpty(store: Store, metric: Metric, selector?: string, what?: string): void {
  process.stderr.write(`allocreplay: ${emptyNote(store, metric, selector, what)}\n`);
  process.exitCode = 1;
}

/** Each source target's repository in allocreplay.yaml (none when there is no usable config: run order then). */
export function configRepos(): Record<string, string> {
  let config;
  try {
    config = loadConfig();
  } catch {
    return {}; // A broken config is not this report's concern.
  }
  return Object.fromEntries(Object.entries(config?.targets ?? {}).flatMap(([name, t]) => (t.kind === 'source' ? [[name, t.repo]] : [])));
}

/** hyperfine's export flags, on replay and matrix. */
export const exportFlags = {
  'export-json': Flags.string({ description: 'also write the results as JSON to this file' }),
  'export-markdown': Flags.string({ description: 'also write the results as a markdown table to this file' }),
  'export-csv': Flags.string({ description: 'also write the results as CSV to this file' }),
};

/** Writes each export asked for, rendered by `render` in its format. */
export function writeExports(flags: { 'export-json'?: string; 'export-markdown'?: string; 'export-csv'?: string }, render: (format: 'json' | 'markdown' | 'csv') => string): void {
  const wanted = [
    ['json', flags['export-json']],
    ['markdown', flags['export-markdown']],
    ['csv', flags['export-csv']],
  ] as const;
  for (const [format, file] of wanted) if (file) emitReport(render(format), file);
}
