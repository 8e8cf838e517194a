/** Builds as stored: one row per (build key, machine), a failed build a result like any other. */
import type Database from 'better-sqlite3';
import { BUILD_STATUSES, wordOf } from '../../traces/index.js';
import type { BuildRecord } from './rows.js';

/** Stores a build of `machine` (a rebuild under the same key replaces its outcome); returns its row id. */
export function recordBuild(db: Database.Database, machine: number, b: BuildRecord): number {
  db.prepare(
    `INSERT INTO builds (key, machine_id, target, repo, revision, command, flags, status, artifact, log, duration_ms, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (key, machine_id) DO UPDATE SET status = excluded.status, artifact = excluded.artifact, log = excluded.log, duration_ms = excluded.duration_ms`,
  ).run(b.key, machine, b.target, b.repo ?? null, b.revision ?? null, b.command, JSON.stringify(b.flags), b.status, b.artifact ?? null, b.log, b.durationMs, new Date().toISOString());
  return (db.prepare('SELECT id FROM builds WHERE key = ? AND machine_id = ?').get(b.key, machine) as { id: number }).id;
}

/** The build of `machine` stored under `key`, if any. */
export function findBuild(db: Database.Database, machine: number, key: string): (BuildRecord & { id: number }) | undefined {
  const r = db.prepare('SELECT * FROM builds WHERE key = ? AND machine_id = ?').get(key, machine) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  return {
    id: r.id as number,
    key,
    target: r.target as string,
    repo: (r.repo as string | null) ?? undefined,
    revision: (r.revision as string | null) ?? undefined,
    command: r.command as string,
    flags: JSON.parse(r.flags as string) as Record<string, string>,
    status: wordOf(BUILD_STATUSES, r.status, `build ${key}'s status`),
    artifact: (r.artifact as string | null) ?? undefined,
    log: r.log as string,
    durationMs: r.duration_ms as number,
  };
}
