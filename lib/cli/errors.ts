/**
 * Error kinds that decide how the CLI ends.
 *
 * A `UserError` is the user's mistake or a fault the user must act on (wrong password, missing file,
 * device busy): the CLI prints its message as one line and exits with `exitCode`, never a stack trace.
 * `UsageError` is the grammar's flavour of it (exit 2, like cliffy's ValidationError).
 * Anything else that escapes is a bug and is shown with its stack.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "UserError";
    this.exitCode = options.exitCode ?? 1;
  }
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = "UsageError";
  }
}

/** The first line of a message: user-facing errors are one line. */
export function oneLine(message: string): string {
  return message.split(/\r?\n/).map((part) => part.trim()).filter(Boolean).join(": ");
}
