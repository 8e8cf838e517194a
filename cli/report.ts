import { writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { loadConfig } from '../engine/index.js';
import { dbFlag } from './common.js';

/** Flags every report takes. */
export const reportFlags = {
  ...dbFlag,
  metric: Flags.string({ description: 'time (ns/op) or instructions', options: ['time', 'instructions'], default: 'time' }),
  format: Flags.string({ description: 'output format', options: ['table', 'markdown', 'json', 'csv', 'html'], default: 'table' }),
  output: Flags.string({ char: 'o', description: 'write to this file instead of stdout' }),
  json: Flags.boolean({ description: 'same as --format json' }),
};

/** Writes a report where it was asked to go. */
export function emitReport(text: string, output: string | undefined): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (output) writeFileSync(output, body);
  else process.stdout.write(body);
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
