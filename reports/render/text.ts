/**
 * Plain-text building blocks shared by every report and command. Colour is
 * plain ANSI SGR codes, only when asked for; the default is "stdout is a TTY
 * and NO_COLOR is unset", which is right for stdout and wrong for files
 * (renderers take an explicit `color`).
 */

/** Colour by default: only on a terminal, and never with NO_COLOR set. */
export const stdoutColor = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

/** ANSI painters; identity functions when `color` is false. */
export interface Paint {
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

/** Painters that colour only when `color` is true. */
export function painter(color: boolean): Paint {
  const p =
    (code: string) =>
    (s: string): string =>
      color ? `\x1b[${code}m${s}\x1b[0m` : s;
  return { bold: p('1'), green: p('32'), red: p('31'), yellow: p('33'), dim: p('2') };
}

const tty = painter(stdoutColor());
/** Painters for stdout (colour only on a TTY). */
export const bold = tty.bold;
export const green = tty.green;
export const red = tty.red;
export const dim = tty.dim;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** Printed width: ANSI codes take no room. */
const visible = (s: string): number => [...s.replace(ANSI, '')].length;

/** Aligned columns: the first left, the rest right; the header bold when `color` (default: stdout is a TTY). */
export function table(head: string[], rows: string[][], opts: { color?: boolean } = {}): string {
  const b = opts.color === undefined ? bold : painter(opts.color).bold;
  const w = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c + ' '.repeat(w[i]! - visible(c)) : ' '.repeat(w[i]! - visible(c)) + c))
      .join('  ')
      .trimEnd();
  return [b(line(head)), ...rows.map(line)].join('\n');
}

/** A GitHub-flavoured markdown table, numbers right-aligned. */
export function markdownTable(head: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(ANSI, '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/**
 * RFC 4180 CSV with a header line; null and non-finite numbers are empty
 * cells. Text a spreadsheet would evaluate (starting with = + - @, a tab or
 * a carriage return: trace and target names are anyone's) gets a leading
 * `'`; numbers stay numbers, negative ones included.
 */
export function csv(head: string[], rows: (string | number | boolean | null)[][]): string {
  const cell = (v: string | number | boolean | null): string => {
    let s = v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [head.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

export { sparkline } from '../../traces/index.js';
