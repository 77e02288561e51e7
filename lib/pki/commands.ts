/**
 * `upydev kg ssl ...`: the PKI of the seed guide (ROOT CA → host and device certificates) and its management.
 *
 *   kg ssl CA [-tfkey] [--force]          new ROOT CA (the old one moves to the rotation slot, older ones dated)
 *   kg ssl CA status|export [DIR]|add|rotate
 *   kg ssl host [status]                  host client key + certificate
 *   kg ssl [-tfkey] [-@ NAME] [--csr F]   device key + certificate (or sign a CSR made elsewhere)
 *   kg ssl --onboard [-@ NAME]            the device makes its key and CSR itself (lib/pki/onboard.ts)
 *   kg ssl dev status                     device certificates kept on the host
 *   kg ssl import DIR                     import an upydev key store
 */
import type { CommandContext, CommandSpec } from "../cli/command.ts";
import { optionFlag, optionString } from "../cli/command.ts";
import { UsageError, UserError } from "../cli/errors.ts";
import type { DeviceTarget } from "../device/target.ts";
import { sha256Hex } from "../ops/files.ts";
import type { Io } from "../ui/io.ts";
import { checkNewPassphrase, readConfirmation, readNewPassphrase, readPassphrase } from "../ui/passphrase.ts";
import {
  addCa,
  createCa,
  createHost,
  exportCa,
  importUpydevStore,
  issueDeviceCertificate,
  loadCa,
  openPkiStore,
  rotateCa,
  signDeviceCsr,
} from "./authority.ts";
import {
  altNameFor,
  type CertificateSummary,
  parseCertificatePem,
  summarize,
  validityFor,
  type ValidityOptions,
} from "./certs.ts";
import { isEncryptedKeyFile } from "../hostkey/key_file.ts";
import { readTextIfExists } from "../config/files.ts";
import {
  CA_CERT,
  CA_KEY,
  checkUniqueId,
  deviceCertDerName,
  deviceCertName,
  deviceKeyDerName,
  hostCertName,
  hostKeyName,
  PkiStore,
  PREVIOUS_CA_CERT,
} from "./store.ts";
import {
  checkKeyTransferAllowed,
  type KeyTransferConnector,
  type KeyTransferLink,
  putVerified,
  readUniqueId,
} from "./transfer.ts";
import { connectKeyTransfer } from "./device_link.ts";
import { CA_PASSPHRASE_ENV, HOST_PASSPHRASE_ENV, KG_GRAMMAR } from "./kg.ts";
import { runGroup } from "../groups/run.ts";
import { jsonDocument } from "../groups/report.ts";
import { csrFromOutput, installCode, onboardKeyCode, PENDING_SUFFIX } from "./onboard.ts";

const EXPIRY_WARNING_DAYS = 30;
const JSON_USAGE = "--json goes with 'kg ssl CA|host|dev status' and 'kg ssl' over several devices";
/** Pure-Python P-256 on an ESP32 takes seconds; allow a long silence while it works. */
const ONBOARD_TIMEOUT_MS = 120_000;

/** The PKI's actions, with their implementation (lib/pki/kg.ts is what the table loads). */
export const pkiCommands: CommandSpec[] = [kgCommand(connectKeyTransfer)];

/** The `kg` command; `connect` opens the device link for `-tfkey` and for reading the device's unique id. */
export function kgCommand(connect: KeyTransferConnector): CommandSpec {
  return {
    ...KG_GRAMMAR,
    run: (context) => runKg(context, connect),
  };
}

