/**
 * The ESP32's TCP send buffer, as the emulated device's WebREPL writes see it.
 *
 * WebREPL's socket is non-blocking and the firmware ignores partial writes: what does not fit in lwIP's send
 * buffer (ESP-IDF default 5,744 B) is dropped without a word. Data leaves that buffer only when the host
 * acknowledges it. The host's TCP acknowledges at once when it sends anything (the ACK rides along) or when two
 * full segments are unacknowledged, and otherwise after its delayed-ACK timer (Linux: up to 40 ms). Each
 * acknowledgement reaches the device one round trip after the data left it (`rttMs`: 0 on loopback, a few ms
 * over WiFi).
 *
 * The host's kernel does the real work (Nagle on the device side, the host's real delayed ACK); this model only
 * decides which bytes a real board would have dropped, so a client that keeps more replies in flight than the
 * buffer holds fails here as it would on the board.
 */

/** ESP-IDF's default TCP send buffer (CONFIG_LWIP_TCP_SND_BUF_DEFAULT). */
export const ESP32_SEND_BUFFER_BYTES = 5744;
/** lwIP's MSS on ESP32. */
const MSS = 1436;
/** Linux's delayed-ACK bound. */
const DELAYED_ACK_MS = 40;

export interface SendBufferOptions {
  capacity?: number;
  /** Round trip between the device and the host. */
  rttMs?: number;
  /** Called with the number of bytes dropped by a write that did not fit. */
  onDrop?: (bytes: number) => void;
}

export class TcpSendBuffer {
  readonly capacity: number;
  readonly #rttMs: number;
  readonly #onDrop: (bytes: number) => void;
  /** Bytes written and not yet acknowledged. */
  #unacked = 0;
  /** Bytes covered by an acknowledgement that is on its way back. */
  #acking = 0;
  #delayedAck: ReturnType<typeof setTimeout> | undefined;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: SendBufferOptions = {}) {
    this.capacity = options.capacity ?? ESP32_SEND_BUFFER_BYTES;
    this.#rttMs = options.rttMs ?? 0;
    this.#onDrop = options.onDrop ?? (() => {});
  }

  /** Bytes waiting for an acknowledgement. */
  get unacknowledged(): number {
    return this.#unacked;
  }

  /** The part of `bytes` that fits (what a non-blocking send accepts); the rest is dropped. */
  write(bytes: Uint8Array): Uint8Array {
    const room = Math.max(0, this.capacity - this.#unacked);
    const accepted = bytes.length <= room ? bytes : bytes.subarray(0, room);
    if (accepted.length < bytes.length) this.#onDrop(bytes.length - accepted.length);
    this.#unacked += accepted.length;
    if (this.#unacked - this.#acking >= 2 * MSS) this.#acknowledge();
    else if (this.#unacked > this.#acking) {
      this.#delayedAck ??= setTimeout(() => this.#acknowledge(), DELAYED_ACK_MS);
    }
    return accepted;
  }

  /** The host sent something: its segment acknowledges everything it has received. */
  peerSent(): void {
    if (this.#unacked > this.#acking) this.#acknowledge();
  }

  /** Stops the timers (the connection ended). */
  close(): void {
    clearTimeout(this.#delayedAck);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #acknowledge(): void {
    clearTimeout(this.#delayedAck);
    this.#delayedAck = undefined;
    const covered = this.#unacked - this.#acking;
    if (covered <= 0) return;
    this.#acking += covered;
    const arrive = () => {
      this.#unacked -= covered;
      this.#acking -= covered;
    };
    if (this.#rttMs === 0) return arrive();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      arrive();
    }, this.#rttMs);
    this.#timers.add(timer);
  }
}
