/**
 * Bisection: the first commit (binary search, unbuildable commits skipped)
 * or the smallest set of flag changes (per-flag effects, then delta
 * debugging) behind a change of a trace's figure, with the per-function
 * attribution. Every probe is stored; the same options resume the same
 * bisection.
 */
import type { Store } from '../../reports/index.js';
import { failure, usageError } from '../../traces/index.js';

/** A stored bisection, as `bisect show` prints it. */
export type StoredBisection = NonNullable<ReturnType<Store['bisection']>> & { id: number };

/** A stored bisection by its id as typed (`bisect show ID`): a non-number is a usage error, an unknown id a failure. */
export function showBisection(store: Store, idText: string | number): StoredBisection {
  const text = String(idText).trim();
  if (!/^[1-9]\d*$/.test(text)) throw usageError(`bisection id '${text}' is not a number`, 'give the number `bisect commits` or `bisect flags` printed, e.g. `allocreplay bisect show 1`');
  const id = Number(text);
  const b = store.bisection(id);
  if (!b) throw failure(`no bisection ${id} in this database`, '`allocreplay db query "SELECT id, kind, status FROM bisections"` lists them');
  return { id, ...b };
}
