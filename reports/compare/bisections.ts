/**
 * Stored bisections, for reports: each with its spec, answer and every
 * probe in the order it was made.
 */
import type { Store } from '../store/index.js';
import { commitOrder } from './git.js';

/** One probe of a bisection. */
export interface BisectionStepRow {
  step: number;
  /** A revision, or a JSON flag assignment. */
  probe: string;
  /** The metric's value at the probe; null when it could not be measured (a failed build). */
  value: number | null;
  /** good | bad | skip. */
  verdict: string;
  /** The probed commit's subject, when the bisection's repository is at hand. */
  subject?: string;
}

/** A stored bisection. */
export interface BisectionRow {
  id: number;
  kind: string;
  status: string;
  created: string;
  spec: Record<string, unknown>;
  result: Record<string, unknown> | null;
  steps: BisectionStepRow[];
}

const obj = (s: unknown): Record<string, unknown> | null => {
  if (typeof s !== 'string') return null;
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

/** Every bisection in the store, oldest first, with its steps (two queries). */
export function listBisections(store: Store): BisectionRow[] {
  const rows = store.db.prepare('SELECT id, kind, status, created, spec, result FROM bisections ORDER BY id').all() as Record<string, unknown>[];
  const steps = store.db.prepare('SELECT bisection_id, step, probe, value, verdict FROM bisection_steps ORDER BY bisection_id, step').all() as (BisectionStepRow & { bisection_id: number })[];
  return rows.map((r) => {
    const spec = obj(r.spec) ?? {};
    const git = r.kind === 'commits' && typeof spec.repo === 'string' ? commitOrder(spec.repo) : undefined;
    const subjectOf = (probe: string): string | undefined => git?.subjects.get(probe) ?? git?.subjects.get(git.commits.find((c) => probe.length >= 7 && c.startsWith(probe)) ?? '');
    return {
      id: r.id as number,
      kind: r.kind as string,
      status: r.status as string,
      created: r.created as string,
      spec,
      result: obj(r.result),
      steps: steps
        .filter((s) => s.bisection_id === r.id)
        .map(({ bisection_id, ...s }) => {
          void bisection_id;
          const subject = subjectOf(s.probe);
          return subject !== undefined ? { ...s, subject } : s;
        }),
    };
  });
}
