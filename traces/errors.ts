/**
 * The one error type of allocreplay. Every user-facing failure is an
 * `AllocreplayError`: a code (which decides the exit status), a one-line
 * message saying what went wrong and where, and a hint saying how to fix it.
 */
export type ErrorCode =
  /** Bad flags, bad config: exit 2. */
  | 'usage'
  /** Bad input file (trace, dump, plan): exit 1. */
  | 'input'
  /** Something failed while doing the work (build, run, I/O): exit 1. */
  | 'failure'
  /** A regression was found (report check): exit 1. */
  | 'regression';

export class AllocreplayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'AllocreplayError';
    this.code = code;
    this.hint = hint;
  }

  /** Exit status for the CLI: 2 for usage errors, 1 for everything else. */
  get exitCode(): number {
    return this.code === 'usage' ? 2 : 1;
  }

  /** The single line printed on stderr. */
  oneLine(): string {
    const msg = this.message.replace(/\s*\n\s*/g, ' ');
    return this.hint ? `${msg} (${this.hint})` : msg;
  }
}

export function usageError(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('usage', message, hint);
}

export function inputError(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('input', message, hint);
}

export function failure(message: string, hint?: string): AllocreplayError {
  return new AllocreplayError('failure', message, hint);
}
