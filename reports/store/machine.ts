/**
 * What a run was measured with: the machine's hardware and software as they
 * were at the time (CPU model, cores, kernel, compiler, libc, allocreplay
 * version). A machine (machines.key) keeps its key across upgrades; its
 * identity changes with them, so every run names the identity it ran under
 * and reports can tell whether two runs' figures may be compared.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import type Database from 'better-sqlite3';
import { compilerVersion, packagePath } from '../../traces/index.js';
import { canonicalJson } from '../identity/index.js';

export interface MachineIdentity {
  cpu: string;
  cores: number;
  kernel: string;
  /** First line of `$CC --version` (the compiler of builds and of the replay driver), or `none`. */
  compiler: string;
  /** The C library the driver and the system allocator come from, e.g. `glibc 2.36`. */
  libc: string;
  allocreplay: string;
}

/** The host as the OS describes it: the one place that reads it (read once per process). */
interface Host {
  cpu: string;
  cores: number;
  kernel: string;
  memoryKiB: number;
  /** /etc/machine-id, or '' where there is none. */
  machineId: string;
}

let host: Host | undefined;

function readHost(): Host {
  if (host) return host;
  let machineId = '';
  try {
    machineId = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    machineId = '';
  }
  host = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, kernel: release(), memoryKiB: Math.round(totalmem() / 1024), machineId };
  return host;
}

/** What a machines row holds about this machine; `key` identifies it across upgrades. */
export interface MachineFacts {
  key: string;
  hostname: string;
  cpu: string;
  cores: number;
  memoryKiB: number;
  kernel: string;
}

/** This machine's row: its key is a hash of host name, CPU model and machine-id. */
export function machineFacts(): MachineFacts {
  const h = readHost();
  // ALLOCREPLAY_HOST names the machine where the hostname does not (containers: a Kubernetes pod takes its node's name).
  const name = process.env.ALLOCREPLAY_HOST || hostname();
  const key = createHash('sha256').update(`${name}\n${h.cpu}\n${h.machineId}`).digest('hex').slice(0, 24);
  return { key, hostname: name, cpu: h.cpu, cores: h.cores, memoryKiB: h.memoryKiB, kernel: h.kernel };
}

/** This machine's stable key: part of every configuration measured here. */
export function machineKey(): string {
  return machineFacts().key;
}

let cached: MachineIdentity | undefined;

/** This process's machine identity (computed once). */
export function machineIdentity(): MachineIdentity {
  if (cached) return cached;
  let compiler = 'none';
  try {
    compiler = compilerVersion(process.env.CC ?? 'cc');
  } catch {
    // no compiler: runs of the system allocator can still be measured elsewhere, so say so instead of failing
  }
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header ?? {};
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // a damaged package.json is not the measurement's concern
  }
  const h = readHost();
  cached = {
    cpu: h.cpu,
    cores: h.cores,
    kernel: h.kernel,
    compiler,
    libc: header.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'unknown',
    allocreplay: version,
  };
  return cached;
}

/** The key an identity is stored under: a hash of the machine's key and every fact. */
export function machineIdentityKey(machine: string, id: MachineIdentity): string {
  return createHash('sha256').update(`${machine}\n${canonicalJson(id)}`).digest('hex').slice(0, 24);
}

/** The toolchain whose output an instruction count depends on: the compiler and the C library. */
export function toolchainOf(id: Pick<MachineIdentity, 'compiler' | 'libc'>): string {
  return `${id.compiler}; ${id.libc}`;
}

/** Stores (once) this process's identity for the machine row `machineId` with key `machineKey`; returns its row id. */
export function ensureMachineIdentity(db: Database.Database, machineId: number, machineKey: string): number {
  const id = machineIdentity();
  const key = machineIdentityKey(machineKey, id);
  db.prepare('INSERT OR IGNORE INTO machine_identities (key, machine_id, cpu, cores, kernel, compiler, libc, allocreplay, first_seen) VALUES (?,?,?,?,?,?,?,?,?)').run(
    key,
    machineId,
    id.cpu,
    id.cores,
    id.kernel,
    id.compiler,
    id.libc,
    id.allocreplay,
    new Date().toISOString(),
  );
  return (db.prepare('SELECT id FROM machine_identities WHERE key = ?').get(key) as { id: number }).id;
}

/** Where and with what a run was measured, as reports need it. */
export interface RunMachine {
  /** The machine's stable key (machines.key). */
  key: string;
  hostname: string;
  /** Null for runs stored before identities were recorded. */
  identity: MachineIdentity | null;
}

/** The machine (and identity) of each run id given. */
export function runMachines(db: Database.Database, runIds: number[]): Map<number, RunMachine> {
  const rows = db
    .prepare(
      `SELECT r.id AS run, m.key, m.hostname, i.cpu, i.cores, i.kernel, i.compiler, i.libc, i.allocreplay
       FROM runs r JOIN machines m ON m.id = r.machine_id LEFT JOIN machine_identities i ON i.id = r.machine_identity_id
       WHERE r.id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(runIds)) as Record<string, string | number | null>[];
  return new Map(
    rows.map((r) => [
      r.run as number,
      {
        key: r.key as string,
        hostname: r.hostname as string,
        identity: r.compiler === null ? null : { cpu: r.cpu as string, cores: r.cores as number, kernel: r.kernel as string, compiler: r.compiler as string, libc: r.libc as string, allocreplay: r.allocreplay as string },
      },
    ]),
  );
}
