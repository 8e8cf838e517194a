/**
 * The rows a run points at besides its machine: the session (one per CLI
 * invocation), the trace and the configuration, each created on first use
 * and found again by its natural key.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type Configuration, configurationHash, configurationLabel } from '../identity/index.js';

/** What a traces row says about a trace (or a live run's program: `producer` 'live'). */
export interface TraceEntry {
  checksum: string;
  name: string;
  path: string;
  events: number;
  producer: string;
  /** The hash of the program it ran, with its identity. */
  program?: { hash: string; identity: unknown };
}

export function beginSession(db: Database.Database, machine: number, argv: string[]): number {
  const r = db.prepare('INSERT INTO sessions (uuid, machine_id, argv, started) VALUES (?,?,?,?)').run(randomUUID(), machine, JSON.stringify(argv), new Date().toISOString());
  return Number(r.lastInsertRowid);
}

/** The row of a trace; a row stored before its program was known gets it now. */
export function ensureTrace(db: Database.Database, t: TraceEntry): number {
  db.prepare('INSERT OR IGNORE INTO traces (checksum, name, path, events, producer, program, program_identity) VALUES (?,?,?,?,?,?,?)').run(
    t.checksum,
    t.name,
    t.path,
    t.events,
    t.producer,
    t.program?.hash ?? null,
    t.program ? JSON.stringify(t.program.identity) : null,
  );
  if (t.program) db.prepare('UPDATE traces SET program = ?, program_identity = ? WHERE checksum = ? AND program IS NULL').run(t.program.hash, JSON.stringify(t.program.identity), t.checksum);
  return (db.prepare('SELECT id FROM traces WHERE checksum = ?').get(t.checksum) as { id: number }).id;
}

/** The row of a configuration, by its hash. */
export function ensureConfiguration(db: Database.Database, c: Configuration): { id: number; hash: string } {
  const hash = configurationHash(c);
  db.prepare('INSERT OR IGNORE INTO configurations (hash, target, target_kind, revision, flags, env, options, label, identity) VALUES (?,?,?,?,?,?,?,?,?)').run(
    hash,
    c.name,
    c.target.kind,
    c.revision,
    JSON.stringify(c.flags),
    JSON.stringify(c.env),
    JSON.stringify(c.options),
    configurationLabel(c),
    JSON.stringify(c),
  );
  return { id: (db.prepare('SELECT id FROM configurations WHERE hash = ?').get(hash) as { id: number }).id, hash };
}
