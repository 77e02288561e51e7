// Runs the real device/wss_repl.py and device/wss_helper.py in real MicroPython (the wasm build) against
// fake socket/tls/ssl/websocket/_webrepl/os/machine/network modules that record every call the scripts make.
import assert from "node:assert/strict";
import { loadMicroPython } from "npm:@micropython/micropython-webassembly-pyscript@1.27.0";

const FAKES_PY = String.raw`
# Fakes for the modules wss_repl.py and wss_helper.py import on a device; every call is recorded in CALLS.
import sys

CALLS = []
CFG = {}


def rec(*a):
    CALLS.append(list(a))


def _fail(name):
    e = CFG.get(name)
    if e is not None:
        raise e


class Module:
    def __init__(self, **kw):
        for k in kw:
            setattr(self, k, kw[k])


class Sha1:
    # pure-Python SHA-1: the wasm build's hashlib has sha256 only
    def __init__(self, data=b""):
        self.buf = b""
        self.update(data)

    def update(self, data):
        self.buf += bytes(data)

    def digest(self):
        m = self.buf
        ml = len(m) * 8
        m += b"\x80" + b"\x00" * ((55 - len(m)) % 64) + ml.to_bytes(8, "big")
        h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        rol = lambda x, n: ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF
        for off in range(0, len(m), 64):
            w = [int.from_bytes(m[off + 4 * i : off + 4 * i + 4], "big") for i in range(16)]
            for i in range(16, 80):
                w.append(rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
            a, b, c, d, e = h
            for i in range(80):
                if i < 20:
                    f, k = (b & c) | (~b & d), 0x5A827999
                elif i < 40:
                    f, k = b ^ c ^ d, 0x6ED9EBA1
                elif i < 60:
                    f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
                else:
                    f, k = b ^ c ^ d, 0xCA62C1D6
                a, b, c, d, e = (rol(a, 5) + (f & 0xFFFFFFFF) + e + k + w[i]) & 0xFFFFFFFF, a, rol(b, 30), c, d
            h = [(x + y) & 0xFFFFFFFF for x, y in zip(h, [a, b, c, d, e])]
        return b"".join(x.to_bytes(4, "big") for x in h)


class Stream:
    # what a client sent (lines) and what the device wrote back
    def __init__(self, name, lines):
        self.name = name
        self.lines = list(lines)
        self.written = b""

    def readline(self):
        rec(self.name, "readline")
        return self.lines.pop(0) if self.lines else b""

    def write(self, b):
        self.written += bytes(b)
        rec(self.name, "write", bytes(b).decode())
        return len(b)

    def setblocking(self, f):
        rec(self.name, "setblocking", f)

    def close(self):
        rec(self.name, "close")


class RawSocket(Stream):
    def settimeout(self, t):
        rec(self.name, "settimeout", t)

    def setsockopt(self, level, opt, value):
        rec(self.name, "setsockopt", level, opt, value if isinstance(value, int) else "callback")


class ListenSocket:
    def __init__(self):
        self.pending = list(CFG.get("clients", []))
        self.callback = None

    def setsockopt(self, level, opt, value):
        if opt == 20:
            self.callback = value
            value = "callback"
        rec("listen", "setsockopt", level, opt, value)

    def bind(self, addr):
        rec("listen", "bind", list(addr))

    def listen(self, n):
        rec("listen", "listen", n)

    def accept(self):
        rec("listen", "accept")
        return self.pending.pop(0)

    def close(self):
        rec("listen", "close")


def _socket():
    s = ListenSocket()
    CFG["listener"] = s
    return s


socket_mod = Module(
    socket=_socket, SOL_SOCKET=1, SO_REUSEADDR=4, IPPROTO_TCP=6, TCP_NODELAY=1,
    getaddrinfo=lambda host, port: [(2, 1, 0, "", (host, port))],
)


class TlsSocket(Stream):
    pass


class SSLContext:
    def __init__(self, protocol):
        rec("tls", "SSLContext", protocol)
        _fail("SSLContext")
        self._mode = 0

    def load_cert_chain(self, cert, key):
        rec("tls", "load_cert_chain", bytes(cert).decode(), bytes(key).decode())
        _fail("load_cert_chain")

    def load_verify_locations(self, cadata):
        rec("tls", "load_verify_locations", bytes(cadata).decode())
        _fail("load_verify_locations")

    @property
    def verify_mode(self):
        return self._mode

    @verify_mode.setter
    def verify_mode(self, mode):
        rec("tls", "verify_mode", mode)
        if not CFG.get("ignore_verify_mode"):
            self._mode = mode

    def wrap_socket(self, sock, server_side=False):
        rec("tls", "wrap_socket", sock.name, server_side, self._mode)
        _fail("wrap_socket")
        return TlsSocket("tls:" + sock.name, sock.lines)


def _legacy_wrap_socket(sock, server_side=False, key=None, cert=None, cadata=None, cert_reqs=0):
    rec("ssl", "wrap_socket", sock.name, server_side, bytes(key).decode(), bytes(cert).decode(),
        bytes(cadata).decode(), cert_reqs)
    _fail("wrap_socket")
    return TlsSocket("tls:" + sock.name, sock.lines)


def tls_module(context=True, cert_required=True):
    m = Module(PROTOCOL_TLS_CLIENT=0, PROTOCOL_TLS_SERVER=1, CERT_NONE=0, CERT_OPTIONAL=1,
               wrap_socket=_legacy_wrap_socket)
    if context:
        m.SSLContext = SSLContext
    if cert_required:
        m.CERT_REQUIRED = 2
    return m


class WebSocket:
    def __init__(self, sock, blocking):
        rec("websocket", "websocket", sock.name, blocking)
        self.name = sock.name


class WebRepl:
    def __init__(self, ws):
        rec("_webrepl", "_webrepl", ws.name)
        self.name = ws.name


def _password(p):
    rec("_webrepl", "password", p)
    if len(p) > 9:
        raise ValueError()


TERM = [None]


def _dupterm(obj, index=0):
    prev = TERM[0]
    TERM[0] = obj
    rec("os", "dupterm", obj.name if obj is not None else None)
    return prev


class WLAN:
    def __init__(self, i):
        self.i = i

    def active(self):
        return self.i == 0

    def ifconfig(self):
        return ("192.168.4.7", "255.255.255.0", "192.168.4.1", "8.8.8.8")


def install(with_tls=True, with_ssl=False, **tls_kw):
    for name in ("wss_repl", "wss_helper", "webrepl_cfg"):
        sys.modules.pop(name, None)
    sys.modules["socket"] = socket_mod
    sys.modules["websocket"] = Module(websocket=WebSocket)
    sys.modules["_webrepl"] = Module(_webrepl=WebRepl, password=_password)
    sys.modules["os"] = Module(dupterm=_dupterm, dupterm_notify="notify")
    sys.modules["hashlib"] = Module(sha1=Sha1)
    sys.modules["machine"] = Module(unique_id=lambda: b"\x24\x0a\xc4\x12\x34\x56")
    sys.modules["network"] = Module(STA_IF=0, AP_IF=1, WLAN=WLAN)
    sys.modules.pop("tls", None)
    sys.modules.pop("ssl", None)
    if with_tls:
        sys.modules["tls"] = tls_module(**tls_kw)
    if with_ssl:
        sys.modules["ssl"] = tls_module(**tls_kw)


def upgrade(key=b"dGhlIHNhbXBsZSBub25jZQ=="):
    return [b"GET / HTTP/1.1\r\n", b"Host: device\r\n", b"Connection: Upgrade\r\n", b"Upgrade: websocket\r\n",
            b"Sec-WebSocket-Key: " + key + b"\r\n", b"\r\n"]


def client(name, lines):
    return (RawSocket(name, lines), ("10.0.0.9", 50001))


def connect():
    # the port calls the accept callback when a client arrives
    l = CFG["listener"]
    rec("result", l.callback(l))
`;

