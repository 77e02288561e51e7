/**
 * The shell's line editor: a pure state machine fed raw terminal bytes, writing its own echo through an
 * injected writer. Control keys that belong to the shell (toggle, exit, key list, editor, ...) and Tab come out
 * as events, so the shell can act on them (completion needs the device) and tests can drive every key exactly.
 */

export type ShellKey =
  | "toggle-mode"
  | "exit"
  | "show-keys"
  | "eof"
  | "edit-script"
  | "rerun-script"
  | "banner"
  | "memory"
  | "gc"
  | "device-info"
  | "repeat";

export type EditorEvent =
  | { kind: "line"; text: string }
  | { kind: "key"; key: ShellKey }
  /** Tab (`list` false: complete; a second Tab lists) or Shift-Tab (`list` true: list the candidates). */
  | { kind: "complete"; list: boolean };

export const CTRL = {
  SPACE: 0x00,
  A: 0x01,
  B: 0x02,
  C: 0x03,
  D: 0x04,
  E: 0x05,
  G: 0x07,
  K: 0x0b,
  N: 0x0e,
  R: 0x12,
  S: 0x13,
  T: 0x14,
  U: 0x15,
  W: 0x17,
  X: 0x18,
  Y: 0x19,
} as const;
const TAB = 0x09;
const ESC = 0x1b;
const BACKSPACE = 0x7f;
const CTRL_H = 0x08;

/** Keys of the shell in both modes: REPL mode passes every other control key to the device's own REPL. */
const EVERY_MODE_KEYS = new Map<number, ShellKey>([
  [CTRL.S, "toggle-mode"],
  [CTRL.X, "exit"],
  [CTRL.K, "show-keys"],
  [CTRL.E, "edit-script"],
  [CTRL.T, "rerun-script"],
]);

/** Keys of shell mode only: in REPL mode the device's line editor uses CTRL-b, -n, -w (and CTRL-d resets). */
const SHELL_MODE_KEYS = new Map<number, ShellKey>([
  [CTRL.B, "banner"],
  [CTRL.N, "memory"],
  [CTRL.Y, "gc"],
  [CTRL.W, "device-info"],
  [CTRL.SPACE, "repeat"],
]);

export function shellKeyOf(byte: number, mode: "shell" | "repl"): ShellKey | undefined {
  return EVERY_MODE_KEYS.get(byte) ?? (mode === "shell" ? SHELL_MODE_KEYS.get(byte) : undefined);
}

/** CTRL-r: the query typed so far, the history entry it found, and the line to restore on cancel. */
interface Search {
  query: string;
  index: number | undefined;
  saved: string[];
}

