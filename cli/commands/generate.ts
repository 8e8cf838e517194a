import { Args, Flags } from '@oclif/core';
import { GENERATORS, generate, usageError } from '../../traces/index.js';
import { BaseCommand } from '../base.js';

const num = (description: string) => Flags.integer({ description });

export default class Generate extends BaseCommand {
  static override description = 'Generate a seeded synthetic trace (bit-for-bit reproducible)';
  static override examples = [
    '<%= config.bin %> generate random-mixed --slots 256 --ops 1000000 --seed 42 -o rm256.trace.msgpack',
    '<%= config.bin %> generate tiny-hot --size 16 -o hot16.trace.msgpack',
    '<%= config.bin %> generate larson --threads 4 -o larson.trace.msgpack',
  ];
  static override args = {
    name: Args.string({ description: `generator: ${Object.keys(GENERATORS).join(', ')}`, required: true }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'output file', required: true }),
    json: Flags.boolean({ description: 'print the footer as JSON' }),
    slots: num('working-set slots (random-mixed, larson per thread, realloc-grow, phases)'),
    ops: num('events in the trace'),
    min: num('smallest request, bytes'),
    max: num('largest request, bytes'),
    seed: num('PRNG seed'),
    size: num('request size (tiny-hot)'),
    batch: num('objects per batch (tiny-hot)'),
    threads: num('threads (larson)'),
    cross: num('percent of steps on another thread\'s slots (larson)'),
    depth: num('queue depth (producer-consumer)'),
    growth: num('growth per realloc, percent (realloc-grow)'),
    wave: num('short-lived objects per phase (phases)'),
    keep: num('percent of a wave kept long-lived (phases)'),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Generate);
    const { output, json, debug, ...given } = flags;
    void debug;
    if (!GENERATORS[args.name]) throw usageError(`unknown generator '${args.name}'`, `choose one of ${Object.keys(GENERATORS).join(', ')}`);
    const footer = generate(args.name, given, output);
    if (json) return this.printJson({ path: output, generator: args.name, ...footer });
    this.log(`${output}: ${footer.events.toLocaleString('en-US')} events, ${footer.objects.toLocaleString('en-US')} objects, ${footer.threads} thread${footer.threads === 1 ? '' : 's'}`);
  }
}