const UID = "240ac4123456";
const KEY_FILE = `/SSL_key${UID}.der`;
const CERT_FILE = `/SSL_certificate${UID}.der`;
const CA_FILE = "/ROOT_CA_cert.pem";
// Stand-ins for DER blobs: readable text so the recorded calls show which file's bytes went where.
const KEY_DER = "device-key-der";
const CERT_DER = "device-cert-der";
const CA_DER = "root-ca-der";
const CA_PEM = `-----BEGIN CERTIFICATE-----\n${btoa(CA_DER)}\n-----END CERTIFICATE-----\n`;

type Call = unknown[];

interface Device {
  // deno-lint-ignore no-explicit-any
  mp: any;
  out: string[];
}

let device: Device | undefined;

async function loadDevice(): Promise<Device> {
  if (device) return device;
  const out: string[] = [];
  const mp = await loadMicroPython({ stdout: (line: string) => out.push(line), heapsize: 4 << 20 });
  mp.FS.mkdir("/dev_scripts");
  for (const name of ["wss_repl.py", "wss_helper.py"]) {
    mp.FS.writeFile(`/dev_scripts/${name}`, Deno.readFileSync(new URL(`../device/${name}`, import.meta.url)));
  }
  mp.FS.writeFile("/fakes.py", FAKES_PY);
  mp.runPython("import sys\nsys.path.insert(0, '/dev_scripts')\nsys.path.insert(0, '/')\nimport fakes");
  device = { mp, out };
  return device;
}

