export { type BisectionRow, type BisectionStepRow, listBisections } from './bisections.js';
export { type CommitOrder, commitOrder } from './git.js';
export { history, historyAxes, type HistoryLine, type HistoryOptions, type HistoryPoint } from './history.js';
export { configurationNames, labelConfigurations, type Nameable, type NameOptions, rowKey, signedPct, statusText } from './labels.js';
export { type CellInput, type MatrixCell, matrixCells, matrixReport, type UnclearBest, unclearBests } from './matrix.js';
export { type SeriesReport, seriesReport } from './series.js';
export { type SweepLine, type SweepPointRow, type SweepReport, sweepReport } from './sweep.js';
export * from './compare.js';
export * from './fidelity.js';
