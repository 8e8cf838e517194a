import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitIn } from '../bisect/repo.js';
import { cli, tempDir } from '../helpers.js';

/** A small C library in a git repository: four objects linked into libparts.so, make printing every command. */
function partsRepo(dir: string, slow = false): { repo: string; git: (...a: string[]) => string } {
  const repo = join(dir, 'parts');
  const git = gitIn(dir);
  git('init', '-q', repo);
  const files = ['a', 'b', 'c', 'd'];
  for (const f of files) writeFileSync(join(repo, `${f}.c`), `int part_${f}(int x) { return x + ${f.charCodeAt(0)}; }\n`);
  writeFileSync(
    join(repo, 'Makefile'),
    [
      `OBJS = ${files.map((f) => `${f}.o`).join(' ')}`,
      'libparts.so: $(OBJS)',
      '\tcc -shared -o $@ $(OBJS)',
      '%.o: %.c',
      `\tcc -fPIC -O1 $(CFLAGS_EXTRA) -c -o $@ $<${slow ? '\n\tsleep 0.5' : ''}`,
      '',
    ].join('\n'),
  );
  const g = gitIn(repo);
  g('add', '.');
  g('commit', '-qm', 'four parts');
  return { repo, git: g };
}

function compiles(logPath: string): string[] {
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((l) => /^cc .* -c -o \w+\.o \w+\.c$/.test(l));
}

describe('builds', () => {
  it('reuses the build directory across revisions: one changed file, one recompiled (make says so)', () => {
    const dir = tempDir();
    const cache = join(dir, 'cache');
    const { repo, git } = partsRepo(dir);
    const build = (rev: string, extra: string[] = []): { logPath: string; status: string } => {
      const r = cli(['target', 'build', '--repo', repo, '--build', "make -j{jobs} CFLAGS_EXTRA='{cflags}'", '--artifact', 'libparts.so', '--rev', rev, '--db', join(dir, 'r.sqlite'), '--json', ...extra], { env: { ALLOCREPLAY_CACHE: cache } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as { logPath: string; status: string };
    };
    const first = build('HEAD', ['--jobs', '1']);
    expect(readFileSync(first.logPath, 'utf8')).toContain('make -j1 ');
    expect(compiles(first.logPath)).toHaveLength(4);
    writeFileSync(join(repo, 'c.c'), 'int part_c(int x) { return x * 3; }\n');
    git('commit', '-qam', 'c multiplies');
    const second = build('HEAD');
    const again = compiles(second.logPath);
    expect(again).toEqual([expect.stringContaining('-o c.o c.c')]);
    expect(readFileSync(second.logPath, 'utf8')).toContain('cc -shared -o libparts.so');
    // A clean build of the same revision (--force) compiles everything again.
    const clean = build('HEAD', ['--force']);
    expect(compiles(clean.logPath)).toHaveLength(4);
    // The kept directory was left alone by the clean build: two more changed files, two compiled.
    writeFileSync(join(repo, 'a.c'), 'int part_a(int x) { return x * 5; }\n');
    writeFileSync(join(repo, 'd.c'), 'int part_d(int x) { return x * 7; }\n');
    git('commit', '-qam', 'a and d multiply');
    expect(compiles(build('HEAD').logPath).map((l) => l.split(' ').pop())).toEqual(['a.c', 'd.c']);
  });

  it('a long build without a terminal prints a line per phase with the elapsed time', () => {
    const dir = tempDir();
    const { repo } = partsRepo(dir, true);
    const r = cli(['target', 'build', '--repo', repo, '--build', 'make -j1', '--artifact', 'libparts.so', '--db', join(dir, 'r.sqlite')], { env: { ALLOCREPLAY_CACHE: join(dir, 'cache') } });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^build parts: compile \(\d+\.\ds\)$/m);
    expect(r.stderr).toMatch(/^build parts: link \(\d+\.\ds\)$/m);
    expect(r.stderr).toMatch(/^build parts: done \(\d+\.\ds\)$/m);
    expect(r.stdout).toMatch(/^parts @ [0-9a-f]{12}: ok in \d+ ms$/m);
  });

  it('target show says how builds are made', () => {
    const r = cli(['target', 'show', 'tinyslab']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^builds\s+incremental: one build directory per flag set/m);
  });
});
