/**
 * One fuzz case for allocreplay.yaml: a config built from random parts,
 * where any flag name, value, default, axis or environment name may be a
 * shell payload that would create a canary file if it ever reached a shell
 * unquoted; sometimes the YAML text is mutated too. A config that loads is
 * taken to real builds (engine/build, `sh -c` of the target's command), and
 * the canary must never appear.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildSource, cartesian, loadConfig, type SourceTarget } from '../../engine/index.js';
import { AllocreplayError, Prng } from '../../traces/index.js';
import { mutateText, pick } from './mutate.js';

/**
 * Shell payloads that each create the canary file if a shell ever sees them
 * unquoted (or wrongly quoted). The file is named by an environment variable
 * the builds inherit, so the configs' text does not depend on the temp folder
 * (the same seed makes the same files on every machine).
 */
export const PAYLOADS = ['$(touch "$FUZZ_CANARY")', '`touch "$FUZZ_CANARY"`', "'; touch \"$FUZZ_CANARY\"; '", '"; touch "$FUZZ_CANARY"; "', 'X\'$(touch "$FUZZ_CANARY")\'', '1 && touch "$FUZZ_CANARY"', '1;touch $FUZZ_CANARY', '1|touch $FUZZ_CANARY', '1\ntouch $FUZZ_CANARY', '$(IFS=_;c=touch_$FUZZ_CANARY;$c)'];

/** The build command every fuzzed source target uses: every placeholder, as users write them. */
export const FUZZ_BUILD = `echo {cflags} {make} '{cmake}' "{configure}" {P1} > build.out && cp build.out lib.so`;

export interface ConfigCase {
  counts: string[];
  bad?: { rule: string; detail: string; input: string };
}

function makeConfig(r: Prng): Record<string, unknown> {
  const evil = PAYLOADS;
  // Most hostile configs carry one payload, at one random spot, so that the rest of the config is fine and the
  // payload is what decides; some carry none (they must load and build), a few carry several.
  const spot = r.chance(0.3) ? -1 : r.below(14);
  const many = r.chance(0.1);
  let k = 0;
  const maybe = (normal: string): string => (k++ === spot || (many && r.chance(0.2)) ? pick(r, evil) : normal);
  const flags: Record<string, { kind: string; values?: string[]; default?: string }> = {};
  for (const name of ['P1', 'MODE', 'enable_x', 'OPT', 'VERBOSE'].filter(() => r.chance(0.7))) {
    const values = ['1', '2', 'on'].filter(() => r.chance(0.6)).map((v) => maybe(v));
    flags[maybe(name)] = {
      kind: r.chance(0.05) ? 'bogus' : pick(r, ['define', 'make', 'cmake', 'configure', 'env']),
      ...(values.length ? { values } : {}),
      ...(r.chance(0.5) ? { default: values[0] ?? maybe('1') } : {}),
    };
  }
  const set: Record<string, string[]> = {};
  for (const [n, f] of Object.entries(flags).filter(() => r.chance(0.6))) {
    const vs = (f.values ?? ['1', '2']).filter(() => r.chance(0.7));
    if (vs.length) set[n] = vs;
  }
  if (r.chance(0.15)) set[maybe('P1')] = [maybe('1')];
  const env: Record<string, string> = {};
  if (r.chance(0.4)) env[maybe('MALLOC_CONF')] = maybe('narenas:1');
  return {
    db: '../results.sqlite',
    targets: {
      src: { kind: 'source', repo: '../src', build: FUZZ_BUILD, artifact: 'lib.so', flags, ...(r.chance(0.3) ? { env } : {}) },
      ...(r.chance(0.3) ? { pre: { kind: 'preload', library: '/nonexistent/lib.so', env } } : {}),
    },
    matrices: {
      m: { targets: ['src', ...(r.chance(0.2) ? [maybe('system')] : [])], set, ...(r.chance(0.3) ? { env: { [maybe('MALLOC_CONF')]: [maybe('x')] } } : {}), ...(r.chance(0.2) ? { exclude: [maybe('P1=1')] } : {}) },
    },
  };
}

export async function runConfigCase(i: number, r: Prng, dir: string): Promise<ConfigCase> {
  const canary = join(dir, 'CANARY');
  process.env.FUZZ_CANARY = canary;
  const src = join(dir, 'src');
  if (!existsSync(src)) {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'alloc.c'), 'int x;\n');
  }
  const caseDir = join(dir, 'config-case');
  mkdirSync(caseDir, { recursive: true });
  const file = join(caseDir, 'allocreplay.yaml');
  let text = stringify(makeConfig(r));
  const mutated = r.chance(0.15);
  if (mutated) text = mutateText(r, text);
  writeFileSync(file, text);
  const counts: string[] = [mutated ? 'YAML text mutated' : 'YAML generated'];
  const fail = (rule: string, detail: string): ConfigCase => {
    const keep = join(dir, `bad-config-${i}.yaml`);
    writeFileSync(keep, text);
    return { counts, bad: { rule, detail, input: keep } };
  };
  const guard = (e: unknown): ConfigCase | undefined => {
    if (!(e instanceof AllocreplayError)) return fail('internal error', (e as Error).stack ?? String(e));
    counts.push(`refused (${e.code})`);
    return undefined;
  };
  try {
    const config = loadConfig(caseDir, file);
    counts.push('loaded');
    for (const m of Object.values(config?.matrices ?? {})) {
      for (const name of m.targets) {
        const t = config?.targets[name];
        if (t?.kind !== 'source') continue;
        for (const flags of cartesian(m.set).slice(0, 2)) {
          try {
            const b = buildSource(t as SourceTarget & { kind: 'source' }, { flags, force: true, timeoutMs: 60_000 });
            counts.push(`build ${b.status}`);
          } catch (e) {
            const bad = guard(e);
            if (bad) return bad;
          }
        }
      }
    }
  } catch (e) {
    const bad = guard(e);
    if (bad) return bad;
  }
  if (existsSync(canary)) {
    rmSync(canary);
    return fail('shell command ran from a config', text);
  }
  return { counts };
}
