import { describe, expect, it } from 'vitest';
import { cli } from '../helpers.js';

describe('usage errors and help', () => {
  it.each([
    [['generate', 'tiny-hot'], /^allocreplay: missing required flag --output \(-o\)$/m, /^usage: allocreplay generate NAME -o <output> \[flags\]/m],
    [['replay'], /^allocreplay: missing TRACES \(trace files\)$/m, /^usage: allocreplay replay TRACES \[flags\]/m],
    [['replay', 'x.trace.msgpack', '--repeat=0'], /^allocreplay: --repeat: .*greater than or equal to 1 but received: 0$/m, /^usage: allocreplay replay /m],
    [['generate', 'tiny-hot', '-o', 'x', '--size', 'abc'], /^allocreplay: --size: Expected an integer but received: abc$/m, /^usage: allocreplay generate /m],
    [['replay', 'x', '--repeats', '3'], /^allocreplay: unknown flag --repeats \(did you mean --repeat\?\)$/m, /^usage: allocreplay replay /m],
    [['replay', 'x', '--mode', 'fast'], /^allocreplay: Expected --mode=fast to be one of: serial, threads$/m, /^usage: allocreplay replay /m],
    [['report', 'compare'], /^allocreplay: missing required flags --baseline, --candidate$/m, /^usage: allocreplay report compare --baseline <baseline> --candidate <candidate> \[flags\]/m],
    [['bisect', 'flags', '--trace', 't', '--good', 'A=1'], /^allocreplay: missing required flag --bad$/m, /^usage: allocreplay bisect flags /m],
    [['trace', 'info'], /^allocreplay: missing FILE \(trace file\)$/m, /^usage: allocreplay trace info FILE \[flags\]/m],
    [['report', 'check', '--baseline', 'a', '--candidate', 'b', '--threshold', 'abc'], /^allocreplay: --threshold: abc is not a percentage/m, /^usage: allocreplay report check /m],
    [['bisect', 'flags', '--trace', 't', '--good', 'A=1', '--bad', 'A=2', '--threshold=-1'], /^allocreplay: --threshold: -1 is not a percentage/m, /^usage: allocreplay bisect flags /m],
  ])('%j names what is wrong and shows the usage line (exit 2)', (args, error, usage) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(error);
    expect(r.stderr).toMatch(usage);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).not.toMatch(/See more help|The following error|internal error/);
  });

  it('a mistyped command gets the closest one, without a terminal (exit 2)', () => {
    const r = cli(['replya', 'x.trace.msgpack']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('allocreplay: replya is not a command; did you mean "allocreplay replay"?\n');
    expect(cli(['trace', 'infp', 'x']).stderr).toBe('allocreplay: trace infp is not a command; did you mean "allocreplay trace info"?\n');
    const help = cli(['help', 'replya']);
    expect(help.status).toBe(2);
    expect(help.stderr).toBe('allocreplay: replya is not a command; did you mean "allocreplay replay"?\n');
    const far = cli(['zzzzzzzz']);
    expect(far.status).toBe(2);
    expect(far.stderr).toBe('allocreplay: zzzzzzzz is not a command; allocreplay help lists the commands\n');
  });

  it('help lists topics with their own descriptions, and helps with one command', () => {
    const top = cli(['help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^\s+trace\s+Inspect, validate and export trace files$/m);
    expect(top.stdout).toMatch(/^\s+report\s+Compare, check, tabulate and chart stored results$/m);
    const one = cli(['help', 'replay']);
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^USAGE\n\s+\$ allocreplay replay TRACES/m);
    expect(one.stdout).toContain('--export-markdown');
  });
});
