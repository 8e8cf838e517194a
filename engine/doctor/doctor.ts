/**
 * What this machine offers allocreplay: the tools it runs (compiler, make,
 * valgrind, git), whether hardware counters can be read, and which
 * allocators can be targets. `doctor` prints it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listTargets, type TargetAvailability } from '../targets/index.js';

/** One allocator as doctor lists it. */
export interface DoctorAllocator {
  name: string;
  kind: TargetAvailability['kind'];
  available: boolean;
  /** The shared object a packaged allocator is preloaded from; null for the system's and for unavailable ones. */
  library: string | null;
  /** Why it is (un)available, in a phrase. */
  why: string | null;
}

/** The tools, each as the first line of its `--version` or `not found`. */
export interface DoctorTools {
  node: string;
  cc: string;
  make: string;
  valgrind: string;
  git: string;
  perf: string;
}

export interface DoctorReport extends DoctorTools {
  allocators: DoctorAllocator[];
}

/** The first line of `cmd args…`, or `not found` when it cannot run. */
function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? '';
  } catch {
    return 'not found';
  }
}

function perfCounters(): string {
  try {
    const paranoid = readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim();
    return `perf_event_paranoid=${paranoid} (hardware counters are reported per run when the kernel and VM allow)`;
  } catch {
    return 'no perf_event support';
  }
}

/** Looks at this machine: runs each tool once and lists the allocators found. */
export function doctorReport(): DoctorReport {
  return {
    node: process.version,
    cc: firstLine(process.env.CC ?? 'cc', ['--version']),
    make: firstLine('make', ['--version']),
    valgrind: firstLine('valgrind', ['--version']),
    git: firstLine('git', ['--version']),
    perf: perfCounters(),
    allocators: listTargets().map((t) => ({ name: t.name, kind: t.kind, available: t.available, library: t.library ?? null, why: t.why ?? null })),
  };
}
