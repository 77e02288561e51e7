/**
 * The grammar of `upydev kg` (what `--help` and the parser need), kept apart from its implementation so that
 * every other command starts without loading the X.509 and crypto libraries: they load on the first `kg`.
 */
import type { CommandSpec } from "../cli/command.ts";
import { JSON_OPTION } from "../cli/parse.ts";

import { HOST_PASSPHRASE_ENV } from "../hostkey/names.ts";

export { HOST_PASSPHRASE_ENV };
export const CA_PASSPHRASE_ENV = "UPYDEV_CA_PASSPHRASE";

export const KG_GRAMMAR: Omit<CommandSpec, "run"> = {
  name: "kg",
  summary: "generate keys and certificates: kg ssl CA | kg ssl host | kg ssl [-tfkey] (device)",
  usage: "kg ssl [CA|host|dev|import] [status|export|add|rotate] [ARG] [options]",
  description: [
    "kg ssl CA [-tfkey] [--force]      new ROOT CA; -tfkey uploads ROOT_CA_cert.pem to the device",
    "kg ssl CA status|rotate           show the CA / swap it with the previous one",
    "kg ssl CA export [DIR]            copy the CA certificate and (encrypted) key to DIR (default: here)",
    "kg ssl CA add [--cert F --key F]  use another computer's CA (default: ./ROOT_CA_cert.pem, ./ROOT_CA_key.pem)",
    "kg ssl host [status]              host key + certificate for mutual TLS",
    "kg ssl [-tfkey] [-@ NAME...]      device key + certificate; -tfkey sends them to the device as DER;",
    "                                  over several devices (-@ e1 e2, -G GROUP) each gets its own",
    "kg ssl --onboard [-@ NAME]        the device makes its own key + CSR; only the certificate is sent",
    "kg ssl --csr FILE [-tfkey]        sign a CSR made elsewhere (e.g. on the device with mpy-mbedtls)",
    "kg ssl dev status                 device certificates kept on this computer",
    "... status --json                 the certificates as one JSON document",
    "kg ssl import DIR                 import an upydev key store (re-encrypts its keys)",
    "",
    `Keys are PKCS#8, scrypt + AES-256-CBC. Passphrases: ${CA_PASSPHRASE_ENV} (CA key) and`,
    `${HOST_PASSPHRASE_ENV} (host key) for scripts, else hidden prompts.`,
    "Certificates start on 2000-01-01 (the ESP32 clock starts there until NTP sets it) and last",
    "10 years (CA) or 2 years (host, device) unless --days says otherwise.",
  ].join("\n"),
  options: [
    { names: ["-tfkey"], kind: "flag", help: "send the certificate (and device key) to the device" },
    {
      names: ["--force"],
      kind: "flag",
      help: "replace an existing CA or a valid certificate without asking",
    },
    { names: ["--days"], kind: "value", valueName: "N", help: "days until the certificate expires" },
    {
      names: ["--not-before"],
      kind: "value",
      valueName: "DATE",
      help: "start of validity (default 2000-01-01T00:00:00Z)",
    },
    {
      names: ["--san"],
      kind: "list",
      valueName: "IP|NAME",
      help: "device certificate names (replace defaults)",
    },
    {
      names: ["--uid"],
      kind: "value",
      valueName: "HEX",
      help: "device unique id (skips asking the device)",
    },
    { names: ["--name"], kind: "value", valueName: "NAME", help: "device name for the certificate CN" },
    {
      names: ["--csr"],
      kind: "value",
      valueName: "FILE",
      help: "sign this device CSR instead of making a key",
    },
    {
      names: ["--onboard"],
      kind: "flag",
      help: "the device generates its own key and CSR (pure Python); the key never leaves it",
    },
    { names: ["--cert"], kind: "value", valueName: "FILE", help: "CA certificate to add" },
    { names: ["--key"], kind: "value", valueName: "FILE", help: "CA key to add" },
    {
      names: ["--insecure-transfer"],
      kind: "flag",
      help: "allow sending a private key over plain ws:// (cleartext)",
    },
    JSON_OPTION,
  ],
  positionals: { min: 1, max: 4 },
  device: true,
};

/** The table's `kg`: the PKI implementation is imported when the command runs. */
export const kgCommandSpec: CommandSpec = {
  ...KG_GRAMMAR,
  run: async (context) => {
    // @peculiar/x509 needs the Reflect metadata polyfill evaluated before it; only `kg` loads either.
    await import("npm:reflect-metadata@0.2.2");
    const { pkiCommands } = await import("./commands.ts");
    return await pkiCommands[0].run(context);
  },
};
