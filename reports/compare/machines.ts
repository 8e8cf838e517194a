/**
 * Which figures may be compared across machines. Timings depend on the
 * whole machine, so a baseline timed on one machine and a candidate timed
 * on another are refused unless the user asks (`--across-machines`), and
 * the row then says so. Instruction counts are exact and move only with the
 * code that runs, so they compare across machines when both sides were
 * measured with the same toolchain (compiler of the builds and the driver,
 * and the C library); otherwise they are refused the same way.
 */
import type { Metric } from '../../traces/index.js';
import { usageError } from '../../traces/index.js';
import type { Measured } from '../select/index.js';
import { type RunMachine, runMachines, type Store, toolchainOf } from '../store/index.js';
import { configurationNames, rowKey } from './labels.js';

/** What a side was measured on: hosts and toolchains of its runs. */
function sideOf(store: Store, m: Measured): { keys: Set<string>; hosts: string; toolchains: Set<string> } {
  const machines = [...runMachines(store.db, m.runs.map((r) => r.id)).values()];
  const toolchain = (x: RunMachine): string => (x.identity ? toolchainOf(x.identity) : 'unknown toolchain (stored before machine identities were recorded)');
  return { keys: new Set(machines.map((x) => x.key)), hosts: [...new Set(machines.map((x) => x.hostname))].join('+'), toolchains: new Set(machines.map(toolchain)) };
}

/**
 * Checks that a baseline and a candidate may be compared. Returns a note
 * for the row when they come from different machines (and may be
 * compared), undefined when both sides come from one machine; throws a
 * usage error when they may not.
 */
export function machinesNote(store: Store, baseline: Measured, candidate: Measured, metric: Metric, acrossMachines: boolean): string | undefined {
  const b = sideOf(store, baseline);
  const c = sideOf(store, candidate);
  const keys = new Set([...b.keys, ...c.keys]);
  if (keys.size <= 1) return undefined;
  const names = configurationNames([{ ...baseline, machine: '' }, { ...candidate, machine: '' }]);
  const where = `baseline ${names.get(rowKey({ ...baseline, machine: '' }))} on ${b.hosts}, candidate ${names.get(rowKey({ ...candidate, machine: '' }))} on ${c.hosts}`;
  if (metric === 'time') {
    if (!acrossMachines) {
      throw usageError(`${baseline.trace}: timings from different machines are not compared (${where})`, 'select one machine on both sides with machine=HOST, compare --metric instructions, or pass --across-machines to compare them anyway');
    }
    return `timed on different machines: ${b.hosts} vs ${c.hosts}`;
  }
  const same = b.toolchains.size === 1 && c.toolchains.size === 1 && [...b.toolchains][0] === [...c.toolchains][0] && !/^unknown/.test([...b.toolchains][0]!);
  if (same) return `instructions from ${b.hosts} and ${c.hosts}, same toolchain`;
  if (!acrossMachines) {
    throw usageError(
      `${baseline.trace}: instruction counts from different toolchains are not compared (${where}; ${[...b.toolchains].join(', ')} vs ${[...c.toolchains].join(', ')})`,
      'measure both with one compiler and C library, or pass --across-machines to compare them anyway',
    );
  }
  return `instructions from different toolchains: ${b.hosts} vs ${c.hosts}`;
}
