/**
 * Worker plugin (see WorkerPluginContext in ../worker.ts) giving the emulated device the modules that
 * device/wss_repl.py and device/wss_helper.py import: socket, tls, ssl, websocket,
 * os.dupterm and hashlib.sha1. Their Python sources are in ./python; each network operation is a synchronous host call
 * handled by NetHost (net_host.ts) on the main thread.
 */
import { sha1 } from "npm:@noble/hashes@2.4.0/legacy.js";
import type { WorkerPluginContext } from "../worker.ts";
import hashlibPy from "./python/_emu_hashlib.py" with { type: "text" };
import emuHostPy from "./python/_emu_host.py" with { type: "text" };
import socketPy from "./python/socket.py" with { type: "text" };
import tlsPy from "./python/tls.py" with { type: "text" };
import sslPy from "./python/ssl.py" with { type: "text" };
import websocketPy from "./python/websocket.py" with { type: "text" };
import duptermPy from "./python/_emu_dupterm.py" with { type: "text" };

/** The host-call operation NetHost answers. */
export const NET_HOST_CALL = "wss.net";

/** A message from the main thread: run the listener's accept callback, as the port schedules it. */
export interface AcceptMessage {
  wssAccept: number;
}

export function install(context: WorkerPluginContext): void {
  context.mp.registerJsModule("_emu_net", {
    call: (request: string) => context.callHost(NET_HOST_CALL, request),
  });
  context.mp.registerJsModule("_emu_sha1", {
    digest: (data: Iterable<number>) => sha1(Uint8Array.from(data)),
  });
  // Dependencies first: modules are imported at boot in this order.
  context.addPythonModule("_emu_hashlib", hashlibPy);
  context.addPythonModule("_emu_host", emuHostPy);
  context.addPythonModule("socket", socketPy);
  context.addPythonModule("tls", tlsPy);
  context.addPythonModule("ssl", sslPy);
  context.addPythonModule("websocket", websocketPy);
  context.addPythonModule("_emu_dupterm", duptermPy);
  context.onHostMessage((data) => {
    const listener = (data as Partial<AcceptMessage>).wssAccept;
    if (typeof listener === "number") context.mp.runPython(`__import__("socket")._dispatch(${listener})`);
  });
}
