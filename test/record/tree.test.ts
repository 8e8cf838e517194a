import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers.js';

/** A Makefile whose two recipes each run perl through the shell (a redirection), as builds do. */
function makefile(dir: string): void {
  writeFileSync(join(dir, 'Makefile'), "all: a b\na:\n\tperl -e 'my @x = map { [$$_] } 1 .. 500; print 1' > a\nb:\n\tperl -e 'print 2' > b\n.PHONY: all a b\n");
}

describe('record over a process tree', () => {
  it("sh -c 'prog > out': the summary says the program ran unrecorded and how to record it", () => {
    const dir = tempDir();
    const r = cli(['record', '-o', join(dir, 'sh.trace.msgpack'), '--', 'sh', '-c', 'perl -e "print 1" > out'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/; 1 child process ran unrecorded \(--follow-forks records it\)\n$/);
    const j = cli(['record', '-o', join(dir, 'sh2.trace.msgpack'), '--json', '--', 'sh', '-c', 'perl -e "print 1" > out'], { cwd: dir });
    expect(JSON.parse(j.stdout).unrecordedProcesses).toBe(1);
  });

  it("sh -c 'prog > out' --follow-forks: the program's own trace is written and listed, and nothing is said to be missing", () => {
    const dir = tempDir();
    const r = cli(['record', '--follow-forks', '-o', join(dir, 'sh.trace.msgpack'), '--json', '--', 'sh', '-c', "perl -e 'my @x = map { [$_] } 1 .. 500' > out"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.unrecordedProcesses).toBe(0);
    expect(out.traces).toHaveLength(2);
    const child = out.traces[1];
    expect(child.path).toMatch(/sh\.\d+\.trace\.msgpack$/);
    // perl's 500 arrays are in the child's trace, not in the shell's.
    expect(child.events).toBeGreaterThan(out.traces[0].events);
    const files = readdirSync(dir).filter((f) => f.endsWith('.trace.msgpack'));
    const info = cli(['trace', 'info', '--json', ...files], { cwd: dir });
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toHaveLength(2);
    const replay = cli(['replay', ...files, '-t', 'system', '--repeat', '1', '--db', join(dir, 'r.sqlite'), '--json'], { cwd: dir });
    expect(replay.status, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout).map((o: { status: string }) => o.status)).toEqual(['ok', 'ok']);
  });

  it('make -j2: four processes (two shells, two perls) unrecorded; with --follow-forks each has its trace', () => {
    const dir = tempDir();
    makefile(dir);
    const r = cli(['record', '-o', join(dir, 'make.trace.msgpack'), '--json', '--', 'make', '-s', '-j2'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).unrecordedProcesses).toBe(4);
    const f = cli(['record', '--follow-forks', '-o', join(dir, 'makef.trace.msgpack'), '--json', '--', 'make', '-s', '-j2'], { cwd: dir });
    expect(f.status, f.stderr).toBe(0);
    const out = JSON.parse(f.stdout.slice(f.stdout.indexOf('{')));
    expect(out.unrecordedProcesses).toBe(0);
    expect(out.traces).toHaveLength(5);
  });
});