interface Setup {
  /** Python expression-statements run after the fakes are installed, before `code`. */
  prepare?: string;
  /** Arguments for fakes.install(...). */
  install?: string;
  files?: Record<string, string | null>;
}

/** Fresh module state, PKI files on the emulated flash, then `code`; returns the recorded calls and output. */
async function run(code: string, setup: Setup = {}): Promise<{ calls: Call[]; out: string[] }> {
  const { mp, out } = await loadDevice();
  const files: Record<string, string | null> = {
    [KEY_FILE]: KEY_DER,
    [CERT_FILE]: CERT_DER,
    [CA_FILE]: CA_PEM,
    "/webrepl_cfg.py": "PASS = 'cfgpass'\n",
    ...setup.files,
  };
  for (const [path, text] of Object.entries(files)) {
    try {
      mp.FS.unlink(path);
    } catch { /* absent */ }
    if (text !== null) mp.FS.writeFile(path, text);
  }
  out.length = 0;
  mp.runPython(
    `fakes.CALLS.clear()\nfakes.CFG.clear()\nfakes.TERM[0] = None\nfakes.install(${setup.install ?? ""})\n` +
      `from fakes import *\n${setup.prepare ?? ""}\n${code}\nimport json\n_calls = json.dumps(fakes.CALLS)`,
  );
  const calls = JSON.parse(mp.globals.get("_calls")) as Call[];
  return { calls, out: [...out] };
}

const of = (calls: Call[], who: string) => calls.filter((c) => c[0] === who).map((c) => c.slice(1));
const has = (calls: Call[], call: Call) => calls.some((c) => JSON.stringify(c) === JSON.stringify(call));

const ACCEPT_REPLY = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// ---- wss_helper.server_handshake ----

async function handshake(lines: string[]): Promise<{ calls: Call[]; error: string }> {
  const py = lines.map((l) => `b${JSON.stringify(l)}`).join(", ");
  const { calls, out } = await run(
    `import wss_helper\ns = TlsSocket("tls", [${py}])\ntry:\n    wss_helper.server_handshake(s)\n` +
      `    print("ERR none")\nexcept OSError as e:\n    print("ERR", e)`,
  );
  return { calls, error: out.find((l) => l.startsWith("ERR"))!.slice(4) };
}

const REQUEST = [
  "GET / HTTP/1.1\r\n",
  "Host: 192.168.4.7:8833\r\n",
  "Connection: Upgrade\r\n",
  "Upgrade: websocket\r\n",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
  "Sec-WebSocket-Version: 13\r\n",
  "\r\n",
];