async function runKg(context: CommandContext, connect: KeyTransferConnector): Promise<number | void> {
  const [kind, subject, verb, argument] = context.args.positionals;
  if (kind !== "ssl") throw new UsageError(`only 'kg ssl' is supported, not 'kg ${kind}'`);
  const store = openPkiStore(context.configDir, context.io);
  const words = [subject, verb, argument].filter((word) => word !== undefined);
  const action = subject === undefined
    ? ""
    : (subject === "CA" || subject === "host") && verb
    ? `${subject} ${verb}`
    : subject;
  /** Rejects words after the ones `action` uses. */
  const noMoreThan = (count: number) => {
    if (words.length > count) {
      throw new UsageError(`unexpected argument '${words[count]}' for 'kg ssl ${action}'`);
    }
  };
  const jsonActions = [
    "CA status",
    "host status",
    "dev",
    ...(optionFlag(context.args, "--onboard") ? [] : [""]),
  ];
  if (optionFlag(context.args, "--json") && !jsonActions.includes(action)) {
    throw new UsageError(JSON_USAGE);
  }
  switch (action) {
    case "":
      if (optionFlag(context.args, "--onboard")) return await onboardDevice(context, store, connect);
      return await deviceCertificates(context, store, connect);
    case "CA":
      return await newCa(context, store, connect);
    case "CA status":
      noMoreThan(2);
      return await showCertificates(context, await caCertificates(store));
    case "CA export":
      noMoreThan(3);
      return await caExport(context.io, store, argument ?? context.io.cwd());
    case "CA add":
      noMoreThan(2);
      return await caAdd(context, store);
    case "CA rotate":
      noMoreThan(2);
      await rotateCa(store);
      context.io.out(`ROOT CA rotated: the previous CA is now current\n`);
      return await caStatus(context.io, store);
    case "host":
      return await newHost(context, store);
    case "host status":
      noMoreThan(2);
      return await showCertificates(context, [[
        "HOST",
        store.path(hostCertName(store.hostId)),
        "kg ssl host",
      ]]);
    case "dev":
      if (verb !== "status") {
        throw new UsageError(`unknown 'kg ssl dev ${verb ?? ""}' (try 'kg ssl dev status')`);
      }
      noMoreThan(2);
      return await deviceStatus(context, store);
    case "import":
      if (!verb) throw new UsageError("kg ssl import needs the upydev folder that holds ROOT_CA_key.pem");
      noMoreThan(2);
      return await importStore(context, store, verb);
    default:
      throw new UsageError(
        `unknown 'kg ssl ${words.join(" ")}': usage: upydev kg ssl [CA|host|dev|import] ...`,
      );
  }
}

function validityOptions(context: CommandContext): ValidityOptions {
  const options: ValidityOptions = {};
  const days = optionString(context.args, "--days");
  if (days !== undefined) {
    if (!/^\d+$/.test(days) || Number(days) < 1) {
      throw new UsageError(`--days needs a positive number, not '${days}'`);
    }
    options.days = Number(days);
  }
  const notBefore = optionString(context.args, "--not-before");
  if (notBefore !== undefined) {
    const date = new Date(notBefore);
    if (Number.isNaN(date.getTime())) {
      throw new UsageError(`--not-before needs an ISO date, not '${notBefore}'`);
    }
    options.notBefore = date;
  }
  validityFor("device", options); // out-of-range dates fail before any passphrase is asked for
  return options;
}

async function caPassphrase(io: Io, store: PkiStore): Promise<string> {
  // No point asking for the passphrase of a CA that is not there.
  store.readText(CA_KEY, "kg ssl CA");
  return io.env(CA_PASSPHRASE_ENV) ?? await readPassphrase(io, "Enter passphrase for ROOT CA key: ");
}

async function newPassphrase(io: Io, envName: string, what: string, given?: string): Promise<string> {
  const fromOutside = given ?? io.env(envName);
  return fromOutside !== undefined
    ? checkNewPassphrase(fromOutside, what)
    : await readNewPassphrase(io, what);
}

/** `--uid`, checked by the same rule wherever it is taken (device certificate, CSR, --onboard). */
function givenUniqueId(context: CommandContext): string | undefined {
  const uid = optionString(context.args, "--uid");
  return uid === undefined ? undefined : checkUniqueId(uid, "--uid");
}

/**
 * A certificate still in force is replaced only after a yes at the terminal, or with --force: the device or host
 * that uses it would stop working. An expired or unreadable one goes without asking.
 */
async function confirmReplaceCertificate(context: CommandContext, path: string, what: string): Promise<void> {
  const pem = await readTextIfExists(path).catch(() => undefined);
  if (pem === undefined || optionFlag(context.args, "--force")) return;
  let notAfter: Date;
  try {
    notAfter = parseCertificatePem(pem, path).notAfter;
  } catch {
    return;
  }
  if (notAfter.getTime() < Date.now()) return;
  const until = notAfter.toISOString().slice(0, 10);
  if (!context.io.stdinIsTerminal) {
    throw new UserError(`the ${what} ${path} is valid until ${until}; pass --force to replace it`);
  }
  if (
    await readConfirmation(context.io, `The ${what} ${path} is valid until ${until}. Replace it? [y/n]: `)
  ) {
    return;
  }
  throw new UserError(`kept the existing ${what}`);
}

