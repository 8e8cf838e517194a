import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** Renders a vega-lite spec to an SVG string in Node (no browser, no network). */
export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export interface BarDatum {
  trace: string;
  configuration: string;
  median: number;
  lo: number;
  hi: number;
}

/** Bars per configuration with 95% CI whiskers, one panel per trace. */
export function barsWithCI(data: BarDatum[], unit: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values: data },
    facet: { row: { field: 'trace', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 520,
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' }, encoding: { y: { field: 'configuration', type: 'nominal', title: null, sort: null, axis: { labelLimit: 420 } }, x: { field: 'median', type: 'quantitative', title: unit } } },
        { mark: { type: 'rule', color: '#222' }, encoding: { y: { field: 'configuration', type: 'nominal', sort: null }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      ],
    },
  } as TopLevelSpec;
}

export interface SeriesDatum {
  op: number;
  value: number;
  what: string;
}

/** Live bytes (from the trace) vs RSS (sampled by the driver) over a replay. */
export function liveVsRss(title: string, data: SeriesDatum[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 180,
    data: { values: data },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'op', type: 'quantitative', title: 'op' },
      y: { field: 'value', type: 'quantitative', title: 'KiB' },
      color: { field: 'what', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

export interface HistoryDatum {
  step: number;
  revision: string;
  value: number;
  trace: string;
}

export function historyLine(data: HistoryDatum[], unit: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 520,
    height: 180,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'revision', type: 'ordinal', sort: { field: 'step' }, title: 'revision' },
      y: { field: 'value', type: 'quantitative', title: unit },
      color: { field: 'trace', type: 'nominal' },
    },
  } as TopLevelSpec;
}
