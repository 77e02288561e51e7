/** Minimal assertions (JSR's @std/assert is unreachable here); node:assert's strict mode covers the rest. */
import assert from "node:assert/strict";

export const assertEquals: <T>(actual: T, expected: T, message?: string) => void = assert.deepStrictEqual;
export const assertNotEquals: (actual: unknown, expected: unknown, message?: string) => void =
  assert.notDeepStrictEqual;

export function assert_(condition: unknown, message = "assertion failed"): asserts condition {
  assert.ok(condition, message);
}
export { assert_ as assert };

export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  assert.match(actual, expected, message);
}

export function assertStringIncludes(actual: string, expected: string): void {
  if (!actual.includes(expected)) {
    throw new assert.AssertionError({
      message: `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
    });
  }
}

export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  errorClass?: abstract new (...args: never[]) => E,
  messageIncludes?: string | RegExp,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (errorClass && !(error instanceof errorClass)) {
      throw new assert.AssertionError({ message: `expected ${errorClass.name}, got ${String(error)}` });
    }
    const message = (error as Error).message;
    if (typeof messageIncludes === "string" && !message.includes(messageIncludes)) {
      throw new assert.AssertionError({
        message: `expected message to include ${JSON.stringify(messageIncludes)}: ${message}`,
      });
    }
    if (messageIncludes instanceof RegExp && !messageIncludes.test(message)) {
      throw new assert.AssertionError({
        message: `expected message to match ${messageIncludes}: ${message}`,
      });
    }
    return error as E;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: abstract new (...args: never[]) => E,
  messageIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (errorClass && !(error instanceof errorClass)) {
      throw new assert.AssertionError({ message: `expected ${errorClass.name}, got ${String(error)}` });
    }
    if (messageIncludes && !(error as Error).message.includes(messageIncludes)) {
      throw new assert.AssertionError({
        message: `expected message to include ${JSON.stringify(messageIncludes)}: ${
          (error as Error).message
        }`,
      });
    }
    return error as E;
  }
  throw new assert.AssertionError({ message: "expected an exception" });
}