Deno.test("server_handshake answers the RFC 6455 sample key with the exact 101 reply, in one write", async () => {
  const { calls, error } = await handshake(REQUEST);
  assert.equal(error, "none");
  assert.deepEqual(of(calls, "tls").filter((c) => c[0] === "write"), [["write", ACCEPT_REPLY]]);
  assert.equal(of(calls, "tls").filter((c) => c[0] === "readline").length, REQUEST.length);
});

Deno.test("server_handshake accepts 'Connection: keep-alive, Upgrade' like webrepl", async () => {
  const request = REQUEST.map((l) => l.startsWith("Connection") ? "Connection: keep-alive, Upgrade\r\n" : l);
  const { calls, error } = await handshake(request);
  assert.equal(error, "none");
  assert.ok(has(calls, ["tls", "write", ACCEPT_REPLY]));
});

for (
  const [what, bad] of [
    [
      "a lowercase Sec-WebSocket-Key name",
      (l: string) => l.replace("Sec-WebSocket-Key", "sec-websocket-key"),
    ],
    ["a lowercase Upgrade name", (l: string) => l.replace("Upgrade: websocket", "upgrade: websocket")],
    ["a lowercase Connection name", (l: string) => l.replace("Connection:", "connection:")],
    [
      "'Connection: upgrade' (lowercase value)",
      (l: string) => l.replace("Connection: Upgrade", "Connection: upgrade"),
    ],
    ["'Upgrade: WebSocket'", (l: string) => l.replace("Upgrade: websocket", "Upgrade: WebSocket")],
    ["a header line without a colon", (l: string) => l.startsWith("Host") ? "Host\r\n" : l],
  ] as const
) {
  Deno.test(`server_handshake rejects ${what} with "Not a websocket request" and writes nothing`, async () => {
    const { calls, error } = await handshake(REQUEST.map(bad));
    assert.equal(error, "Not a websocket request");
    assert.equal(of(calls, "tls").filter((c) => c[0] === "write").length, 0);
  });
}

Deno.test("server_handshake rejects a request without Sec-WebSocket-Key", async () => {
  const { error } = await handshake(REQUEST.filter((l) => !l.startsWith("Sec-WebSocket-Key")));
  assert.equal(error, "Not a websocket request");
});

Deno.test("server_handshake raises 'EOF in headers' when the peer stops before the blank line", async () => {
  const { calls, error } = await handshake(REQUEST.slice(0, 4));
  assert.equal(error, "EOF in headers");
  assert.equal(of(calls, "tls").filter((c) => c[0] === "write").length, 0);
});

// ---- wss_repl.start(ssl=True) ----

Deno.test("start(ssl=True) builds a server SSLContext from the uid-named DER files and the PEM CA, with CERT_REQUIRED", async () => {
  const { calls, out } = await run("import wss_repl\nwss_repl.start(ssl=True)");
  assert.deepEqual(of(calls, "tls"), [
    ["SSLContext", 1],
    ["load_cert_chain", CERT_DER, KEY_DER],
    ["load_verify_locations", CA_DER],
    ["verify_mode", 2],
  ]);
  assert.deepEqual(of(calls, "_webrepl"), [["password", "cfgpass"]]);
  assert.deepEqual(of(calls, "listen"), [
    ["setsockopt", 1, 4, 1],
    ["bind", ["0.0.0.0", 8833]],
    ["listen", 1],
    ["setsockopt", 1, 20, "callback"],
  ]);
  assert.ok(out.includes("WebSecureREPL daemon started on wss://192.168.4.7:8833"), out.join("\n"));
});

Deno.test("start(ssl=True) honours port and password arguments", async () => {
  const { calls } = await run("import wss_repl\nwss_repl.start(port=9443, password='secret', ssl=True)");
  assert.ok(has(calls, ["listen", "bind", ["0.0.0.0", 9443]]));
  assert.deepEqual(of(calls, "_webrepl"), [["password", "secret"]]);
});

Deno.test("start(ssl=True) falls back to the v1.22 module name ssl when tls is missing", async () => {
  const { calls } = await run("import wss_repl\nwss_repl.start(ssl=True)", {
    install: "with_tls=False, with_ssl=True",
  });
  assert.ok(has(calls, ["tls", "verify_mode", 2]));
  assert.ok(has(calls, ["listen", "listen", 1]));
});

