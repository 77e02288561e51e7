/**
 * Shell lines: words with '…' and "…" quotes and backslash escapes, `a && b`, `> FILE` / `>> FILE`, and `!cmd`
 * for the local shell. Patterns (`*.py`) stay in the words: each command expands them on the device or here,
 * exactly as `upydev ACTION '*.py'` would, so the shell and the CLI cannot disagree about a glob.
 *
 * The tokenizer also reads unfinished lines (an open quote, a trailing `&&`), because completion works on the
 * line as typed so far.
 */
import { UserError } from "../cli/errors.ts";

export type Token =
  | {
    kind: "word";
    text: string;
    /** Where the word starts in the line (its opening quote included) and where it ends. */
    start: number;
    end: number;
    /** The quote still open at the end of the line, for completion inside it. */
    openQuote?: "'" | '"';
  }
  | { kind: "and" | "write" | "append"; start: number; end: number };

/** Output of one command written to a local file instead of the terminal. */
export interface Redirect {
  path: string;
  append: boolean;
}

export interface CommandStep {
  words: string[];
  redirect?: Redirect;
}

export type ShellLine =
  | { kind: "steps"; steps: CommandStep[] }
  /** `!cmd`: the rest of the line for the local shell, as typed. */
  | { kind: "local"; command: string };

/** Characters that end a word unless quoted or escaped. */
const OPERATOR_START = new Set(["&", ">", "|"]);

/** Splits a line into words and operators; with `partial`, an open quote ends the last word instead of failing. */
export function tokenize(line: string, options: { partial?: boolean } = {}): Token[] {
  const tokens: Token[] = [];
  let word: Extract<Token, { kind: "word" }> | undefined;
  let quote: "'" | '"' | undefined;
  const startWord = (at: number) => {
    word ??= { kind: "word", text: "", start: at, end: at };
    return word;
  };
  const endWord = (at: number) => {
    if (!word) return;
    word.end = at;
    tokens.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < line.length && /["\\]/.test(line[i + 1])) {
        word!.text += line[++i];
      } else word!.text += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      startWord(i);
    } else if (char === "\\" && i + 1 < line.length) {
      startWord(i).text += line[++i];
    } else if (/\s/.test(char)) {
      endWord(i);
    } else if (OPERATOR_START.has(char)) {
      endWord(i);
      if (char === "&" && line[i + 1] === "&") {
        tokens.push({ kind: "and", start: i, end: i + 2 });
        i++;
      } else if (char === ">") {
        const append = line[i + 1] === ">";
        tokens.push({ kind: append ? "append" : "write", start: i, end: i + (append ? 2 : 1) });
        if (append) i++;
      } else {
        throw new UserError(
          char === "|"
            ? "pipes are not supported: '> FILE' writes a command's output to a local file"
            : "'&' alone is not supported: 'a && b' runs b after a succeeded; quote '&' in a name",
        );
      }
    } else {
      startWord(i).text += char;
    }
  }
  if (quote) {
    if (!options.partial) throw new UserError("unterminated quote");
    word!.openQuote = quote;
  }
  endWord(line.length);
  return tokens;
}

/** A whole line, checked: every `&&` between two commands, every redirection followed by a file name. */
export function parseLine(line: string): ShellLine {
  const trimmed = line.trimStart();
  if (trimmed.startsWith("!")) {
    const command = trimmed.slice(1).trim();
    if (command === "") throw new UserError("'!' needs a command for the local shell: !ls -l");
    return { kind: "local", command };
  }
  const steps: CommandStep[] = [];
  let step: CommandStep = { words: [] };
  const tokens = tokenize(line);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "word") {
      step.words.push(token.text);
    } else if (token.kind === "and") {
      if (step.words.length === 0) throw new UserError("'&&' needs a command on both sides");
      steps.push(step);
      step = { words: [] };
    } else {
      const target = tokens[i + 1];
      if (target?.kind !== "word" || target.text === "") {
        throw new UserError(`'${token.kind === "append" ? ">>" : ">"}' needs a local file name`);
      }
      if (step.redirect) throw new UserError("one '>' or '>>' per command");
      step.redirect = { path: target.text, append: token.kind === "append" };
      i++;
    }
  }
  if (step.words.length === 0 && (steps.length > 0 || step.redirect)) {
    throw new UserError(steps.length > 0 ? "'&&' needs a command on both sides" : "'>' needs a command");
  }
  if (step.words.length > 0) steps.push(step);
  return { kind: "steps", steps };
}

/** Characters that need a backslash outside quotes for a name to stay one literal word. */
const NEEDS_ESCAPE = /[\s'"\\&>|]/g;

/**
 * `name` as it must be typed to come back as one word: inside the quote the user opened, or with backslashes
 * before spaces and shell characters.
 */
export function quoteWord(name: string, openQuote?: "'" | '"'): string {
  if (openQuote === "'" && !name.includes("'")) return `'${name}`;
  if (openQuote === '"') return `"${name.replace(/["\\]/g, "\\$&")}`;
  return name.replace(NEEDS_ESCAPE, "\\$&");
}
