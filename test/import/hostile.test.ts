/**
 * Issue 11, imports: every "What was seen" case, each failing on the old
 * importer (a hang, a trace validate rejects, a 0-event success, an
 * internal error from the zip reader) and passing now.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AllocreplayError, importAosp, importMtrace, readEvents, validateTrace } from '../../traces/index.js';
import { reached } from '../handshake.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const dir = tempDir();
let n = 0;

/** Writes `text` to a fresh file and returns its path and the trace path beside it. */
function dump(text: string | Buffer, ext = 'txt'): { src: string; out: string } {
  const base = join(dir, `d${n++}`);
  writeFileSync(`${base}.${ext}`, text);
  return { src: `${base}.${ext}`, out: `${base}.trace.msgpack` };
}

/** The import's error, asserting it is one of ours and that nothing was left behind. */
async function refused(p: Promise<unknown>, out: string): Promise<AllocreplayError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AllocreplayError);
  expect(existsSync(out)).toBe(false);
  expect(existsSync(`${out}.tmp`)).toBe(false);
  return e as AllocreplayError;
}

function zip(name: string, files: Record<string, string>, extra: string[] = []): string {
  const d = tempDir();
  for (const [f, text] of Object.entries(files)) {
    if (f.endsWith('/')) execFileSync('mkdir', ['-p', join(d, f)]);
    else writeFileSync(join(d, f), text);
  }
  const z = join(dir, name);
  execFileSync('zip', ['-q', ...extra, z, ...Object.keys(files)], { cwd: d });
  return z;
}

