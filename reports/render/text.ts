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

/** Columns every table fits in: wider ones are cut into blocks of columns, each repeating the first. */
export const TABLE_WIDTH = 120;

/**
 * Aligned columns: the first left, the rest right; the header bold when
 * `color` (default: stdout is a TTY). A table wider than `width` (default
 * TABLE_WIDTH) is printed as several blocks of whole columns, each led by
 * the first column, so no line is wider unless one cell is.
 */
export function table(head: string[], rows: string[][], opts: { color?: boolean; width?: number } = {}): string {
  const b = opts.color === undefined ? bold : painter(opts.color).bold;
  const w = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cols: number[], cells: string[]): string =>
    cols
      .map((i, j) => {
        const c = cells[i] ?? '';
        return j === 0 ? c + ' '.repeat(w[i]! - visible(c)) : ' '.repeat(w[i]! - visible(c)) + c;
      })
      .join('  ')
      .trimEnd();
  const width = opts.width ?? TABLE_WIDTH;
  const blocks: number[][] = [];
  let cur: number[] = [];
  let used = w[0] ?? 0;
  for (let i = 1; i < head.length; i++) {
    // An empty column (a status column where every run finished) takes no room and never starts a block.
    if (cur.length && w[i]! > 0 && used + 2 + w[i]! > width) blocks.push(cur), (cur = []), (used = w[0]!);
    cur.push(i);
    used += 2 + w[i]!;
  }
  blocks.push(cur);
  return blocks.map((cols) => [b(line([0, ...cols], head)), ...rows.map((r) => line([0, ...cols], r))].join('\n')).join('\n\n');
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
