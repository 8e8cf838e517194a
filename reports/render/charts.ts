/**
 * Chart specs (vega-lite) and their rendering to SVG in Node: vega-lite
 * compiles, vega lays out and draws with the headless 'none' renderer. The
 * SVG is inlined into the HTML page, so viewing it needs no script and no
 * network. vega and vega-lite are loaded on the first chart drawn.
 */
import type { TopLevelSpec } from 'vega-lite';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 560;

/** Renders a vega-lite spec to an SVG string (no browser, no network: data is inline). */
export async function svgOf(spec: TopLevelSpec): Promise<string> {
  // Loaded here, not at the top: they take ~1 s to load and only `report … --format html` draws charts.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  // Layout notes (conflicting legend properties and the like) are not the user's business: errors only.
  const compiled = vl.compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Above this max ÷ min, a linear axis squashes the small values flat: charts switch to a log axis. */
export const LOG_SPAN = 20;

/** The kind of value axis a chart gets. */
export type AxisScale = 'linear' | 'log' | 'symlog';

/**
 * Linear, unless the positive values span more than ×LOG_SPAN: then log, or
 * symlog when zeros or negatives are among them (log cannot draw 0).
 */
export function axisScale(values: readonly number[]): AxisScale {
  const finite = values.filter((v) => Number.isFinite(v));
  const pos = finite.filter((v) => v > 0);
  if (pos.length < 2 || Math.max(...pos) / Math.min(...pos) <= LOG_SPAN) return 'linear';
  return finite.some((v) => v <= 0) ? 'symlog' : 'log';
}

const scaleOf = (s: AxisScale): Record<string, unknown> => (s === 'linear' ? { zero: false } : { type: s });
const spanNote = (s: AxisScale): string => (s === 'linear' ? '' : ` (${s} axis: values span more than ×${LOG_SPAN})`);

export interface BarDatum {
  configuration: string;
  median: number;
  lo: number;
  hi: number;
  best: boolean;
}

/**
 * One trace: a bar per configuration with its 95% CI whiskers (the best bar
 * green). Exact metrics get no whiskers. On a log axis bars (which start at
 * 0) become dots.
 */
export function barsWithCI(data: BarDatum[], unit: string, opts: { exact: boolean; scale: AxisScale }): TopLevelSpec {
  const y = { field: 'configuration', type: 'nominal', title: null, sort: null, axis: { labelLimit: 380 } } as const;
  const scale = opts.scale === 'linear' ? {} : { scale: scaleOf(opts.scale) };
  const x = { type: 'quantitative', ...scale } as const;
  const title = `median ${unit}${opts.exact ? ' (exact)' : ' (whiskers: 95% CI)'}${spanNote(opts.scale)}`;
  const color = { field: 'best', type: 'nominal', scale: { domain: [true, false], range: ['#54a24b', '#4c78a8'] }, legend: null } as const;
  const main =
    opts.scale === 'linear'
      ? { mark: { type: 'bar', height: { band: 0.7 } }, encoding: { y, x: { field: 'median', ...x, title }, color } }
      : { mark: { type: 'point', filled: true, size: 80 }, encoding: { y, x: { field: 'median', ...x, title }, color } };
  const whiskers = opts.exact
    ? []
    : [
        { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { y, x: { field: 'lo', ...x }, x2: { field: 'hi' } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 }, encoding: { y, x: { field: 'lo', ...x } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 }, encoding: { y, x: { field: 'hi', ...x } } },
      ];
  return { $schema: SCHEMA, width: WIDTH - 200, data: { values: data }, layer: [main, ...whiskers] } as TopLevelSpec;
}

export interface RatioDatum {
  trace: string;
  ratio: number;
  lo: number;
  hi: number;
  verdict: string;
}

/** candidate ÷ baseline per trace with its CI (none for exact metrics); a dashed rule at 1 and the grey ±threshold band. */
export function compareRatios(data: RatioDatum[], thresholdPct: number, opts: { exact: boolean } = { exact: false }): TopLevelSpec {
  const t = thresholdPct / 100;
  const y = { field: 'trace', type: 'nominal', title: null, sort: null } as const;
  const x = { type: 'quantitative', title: opts.exact ? 'candidate ÷ baseline (exact)' : 'candidate ÷ baseline (95% CI)', scale: { zero: false } } as const;
  const color = { field: 'verdict', type: 'nominal', scale: { domain: ['regression', 'no change', 'improvement'], range: ['#e45756', '#666666', '#54a24b'] }, title: null } as const;
  const ci = opts.exact ? [] : [{ mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'lo', ...x }, x2: { field: 'hi' }, color } }];
  return {
    $schema: SCHEMA,
    width: WIDTH - 160,
    layer: [
      { data: { values: [{ a: 1 - t, b: 1 + t }] }, mark: { type: 'rect', color: '#eeeeee' }, encoding: { x: { field: 'a', ...x }, x2: { field: 'b' } } },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', color: '#888888', strokeDash: [4, 3] }, encoding: { x: { field: 'one', ...x } } },
      { data: { values: data }, layer: [...ci, { mark: { type: 'point', filled: true, size: 70 }, encoding: { y, x: { field: 'ratio', ...x }, color } }] },
    ],
  } as TopLevelSpec;
}

export interface SeriesDatum {
  op: number;
  /** KiB. */
  value: number;
  what: string;
}

/** Live bytes (from the trace, dashed) vs RSS growth (sampled by the driver) over a replay, in KiB. */
export function liveVsRss(title: string, data: SeriesDatum[], scale: AxisScale = 'linear'): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: { text: title, anchor: 'start' },
    width: WIDTH - 160,
    height: 180,
    data: { values: data },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'op', type: 'quantitative', title: 'op index' },
      y: { field: 'value', type: 'quantitative', title: `KiB${spanNote(scale)}`, ...(scale === 'linear' ? {} : { scale: scaleOf(scale) }) },
      color: { field: 'what', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
      strokeDash: { field: 'what', type: 'nominal', sort: null, legend: null },
    },
  } as TopLevelSpec;
}

export interface HistoryDatum {
  /** Position of the revision on the axis (git order). */
  step: number;
  /** `abc1234 subject`. */
  revision: string;
  value: number;
  line: string;
}

/** A metric over revisions of one (target, repository), one line per trace (and configuration), revisions in `step` order. */
export function historyLine(data: HistoryDatum[], unit: string, scale: AxisScale = 'linear'): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH - 160,
    height: 200,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'revision', type: 'ordinal', sort: { field: 'step', op: 'min' }, title: 'revision (oldest first)', axis: { labelLimit: 160, labelAngle: -30 } },
      y: { field: 'value', type: 'quantitative', title: `median ${unit}${spanNote(scale)}`, scale: scaleOf(scale) },
      color: { field: 'line', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
    },
  } as TopLevelSpec;
}
