/**
 * Errors a user can cause (bad file, bad flag, bad value). The CLI prints the message as
 * one line and exits with code 2; anything else is an internal error (exit 1, stack).
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** Whether `e` is a user's mistake rather than a bug. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
