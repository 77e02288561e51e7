/**
 * The session's receive buffer: bytes appended at the end and consumed from the front, each byte copied a
 * bounded number of times (amortised growth, compaction only when half the space is consumed). A buffer
 * rebuilt for every frame made 16 MiB of device text cost 12 s of CPU and 259 MB.
 */
const INITIAL_BYTES = 4096;
/** After a burst, an emptied queue gives its memory back beyond this. */
const KEEP_BYTES = 1 << 20;

export class ByteQueue {
  #data = new Uint8Array(INITIAL_BYTES);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#end + bytes.length > this.#data.length) {
      const length = this.length;
      if (length + bytes.length <= this.#data.length / 2) {
        this.#data.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(this.#data.length * 2, length + bytes.length));
        grown.set(this.#data.subarray(this.#start, this.#end));
        this.#data = grown;
      }
      this.#start = 0;
      this.#end = length;
    }
    this.#data.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Index of `byte` at or after `from`, or -1. */
  indexOf(byte: number, from = 0): number {
    return this.#view().indexOf(byte, from);
  }

  /** Index of `pattern` starting at or after `from`, or -1. */
  indexOfBytes(pattern: Uint8Array, from = 0): number {
    const view = this.#view();
    const first = pattern[0];
    for (
      let i = view.indexOf(first, from);
      i >= 0 && i + pattern.length <= view.length;
      i = view.indexOf(first, i + 1)
    ) {
      let j = 1;
      while (j < pattern.length && view[i + j] === pattern[j]) j++;
      if (j === pattern.length) return i;
    }
    return -1;
  }

  /** Do the first bytes agree with `pattern` as far as both go? */
  agreesWith(pattern: Uint8Array): boolean {
    const view = this.#view();
    const count = Math.min(view.length, pattern.length);
    for (let i = 0; i < count; i++) if (view[i] !== pattern[i]) return false;
    return true;
  }

  /** Removes and returns the first `count` bytes (a copy). */
  take(count: number): Uint8Array {
    const bytes = this.#view().slice(0, count);
    this.drop(count);
    return bytes;
  }

  /** Removes the first `count` bytes. */
  drop(count: number): void {
    this.#start = Math.min(this.#end, this.#start + count);
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#data.length > KEEP_BYTES) this.#data = new Uint8Array(INITIAL_BYTES);
    }
  }

  /** A copy of the first `count` bytes, left in place. */
  peek(count: number): Uint8Array {
    return this.#view().slice(0, count);
  }

  #view(): Uint8Array {
    return this.#data.subarray(this.#start, this.#end);
  }
}