/** An existing CA is replaced only after a yes at the terminal, or with --force. */
async function confirmReplaceCa(context: CommandContext, store: PkiStore): Promise<boolean> {
  if (!await store.exists(CA_CERT) && !await store.exists(CA_KEY)) return false;
  if (optionFlag(context.args, "--force")) return true;
  if (!context.io.stdinIsTerminal) {
    throw new UserError(`a ROOT CA already exists in ${store.dir}; pass --force to replace it`);
  }
  if (await readConfirmation(context.io, "CA certificate detected, generate new one? [y/n]: ")) return true;
  throw new UserError("kept the existing ROOT CA");
}

async function newCa(context: CommandContext, store: PkiStore, connect: KeyTransferConnector): Promise<void> {
  const { io } = context;
  const validity = validityOptions(context);
  const replace = await confirmReplaceCa(context, store);
  const passphrase = await newPassphrase(io, CA_PASSPHRASE_ENV, "ROOT CA key");
  await createCa(store, { passphrase, force: replace, ...validity });
  io.out(`ROOT CA ECDSA P-256 key & certificate generated in ${store.dir}\n`);
  if (replace) {
    io.out(
      `The previous ROOT CA is kept as ${PREVIOUS_CA_CERT} (kg ssl CA rotate swaps back); ` +
        "older ones stay as ~ROOT_CA_*.replaced-DATE.pem\n",
    );
  }
  await showCertificate(io, "ROOT CA", store.path(CA_CERT), "kg ssl CA");
  if (optionFlag(context.args, "-tfkey")) {
    await withLink(context, connect, async (link) => {
      await putVerified(link, [[`/${CA_CERT}`, await Deno.readFile(store.path(CA_CERT))]]);
      io.out(`${CA_CERT} sent to the device and verified\n`);
    });
  }
}

async function newHost(context: CommandContext, store: PkiStore): Promise<void> {
  const { io, args } = context;
  const validity = validityOptions(context);
  await confirmReplaceCertificate(context, store.path(hostCertName(store.hostId)), "host certificate");
  const caSecret = await caPassphrase(io, store);
  await loadCa(store, caSecret); // a wrong CA passphrase fails before the new passphrase is asked for
  const explicitTarget = args.atName !== undefined || args.options["-@"] !== undefined ||
    args.options["-p"] !== undefined;
  const registryPassphrase = explicitTarget ? (await context.resolveDevice()).passphrase : undefined;
  const passphrase = await newPassphrase(io, HOST_PASSPHRASE_ENV, "HOST key", registryPassphrase);
  await createHost(store, { caPassphrase: caSecret, passphrase, ...validity });
  io.out(`HOST ECDSA P-256 key & certificate generated: ${hostKeyName(store.hostId)}\n`);
  await showCertificate(io, "HOST", store.path(hostCertName(store.hostId)), "kg ssl host");
}

/** The names a device certificate covers: --san, else the address used and NAME.local. */
function deviceNames(context: CommandContext, target: DeviceTarget | undefined): string[] {
  const san = context.args.options["--san"];
  if (Array.isArray(san)) return san;
  const names = target ? [target.host] : [];
  if (target?.name) names.push(`${target.name}.local`);
  if (names.length === 0) {
    throw new UsageError("give the device with -t/-@ or its names with --san IP|NAME ...");
  }
  return names;
}

/**
 * `kg ssl [-tfkey]` for the device the command line names, or for each device of a selection (`-@ e1 e2`,
 * `-G GROUP`): each gets its own key and certificate, the CA passphrase is asked once for all of them.
 */
async function deviceCertificates(
  context: CommandContext,
  store: PkiStore,
  connect: KeyTransferConnector,
): Promise<number | void> {
  const { io, args } = context;
  let asked: Promise<string> | undefined;
  const caSecret = () => asked ??= caPassphrase(io, store);
  const named = ["-@", "-G", "-GP"].some((option) => args.options[option] !== undefined);
  const selection = named ? await context.resolveSelection() : undefined;
  if (selection?.kind !== "group") {
    if (optionFlag(args, "--json")) {
      throw new UsageError(JSON_USAGE);
    }
    await deviceCertificate(context, store, connect, caSecret);
    return;
  }
  if (optionString(args, "--uid") !== undefined || optionString(args, "--csr") !== undefined) {
    throw new UsageError("--uid and --csr name one device: they do not go with a group");
  }
  // Each device's lines go out behind its name; passphrases are asked on the run's Io, once.
  const connectOnRunIo: KeyTransferConnector = (target, _io, configDir) => connect(target, io, configDir);
  return await runGroup({
    io,
    targets: selection.targets,
    jobs: selection.jobs,
    json: optionFlag(args, "--json"),
    width: 80,
    task: ({ target, io: deviceIo }) =>
      deviceCertificate(
        { ...context, io: deviceIo, resolveDevice: () => Promise.resolve(target) },
        store,
        connectOnRunIo,
        caSecret,
      ),
  });
}

