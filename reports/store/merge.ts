import { existsSync, realpathSync } from 'node:fs';
import { usageError } from '../../traces/index.js';
import { openStore, type Store } from './store.js';

export interface MergeCounts {
  machines: number;
  traces: number;
  configurations: number;
  builds: number;
  sessions: number;
  runs: number;
  samples: number;
  bisections: number;
}

/**
 * Imports another results database into `store`, matching rows by their
 * natural keys (machine key, trace checksum, configuration hash, build key,
 * session and run uuids), so machines stay distinct and merging the same
 * file twice adds nothing. One transaction: all of it or none.
 */
export function mergeStore(store: Store, otherPath: string): MergeCounts {
  if (!existsSync(otherPath)) throw usageError(`no database at ${otherPath}`, 'give the path of another allocreplay results.sqlite');
  if (existsSync(store.path) && realpathSync(otherPath) === realpathSync(store.path)) throw usageError(`${otherPath} is the database being merged into`, 'pass --db with the file to merge into, and the other files as arguments');
  // The other file is brought to this schema first (migrations only add), so columns line up.
  openStore(otherPath, { readonly: true }).close(); // refuses a file that is not an allocreplay database before anything is written to it
  openStore(otherPath).close();
  const db = store.db;
  store.machineId();
  db.prepare('ATTACH DATABASE ? AS o').run(otherPath);
  try {
    const v = db.prepare('SELECT user_version FROM o.pragma_user_version').get() as { user_version: number } | undefined;
    if (!v || v.user_version < 1) throw usageError(`${otherPath} is not an allocreplay results database`, 'give a results.sqlite written by allocreplay');
    return db.transaction((): MergeCounts => {
      const n = (sql: string): number => db.prepare(sql).run().changes;
      const machines = n(`INSERT OR IGNORE INTO machines (key, hostname, cpu, cores, memory_kib, kernel, first_seen)
        SELECT key, hostname, cpu, cores, memory_kib, kernel, first_seen FROM o.machines`);
      n(`INSERT OR IGNORE INTO machine_identities (key, machine_id, cpu, cores, kernel, compiler, libc, allocreplay, first_seen)
        SELECT i.key, (SELECT id FROM main.machines WHERE key = om.key), i.cpu, i.cores, i.kernel, i.compiler, i.libc, i.allocreplay, i.first_seen
        FROM o.machine_identities i JOIN o.machines om ON om.id = i.machine_id`);
      // Programs came with schema v5: an older file's traces have none.
      const program = v.user_version >= 5 ? 'program, program_identity' : 'NULL, NULL';
      const traces = n(`INSERT OR IGNORE INTO traces (checksum, name, path, events, producer, program, program_identity) SELECT checksum, name, path, events, producer, ${program} FROM o.traces`);
      if (v.user_version >= 5) n('UPDATE main.traces SET program = (SELECT ot.program FROM o.traces ot WHERE ot.checksum = main.traces.checksum), program_identity = (SELECT ot.program_identity FROM o.traces ot WHERE ot.checksum = main.traces.checksum) WHERE program IS NULL');
      const configurations = n(`INSERT OR IGNORE INTO configurations (hash, target, target_kind, revision, flags, env, options, label, identity)
        SELECT hash, target, target_kind, revision, flags, env, options, label, identity FROM o.configurations`);
      const builds = n(`INSERT OR IGNORE INTO builds (key, machine_id, target, repo, revision, command, flags, status, artifact, log, duration_ms, created)
        SELECT b.key, (SELECT id FROM main.machines WHERE key = om.key), b.target, b.repo, b.revision, b.command, b.flags, b.status, b.artifact, b.log, b.duration_ms, b.created
        FROM o.builds b JOIN o.machines om ON om.id = b.machine_id`);
      const sessions = n(`INSERT OR IGNORE INTO sessions (uuid, machine_id, argv, started)
        SELECT s.uuid, (SELECT id FROM main.machines WHERE key = om.key), s.argv, s.started FROM o.sessions s JOIN o.machines om ON om.id = s.machine_id`);
      db.exec('CREATE TEMP TABLE IF NOT EXISTS merge_new_runs (uuid TEXT PRIMARY KEY); DELETE FROM merge_new_runs;');
      n('INSERT INTO merge_new_runs SELECT uuid FROM o.runs WHERE uuid NOT IN (SELECT uuid FROM main.runs)');
      const runs = n(`INSERT INTO runs (uuid, session_id, machine_id, machine_identity_id, trace_id, configuration_id, build_id, metric, status, error, signal, op_index, allocator_stats, series, checks, stderr_tail, created)
        SELECT r.uuid,
          (SELECT id FROM main.sessions WHERE uuid = os.uuid),
          (SELECT id FROM main.machines WHERE key = om.key),
          (SELECT id FROM main.machine_identities WHERE key = (SELECT key FROM o.machine_identities WHERE id = r.machine_identity_id)),
          (SELECT id FROM main.traces WHERE checksum = ot.checksum),
          (SELECT id FROM main.configurations WHERE hash = oc.hash),
          (SELECT b.id FROM main.builds b JOIN main.machines m ON m.id = b.machine_id JOIN o.builds ob ON ob.key = b.key WHERE ob.id = r.build_id AND m.key = om.key),
          r.metric, r.status, r.error, r.signal, r.op_index, r.allocator_stats, r.series, r.checks, r.stderr_tail, r.created
        FROM o.runs r JOIN o.sessions os ON os.id = r.session_id JOIN o.machines om ON om.id = r.machine_id
          JOIN o.traces ot ON ot.id = r.trace_id JOIN o.configurations oc ON oc.id = r.configuration_id
        WHERE r.uuid IN (SELECT uuid FROM merge_new_runs)`);
      const samples = n(`INSERT INTO samples (run_id, rep, wall_ns, ns_per_op, user_us, sys_us, max_rss_kib, peak_rss_kib, minor_faults, major_faults, vol_ctx, inv_ctx, instructions, cycles, rss_base_kib)
        SELECT (SELECT id FROM main.runs WHERE uuid = r.uuid), s.rep, s.wall_ns, s.ns_per_op, s.user_us, s.sys_us, s.max_rss_kib, s.peak_rss_kib, s.minor_faults, s.major_faults, s.vol_ctx, s.inv_ctx, s.instructions, s.cycles, s.rss_base_kib
        FROM o.samples s JOIN o.runs r ON r.id = s.run_id WHERE r.uuid IN (SELECT uuid FROM merge_new_runs)`);
      n(`INSERT INTO profiles (run_id, function, file, self_ir, incl_ir)
        SELECT (SELECT id FROM main.runs WHERE uuid = r.uuid), p.function, p.file, p.self_ir, p.incl_ir
        FROM o.profiles p JOIN o.runs r ON r.id = p.run_id WHERE r.uuid IN (SELECT uuid FROM merge_new_runs)`);
      const bisections = n(`INSERT OR IGNORE INTO bisections (key, kind, spec, status, result, created) SELECT key, kind, spec, status, result, created FROM o.bisections`);
      n(`INSERT OR IGNORE INTO bisection_steps (bisection_id, step, probe, value, verdict, build_id, run_id)
        SELECT (SELECT id FROM main.bisections WHERE key = ob.key), st.step, st.probe, st.value, st.verdict, NULL,
          (SELECT id FROM main.runs WHERE uuid = (SELECT uuid FROM o.runs WHERE id = st.run_id))
        FROM o.bisection_steps st JOIN o.bisections ob ON ob.id = st.bisection_id`);
      return { machines, traces, configurations, builds, sessions, runs, samples, bisections };
    })();
  } finally {
    db.exec('DETACH DATABASE o');
  }
}
