/** Minimal assertions (no @std: JSR is unreachable). */

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const a = JSON.stringify(actual, bytesAsHex);
  const e = JSON.stringify(expected, bytesAsHex);
  if (a !== e) throw new Error(`${message}\nactual:   ${a}\nexpected: ${e}`);
}

function bytesAsHex(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? `hex:${value.toHex()}` : value;
}

export async function assertRejects<E extends Error>(
  run: () => Promise<unknown>,
  errorClass: new (...args: never[]) => E,
  includes?: string | RegExp,
): Promise<E> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof errorClass)) {
      throw new Error(`expected ${errorClass.name}, got ${error instanceof Error ? error.stack : error}`);
    }
    if (includes !== undefined) {
      const matches = typeof includes === "string"
        ? error.message.includes(includes)
        : includes.test(error.message);
      if (!matches) {
        throw new Error(`error message ${JSON.stringify(error.message)} does not match ${includes}`);
      }
    }
    return error;
  }
  throw new Error(`expected ${errorClass.name}, but nothing was thrown`);
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