Deno.test("start(ssl=True) on firmware without SSLContext passes cert_reqs=CERT_REQUIRED and the CA to wrap_socket", async () => {
  const { calls } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\nCFG['listener'].pending.append(client('c1', upgrade()))\nconnect()",
    { install: "with_tls=False, with_ssl=True, context=False" },
  );
  assert.deepEqual(of(calls, "ssl"), [["wrap_socket", "c1", true, KEY_DER, CERT_DER, CA_DER, 2]]);
  assert.ok(has(calls, ["result", true]));
});

const refusals: [string, Setup, RegExp][] = [
  [
    "the device key is missing",
    { files: { [KEY_FILE]: null } },
    /OSError: cannot read \/SSL_key240ac4123456\.der/,
  ],
  [
    "the device certificate is missing",
    { files: { [CERT_FILE]: null } },
    /OSError: cannot read \/SSL_certificate240ac4123456\.der/,
  ],
  ["the CA is missing", { files: { [CA_FILE]: null } }, /OSError: cannot read \/ROOT_CA_cert\.pem/],
  ["the CA file holds no PEM certificate", { files: { [CA_FILE]: "garbage" } }, /ValueError: no certificate/],
  [
    "load_cert_chain rejects the key",
    { prepare: "CFG['load_cert_chain'] = ValueError('invalid key')" },
    /ValueError: invalid key/,
  ],
  [
    "load_verify_locations fails",
    { prepare: "CFG['load_verify_locations'] = ValueError('invalid cert')" },
    /invalid cert/,
  ],
  ["the heap is exhausted", { prepare: "CFG['SSLContext'] = MemoryError()" }, /MemoryError/],
  [
    "the backend ignores verify_mode",
    { prepare: "CFG['ignore_verify_mode'] = True" },
    /cannot require client certificates/,
  ],
  [
    "the firmware has no CERT_REQUIRED",
    { install: "cert_required=False" },
    /cannot require client certificates/,
  ],
  ["no password is configured", { files: { "/webrepl_cfg.py": null } }, /ImportError/],
];
for (const [why, setup, message] of refusals) {
  Deno.test(`start(ssl=True) refuses to listen when ${why}, and says why`, async () => {
    const { calls, out } = await run("import wss_repl\nwss_repl.start(ssl=True)", setup);
    assert.equal(of(calls, "listen").length, 0, "must not listen");
    const line = out.find((l) => l.startsWith("WebSecureREPL not started: "));
    assert.ok(line, out.join("\n"));
    assert.match(line, message);
    assert.ok(!out.some((l) => l.includes("daemon started")));
  });
}

// ---- accepting clients ----

Deno.test("a wss client: TLS wrap of the accepted raw socket with a bounded handshake, upgrade, then webrepl attach order", async () => {
  const { calls } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\nCFG['listener'].pending.append(client('c1', upgrade()))\nconnect()",
  );
  const afterAccept = calls.slice(calls.findIndex((c) => c[0] === "listen" && c[1] === "accept"));
  const order = afterAccept
    .filter((c) => c[1] !== "readline")
    .map((c) => c.join(" "));
  assert.deepEqual(order, [
    "listen accept",
    "c1 setsockopt 6 1 1",
    "c1 settimeout 10",
    "tls wrap_socket c1 true 2",
    `tls:c1 write ${ACCEPT_REPLY}`,
    "os dupterm ",
    "os dupterm ",
    "websocket websocket tls:c1 true",
    "_webrepl _webrepl tls:c1",
    "tls:c1 setblocking false",
    "c1 setsockopt 1 20 callback",
    "os dupterm tls:c1",
    "result true",
  ]);
});

Deno.test("a second client while a session is attached gets 101, is closed, and the rejection is printed", async () => {
  const { calls, out } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\n" +
      "CFG['listener'].pending.append(client('c1', upgrade()))\nconnect()\n" +
      "CFG['listener'].pending.append(client('c2', upgrade()))\nconnect()",
  );
  assert.ok(has(calls, ["tls:c2", "write", ACCEPT_REPLY]));
  assert.ok(has(calls, ["tls:c2", "close"]));
  assert.ok(!has(calls, ["websocket", "websocket", "tls:c2", true]));
  assert.deepEqual(calls.at(-1), ["result", false]);
  assert.ok(out.includes("Concurrent WebREPL connection from ('10.0.0.9', 50001) rejected"), out.join("\n"));
});

