/**
 * Claims: which process measures (trace, configuration, metric) on a
 * machine, so that concurrent processes never measure it twice. A claim
 * names its owner and pid and is kept alive by a heartbeat.
 */
import type Database from 'better-sqlite3';
import type { Metric } from '../../traces/index.js';

/** A claim is stale when its process is gone from this machine or it stopped beating. */
function claimIsStale(pid: number, heartbeat: number, staleMs: number): boolean {
  if (Date.now() - heartbeat > staleMs) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Claims (trace, configuration, metric) on `machine` for `owner`; false while another live process holds it (see Store.claim). */
export function claim(db: Database.Database, machine: number, traceId: number, configurationId: number, metric: Metric, owner: string, staleMs: number): boolean {
  return db.transaction((): boolean => {
    const held = db.prepare('SELECT owner, pid, heartbeat FROM claims WHERE trace_id = ? AND configuration_id = ? AND metric = ? AND machine_id = ?').get(traceId, configurationId, metric, machine) as
      | { owner: string; pid: number; heartbeat: number }
      | undefined;
    if (held && held.owner !== owner && !claimIsStale(held.pid, held.heartbeat, staleMs)) return false;
    db.prepare('INSERT OR REPLACE INTO claims (trace_id, configuration_id, metric, machine_id, owner, pid, heartbeat) VALUES (?,?,?,?,?,?,?)').run(traceId, configurationId, metric, machine, owner, process.pid, Date.now());
    return true;
  }).immediate();
}

/** Keeps `owner`'s claims alive. */
export function heartbeat(db: Database.Database, owner: string): void {
  db.prepare('UPDATE claims SET heartbeat = ? WHERE owner = ?').run(Date.now(), owner);
}

/** Gives up a claim (or all of `owner`'s). */
export function release(db: Database.Database, owner: string, traceId?: number, configurationId?: number, metric?: Metric): void {
  if (traceId === undefined) db.prepare('DELETE FROM claims WHERE owner = ?').run(owner);
  else db.prepare('DELETE FROM claims WHERE owner = ? AND trace_id = ? AND configuration_id = ? AND metric = ?').run(owner, traceId, configurationId, metric);
}
