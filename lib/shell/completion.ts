/**
 * Tab completion on the line as typed so far: command names first, options after a `-`, and then paths: local
 * ones after `>`/`>>` and for the commands that read this computer (put's source, run, lcd, lls, ldu), device
 * ones everywhere else; only directories for the commands that take them (cd, lcd, mkdir, rmdir, ldu). Device directories are listed once and cached until a command may have changed them,
 * so a Tab costs a round trip only the first time in each directory.
 */
import { normalizeRemotePath, remoteJoin } from "../ops/paths.ts";
import { printable } from "../ui/terminal_text.ts";
import { quoteWord, type Token, tokenize } from "./parse.ts";
import { isAbsolute, resolve } from "node:path";

export interface DirectoryEntry {
  name: string;
  isDir: boolean;
}

/** Lists one directory (absolute); null when it is missing or not a directory. */
export type DirectoryLister = (directory: string) => Promise<DirectoryEntry[] | null>;

export interface CompletionSources {
  /** Every command name the shell accepts. */
  commands: string[];
  /** The options of a command (its spellings), empty for an unknown one. */
  optionsOf(command: string): string[];
  /** Which words of a command are local paths. */
  localWord(command: string, positional: number): boolean;
  /** Commands whose paths are directories (cd, rmdir): files are not offered. */
  takesDirectories(command: string): boolean;
  device: DirectoryLister;
  local: DirectoryLister;
  cwd: string;
  localCwd: string;
}

export interface Completion {
  /** The part of the line to replace: from `from` to the cursor. */
  from: number;
  /** What goes there: the longest text every candidate shares, quoted as needed. */
  replacement: string;
  /** Every candidate, as shown in a listing (control characters escaped). */
  candidates: string[];
}

/** The word being completed: its text (unquoted), where it starts, its open quote, and the text as typed. */
interface Word {
  text: string;
  start: number;
  openQuote?: "'" | '"';
  typed: string;
}

/** Completes the word that ends at `cursor`; undefined when nothing fits. */
export async function complete(
  line: string,
  cursor: number,
  sources: CompletionSources,
): Promise<Completion | undefined> {
  const before = line.slice(0, cursor);
  if (before.trimStart().startsWith("!")) return undefined;
  let tokens: Token[];
  try {
    tokens = tokenize(before, { partial: true });
  } catch {
    return undefined;
  }
  const last = tokens.at(-1);
  const inWord = last?.kind === "word" && last.end === before.length;
  const current: Word = inWord
    ? { text: last.text, start: last.start, openQuote: last.openQuote, typed: before.slice(last.start) }
    : { text: "", start: cursor, typed: "" };
  const earlier = inWord ? tokens.slice(0, -1) : tokens;
  const stepStart = earlier.findLastIndex((token) => token.kind === "and") + 1;
  const step = earlier.slice(stepStart);
  const previous = step.at(-1);
  const afterRedirect = previous !== undefined && previous.kind !== "word";
  const words = step.filter((token) => token.kind === "word").map((token) => token.text);
  if (!afterRedirect && words.length === 0) {
    return finish(current, sources.commands.filter((name) => name.startsWith(current.text)), false);
  }
  const command = words[0];
  if (!afterRedirect && current.text.startsWith("-")) {
    return finish(current, sources.optionsOf(command).filter((name) => name.startsWith(current.text)), false);
  }
  const positional = words.slice(1).filter((word) => !word.startsWith("-")).length;
  const local = afterRedirect || sources.localWord(command, positional);
  const list = local ? sources.local : sources.device;
  return await completePath(
    current,
    list,
    local,
    !afterRedirect && sources.takesDirectories(command),
    sources,
  );
}

async function completePath(
  current: Word,
  list: DirectoryLister,
  local: boolean,
  directoriesOnly: boolean,
  sources: CompletionSources,
): Promise<Completion | undefined> {
  const slash = current.text.lastIndexOf("/");
  const directoryPart = current.text.slice(0, slash + 1);
  const namePart = current.text.slice(slash + 1);
  const directory = local
    ? (isAbsolute(directoryPart) ? directoryPart : resolve(sources.localCwd, directoryPart || "."))
    : directoryPart.startsWith("/")
    ? normalizeRemotePath(directoryPart)
    : remoteJoin(sources.cwd, directoryPart || ".");
  const entries = await list(directory) ?? [];
  const names = entries
    .filter((entry) =>
      entry.name.startsWith(namePart) && (namePart.startsWith(".") || !entry.name.startsWith(".")) &&
      (entry.isDir || !directoriesOnly)
    )
    .map((entry) => directoryPart + entry.name + (entry.isDir ? "/" : ""))
    .sort();
  return finish(current, names, true);
}

/**
 * The shared prefix of `names`, with a closing space (and quote) once a single name is complete. A name with
 * control characters is listed (escaped) but never typed into the line: a pattern still reaches it.
 */
function finish(
  current: Word,
  names: string[],
  paths: boolean,
): Completion | undefined {
  if (names.length === 0) return undefined;
  const candidates = names.map((name) =>
    printable(paths ? name.slice(name.lastIndexOf("/", name.length - 2) + 1) : name)
  );
  const typeable = names.filter((name) => printable(name) === name);
  if (typeable.length === 0) return { from: current.start, replacement: current.typed, candidates };
  const shared = typeable.reduce((prefix, name) => {
    let i = 0;
    while (i < prefix.length && i < name.length && prefix[i] === name[i]) i++;
    return prefix.slice(0, i);
  });
  const done = typeable.length === 1 && !(paths && shared.endsWith("/"));
  const closing = done && current.openQuote ? current.openQuote : "";
  return {
    from: current.start,
    replacement: quoteWord(shared, current.openQuote) + closing + (done ? " " : ""),
    candidates,
  };
}

/** Device directory listings for completion, kept until `clear` (after any command that may change files). */
export class ListingCache {
  readonly #listings = new Map<string, Promise<DirectoryEntry[] | null>>();

  constructor(private readonly list: DirectoryLister) {}

  get(directory: string): Promise<DirectoryEntry[] | null> {
    let listing = this.#listings.get(directory);
    if (!listing) {
      listing = this.list(directory);
      this.#listings.set(directory, listing);
      // A failed listing (a dropped link) is not remembered.
      listing.catch(() => this.#listings.delete(directory));
    }
    return listing;
  }

  clear(): void {
    this.#listings.clear();
  }
}
