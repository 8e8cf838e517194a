/**
 * Chart specs (vega-lite) and their rendering to SVG in Node: vega-lite
 * compiles, vega lays out and draws with the headless 'none' renderer. The
 * SVG is inlined into the HTML page, so viewing it needs no script and no
 * network.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 560;

/** Renders a vega-lite spec to an SVG string (no browser, no network: data is inline). */
export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface BarDatum {
  trace: string;
  configuration: string;
  median: number;
  lo: number;
  hi: number;
  best: boolean;
}

/** Horizontal bars per configuration with 95% CI whiskers, one panel per trace (the best bar green). */
export function barsWithCI(data: BarDatum[], unit: string): TopLevelSpec {
  const y = { field: 'configuration', type: 'nominal', title: null, sort: null, axis: { labelLimit: 380 } } as const;
  return {
    $schema: SCHEMA,
    data: { values: data },
    facet: { row: { field: 'trace', type: 'nominal', title: null, header: { labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelOrient: 'top' } } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: WIDTH - 200,
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            y,
            x: { field: 'median', type: 'quantitative', title: `median ${unit} (whiskers: 95% CI)` },
            color: { field: 'best', type: 'nominal', scale: { domain: [true, false], range: ['#54a24b', '#4c78a8'] }, legend: null },
          },
        },
        { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 }, encoding: { y, x: { field: 'lo', type: 'quantitative' } } },
        { mark: { type: 'tick', color: '#222', thickness: 1.5, size: 10 }, encoding: { y, x: { field: 'hi', type: 'quantitative' } } },
      ],
    },
  } as TopLevelSpec;
}

export interface RatioDatum {
  trace: string;
  ratio: number;
  lo: number;
  hi: number;
  verdict: string;
}

/** candidate ÷ baseline per trace with its CI; a dashed rule at 1 and the grey ±threshold band. */
export function compareRatios(data: RatioDatum[], thresholdPct: number): TopLevelSpec {
  const t = thresholdPct / 100;
  const y = { field: 'trace', type: 'nominal', title: null, sort: null } as const;
  const x = { type: 'quantitative', title: 'candidate ÷ baseline (95% CI)', scale: { zero: false } } as const;
  const color = { field: 'verdict', type: 'nominal', scale: { domain: ['regression', 'no change', 'improvement'], range: ['#e45756', '#666666', '#54a24b'] }, title: null } as const;
  return {
    $schema: SCHEMA,
    width: WIDTH - 160,
    layer: [
      { data: { values: [{ a: 1 - t, b: 1 + t }] }, mark: { type: 'rect', color: '#eeeeee' }, encoding: { x: { field: 'a', ...x }, x2: { field: 'b' } } },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', color: '#888888', strokeDash: [4, 3] }, encoding: { x: { field: 'one', ...x } } },
      {
        data: { values: data },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'lo', ...x }, x2: { field: 'hi' }, color } },
          { mark: { type: 'point', filled: true, size: 70 }, encoding: { y, x: { field: 'ratio', ...x }, color } },
        ],
      },
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
export function liveVsRss(title: string, data: SeriesDatum[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: { text: title, anchor: 'start' },
    width: WIDTH - 160,
    height: 180,
    data: { values: data },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'op', type: 'quantitative', title: 'op index' },
      y: { field: 'value', type: 'quantitative', title: 'KiB' },
      color: { field: 'what', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
      strokeDash: { field: 'what', type: 'nominal', legend: null },
    },
  } as TopLevelSpec;
}

export interface HistoryDatum {
  step: number;
  revision: string;
  value: number;
  line: string;
}

/** A metric over revisions, one line per trace (and flag set), revisions in `step` order. */
export function historyLine(data: HistoryDatum[], unit: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH - 160,
    height: 200,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'revision', type: 'ordinal', sort: { field: 'step', op: 'min' }, title: 'revision (oldest first)' },
      y: { field: 'value', type: 'quantitative', title: `median ${unit}`, scale: { zero: false } },
      color: { field: 'line', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 500 } },
    },
  } as TopLevelSpec;
}