Deno.test("a failed TLS handshake (e.g. no client certificate) closes that client and keeps listening", async () => {
  const { calls, out } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\n" +
      "CFG['wrap_socket'] = OSError(-29824, 'MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE')\n" +
      "CFG['listener'].pending.append(client('c1', upgrade()))\nconnect()\n" +
      "CFG['wrap_socket'] = None\nCFG['listener'].pending.append(client('c2', upgrade()))\nconnect()",
  );
  assert.ok(has(calls, ["c1", "close"]));
  assert.ok(!has(calls, ["websocket", "websocket", "tls:c1", true]));
  assert.ok(has(calls, ["os", "dupterm", "tls:c2"]));
  assert.ok(!has(calls, ["listen", "close"]));
  assert.ok(out.some((l) => l.includes("MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE")), out.join("\n"));
});

Deno.test("a TLS client that is not a WebSocket request is closed without a session", async () => {
  const { calls } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\n" +
      "CFG['listener'].pending.append(client('c1', [b'GET / HTTP/1.1\\r\\n', b'\\r\\n']))\nconnect()",
  );
  assert.ok(has(calls, ["tls:c1", "close"]));
  assert.deepEqual(calls.at(-1), ["result", false]);
});

// ---- plain mode, stop, foreground ----

Deno.test("start() without ssl serves plain WebREPL on 8266 and never touches TLS or the PKI files", async () => {
  const { calls, out } = await run(
    "import wss_repl\nwss_repl.start()\nCFG['listener'].pending.append(client('c1', upgrade()))\nconnect()",
    { files: { [KEY_FILE]: null, [CERT_FILE]: null, [CA_FILE]: null } },
  );
  assert.ok(has(calls, ["listen", "bind", ["0.0.0.0", 8266]]));
  assert.equal(of(calls, "tls").length, 0);
  assert.ok(has(calls, ["c1", "write", ACCEPT_REPLY]));
  assert.ok(has(calls, ["os", "dupterm", "c1"]));
  assert.ok(out.includes("WebREPL daemon started on ws://192.168.4.7:8266"), out.join("\n"));
});

Deno.test("stop() detaches the session and closes client and listener", async () => {
  const { calls } = await run(
    "import wss_repl\nwss_repl.start(ssl=True)\nCFG['listener'].pending.append(client('c1', upgrade()))\n" +
      "connect()\nfakes.CALLS.clear()\nwss_repl.stop()",
  );
  assert.deepEqual(calls.map((c) => c.join(" ")), ["os dupterm ", "tls:c1 close", "listen close"]);
});

Deno.test("start_foreground(ssl=True) has no accept callback and serves until one session is attached", async () => {
  const { calls } = await run(
    "CFG['clients'] = [client('bad', [b'GET / HTTP/1.1\\r\\n']), client('c1', upgrade())]\n" +
      "import wss_repl\nwss_repl.start_foreground(ssl=True)",
  );
  assert.ok(!calls.some((c) => c[0] === "listen" && c[1] === "setsockopt" && c[3] === 20));
  assert.equal(of(calls, "listen").filter((c) => c[0] === "accept").length, 2);
  assert.ok(has(calls, ["tls:bad", "close"]));
  assert.ok(has(calls, ["os", "dupterm", "tls:c1"]));
});

Deno.test("start_foreground(ssl=True) returns without listening when mutual TLS cannot be set up", async () => {
  const { calls, out } = await run("import wss_repl\nwss_repl.start_foreground(ssl=True)", {
    files: { [CA_FILE]: null },
  });
  assert.equal(of(calls, "listen").length, 0);
  assert.ok(
    out.some((l) => l.startsWith("WebSecureREPL not started: OSError: cannot read /ROOT_CA_cert.pem")),
  );
});
