/**
 * The ESP32's TCP sending side, as the emulated device's WebREPL writes see it: the send buffer and Nagle.
 *
 * - WebREPL's socket is non-blocking and the firmware ignores partial writes: what does not fit in lwIP's send
 *   buffer (ESP-IDF default 5,744 B) is dropped without a word.
 * - Nagle (stock webrepl leaves it on): a segment shorter than the MSS waits while sent data is unacknowledged.
 *   Each WebREPL frame is two writes (header, payload), so with one request outstanding the payload waits for
 *   the host's delayed ACK of the header (Linux: up to 40 ms), the 44 ms per exchange measured on real firmware.
 * - Acknowledgement: any bytes from the host acknowledge everything sent, and the host acknowledges at once
 *   when two full segments are outstanding (on loopback; no round trip is modelled).
 *
 * Against real MicroPython's GET of 1 MiB with 1 / 16 / 64 pulls in flight (5.7 / 3,901 / 4,710 KB/s, no ACK
 * pings) this gives 5.6 / 4,165 / 5,388 KB/s (scripts/bench_webrepl.ts); the host kernel's own Nagle, which
 * counts ACK numbers, stalled every round of a pipelined GET (5.3 / 80 / 240 KB/s). So the emulator's sockets
 * run with TCP_NODELAY and this model decides when bytes leave.
 */

/** ESP-IDF's default TCP send buffer (CONFIG_LWIP_TCP_SND_BUF_DEFAULT). */
export const ESP32_SEND_BUFFER_BYTES = 5744;
/** lwIP's MSS on ESP32. */
const MSS = 1436;
/** Linux's delayed-ACK bound. */
const DELAYED_ACK_MS = 40;

export interface SendModelOptions {
  capacity?: number;
  /** Whether Nagle applies now (false once the device code set TCP_NODELAY, as wss_repl does). */
  nagle?: () => boolean;
  /** Called with the number of bytes dropped by a write that did not fit. */
  onDrop?: (bytes: number) => void;
}

export class TcpSendModel {
  readonly capacity: number;
  readonly #deliver: (bytes: Uint8Array) => void;
  readonly #nagle: () => boolean;
  readonly #onDrop: (bytes: number) => void;
  /** Sent and not yet acknowledged. */
  #inFlight = 0;
  /** Accepted by a write, not yet sent (held by Nagle). */
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  #delayedAck: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** `deliver` puts bytes on the wire (a socket with TCP_NODELAY), in order. */
  constructor(deliver: (bytes: Uint8Array) => void, options: SendModelOptions = {}) {
    this.#deliver = deliver;
    this.capacity = options.capacity ?? ESP32_SEND_BUFFER_BYTES;
    this.#nagle = options.nagle ?? (() => true);
    this.#onDrop = options.onDrop ?? (() => {});
  }

  /** Bytes in the send buffer: sent and unacknowledged, or waiting to be sent. */
  get buffered(): number {
    return this.#inFlight + this.#queuedBytes;
  }

  /** One non-blocking send: the part that fits is accepted (and returned), the rest is dropped. */
  write(bytes: Uint8Array): number {
    if (this.#closed) return 0;
    const room = Math.max(0, this.capacity - this.buffered);
    const accepted = bytes.length <= room ? bytes : bytes.subarray(0, room);
    if (accepted.length < bytes.length) this.#onDrop(bytes.length - accepted.length);
    if (accepted.length > 0) {
      this.#queued.push(accepted.slice());
      this.#queuedBytes += accepted.length;
      this.#flush();
    }
    return accepted.length;
  }

  /** The host sent something: its segment acknowledges everything sent so far. */
  peerSent(): void {
    this.#acknowledge();
  }

  /** The device closes the socket: what it holds still goes out (lwIP sends it before the FIN). */
  close(): void {
    if (this.#closed) return;
    while (this.#queuedBytes > 0) this.#deliver(this.#take(MSS));
    this.#closed = true;
    clearTimeout(this.#delayedAck);
  }

  #flush(): void {
    while (this.#queuedBytes > 0 && !this.#closed) {
      const mayHold = this.#nagle() && this.#inFlight > 0 && this.#queuedBytes < MSS;
      if (mayHold) return;
      const segment = this.#take(MSS);
      this.#inFlight += segment.length;
      this.#deliver(segment);
      if (this.#inFlight >= 2 * MSS) this.#acknowledge();
      else this.#delayedAck ??= setTimeout(() => this.#acknowledge(), DELAYED_ACK_MS);
    }
  }

  /** Up to `max` queued bytes as one segment. */
  #take(max: number): Uint8Array {
    const size = Math.min(max, this.#queuedBytes);
    const segment = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const head = this.#queued[0];
      const part = head.subarray(0, size - filled);
      segment.set(part, filled);
      filled += part.length;
      if (part.length === head.length) this.#queued.shift();
      else this.#queued[0] = head.subarray(part.length);
    }
    this.#queuedBytes -= size;
    return segment;
  }

  #acknowledge(): void {
    clearTimeout(this.#delayedAck);
    this.#delayedAck = undefined;
    this.#inFlight = 0;
    this.#flush();
  }
}