async function deviceCertificate(
  context: CommandContext,
  store: PkiStore,
  connect: KeyTransferConnector,
  caSecret: () => Promise<string>,
): Promise<{ uid: string; certificate: string }> {
  const { io, args } = context;
  const transfer = optionFlag(args, "-tfkey");
  const csrPath = optionString(args, "--csr");
  let uid = givenUniqueId(context);
  const validity = validityOptions(context);
  const needsDevice = transfer || uid === undefined;
  const target = needsDevice || !Array.isArray(args.options["--san"])
    ? await context.resolveDevice()
    : undefined;
  const name = optionString(args, "--name") ?? target?.name ?? "upydevice";
  const names = deviceNames(context, target);
  const csr = csrPath === undefined ? undefined : await Deno.readTextFile(csrPath).catch(() => {
    throw new UserError(`cannot read the CSR ${csrPath}`);
  });

  const issue = async (link?: KeyTransferLink) => {
    if (link && transfer && csr === undefined) {
      checkKeyTransferAllowed(link, optionFlag(args, "--insecure-transfer"), io);
    }
    if (uid === undefined) {
      io.out("Getting unique id...\n");
      uid = await readUniqueId(link!);
    }
    await confirmReplaceCertificate(context, store.path(deviceCertName(uid)), "device certificate");
    const altNames = names.map(altNameFor);
    const ips = altNames.filter((entry) => entry.type === "ip").map((entry) => entry.value);
    const dnsNames = altNames.filter((entry) => entry.type === "dns").map((entry) => entry.value);
    const request = { name, uid, ips, dnsNames, caPassphrase: await caSecret(), ...validity };
    if (csr !== undefined) {
      const { certDer } = await signDeviceCsr(store, { ...request, csr });
      io.out(`Device ${uid} certificate signed from its CSR.\n`);
      if (link && transfer) {
        await putVerified(link, [[`/${deviceCertDerName(uid)}`, certDer]]);
        io.out(`${deviceCertDerName(uid)} sent to the device and verified\n`);
      } else {
        await store.write({ [deviceCertDerName(uid)]: certDer });
        io.out(`Copy ${store.path(deviceCertDerName(uid))} to the device\n`);
      }
      return;
    }
    const device = await issueDeviceCertificate(store, request);
    io.out(`Device ${uid} ECDSA key & certificate generated.\n`);
    if (link && transfer) {
      await putVerified(link, [
        [`/${deviceKeyDerName(uid)}`, device.keyDer],
        [`/${deviceCertDerName(uid)}`, device.certDer],
      ]);
      device.keyDer.fill(0);
      io.out(
        `${deviceKeyDerName(uid)} and ${deviceCertDerName(uid)} sent to the device and verified; ` +
          "the private key was never written on this computer\n",
      );
    } else {
      await store.write({ [deviceKeyDerName(uid)]: device.keyDer, [deviceCertDerName(uid)]: device.certDer });
      io.err(
        `WARNING: the device's private key ${
          store.path(deviceKeyDerName(uid))
        } is NOT encrypted: copy it and ` +
          `${deviceCertDerName(uid)} to the device by USB, then delete it here\n`,
      );
    }
    await showCertificate(io, "DEVICE", store.path(deviceCertName(uid)), "kg ssl");
  };
  if (needsDevice) await withLink(context, connect, issue);
  else await issue();
  return { uid: uid!, certificate: store.path(deviceCertName(uid!)) };
}

