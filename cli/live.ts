/** How `allocreplay live` prints its runs: one row per target, each against the first. */
import type { Outcome } from '../engine/index.js';
import { bold, bootstrapRatioCI, csv, dim, green, markdownTable, median, ratioWithUncertainty, red, table } from '../reports/index.js';
import { formatBytes } from '../traces/index.js';

const ms = (ns: number): string => `${(ns / 1e6).toFixed(1)} ms`;

interface LiveRow {
  o: Outcome;
  wall: number[];
  cpuUs: number | undefined;
  minorFaults: number | undefined;
  relative?: { ratio: number; ci: [number, number] };
}

function rowsOf(outcomes: Outcome[]): LiveRow[] {
  const base = outcomes.find((o) => o.status === 'ok' && o.samples.length);
  return outcomes.map((o) => {
    const wall = o.samples.map((s) => s.wallNs);
    const row: LiveRow = {
      o,
      wall,
      cpuUs: wall.length ? median(o.samples.map((s) => s.userUs + s.sysUs)) : undefined,
      minorFaults: wall.length ? median(o.samples.map((s) => s.minorFaults)) : undefined,
    };
    if (base && o !== base && wall.length) {
      const b = base.samples.map((s) => s.wallNs);
      row.relative = { ratio: median(wall) / median(b), ci: bootstrapRatioCI(b, wall) };
    }
    return row;
  });
}

/** The JSON `live --json` prints: per target, the figures and the ratio to the first target with its CI. */
export function liveJson(outcomes: Outcome[]): Record<string, unknown>[] {
  return rowsOf(outcomes).map(({ o, wall, cpuUs, minorFaults, relative }) => ({
    program: o.trace,
    target: o.target,
    configuration: o.label,
    configHash: o.configHash,
    identity: o.configuration,
    status: o.status,
    runId: o.runId ?? null,
    wallNs: wall.length ? median(wall) : null,
    wallNsMad: o.nsPerOpSpread ?? null,
    samples: wall,
    cpuUs: cpuUs ?? null,
    peakRssKiB: o.peakRssKiB ?? null,
    minorFaults: minorFaults ?? null,
    relative: relative ? { to: outcomes.find((x) => x.status === 'ok')!.configHash, ratio: relative.ratio, ciLow: relative.ci[0], ciHigh: relative.ci[1] } : null,
    error: o.error ?? null,
    signal: o.signal ?? null,
    stderrTail: o.stderrTail ?? null,
  }));
}

/** hyperfine-style table of live runs: wall median ± MAD, min … max, CPU, peak RSS, minor faults, relative. */
export function renderLive(outcomes: Outcome[], format: 'table' | 'markdown' | 'csv' | 'json' = 'table'): string {
  if (format === 'json') return JSON.stringify(liveJson(outcomes), null, 2);
  const rows = rowsOf(outcomes);
  if (format === 'csv') {
    return csv(
      ['program', 'configuration', 'config_hash', 'status', 'wall_ns_median', 'wall_ns_mad', 'n', 'cpu_us', 'peak_rss_kib', 'minor_faults', 'ratio', 'ratio_ci_low', 'ratio_ci_high', 'error'],
      rows.map(({ o, wall, cpuUs, minorFaults, relative }) => [o.trace, o.label, o.configHash, o.status, o.nsPerOp ?? null, o.nsPerOpSpread ?? null, wall.length, cpuUs ?? null, o.peakRssKiB ?? null, minorFaults ?? null, relative?.ratio ?? null, relative?.ci[0] ?? null, relative?.ci[1] ?? null, o.error ?? null]),
    );
  }
  const md = format === 'markdown';
  const head = ['configuration', 'wall (median ± MAD)', 'min … max', 'CPU', 'peak RSS', 'minor faults', 'relative', ''];
  const cells = rows.map(({ o, wall, cpuUs, minorFaults, relative }) => {
    const rel = relative ? ratioWithUncertainty(relative.ratio, relative.ci) : wall.length ? 'baseline' : '';
    const paint = (t: string): string => (md || !relative || t.startsWith('no clear') ? t : relative.ratio >= 1 ? red(t) : green(t));
    const failed = o.status === 'ok' ? '' : `${o.status}${o.error ? `: ${o.error}` : ''}`;
    return [
      o.label,
      wall.length ? `${ms(o.nsPerOp!)} ± ${ms(o.nsPerOpSpread ?? 0)}` : '',
      wall.length ? `${ms(Math.min(...wall))} … ${ms(Math.max(...wall))}` : '',
      cpuUs !== undefined ? ms(cpuUs * 1000) : '',
      o.peakRssKiB !== undefined ? formatBytes(o.peakRssKiB * 1024) : '',
      minorFaults !== undefined ? Math.round(minorFaults).toLocaleString('en-US') : '',
      paint(rel),
      md ? failed : failed ? red(failed) : '',
    ];
  });
  const program = outcomes[0]?.trace ?? '';
  const tails = outcomes.filter((o) => o.stderrTail?.length).map((o) => `${o.label}, last lines on stderr:\n${o.stderrTail!.map((l) => `      ${l}`).join('\n')}`);
  const note = 'relative: ratio of median wall times to the first configuration, with its 95% CI (bootstrap)';
  return [md ? `**${program}**\n\n${markdownTable(head, cells)}` : `${bold(program)}\n${table(head, cells)}`, md ? `_${note}_` : dim(note), ...tails.map((t) => (md ? t : dim(t)))].join('\n\n');
}
