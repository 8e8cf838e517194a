/**
 * Versioned migrations of the results database. Each entry moves the schema
 * from version i to i+1 (PRAGMA user_version) inside one transaction; an
 * entry, once released, never changes — new needs get a new entry.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE machines (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- stable identity: hash of host, cpu, machine-id
    hostname TEXT NOT NULL,
    cpu TEXT NOT NULL,
    cores INTEGER NOT NULL,
    memory_kib INTEGER NOT NULL,
    kernel TEXT NOT NULL,
    first_seen TEXT NOT NULL
  );
  CREATE TABLE traces (
    id INTEGER PRIMARY KEY,
    checksum TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    events INTEGER NOT NULL,
    producer TEXT NOT NULL
  );
  CREATE TABLE builds (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    target TEXT NOT NULL,
    repo TEXT,
    revision TEXT,
    command TEXT NOT NULL,
    flags TEXT NOT NULL,               -- JSON, compile-time flags
    status TEXT NOT NULL CHECK (status IN ('ok','failed')),
    artifact TEXT,
    log TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (key, machine_id)
  );
  CREATE TABLE configurations (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    revision TEXT,
    flags TEXT NOT NULL,               -- JSON, compile-time
    env TEXT NOT NULL,                 -- JSON, runtime
    options TEXT NOT NULL,             -- JSON: mode, touch, metric
    label TEXT NOT NULL
  );
  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    argv TEXT NOT NULL,
    started TEXT NOT NULL
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    configuration_id INTEGER NOT NULL REFERENCES configurations(id),
    build_id INTEGER REFERENCES builds(id),
    metric TEXT NOT NULL CHECK (metric IN ('time','instructions')),
    status TEXT NOT NULL CHECK (status IN ('ok','failed','crashed','timeout')),
    error TEXT,
    signal TEXT,
    op_index INTEGER,
    allocator_stats TEXT,              -- JSON
    series TEXT,                       -- JSON [{op, liveBytes, rssKiB}]
    checks TEXT,                       -- JSON
    created TEXT NOT NULL
  );
  CREATE INDEX runs_by_config ON runs (trace_id, configuration_id, metric, machine_id);
  CREATE TABLE samples (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    rep INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL,
    ns_per_op REAL NOT NULL,
    user_us INTEGER, sys_us INTEGER, max_rss_kib INTEGER, peak_rss_kib INTEGER,
    minor_faults INTEGER, major_faults INTEGER, vol_ctx INTEGER, inv_ctx INTEGER,
    instructions INTEGER, cycles INTEGER,
    PRIMARY KEY (run_id, rep)
  );
  CREATE TABLE profiles (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    function TEXT NOT NULL,
    file TEXT,
    self_ir INTEGER NOT NULL,
    incl_ir INTEGER NOT NULL
  );
  CREATE INDEX profiles_by_run ON profiles (run_id);
  CREATE TABLE bisections (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- hash of the spec: the same bisection resumes
    kind TEXT NOT NULL CHECK (kind IN ('commits','flags')),
    spec TEXT NOT NULL,                -- JSON
    status TEXT NOT NULL,
    result TEXT,                       -- JSON
    created TEXT NOT NULL
  );
  CREATE TABLE bisection_steps (
    bisection_id INTEGER NOT NULL REFERENCES bisections(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    probe TEXT NOT NULL,               -- revision, or JSON flag assignment
    value REAL,
    verdict TEXT NOT NULL,             -- good | bad | skip
    build_id INTEGER REFERENCES builds(id),
    run_id INTEGER REFERENCES runs(id),
    PRIMARY KEY (bisection_id, step)
  );
  `,
  /**
   * v2: canonical configurations (identity JSON with defaults filled in,
   * options and machine), `alloc-failed` runs, runs written repetition by
   * repetition, the driver's RSS baseline per sample, and claims so that
   * concurrent processes never measure one configuration twice.
   */
  `
  ALTER TABLE configurations ADD COLUMN identity TEXT;
  ALTER TABLE samples ADD COLUMN rss_base_kib INTEGER;
  CREATE TABLE runs_v2 (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    configuration_id INTEGER NOT NULL REFERENCES configurations(id),
    build_id INTEGER REFERENCES builds(id),
    metric TEXT NOT NULL CHECK (metric IN ('time','instructions')),
    status TEXT NOT NULL CHECK (status IN ('ok','alloc-failed','failed','crashed','timeout')),
    error TEXT,
    signal TEXT,
    op_index INTEGER,
    allocator_stats TEXT,
    series TEXT,
    checks TEXT,
    created TEXT NOT NULL
  );
  INSERT INTO runs_v2 SELECT id, uuid, session_id, machine_id, trace_id, configuration_id, build_id, metric, status, error, signal, op_index, allocator_stats, series, checks, created FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_by_config ON runs (trace_id, configuration_id, metric, machine_id);
  CREATE TABLE claims (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    configuration_id INTEGER NOT NULL REFERENCES configurations(id),
    metric TEXT NOT NULL,
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    owner TEXT NOT NULL,               -- the claiming process's session uuid
    pid INTEGER NOT NULL,
    heartbeat INTEGER NOT NULL,        -- ms since the epoch
    PRIMARY KEY (trace_id, configuration_id, metric, machine_id)
  );
`,
  /**
   * v3 (stderr tail of failed runs): the last lines an allocator wrote to
   * stderr when its run crashed, failed or timed out (JSON array of strings),
   * so the reason is kept beside the status.
   */
  `
  ALTER TABLE runs ADD COLUMN stderr_tail TEXT;
`,
  /**
   * v4, machine identities: what every run was measured with (CPU model,
   * cores, kernel, compiler, libc, allocreplay version), one row per
   * distinct identity of a machine, so a merged database can tell which
   * timings and instruction counts may be compared.
   */
  `
  CREATE TABLE machine_identities (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- hash of the machine key and every fact below
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    cpu TEXT NOT NULL,
    cores INTEGER NOT NULL,
    kernel TEXT NOT NULL,
    compiler TEXT NOT NULL,            -- first line of \`cc --version\`, or 'none'
    libc TEXT NOT NULL,
    allocreplay TEXT NOT NULL,
    first_seen TEXT NOT NULL
  );
  ALTER TABLE runs ADD COLUMN machine_identity_id INTEGER REFERENCES machine_identities(id);
`,
  /**
   * v5, programs: the program a recorded trace ran, or a live run's
   * workload is (traces/program): its hash, the key that sets a replay
   * beside the live runs of its program, and its identity as JSON.
   */
  `
  ALTER TABLE traces ADD COLUMN program TEXT;
  ALTER TABLE traces ADD COLUMN program_identity TEXT;
  CREATE INDEX traces_by_program ON traces (program);
`,
  /**
   * v6, pace calibrations: per recorded trace and machine, the pace scale at
   * which a paced replay under the system allocator does as much work
   * between calls as the program did (engine/runner/calibrate.ts). Measured
   * once and kept, so every later replay of the trace on the machine uses
   * the same scale: one configuration, exact instruction counts.
   */
  `
  CREATE TABLE pace_calibrations (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    scale INTEGER NOT NULL CHECK (scale >= 1),
    program_ns INTEGER NOT NULL,       -- the program's own time the recording saw, net of its calls
    work_ns INTEGER NOT NULL,          -- the paced replay's work at reference_scale
    reference_scale INTEGER NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (trace_id, machine_id)
  );
`,
];