describe('numbers are range-checked', () => {
  it('a 400-digit size is a malformed line naming file:line, not an endless loop', async () => {
    const { src, out } = dump(`1234: malloc 0x1000 ${'9'.repeat(400)}\n`);
    const e = await refused(importAosp(src, out), out);
    expect(e.message).toMatch(new RegExp(`${src}:1: number 9{24}… is above the trace format's limit of 2\\^53-1`));
  });

  it('an mtrace size of 0x and 300 f is a malformed line', async () => {
    const { src, out } = dump(`= Start\n@ ./p:[0x1] + 0x10 0x${'f'.repeat(300)}\n= End\n`);
    const e = await refused(importMtrace(src, out), out);
    expect(e.message).toMatch(/:2: size is above the trace format's limit/);
  });

  it('2^53 is refused, 2^53-1 imports into a trace that validates', async () => {
    const big = dump(`1: malloc 0x10 ${2 ** 53}\n`);
    await refused(importAosp(big.src, big.out), big.out);
    const product = dump(`1: calloc 0x20 ${2 ** 30} ${2 ** 30}\n`);
    expect((await refused(importAosp(product.src, product.out), product.out)).message).toMatch(/calloc of 1073741824 × 1073741824 bytes is above/);
    const max = dump(`1: malloc 0x10 ${2 ** 53 - 1}\n1: free 0x10\n1: calloc 0x20 ${2 ** 53 - 1} 1\n`);
    await importAosp(max.src, max.out);
    expect(validateTrace(max.out).footer?.events).toBe(3);
    expect(readEvents(max.out)[0]!.size).toBe(2 ** 53 - 1);
  });

  it('a memalign alignment that is not a power of two is malformed', async () => {
    const { src, out } = dump('1: memalign 0x10 24 100\n');
    const e = await refused(importAosp(src, out), out);
    expect(e.message).toMatch(/alignment 24 is not a power of two/);
  });

  it('the same pointer with leading zeros is the same pointer', async () => {
    const { src, out } = dump('1: malloc 0x00000000000000001000 8\n1: free 0x1000\n');
    const r = await importAosp(src, out);
    expect(r.counts.unknownFrees).toBe(0);
    expect(r.footer.events).toBe(2);
  });
});

describe('nothing kept is an error', () => {
  it('--lenient on a file with no valid line exits 1 and writes nothing', () => {
    const { src, out } = dump('hello\nworld\n');
    const r = cli(['import', 'aosp', src, '-o', out, '--lenient']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^allocreplay: .*no line could be imported \(2 malformed lines skipped\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('-o naming the dump itself is refused before anything is written', async () => {
    const { src } = dump('1: malloc 0x10 8\n');
    const e = await importAosp(src, src).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AllocreplayError);
    expect(readFileSync(src, 'utf8')).toBe('1: malloc 0x10 8\n');
  });

  it('an empty dump is an error too', async () => {
    const { src, out } = dump('');
    expect((await refused(importAosp(src, out), out)).message).toMatch(/no allocation events/);
  });

  it('a failure half-way removes the partial output', async () => {
    const lines = Array.from({ length: 70_000 }, (_, i) => `1: malloc 0x${(i + 1).toString(16)}0 16`);
    const { src, out } = dump(`${lines.join('\n')}\n1: malloc 0x10 ${'9'.repeat(30)}\n`);
    await refused(importAosp(src, out), out);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('interrupted', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during an import exits %i and leaves neither the trace nor its .tmp (chunks in flight on the thread pool)', async (signal, status) => {
    // 6M lines: most of a second of work even at full speed, so the signal lands while the import runs (with chunks being deflated).
    const { src, out } = dump('1: malloc 0x10 16\n1: free 0x10\n'.repeat(3_000_000));
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin/run.js'), 'import', 'aosp', src, '-o', out], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // The half-written trace exists from the first line on: interrupt once it is there.
    await reached(child, `${out}.tmp`, () => existsSync(`${out}.tmp`), { dirs: [dir] });
    child.kill(signal);
    expect(await exited).toBe(status);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });
});

describe('zips', () => {
  const text = '1: malloc 0x10 8\n1: free 0x10\n';

  it('a corrupt archive is a one-line error, not an internal one', async () => {
    const z = readFileSync(zip('c.zip', { 'a.txt': text.repeat(200) }));
    // Damage the deflated body (after the 30-byte local header, the name and the extra field).
    const body = 30 + z.readUInt16LE(26) + z.readUInt16LE(28);
    for (let i = body; i < body + 20; i++) z[i] = 0xff;
    const { src, out } = dump(z, 'zip');
    const e = await refused(importAosp(src, out), out);
    expect(e.message).toMatch(/corrupt zip archive|CRC-32/);
    const r = cli(['import', 'aosp', src, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('a CRC mismatch in a stored entry is caught', async () => {
    const z = readFileSync(zip('s.zip', { 'a.txt': text }, ['-0']));
    const at = z.indexOf('1: malloc');
    z[at + 3] = 'M'.charCodeAt(0); // same length, other bytes: only the CRC can tell
    const { src, out } = dump(z, 'zip');
    expect((await refused(importAosp(src, out), out)).message).toMatch(/fails its CRC-32 check/);
  });

  it('reads the first regular file: a leading directory is skipped', async () => {
    const z = zip('d.zip', { 'sub/': '', 'sub/dump.txt': text, 'other.txt': '2: malloc 0x20 4\n' });
    const out = join(dir, 'd.trace.msgpack');
    const r = await importAosp(z, out);
    expect(r.entry).toBe('sub/dump.txt');
    expect(r.footer.events).toBe(2);
  });

  it('--entry picks another file; an unknown one lists what is there (exit 2)', async () => {
    const z = zip('e.zip', { 'a.txt': text, 'b.txt': '2: malloc 0x20 4\n' });
    const r = await importAosp(z, join(dir, 'e.trace.msgpack'), { entry: 'b.txt' });
    expect(r.footer.events).toBe(1);
    const bad = cli(['import', 'aosp', z, '-o', join(dir, 'e2.trace.msgpack'), '--entry', 'nope.txt']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no file 'nope.txt' in the zip archive \(it holds 'a.txt', 'b.txt'\)/);
  });

  it('an empty zip and a directory-only zip are clear errors', async () => {
    const empty = dump(Buffer.from('504b0506000000000000000000000000000000000000', 'hex'), 'zip');
    expect((await refused(importAosp(empty.src, empty.out), empty.out)).message).toMatch(/zip archive is empty/);
    const dirs = zip('dirs.zip', { 'x/': '', 'x/y/': '' });
    expect((await refused(importAosp(dirs, join(dir, 'dirs.trace.msgpack')), join(dir, 'dirs.trace.msgpack'))).message).toMatch(/holds only directories/);
  });

  it('an entry declaring more than the cap is refused before inflating (zip bomb)', async () => {
    const z = zip('bomb.zip', { 'a.txt': text.repeat(10_000) });
    const out = join(dir, 'bomb.trace.msgpack');
    expect((await refused(importAosp(z, out, { maxBytes: 1000 }), out)).message).toMatch(/inflates to 300000 bytes, above the limit of 1000/);
  });

  it('an entry inflating to more than it declares is stopped', async () => {
    const z = readFileSync(zip('lie.zip', { 'a.txt': text.repeat(1000) }));
    // Declare 100 bytes in the central directory and the local header: the inflater must stop there.
    const cd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt32LE(100, cd + 24);
    z.writeUInt32LE(100, 22);
    const { src, out } = dump(z, 'zip');
    expect((await refused(importAosp(src, out), out)).message).toMatch(/corrupt zip archive \(too many bytes/);
  });

  it('reads Zip64 archives', async () => {
    const z = join(dir, 'z64.zip');
    execFileSync('sh', ['-c', `printf '${text.replace(/\n/g, '\\n')}' | zip -q -fz ${z} -`]);
    expect(readFileSync(z).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // the Zip64 end record
    const r = await importAosp(z, join(dir, 'z64.trace.msgpack'));
    expect(r.footer.events).toBe(2);
  });
});
