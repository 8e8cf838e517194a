import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileNative, generate } from '../../traces/index.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
const db = join(dir, 'r.sqlite');
const env = { ALLOCREPLAY_CACHE: join(dir, 'cache') };
let slow = '';

beforeAll(() => {
  mkdirSync(join(dir, 'cache'));
  generate('random-mixed', { slots: 256, ops: 200_000 }, join(dir, 'rm.trace.msgpack'));
  slow = compileNative({ name: 'fixture-slow.so', sources: [join(ROOT, 'test/fixtures/allocators/slow.c')], shared: true });
  // The same allocator twice (system, and system again under another name) and a planted slowdown.
  const run = (args: string[]): void => {
    const r = cli(['replay', join(dir, 'rm.trace.msgpack'), ...args, '--repeat', '8', '--db', db], { env });
    expect(r.status, r.stderr).toBe(0);
  };
  run(['-t', 'system', '-t', slow]);
  // Two identical configurations, measured interleaved (A B A B …) so drift hits both alike.
  const twins = cli(['matrix', join(dir, 'rm.trace.msgpack'), '-t', 'system', '--env', 'ALLOCREPLAY_TWIN=0,1', '--repeat', '10', '--db', db], { env });
  expect(twins.status, twins.stderr).toBe(0);
  const ins = cli(['matrix', join(dir, 'rm.trace.msgpack'), '-t', 'tinyslab', '--set', 'TS_INLINE=0,1', '--metric', 'instructions', '--db', db], { env });
  expect(ins.status, ins.stderr).toBe(0);
}, 600_000);

describe('reports', () => {
  it('a planted slowdown is a regression with a CI that excludes 1.0', () => {
    const r = cli(['report', 'compare', '--baseline', 'target=system', '--candidate', 'target=fixture-slow.so', '--json', '--db', db]);
    // target=system matches two configurations (with and without the twin env): narrow it.
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/matches several configurations/);
    const ok = cli(['report', 'compare', '--baseline', 'config=' + configHash('system'), '--candidate', 'target=' + slow.split('/').pop(), '--json', '--db', db]);
    expect(ok.status, ok.stderr).toBe(0);
    const [row] = JSON.parse(ok.stdout);
    expect(row.verdict).toBe('regression');
    expect(row.ci[0]).toBeGreaterThan(1);
  });

  it('two identical configurations report no change', () => {
    const r = cli(['report', 'compare', '--baseline', 'ALLOCREPLAY_TWIN=0', '--candidate', 'ALLOCREPLAY_TWIN=1', '--json', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0].verdict).toBe('no change');
  });

  it('TS_INLINE=0 vs 1 by instructions: exact regression; check exits 1 with a markdown summary', () => {
    const r = cli(['report', 'check', '--baseline', 'TS_INLINE=1', '--candidate', 'TS_INLINE=0', '--metric', 'instructions', '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^### ❌ 1 regression beyond 2%/);
    expect(r.stdout).toMatch(/\| rm \|.*\| regression \|/);
    const fine = cli(['report', 'check', '--baseline', 'TS_INLINE=0', '--candidate', 'TS_INLINE=1', '--metric', 'instructions', '--db', db]);
    expect(fine.status).toBe(0);
    expect(fine.stdout).toMatch(/✅ no regression/);
  });

  it.each(['table', 'markdown', 'csv'])('report matrix renders as %s', (format) => {
    const r = cli(['report', 'matrix', '--format', format, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fixture-slow\.so/);
  });

  it('report matrix renders as json: one parseable document naming each configuration', () => {
    const r = cli(['report', 'matrix', '--format', 'json', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const doc: unknown = JSON.parse(r.stdout);
    expect(JSON.stringify(doc)).toMatch(/fixture-slow\.so/);
    expect(JSON.stringify(doc)).toMatch(/"label":"system/);
  });

  it('db merge of the same file twice leaves the row counts of the first merge', () => {
    const other = join(dir, 'merged.sqlite');
    const counts = (): Record<string, number> => {
      const d = new Database(other, { readonly: true });
      const out = Object.fromEntries(['machines', 'traces', 'configurations', 'sessions', 'runs', 'samples', 'builds'].map((t) => [t, (d.prepare(`SELECT count(*) n FROM ${t}`).get() as { n: number }).n]));
      d.close();
      return out;
    };
    expect(cli(['db', 'merge', db, '--db', other]).status).toBe(0);
    const first = counts();
    expect(first.runs).toBeGreaterThan(0);
    expect(cli(['db', 'merge', db, '--db', other]).status).toBe(0);
    expect(counts()).toEqual(first);
  });

  it('the HTML report loads in headless Chromium with no console errors and has its chart SVGs', async () => {
    const html = join(dir, 'report.html');
    const r = cli(['report', 'html', '-o', html, '--baseline', 'TS_INLINE=1', '--candidate', 'TS_INLINE=0', '--metric', 'instructions', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const chromium = '/usr/bin/chromium';
    expect(existsSync(chromium), 'Debian chromium (installed by .ci/setup)').toBe(true);
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({
      executablePath: chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${html}`);
      expect(await page.locator('figure.chart svg').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('figure[data-chart="bars"] svg').count()).toBe(1);
      expect(await page.locator('figure[data-chart="series"] svg').count()).toBeGreaterThanOrEqual(1);
      // The charts are drawn, not just present: each SVG has a real size and marks in it.
      for (const svg of await page.locator('figure.chart svg').all()) {
        const box = await svg.boundingBox();
        expect(box?.width ?? 0).toBeGreaterThan(100);
        expect(box?.height ?? 0).toBeGreaterThan(50);
        expect(await svg.locator('path, rect, line').count()).toBeGreaterThan(3);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

function configHash(target: string): string {
  const d = new Database(db, { readonly: true });
  const row = d.prepare('SELECT hash FROM configurations WHERE target = ?').get(target) as { hash: string };
  d.close();
  return row.hash.slice(0, 12);
}
