/**
 * Device-supplied text (file names, error messages) shown on the user's terminal. A name such as
 * "\x1b[2J\x1b]0;pwned\x07.py" would clear the screen and retitle the window, and a newline inside a name
 * would forge listing lines, so every control character is shown as an escape instead. The REPL stays a raw
 * terminal on purpose and does not pass through here.
 */

/** C0 controls, DEL, C1 controls, and the Unicode bidirectional overrides that reorder what is shown. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
