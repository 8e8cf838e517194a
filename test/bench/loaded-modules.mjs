// A module-resolution hook for startup.bench: writes every module URL Node resolves to stderr.
import { writeSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  writeSync(2, `loaded ${r.url}\n`);
  return r;
}
