/**
 * A transfer progress bar with KB/s. It appears only on a terminal and only once a transfer has run for
 * `delayMs` (quick transfers stay silent), redraws at most every `intervalMs`, and ends its line when done.
 */
import type { Io } from "./io.ts";

export interface ProgressOptions {
  /** Show nothing until this much time has passed. */
  delayMs?: number;
  /** Minimum time between redraws. */
  intervalMs?: number;
  /** Bar width in cells. */
  width?: number;
}

export class ProgressBar {
  readonly #io: Io;
  #label: string;
  readonly #delayMs: number;
  readonly #intervalMs: number;
  readonly #width: number;
  readonly #start: number;
  #lastDraw: number | undefined;
  #drawn = false;

  constructor(io: Io, label: string, options: ProgressOptions = {}) {
    this.#io = io;
    this.#label = label;
    this.#delayMs = options.delayMs ?? 1000;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#width = options.width ?? 30;
    this.#start = io.now();
  }

  /** Reports progress; suitable as a transfer's ProgressCallback. */
  update(done: number, total: number): void {
    if (!this.#io.stdoutIsTerminal) return;
    const now = this.#io.now();
    if (now - this.#start < this.#delayMs) return;
    if (this.#lastDraw !== undefined && now - this.#lastDraw < this.#intervalMs && done < total) return;
    this.#lastDraw = now;
    this.#draw(done, total, now);
  }

  /** A new label, shown from the next redraw (`dsync 3/40 files`). */
  set label(label: string) {
    this.#label = label;
  }

  /** Erases the bar's line (if drawn), so a line of text can take its place; the next update redraws it. */
  clear(): void {
    if (!this.#drawn) return;
    this.#io.out("\r\x1b[K");
    this.#drawn = false;
    this.#lastDraw = undefined;
  }

  /** Draws the final state (if the bar was shown) and ends the line. */
  finish(done: number, total: number): void {
    if (!this.#drawn) return;
    this.#draw(done, total, this.#io.now());
    this.#io.out("\n");
  }

  #draw(done: number, total: number, now: number): void {
    this.#drawn = true;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * this.#width);
    const seconds = Math.max(0.001, (now - this.#start) / 1000);
    const rate = done / 1024 / seconds;
    const bar = "#".repeat(filled) + "-".repeat(this.#width - filled);
    const percent = String(Math.floor(fraction * 100)).padStart(3);
    this.#io.out(`\r${this.#label} [${bar}] ${percent}% ${formatKiB(done)} ${rate.toFixed(1)} KB/s\x1b[K`);
  }
}

function formatKiB(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}
