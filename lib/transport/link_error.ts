/**
 * A fault of the link to a device (lost, silent, too slow, too much, malformed), with a stable code above the
 * socket so group runs and `--json` can report kinds of failure, and a one-line message naming the device for
 * everyone else. It is a UserError: the user acts on it (check the device, reconnect), it is not a bug.
 */
import { UserError } from "../cli/errors.ts";
import type { WsErrorCode } from "../ws/frame.ts";

export type LinkErrorCode =
  /** The connection ended while an answer was awaited. */
  | "LINK_LOST"
  /** The connection ended inside a WebSocket frame. */
  | "LINK_LOST_MID_FRAME"
  /** Nothing arrived within the inactivity bound. */
  | "LINK_SILENT"
  /** Data kept arriving but the awaited answer did not come within the overall bound. */
  | "LINK_DEADLINE"
  /** More data than is kept in memory for one answer. */
  | "LINK_TOO_MUCH_DATA"
  /** The device answered something other than the protocol allows. */
  | "LINK_UNEXPECTED_REPLY"
  /** The session was left in an unknown state by an earlier failure and must be reopened. */
  | "LINK_UNUSABLE"
  /** A WebSocket framing violation; the frame parser's code says which. */
  | WsErrorCode;

export class LinkError extends UserError {
  readonly code: LinkErrorCode;
  constructor(code: LinkErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "LinkError";
    this.code = code;
  }
}
