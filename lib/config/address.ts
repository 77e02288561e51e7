/**
 * Device addresses as users type them after `-t`: IPv4, IPv4:port, host names, NAME.local, ws:// and wss://
 * URLs. Everything else is rejected with the reason, so a typo never becomes a DNS lookup of garbage.
 */
import { UserError } from "../cli/errors.ts";

export interface DeviceAddress {
  host: string;
  port?: number;
  /** Set when the user wrote a URL: wss:// selects mutual TLS. */
  scheme?: "ws" | "wss";
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** Labels of letters, digits, '-' and '_' (upydev device names such as esp_room1.local use '_'). */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

export function parseAddress(text: string): DeviceAddress {
  const invalid = (reason: string) =>
    new UserError(`invalid device address '${text}': ${reason}`, { exitCode: 2 });
  let rest = text.trim();
  let scheme: DeviceAddress["scheme"];
  const url = /^([a-z]+):\/\/(.*)$/i.exec(rest);
  if (url) {
    const name = url[1].toLowerCase();
    if (name !== "ws" && name !== "wss") throw invalid(`scheme '${url[1]}://' is not ws:// or wss://`);
    scheme = name;
    rest = url[2].replace(/\/+$/, "");
    if (rest.includes("/")) throw invalid("a device address has no path");
  }
  if (rest === "") throw invalid("it is empty");
  let port: number | undefined;
  const withPort = /^(.*):([^:]*)$/.exec(rest);
  if (withPort) {
    rest = withPort[1];
    if (!/^\d{1,5}$/.test(withPort[2]) || Number(withPort[2]) < 1 || Number(withPort[2]) > 65535) {
      throw invalid(`port '${withPort[2]}' is not a number from 1 to 65535`);
    }
    port = Number(withPort[2]);
  }
  const ipv4 = IPV4.exec(rest);
  if (ipv4) {
    if (ipv4.slice(1).some((octet) => Number(octet) > 255)) throw invalid("an IPv4 octet is over 255");
  } else if (/^[\d.]+$/.test(rest)) {
    throw invalid("an IPv4 address has four numbers separated by dots");
  } else if (rest.includes(":") || rest.startsWith("[")) {
    throw invalid("IPv6 addresses are not supported by MicroPython's WebREPL");
  } else if (/^(COM\d+|\/dev\/)/i.test(rest)) {
    throw invalid("serial ports are not supported yet (WebREPL over WiFi only)");
  } else if (!HOST_NAME.test(rest)) {
    throw invalid("a host name has letters, digits, '-', '_' and dots only");
  }
  return { host: rest, port, scheme };
}

export function isIpAddress(host: string): boolean {
  return IPV4.test(host);
}

export function formatAddress(address: DeviceAddress): string {
  const hostPort = address.port === undefined ? address.host : `${address.host}:${address.port}`;
  return address.scheme ? `${address.scheme}://${hostPort}` : hostPort;
}