export class LineEditor {
  #prompt = "";
  #chars: string[] = [];
  #cursor = 0;
  #escape: number[] | undefined;
  #historyIndex: number;
  #draft: string[] = [];
  #search: Search | undefined;
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
    this.#search = undefined;
    this.write(prompt);
  }

  get text(): string {
    return this.#chars.join("");
  }

  /** Cursor position in UTF-16 code units of `text`, as completion counts. */
  get cursor(): number {
    return this.#chars.slice(0, this.#cursor).join("").length;
  }

  /** Replaces the text from `from` (a `cursor`-style offset) up to the cursor, as completion does. */
  replaceBeforeCursor(from: number, text: string): void {
    const start = [...this.text.slice(0, from)].length;
    const inserted = [...text];
    this.#chars.splice(start, this.#cursor - start, ...inserted);
    this.#cursor = start + inserted.length;
    this.redraw();
  }

  /** Shows lines below the current one (completion candidates) and redraws the prompt and line under them. */
  showBelow(text: string): void {
    this.write(`\r\n${text}`);
    this.redraw();
  }

  feed(bytes: Uint8Array): EditorEvent[] {
    const events: EditorEvent[] = [];
    for (const byte of bytes) {
      if (this.#escape) {
        this.#escapeByte(byte, events);
        continue;
      }
      if (this.#search && this.#searchByte(byte)) continue;
      const key = shellKeyOf(byte, "shell");
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
        case TAB:
          events.push({ kind: "complete", list: false });
          break;
        case CTRL.C:
          this.write("^C\r\n");
          this.prompt(this.#prompt);
          break;
        case CTRL.D:
          if (this.#chars.length === 0) events.push({ kind: "key", key: "eof" });
          break;
        case CTRL.R:
          this.#search = { query: "", index: undefined, saved: this.#chars };
          this.#drawSearch();
          break;
        case BACKSPACE:
        case CTRL_H:
          if (this.#cursor > 0) {
            this.#chars.splice(--this.#cursor, 1);
            this.redraw();
          }
          break;
        case CTRL.A:
          this.#moveTo(0);
          break;
        case CTRL.U:
          this.#chars.splice(0, this.#cursor);
          this.#cursor = 0;
          this.redraw();
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

  /** One byte while searching; false when it ends the search and is to be handled as a normal key. */
  #searchByte(byte: number): boolean {
    const search = this.#search!;
    if (byte === CTRL.R) {
      this.#find(search, (search.index ?? this.history.length) - 1);
    } else if (byte === CTRL.C || byte === CTRL.G) {
      this.#search = undefined;
      this.#chars = search.saved;
      this.#cursor = this.#chars.length;
      this.redraw();
    } else if (byte === BACKSPACE || byte === CTRL_H) {
      search.query = [...search.query].slice(0, -1).join("");
      this.#find(search, this.history.length - 1);
    } else if (byte >= 0x20) {
      search.query += this.#decoder.decode(Uint8Array.of(byte), { stream: true });
      this.#find(search, search.index ?? this.history.length - 1);
    } else {
      // Enter, an arrow or any other key takes the found line into the editor and then acts on it.
      this.#search = undefined;
      this.#chars = search.index === undefined ? search.saved : [...this.history[search.index]];
      this.#cursor = this.#chars.length;
      this.redraw();
      return false;
    }
    return true;
  }

  /** The newest history entry at or before `from` that contains the query. */
  #find(search: Search, from: number): void {
    if (search.query !== "") {
      for (let i = Math.min(from, this.history.length - 1); i >= 0; i--) {
        if (this.history[i].includes(search.query)) {
          search.index = i;
          break;
        }
      }
    }
    this.#drawSearch();
  }

  #drawSearch(): void {
    const search = this.#search!;
    const found = search.index === undefined ? "" : this.history[search.index];
    this.write(`\r(reverse-i-search)'${search.query}': ${found}\x1b[K`);
  }

  #escapeByte(byte: number, events: EditorEvent[]): void {
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
    if (final === "Z") events.push({ kind: "complete", list: true });
    else if (final === "A") this.#recall(-1);
    else if (final === "B") this.#recall(1);
    else if (final === "C") this.#moveTo(Math.min(this.#chars.length, this.#cursor + 1));
    else if (final === "D") this.#moveTo(Math.max(0, this.#cursor - 1));
    else if (final === "H" || (final === "~" && (parameters === "1" || parameters === "7"))) this.#moveTo(0);
    else if (final === "F" || (final === "~" && (parameters === "4" || parameters === "8"))) {
      this.#moveTo(this.#chars.length);
    } else if (final === "~" && parameters === "3" && this.#cursor < this.#chars.length) {
      this.#chars.splice(this.#cursor, 1);
      this.redraw();
    }
  }

  #insert(text: string): void {
    if (text === "") return;
    const inserted = [...text];
    this.#chars.splice(this.#cursor, 0, ...inserted);
    this.#cursor += inserted.length;
    if (this.#cursor === this.#chars.length) this.write(text);
    else this.redraw();
  }

  #recall(direction: -1 | 1): void {
    const next = this.#historyIndex + direction;
    if (next < 0 || next > this.history.length) return;
    if (this.#historyIndex === this.history.length) this.#draft = this.#chars;
    this.#historyIndex = next;
    this.#chars = next === this.history.length ? this.#draft : [...this.history[next]];
    this.#cursor = this.#chars.length;
    this.redraw();
  }

  #moveTo(position: number): void {
    if (position === this.#cursor) return;
    const delta = position - this.#cursor;
    this.write(delta > 0 ? `\x1b[${delta}C` : `\x1b[${-delta}D`);
    this.#cursor = position;
  }

  /** Draws the prompt and the line again from the start of the current screen line. */
  redraw(): void {
    const tail = this.#chars.length - this.#cursor;
    this.write(`\r${this.#prompt}${this.text}\x1b[K${tail > 0 ? `\x1b[${tail}D` : ""}`);
  }
}
