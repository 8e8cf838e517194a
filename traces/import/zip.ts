import { inflateRawSync } from 'node:zlib';
import { inputError } from '../errors.js';

/**
 * The first file of a zip archive (stored or deflated), read through its
 * central directory: Android's memory_replay dumps ship zipped.
 */
export function unzipFirst(path: string, buf: Buffer): Buffer {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw inputError(`${path}: not a zip archive (no end of central directory)`, 'pass the dump itself or a .zip holding it');
  const cd = buf.readUInt32LE(eocd + 16);
  if (buf.readUInt32LE(cd) !== 0x02014b50) throw inputError(`${path}: zip central directory is corrupt`, 'unzip it by hand and pass the dump');
  const method = buf.readUInt16LE(cd + 10);
  const csize = buf.readUInt32LE(cd + 20);
  const local = buf.readUInt32LE(cd + 42);
  if (buf.readUInt32LE(local) !== 0x04034b50) throw inputError(`${path}: zip local header is corrupt`, 'unzip it by hand and pass the dump');
  const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
  const body = buf.subarray(data, data + csize);
  if (method === 0) return Buffer.from(body);
  if (method === 8) return inflateRawSync(body);
  throw inputError(`${path}: zip compression method ${method} is not supported`, 'recompress with deflate, or unzip it by hand');
}
