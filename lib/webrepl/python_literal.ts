/**
 * Python source literals for code sent to the device. Every path that reaches device code goes through here,
 * so a name with quotes, backslashes or newlines can never change the program.
 */

/** A single-quoted Python str literal for `text` (non-ASCII kept as UTF-8, which MicroPython parses). */
export function pyStr(text: string): string {
  let out = "'";
  for (const char of text.toWellFormed()) {
    const code = char.codePointAt(0)!;
    if (char === "\\") out += "\\\\";
    else if (char === "'") out += "\\'";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out + "'";
}
