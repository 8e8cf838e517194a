/**
 * The demo's last question: does a replay predict the program? A real
 * program every Debian machine has (perl, building a hash of array refs) is
 * recorded, run live under the system allocator and each packaged one, and
 * its trace replayed through the same targets in the modes recorded traces
 * get by default (engine/runner RECORDED_REPLAY); `report fidelity` sets the two side by side. Stored runs
 * are reused: a second demo measures nothing again.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type FidelityGroup, fidelityReport, type Store } from '../../reports/index.js';
import { openTrace, record } from '../../traces/index.js';
import { liveRuns } from '../live/index.js';
import { replayTraces } from '../runner/index.js';

/** The program: perl is part of every Debian system (perl-base); seeds fixed so every run does the same work. It prints nothing (the demo's output is the demo's): its exit status checks the sum. */
export const DEMO_PROGRAM = ['perl', '-e', 'my %h; $h{$_} = [$_, "x" x ($_ % 40)] for 1 .. 40000; my $n = 0; $n += @{$h{$_}} for keys %h; exit($n == 80000 ? 0 : 1)'];
const PROGRAM_ENV = { PERL_HASH_SEED: '0', PERL_PERTURB_KEYS: '0' };
/** Live runs and replays per target: enough for intervals on 2 cores, few enough for the demo's minute. */
const REPEAT = 10;

export interface DemoFidelity {
  trace: string;
  groups: FidelityGroup[];
  /** Nothing was measured now. */
  stored: boolean;
  /** Why there is no table (perl missing, a target failed). */
  error?: string;
}

/** Records the program once, then measures what is missing and returns the fidelity of its default replay mode. */
export async function demoFidelity(store: Store, session: number, dir: string, targets: string[], hooks: { onPhase?: (what: string) => void } = {}): Promise<DemoFidelity> {
  const trace = resolve(join(dir, 'perl-hash.trace.msgpack'));
  // The newest recording only: an older demo's recording of another program may share the name (groups come oldest first).
  const wanted = (): FidelityGroup[] => {
    const groups = fidelityReport(store, { selector: 'trace=perl-hash' }).filter((g) => g.recording === 'perl-hash');
    const newest = groups.at(-1)?.recordingChecksum;
    return groups.filter((g) => g.recordingChecksum === newest);
  };
  if (existsSync(trace) && sameProgram(trace)) {
    const stored = wanted();
    if (stored.length) return { trace, groups: stored, stored: true };
  } else {
    hooks.onPhase?.('recording perl');
    try {
      const r = await record(DEMO_PROGRAM[0]!, DEMO_PROGRAM.slice(1), { out: trace, env: PROGRAM_ENV });
      if (r.status !== 0) return { trace, groups: [], stored: false, error: `perl exited ${r.status} while recorded` };
    } catch (e) {
      return { trace, groups: [], stored: false, error: (e as Error).message };
    }
  }
  hooks.onPhase?.('perl, live');
  const reader = openTrace(trace);
  const program = reader.header.program!;
  reader.close();
  const options = { repeat: REPEAT, warmup: 1, timeoutMs: 120_000, expectExit: 0 };
  const live = await liveRuns(store, session, { program, targets, set: {}, env: {}, config: undefined, options, dirty: false });
  const failed = live.outcomes.find((o) => o.status !== 'ok');
  if (failed) return { trace, groups: [], stored: false, error: `${failed.label} ran perl ${failed.status}: ${failed.error ?? ''}` };
  hooks.onPhase?.('perl, replayed');
  await replayTraces(store, session, { traces: [trace], targets, set: {}, env: {}, config: undefined, options: { mode: 'serial', touch: 'none', repeat: REPEAT, warmup: 1, metric: 'time', timeoutMs: 120_000, auto: ['touch', 'pace'] }, dirty: false });
  return { trace, groups: wanted(), stored: false };
}

/** True when the recording at `path` is of the demo's program (an older demo's may not be). */
function sameProgram(path: string): boolean {
  try {
    const r = openTrace(path);
    const p = r.header.program;
    r.close();
    return p !== undefined && JSON.stringify(p.argv) === JSON.stringify(DEMO_PROGRAM);
  } catch {
    return false;
  }
}
