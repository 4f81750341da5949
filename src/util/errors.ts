/**
 * Errors a user can cause (bad file, bad flag, bad value). The CLI prints the message as
 * one line and exits with code 2; anything else is an internal error (exit 1, stack).
 *
 * Every piece of user text that enters an error message (a field value, a trace line, a
 * name from a policy module, a thrown value) goes through `userText`, so one bad input
 * can never make a 50 MB error line or send control bytes to the terminal.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string) {
    super(message);
    ENGINE_ERRORS.add(this);
  }
}

/**
 * Errors fpswitch itself raised (a UserError, the checker's Violation). A guard around a
 * user's hook passes these through and turns anything else into a UserError; a user's
 * own error merely named "Violation" is not in this set.
 */
const ENGINE_ERRORS = new WeakSet();

/** Marks `e` as raised by fpswitch itself (called by engine error constructors). */
export function markEngineError(e: Error): void {
  ENGINE_ERRORS.add(e);
}

/** Whether `e` was raised by fpswitch itself (never true for a user's look-alike). */
export function isEngineError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && ENGINE_ERRORS.has(e);
}

/**
 * A finding about the user's input that ends the command without being a mistake in it
 * (a policy whose state grows without bound): one line, exit code 1.
 */
export class FindingError extends Error {
  override readonly name = 'FindingError';
  constructor(message: string) {
    super(message);
    ENGINE_ERRORS.add(this);
  }
}

/** Whether `e` is a user's mistake rather than a bug. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** How much of one piece of user text an error message quotes. */
const USER_TEXT_MAX = 120;

/** The longest line the CLI prints for a user's mistake (bytes, after escaping). */
const ERROR_LINE_MAX = 300;

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides
// (a terminal or log viewer would act on them).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}

/**
 * `value` made safe to quote in a one-line error: control characters escaped (`\n`,
 * `\x00`), cut to `max` characters with an ellipsis. Cost: O(max), whatever the input's
 * length (only the head of a long string is looked at).
 */
export function userText(value: unknown, max = USER_TEXT_MAX): string {
  const s = typeof value === 'string' ? value : describeValue(value);
  const head = s.length > max * 4 ? s.slice(0, max * 4) : s;
  const escaped = head.replace(CONTROL, escapeControl);
  if (escaped.length <= max && head.length === s.length) return escaped;
  return `${escaped.slice(0, max - 1)}…`;
}

/** A short description of any value, never throwing (null prototypes, hostile getters). */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return 'a function';
    default:
      return describeObject(value);
  }
}

function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return `an array of ${value.length}`;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null) return 'an object with a null prototype';
    if (proto === Object.prototype) return 'an object';
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' ? `a ${ctor.name}` : 'an object';
  } catch {
    return 'an object';
  }
}

/**
 * The first line of what a user's code threw, bounded: an Error's message, a thrown
 * string quoted, anything else described.
 * Never throws, whatever was thrown (null-prototype objects, getters that throw,
 * revoked proxies). Cost: O(USER_TEXT_MAX).
 */
export function thrownText(e: unknown): string {
  try {
    if (e instanceof Error) {
      const message: unknown = e.message;
      const text = typeof message === 'string' ? message.split('\n', 1)[0] : '';
      return userText(text === '' ? '(an Error without a message)' : text);
    }
    if (typeof e === 'string') return userText(JSON.stringify(e.slice(0, USER_TEXT_MAX * 4)));
    return `a thrown value that is not an Error (${userText(describeValue(e))})`;
  } catch {
    return 'a thrown value that cannot be described';
  }
}

/**
 * The line the CLI prints for a user's mistake: control characters escaped and the
 * whole bounded to ERROR_LINE_MAX bytes, whatever the message was built from (the last
 * guard; the message's own parts are bounded with `userText` where they are made).
 */
export function errorLine(message: string): string {
  let line = message.length > ERROR_LINE_MAX * 2 ? message.slice(0, ERROR_LINE_MAX * 2) : message;
  line = line.replace(CONTROL, escapeControl);
  if (Buffer.byteLength(line) <= ERROR_LINE_MAX) return line;
  while (Buffer.byteLength(line) > ERROR_LINE_MAX - 3) line = line.slice(0, -8);
  return `${line}…`;
}
