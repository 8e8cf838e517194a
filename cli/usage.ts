import type { Command } from '@oclif/core';
import { didYouMean } from '../traces/index.js';

/**
 * One line for an oclif parse error: its lines joined, without oclif's
 * "The following error occurred:" header and "See more help" footer, the
 * flag it is about named, and a close flag suggested for an unknown one.
 */
export function parseErrorLine(message: string, ctor: Command.Class | undefined): string {
  // oclif colours parts of its messages; the line we print is plain.
  // eslint-disable-next-line no-control-regex
  const plain = message.replace(/\u001b\[[0-9;]*m/g, '');
  const lines = plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with --help$/.test(l) && !/^The following errors? occurred:$/.test(l));
  let text = lines.join('; ').replace(/^Parsing (--[\w-]+);\s*/, '$1: ').replace(/^Parsing (--[\w-]+) /, '$1: ');
  const missingArgs = /^Missing \d+ required args?/.test(lines[0] ?? '') ? lines.slice(1).filter((l) => !/^(Note:|Alternatively,)/.test(l)) : undefined;
  if (missingArgs) text = `missing ${missingArgs.map((l) => { const [name, ...what] = l.split(/\s{2,}/); return `${name!.toUpperCase()}${what.length ? ` (${what.join(' ')})` : ''}`; }).join(', ')}`;
  const missingFlags = [...text.matchAll(/Missing required flag ([\w-]+)/g)].map((m) => {
    const char = ctor?.flags?.[m[1]!]?.char;
    return `--${m[1]}${char ? ` (-${char})` : ''}`;
  });
  if (missingFlags.length) text = `missing required flag${missingFlags.length === 1 ? '' : 's'} ${missingFlags.join(', ')}`;
  const unknown = /^Nonexistent flags?: (.+)$/.exec(text);
  if (unknown && ctor) {
    const names = Object.keys(ctor.flags ?? {});
    const hints = unknown[1]!.split(', ').map((f) => {
      const near = didYouMean(f.replace(/^-+/, '').replace(/=.*$/, ''), names);
      return near ? `${f} (did you mean --${near}?)` : f;
    });
    text = `unknown flag${hints.length === 1 ? '' : 's'} ${hints.join(', ')}`;
  }
  return text;
}

/** `usage: allocreplay generate GENERATOR -o <value> [flags]`, from the command's own argument and flag definitions. */
export function usageLine(bin: string, ctor: Command.Class | undefined): string | undefined {
  if (!ctor?.id) return undefined;
  const parts = [bin, ...ctor.id.split(':')];
  for (const [name, a] of Object.entries(ctor.args ?? {})) parts.push(a.required ? name.toUpperCase() : `[${name.toUpperCase()}]`);
  for (const [name, f] of Object.entries(ctor.flags ?? {})) {
    if (!f.required) continue;
    const flag = f.char ? `-${f.char}` : `--${name}`;
    parts.push(f.type === 'boolean' ? flag : `${flag} <${name}>`);
  }
  if (Object.values(ctor.flags ?? {}).some((f) => !f.required)) parts.push('[flags]');
  return `usage: ${parts.join(' ')} (${[bin, ...ctor.id.split(':')].join(' ')} --help for all flags)`;
}

/**
 * `allocreplay: replya is not a command; did you mean "allocreplay replay"?`
 * for an unknown command id (`trace:infp:x`: words joined by colons, the
 * trailing ones possibly arguments).
 */
export function unknownCommandLine(config: { bin: string; commands: readonly { id: string; hidden?: boolean }[] }, id: string): string {
  const words = id.split(':');
  const commands = config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':'));
  // Compare the typed words with each command of as many words (the rest are arguments), longest commands first.
  let best: { id: string; typed: string } | undefined;
  for (const n of [...new Set(commands.map((c) => c.length))].sort((a, b) => b - a)) {
    if (words.length < n) continue;
    const typed = words.slice(0, n).join(' ');
    const near = didYouMean(typed, commands.filter((c) => c.length === n).map((c) => c.join(' ')));
    if (near) {
      best = { id: near, typed };
      break;
    }
  }
  const hint = best ? `did you mean "${config.bin} ${best.id}"?` : `${config.bin} help lists the commands`;
  return `${config.bin}: ${best?.typed ?? words.join(' ')} is not a command; ${hint}`;
}
