/**
 * Bisections and their steps as stored: a bisection is keyed by its spec,
 * so the same spec resumes it, and every probe is kept so it can be shown
 * again.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../identity/index.js';

/** One stored probe of a bisection. */
export interface BisectionStep {
  step: number;
  probe: string;
  value: number | null;
  verdict: string;
}

/** A stored bisection with its steps in order. */
export interface StoredBisection {
  kind: string;
  status: string;
  spec: unknown;
  result: unknown;
  steps: BisectionStep[];
}

/** The bisection with this spec (created when new). */
export function ensureBisection(db: Database.Database, kind: 'commits' | 'flags', spec: unknown): number {
  const key = createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 32);
  db.prepare("INSERT OR IGNORE INTO bisections (key, kind, spec, status, created) VALUES (?,?,?,'running',?)").run(key, kind, JSON.stringify(spec), new Date().toISOString());
  return (db.prepare('SELECT id FROM bisections WHERE key = ?').get(key) as { id: number }).id;
}

export function saveBisectionStep(db: Database.Database, id: number, s: BisectionStep & { buildId?: number; runId?: number }): void {
  db.prepare('INSERT OR REPLACE INTO bisection_steps (bisection_id, step, probe, value, verdict, build_id, run_id) VALUES (?,?,?,?,?,?,?)').run(id, s.step, s.probe, s.value, s.verdict, s.buildId ?? null, s.runId ?? null);
}

export function finishBisection(db: Database.Database, id: number, result: unknown): void {
  db.prepare("UPDATE bisections SET status = 'done', result = ? WHERE id = ?").run(JSON.stringify(result), id);
}

export function loadBisection(db: Database.Database, id: number): StoredBisection | undefined {
  const row = db.prepare('SELECT * FROM bisections WHERE id = ?').get(id) as Record<string, string> | undefined;
  if (!row) return undefined;
  const steps = db.prepare('SELECT step, probe, value, verdict FROM bisection_steps WHERE bisection_id = ? ORDER BY step').all(id) as BisectionStep[];
  return { kind: row.kind!, status: row.status!, spec: JSON.parse(row.spec!), result: row.result ? JSON.parse(row.result) : null, steps };
}