/** On-device key generation: only the CSR and the certificate cross the link, so ws is acceptable. */
async function onboardDevice(
  context: CommandContext,
  store: PkiStore,
  connect: KeyTransferConnector,
): Promise<void> {
  const { io, args } = context;
  if (optionString(args, "--csr") !== undefined || optionFlag(args, "-tfkey")) {
    throw new UsageError("--onboard makes the key on the device: it takes neither --csr nor -tfkey");
  }
  const givenUid = givenUniqueId(context);
  const validity = validityOptions(context);
  const target = await context.resolveDevice();
  const name = optionString(args, "--name") ?? target.name ?? "upydevice";
  const altNames = deviceNames(context, target).map(altNameFor);
  const caSecret = await caPassphrase(io, store);
  await loadCa(store, caSecret); // a wrong passphrase fails before the device spends seconds on its key
  await withLink(context, connect, async (link) => {
    io.out("Getting unique id...\n");
    const uid = givenUid ?? await readUniqueId(link);
    await confirmReplaceCertificate(context, store.path(deviceCertName(uid)), "device certificate");
    const keyPath = `/${deviceKeyDerName(uid)}`;
    const certPath = `/${deviceCertDerName(uid)}`;
    io.out("The device is generating its ECDSA P-256 key and CSR (a few seconds on an ESP32)...\n");
    const output = await link.exec(onboardKeyCode(keyPath, name), { inactivityMs: ONBOARD_TIMEOUT_MS });
    const csr = csrFromOutput(output);
    if (!csr) {
      throw new UserError(`the device did not print a CSR: ${output.trim().split("\n").at(-1) ?? ""}`);
    }
    const { certDer } = await signDeviceCsr(store, {
      csr,
      name,
      uid,
      ips: altNames.filter((entry) => entry.type === "ip").map((entry) => entry.value),
      dnsNames: altNames.filter((entry) => entry.type === "dns").map((entry) => entry.value),
      caPassphrase: caSecret,
      ...validity,
    });
    await putVerified(link, [[certPath + PENDING_SUFFIX, certDer]]);
    await link.exec(
      installCode([[keyPath + PENDING_SUFFIX, keyPath], [certPath + PENDING_SUFFIX, certPath]]),
    );
    const installed = await link.sha256(certPath);
    if (installed !== await sha256Hex(certDer)) {
      throw new UserError(`installing ${certPath} on the device failed: SHA-256 differs`);
    }
    io.out(
      `Device ${uid} generated its own key ${keyPath}; certificate ${certPath} signed and installed. ` +
        "The private key never left the device.\n",
    );
    await showCertificate(io, "DEVICE", store.path(deviceCertName(uid)), "kg ssl");
  });
}

async function withLink(
  context: CommandContext,
  connect: KeyTransferConnector,
  body: (link: KeyTransferLink) => Promise<void>,
): Promise<void> {
  const link = await connect(await context.resolveDevice(), context.io, context.configDir);
  try {
    await body(link);
  } finally {
    await link.close();
  }
}

async function caExport(io: Io, store: PkiStore, destination: string): Promise<void> {
  for (const path of await exportCa(store, destination)) io.out(`exported ${path}\n`);
  io.err(
    "The CA key is exported still encrypted; anyone with it and its passphrase can sign certificates.\n",
  );
}

async function caAdd(context: CommandContext, store: PkiStore): Promise<void> {
  const { io } = context;
  const certPath = optionString(context.args, "--cert") ?? `${io.cwd()}/${CA_CERT}`;
  const keyPath = optionString(context.args, "--key") ?? `${io.cwd()}/${CA_KEY}`;
  const keyText = await Deno.readTextFile(keyPath).catch(() => {
    throw new UserError(`cannot read ${keyPath}`);
  });
  const encrypted = isEncryptedKeyFile(keyText);
  const sourcePassphrase = encrypted
    ? io.env(CA_PASSPHRASE_ENV) ?? await readPassphrase(io, `Enter passphrase for ${keyPath}: `)
    : "";
  const replace = await confirmReplaceCa(context, store);
  const passphrase = encrypted ? sourcePassphrase : await newPassphrase(io, CA_PASSPHRASE_ENV, "ROOT CA key");
  await addCa(store, { certPath, keyPath, sourcePassphrase, passphrase, force: replace });
  io.out(`ROOT CA added from ${certPath}\n`);
  await caStatus(io, store);
}

