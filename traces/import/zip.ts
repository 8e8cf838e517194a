import { crc32 } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { inputError, usageError } from '../platform/errors.js';

/** Largest dump a zip entry may inflate to, by default (bytes): a guard against zip bombs. */
export const ZIP_MAX_BYTES = 2 ** 31 - 1;

export interface ZipChoice {
  /** The entry to read; by default the first regular file. */
  entry?: string;
  /** Refuse entries that inflate beyond this many bytes. */
  maxBytes?: number;
}

/** True when `buf` starts like a zip archive (a local file header, or the end record of an empty archive). */
export function looksLikeZip(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  const sig = buf.readUInt32LE(0);
  return sig === 0x04034b50 || sig === 0x06054b50;
}

const corrupt = (path: string, e: unknown): Error =>
  inputError(`${path}: corrupt zip archive (${(e as Error).message})`, 'check the download, or unzip it by hand and pass the dump');

/** Every entry of the archive, in central-directory order. */
async function entries(path: string, zip: ZipFile): Promise<Entry[]> {
  const all: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: Entry) => {
      all.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (e) => reject(corrupt(path, e)));
    zip.readEntry();
  });
  return all;
}

/** Inflates one entry, refusing more bytes than it declares and checking its CRC-32. */
async function inflate(path: string, zip: ZipFile, e: Entry): Promise<Buffer> {
  const parts: Buffer[] = [];
  let crc = 0;
  await new Promise<void>((resolve, reject) => {
    zip.openReadStream(e, (err, stream) => {
      if (err) return reject(corrupt(path, err));
      stream.on('data', (d: Buffer) => {
        parts.push(d);
        crc = crc32(d, crc);
      });
      stream.on('error', (x) => reject(corrupt(path, x)));
      stream.on('end', () => resolve());
    });
  });
  if (crc !== e.crc32) throw inputError(`${path}: zip entry '${e.fileName}' fails its CRC-32 check`, 'the archive is damaged: download or zip it again');
  return Buffer.concat(parts);
}

/**
 * The dump inside a zip archive (Android's memory_replay dumps ship zipped):
 * the first regular file, or the entry named `choice.entry`. Sizes are
 * checked against `maxBytes` before inflating and enforced while inflating
 * (yauzl stops an entry that produces more than it declares); Zip64 is read.
 */
export async function unzipDump(path: string, buf: Buffer, choice: ZipChoice = {}): Promise<{ data: Buffer; entry: string }> {
  const maxBytes = choice.maxBytes ?? ZIP_MAX_BYTES;
  let zip: ZipFile;
  try {
    // Loaded here, for zipped dumps only: ~30 ms of every command's start-up otherwise.
    const { default: yauzl } = await import('yauzl');
    zip = await yauzl.fromBufferPromise(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false });
  } catch (e) {
    throw corrupt(path, e);
  }
  try {
    const all = await entries(path, zip);
    const files = all.filter((e) => !e.fileName.endsWith('/'));
    if (all.length === 0) throw inputError(`${path}: the zip archive is empty`, 'pass a zip holding the dump, or the dump itself');
    if (files.length === 0) throw inputError(`${path}: the zip archive holds only directories`, 'pass a zip holding the dump, or the dump itself');
    const chosen = choice.entry === undefined ? files[0]! : files.find((e) => e.fileName === choice.entry);
    if (!chosen) {
      const names = files.slice(0, 5).map((e) => `'${e.fileName}'`).join(', ');
      throw usageError(`${path}: no file '${choice.entry}' in the zip archive`, `it holds ${names}${files.length > 5 ? ', …' : ''}`);
    }
    if (chosen.isEncrypted()) throw inputError(`${path}: zip entry '${chosen.fileName}' is encrypted`, 'unzip it by hand and pass the dump');
    if (chosen.uncompressedSize > maxBytes) {
      throw inputError(
        `${path}: zip entry '${chosen.fileName}' inflates to ${chosen.uncompressedSize} bytes, above the limit of ${maxBytes}`,
        'raise --zip-max-mib if the dump is really that large, or unzip it by hand',
      );
    }
    return { data: await inflate(path, zip, chosen), entry: chosen.fileName };
  } finally {
    zip.close();
  }
}
