/**
 * The shell's line editor: a pure state machine fed raw terminal bytes, writing its own echo through an
 * injected writer. Control keys that belong to the shell (toggle, exit, key list) come out as events, so the
 * shell can act on them in either mode and tests can drive every key exactly.
 */

export type ShellKey = "toggle-mode" | "exit" | "show-keys" | "eof";

export type EditorEvent =
  | { kind: "line"; text: string }
  | { kind: "key"; key: ShellKey };

export const CTRL = {
  C: 0x03,
  D: 0x04,
  K: 0x0b,
  S: 0x13,
  X: 0x18,
  A: 0x01,
  E: 0x05,
  U: 0x15,
} as const;
const ESC = 0x1b;
const BACKSPACE = 0x7f;
const CTRL_H = 0x08;

/** Keys the shell intercepts in both modes; every other byte goes to the editor or, in REPL mode, the device. */
export function shellKeyOf(byte: number): ShellKey | undefined {
  if (byte === CTRL.S) return "toggle-mode";
  if (byte === CTRL.X) return "exit";
  if (byte === CTRL.K) return "show-keys";
  return undefined;
}

export class LineEditor {
  #prompt = "";
  #chars: string[] = [];
  #cursor = 0;
  #escape: number[] | undefined;
  #historyIndex: number;
  #draft: string[] = [];
  readonly #decoder = new TextDecoder();

  constructor(private readonly write: (text: string) => void, private readonly history: string[] = []) {
    this.#historyIndex = history.length;
  }

  /** Shows a fresh prompt with an empty line. */
  prompt(prompt: string): void {
    this.#prompt = prompt;
    this.#chars = [];
    this.#cursor = 0;
    this.#historyIndex = this.history.length;
    this.write(prompt);
  }

  get text(): string {
    return this.#chars.join("");
  }

  feed(bytes: Uint8Array): EditorEvent[] {
    const events: EditorEvent[] = [];
    for (const byte of bytes) {
      if (this.#escape) {
        this.#escapeByte(byte);
        continue;
      }
      const key = shellKeyOf(byte);
      if (key) {
        events.push({ kind: "key", key });
        continue;
      }
      switch (byte) {
        case 0x0d:
        case 0x0a: {
          const text = this.text;
          this.write("\r\n");
          if (text.trim() !== "" && this.history.at(-1) !== text) this.history.push(text);
          this.#chars = [];
          this.#cursor = 0;
          events.push({ kind: "line", text });
          break;
        }
        case CTRL.C:
          this.write("^C\r\n");
          this.prompt(this.#prompt);
          break;
        case CTRL.D:
          if (this.#chars.length === 0) events.push({ kind: "key", key: "eof" });
          break;
        case BACKSPACE:
        case CTRL_H:
          if (this.#cursor > 0) {
            this.#chars.splice(--this.#cursor, 1);
            this.#redraw();
          }
          break;
        case CTRL.A:
          this.#moveTo(0);
          break;
        case CTRL.E:
          this.#moveTo(this.#chars.length);
          break;
        case CTRL.U:
          this.#chars.splice(0, this.#cursor);
          this.#cursor = 0;
          this.#redraw();
          break;
        case ESC:
          this.#escape = [];
          break;
        default:
          if (byte >= 0x20) this.#insert(this.#decoder.decode(Uint8Array.of(byte), { stream: true }));
      }
    }
    return events;
  }

  #escapeByte(byte: number): void {
    const sequence = this.#escape!;
    sequence.push(byte);
    // CSI sequences end with a byte in 0x40..0x7e; SS3 (ESC O x) after one more byte.
    if (sequence.length === 1 && byte !== 0x5b && byte !== 0x4f) {
      this.#escape = undefined;
      return;
    }
    if (sequence.length === 1 || (sequence[0] === 0x5b && (byte < 0x40 || byte > 0x7e))) return;
    this.#escape = undefined;
    const final = String.fromCharCode(byte);
    const parameters = String.fromCharCode(...sequence.slice(1, -1));
    if (final === "A") this.#recall(-1);
    else if (final === "B") this.#recall(1);
    else if (final === "C") this.#moveTo(Math.min(this.#chars.length, this.#cursor + 1));
    else if (final === "D") this.#moveTo(Math.max(0, this.#cursor - 1));
    else if (final === "H" || (final === "~" && (parameters === "1" || parameters === "7"))) this.#moveTo(0);
    else if (final === "F" || (final === "~" && (parameters === "4" || parameters === "8"))) {
      this.#moveTo(this.#chars.length);
    } else if (final === "~" && parameters === "3" && this.#cursor < this.#chars.length) {
      this.#chars.splice(this.#cursor, 1);
      this.#redraw();
    }
  }

  #insert(text: string): void {
    if (text === "") return;
    const inserted = [...text];
    this.#chars.splice(this.#cursor, 0, ...inserted);
    this.#cursor += inserted.length;
    if (this.#cursor === this.#chars.length) this.write(text);
    else this.#redraw();
  }

  #recall(direction: -1 | 1): void {
    const next = this.#historyIndex + direction;
    if (next < 0 || next > this.history.length) return;
    if (this.#historyIndex === this.history.length) this.#draft = this.#chars;
    this.#historyIndex = next;
    this.#chars = next === this.history.length ? this.#draft : [...this.history[next]];
    this.#cursor = this.#chars.length;
    this.#redraw();
  }

  #moveTo(position: number): void {
    if (position === this.#cursor) return;
    const delta = position - this.#cursor;
    this.write(delta > 0 ? `\x1b[${delta}C` : `\x1b[${-delta}D`);
    this.#cursor = position;
  }

  #redraw(): void {
    const tail = this.#chars.length - this.#cursor;
    this.write(`\r${this.#prompt}${this.text}\x1b[K${tail > 0 ? `\x1b[${tail}D` : ""}`);
  }
}
