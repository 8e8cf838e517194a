import type { Store, Verdict } from '../../reports/index.js';
import type { SourceTarget } from '../build/index.js';
import type { ReplayOptions } from '../driver/index.js';
import type { FunctionDelta } from './attribution.js';

/**
 * What a bisection looks for. `regression`: the first change that made the
 * metric worse; `improvement`: the first that made it better. In both, the
 * good end is the old one (an ancestor, or the good assignment) and "bad"
 * means "has the change".
 */
export type BisectDirection = 'regression' | 'improvement';

export interface BisectStep {
  step: number;
  /** A revision (commits) or the flags under test (flags). */
  probe: string;
  subject?: string;
  value: number | null;
  verdict: 'good' | 'bad' | 'skip';
  buildKey?: string;
  runId?: number;
}

/** A commit with its subject line. */
export interface CommitRef {
  commit: string;
  subject: string;
}

/**
 * How much of the whole change (bad − good) the answer explains: the step
 * from the last good to the first bad commit (commits), or the culprit
 * flags applied to the good assignment (flags).
 */
export interface ChangeShare {
  /** stepDelta ÷ totalDelta, percent. */
  pct: number;
  /** In the metric's unit. */
  stepDelta: number;
  totalDelta: number;
  /** False under SHARE_WARN_PCT: most of the change lies elsewhere. */
  explainsMost: boolean;
  /** Ranges that hold the rest of the change, largest first (commits only). */
  next: NextRange[];
}

/** A range still to bisect: `--good good --bad bad`. */
export interface NextRange {
  good: string;
  bad: string;
  /** The change across the range, in the metric's unit and percent of its good end. */
  delta: number;
  deltaPct: number;
  /** True when the range alone passes the threshold (a bisection of it will not be refused). */
  beyondThreshold: boolean;
}

/**
 * The final good/bad pair measured again (time metric) with more
 * repetitions, interleaved, and compared with the bootstrap CI and
 * Mann–Whitney rule of reports.
 */
export interface Confirmation {
  /** Repetitions per side. */
  repeat: number;
  good: { commit: string; median: number; n: number };
  bad: { commit: string; median: number; n: number };
  deltaPct: number;
  /** 95% CI of median(bad) ÷ median(good). */
  ci: [number, number];
  p: number;
  verdict: Verdict;
  /** True when the step is not a confirmed change in the bisection's direction. */
  withinNoise: boolean;
  note?: string;
}

/** One changed flag applied alone to the good assignment. */
export interface FlagEffect {
  flag: string;
  from: string;
  to: string;
  value: number | null;
  /** Against the good assignment, percent (null when it did not build or run). */
  deltaPct: number | null;
  verdict: BisectStep['verdict'];
}

export interface BisectResult {
  id: number;
  kind: 'commits' | 'flags';
  direction: BisectDirection;
  /** `found`: an answer; `candidates`: only unbuildable commits were left to test. */
  outcome: 'found' | 'candidates';
  good: { probe: string; value: number };
  bad: { probe: string; value: number };
  /** The first bad commit's id (commits, when found). */
  firstBad?: string;
  firstBadCommit?: { commit: string; subject: string; value: number; deltaPct: number; lastGood: CommitRef & { value: number } };
  /** When every commit between the last good and the first known bad was skipped: they and that bad one, oldest first. */
  candidates?: (CommitRef & { skipped: boolean })[];
  /** The smallest set of flag changes that reproduces the change (flags). */
  culprits?: Record<string, string>;
  /** Each changed flag alone (flags). */
  effects?: FlagEffect[];
  /** The flag with the largest own effect in the bisection's direction, when one passes the threshold alone (flags). */
  dominant?: string;
  share?: ChangeShare;
  confirmation?: Confirmation;
  steps: BisectStep[];
  /** Distinct builds this bisection used (cached or not). */
  builds: number;
  attribution: FunctionDelta[];
  /** The options the bisection ran with: its identity. */
  spec: Record<string, unknown>;
}

/** What both bisections take. */
export interface BisectCommon {
  store: Store;
  session: number;
  source: SourceTarget;
  trace: string;
  options: ReplayOptions;
  thresholdPct: number;
  attribution: boolean;
  /** Look for the first change that made it better instead of worse. */
  improvement?: boolean;
  onStep?: (s: BisectStep) => void;
}
