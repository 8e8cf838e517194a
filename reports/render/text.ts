/** Plain-text rendering shared by every report and command: colour only on a TTY. */

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = (s: string): string => paint('1', s);
export const green = (s: string): string => paint('32', s);
export const red = (s: string): string => paint('31', s);
export const dim = (s: string): string => paint('2', s);

// eslint-disable-next-line no-control-regex
const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Aligned columns: the first left, the rest right. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c + ' '.repeat(w[i]! - visible(c)) : ' '.repeat(w[i]! - visible(c)) + c)).join('  ').trimEnd();
  return [bold(line(head)), ...rows.map(line)].join('\n');
}

export function markdownTable(head: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function csv(head: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null): string => {
    const s = v === null ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [head.map(cell).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

export { sparkline } from '../../traces/index.js';