async function importStore(context: CommandContext, store: PkiStore, sourceDir: string): Promise<void> {
  const { io } = context;
  const caSecret = io.env(CA_PASSPHRASE_ENV) ??
    await readPassphrase(io, `Enter passphrase for ${sourceDir}/${CA_KEY}: `);
  const hostKey = `${sourceDir}/${hostKeyName(store.hostId)}`;
  const hasHost = await Deno.lstat(hostKey).then(() => true, () => false);
  const hostSecret = hasHost
    ? io.env(HOST_PASSPHRASE_ENV) ?? await readPassphrase(io, `Enter passphrase for ${hostKey}: `)
    : undefined;
  const replace = await confirmReplaceCa(context, store);
  const imported = await importUpydevStore(store, sourceDir, {
    caPassphrase: caSecret,
    hostPassphrase: hostSecret,
    force: replace,
  });
  io.out(`Imported into ${store.dir} (keys re-encrypted with scrypt + AES-256-CBC):\n`);
  for (const name of imported) io.out(`  ${name}\n`);
}

async function caStatus(io: Io, store: PkiStore): Promise<void> {
  for (const [label, path, createdBy] of await caCertificates(store)) {
    await showCertificate(io, label, path, createdBy);
  }
}

type CertificateFile = [label: string, path: string, createdBy: string];

async function caCertificates(store: PkiStore): Promise<CertificateFile[]> {
  const files: CertificateFile[] = [["ROOT CA", store.path(CA_CERT), "kg ssl CA"]];
  if (await store.exists(PREVIOUS_CA_CERT)) {
    files.push(["previous ROOT CA", store.path(PREVIOUS_CA_CERT), "kg ssl CA"]);
  }
  for (
    const name of (await store.list()).filter((name) => /^~ROOT_CA_cert\.replaced-[\w-]+\.pem$/.test(name))
  ) {
    files.push(["replaced ROOT CA", store.path(name), "kg ssl CA"]);
  }
  return files;
}

async function deviceStatus(context: CommandContext, store: PkiStore): Promise<void> {
  const names = (await store.list()).filter((name) => /^SSL_certificate[0-9a-f]+\.pem$/.test(name));
  if (names.length === 0 && !optionFlag(context.args, "--json")) {
    context.io.out(`no device certificates in ${store.dir} (create one with 'upydev kg ssl -@ NAME')\n`);
    return;
  }
  await showCertificates(context, names.map((name) => ["DEVICE", store.path(name), "kg ssl"]));
}

/**
 * The `status` listings: text summaries, or with --json
 * `{"certificates": [{"label", "path", "subject", "issuer", "sha256", "notBefore", "notAfter", "daysLeft", "altNames"}]}`.
 */
async function showCertificates(context: CommandContext, files: CertificateFile[]): Promise<void> {
  if (!optionFlag(context.args, "--json")) {
    for (const [label, path, createdBy] of files) await showCertificate(context.io, label, path, createdBy);
    return;
  }
  const certificates = [];
  for (const [label, path, createdBy] of files) {
    const summary = await summarize(parseCertificatePem(await readCertificate(path, createdBy), path));
    certificates.push({
      label,
      path,
      subject: summary.subject,
      issuer: summary.issuer,
      sha256: summary.sha256Fingerprint,
      notBefore: summary.notBefore.toISOString(),
      notAfter: summary.notAfter.toISOString(),
      daysLeft: summary.daysLeft,
      altNames: summary.altNames,
    });
  }
  context.io.out(jsonDocument({ certificates }));
}

async function readCertificate(path: string, createdBy: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    throw new UserError(`${path} not found; create it with \`upydev ${createdBy}\``);
  }
}

async function showCertificate(io: Io, label: string, path: string, createdBy: string): Promise<void> {
  const pem = await readCertificate(path, createdBy);
  io.out(formatSummary(label, path, await summarize(parseCertificatePem(pem, path))));
}

export function formatSummary(label: string, path: string, summary: CertificateSummary): string {
  const lines = [
    `${label}: ${path}`,
    `  subject:     ${summary.subject}`,
    `  issuer:      ${summary.issuer}`,
    `  SHA-256:     ${summary.sha256Fingerprint}`,
    `  valid from:  ${summary.notBefore.toISOString()}`,
    `  valid until: ${summary.notAfter.toISOString()} (${summary.daysLeft} days left)`,
  ];
  if (summary.altNames.length) lines.push(`  names:       ${summary.altNames.join(", ")}`);
  if (summary.daysLeft < 0) lines.push(`  WARNING: EXPIRED ${-summary.daysLeft} days ago`);
  else if (summary.daysLeft < EXPIRY_WARNING_DAYS) {
    lines.push(`  WARNING: expires in ${summary.daysLeft} days`);
  }
  return lines.join("\n") + "\n";
}
