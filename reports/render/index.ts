/**
 * Renderers of every report: terminal table (colour only when asked, by
 * default only on a TTY), markdown, json, csv, and a self-contained HTML page
 * with SVG charts.
 */
export * from './text.js';
export * from './tables.js';
export { escapeHtml, type HtmlInput, type MetricViews, renderHtml } from './html.js';
export { type AxisScale, axisScale, type BarDatum, barsWithCI, LOG_SPAN, compareRatios, type HistoryDatum, historyLine, liveVsRss, type RatioDatum, type SeriesDatum, svgOf } from './charts.js';
export { renderSweep, sweepChart } from './sweep.js';
export { fidelityChart, fidelitySummary, fidelityVerdict, type FidelityFormat, renderFidelity, signedDuration } from './fidelity.js';
