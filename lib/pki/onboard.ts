/**
 * The device makes its own key: stock MicroPython exposes no key generation or CSR from mbedtls, so this
 * pure-Python P-256 (big ints, `os.urandom`, `hashlib.sha256`, all in stock ESP32 firmware) generates the key on
 * the device, writes it as SEC1 DER next to the final name, and prints a PKCS#10 CSR signed with it. Only the CSR
 * (public) crosses the link; the host signs it with our device profile and sends back the certificate.
 *
 * The scalar multiplication is plain double-and-add, not constant-time: it runs twice, once at key creation
 * with no attacker timing it over the link; the nonce for the CSR signature is fresh from `os.urandom`.
 */
import { pyStr } from "../webrepl/python_literal.ts";

const P256_PYTHON = `import os,hashlib,binascii
P=0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
N=0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G=(0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,1)
def _rnd():
 while 1:
  k=int.from_bytes(os.urandom(32),'big')
  if 0<k<N:return k
def _dbl(p):
 X,Y,Z=p
 if not Y or not Z:return (0,1,0)
 ZZ=Z*Z%P
 M=3*(X-ZZ)*(X+ZZ)%P
 YY=Y*Y%P
 S=4*X*YY%P
 X3=(M*M-2*S)%P
 return (X3,(M*(S-X3)-8*YY*YY)%P,2*Y*Z%P)
def _add(p,q):
 if not p[2]:return q
 if not q[2]:return p
 X1,Y1,Z1=p
 X2,Y2,Z2=q
 A=Z1*Z1%P
 B=Z2*Z2%P
 U1=X1*B%P
 U2=X2*A%P
 S1=Y1*Z2*B%P
 S2=Y2*Z1*A%P
 if U1==U2:return _dbl(p) if S1==S2 else (0,1,0)
 H=(U2-U1)%P
 R=(S2-S1)%P
 HH=H*H%P
 HHH=H*HH%P
 V=U1*HH%P
 X3=(R*R-HHH-2*V)%P
 return (X3,(R*(V-X3)-S1*HHH)%P,H*Z1*Z2%P)
def _mul(k,p):
 r=(0,1,0)
 for i in range(255,-1,-1):
  r=_dbl(r)
  if (k>>i)&1:r=_add(r,p)
 z=pow(r[2],P-2,P)
 return r[0]*z*z%P,r[1]*z*z*z%P
def _t(t,c):
 n=len(c)
 return bytes([t])+(bytes([n]) if n<128 else bytes([0x81,n]) if n<256 else bytes([0x82,n>>8,n&255]))+c
def _i(v):
 b=v.to_bytes(33,'big')
 i=0
 while i<32 and b[i]==0 and b[i+1]<128:i+=1
 return _t(2,b[i:])
_EC=b'\\x06\\x07\\x2a\\x86\\x48\\xce\\x3d\\x02\\x01'
_P256=b'\\x06\\x08\\x2a\\x86\\x48\\xce\\x3d\\x03\\x01\\x07'
_SHA256ECDSA=b'\\x30\\x0a\\x06\\x08\\x2a\\x86\\x48\\xce\\x3d\\x04\\x03\\x02'
def _sign(d,m):
 e=int.from_bytes(hashlib.sha256(m).digest(),'big')
 while 1:
  k=_rnd()
  r=_mul(k,G)[0]%N
  s=pow(k,N-2,N)*(e+r*d)%N
  if r and s:return _t(0x30,_i(r)+_i(s))
def onboard(key_path,name):
 d=_rnd()
 x,y=_mul(d,G)
 pt=b'\\x04'+x.to_bytes(32,'big')+y.to_bytes(32,'big')
 with open(key_path,'wb') as f:
  f.write(_t(0x30,_i(1)+_t(4,d.to_bytes(32,'big'))+_t(0xa0,_P256)+_t(0xa1,_t(3,b'\\x00'+pt))))
 cn=_t(0x30,_t(0x31,_t(0x30,b'\\x06\\x03\\x55\\x04\\x03'+_t(0x0c,name.encode()))))
 cri=_t(0x30,_i(0)+cn+_t(0x30,_t(0x30,_EC+_P256)+_t(3,b'\\x00'+pt))+b'\\xa0\\x00')
 print(binascii.hexlify(_t(0x30,cri+_SHA256ECDSA+_t(3,b'\\x00'+_sign(d,cri)))).decode())
`;

/** Suffix of the key file while its certificate is not yet in place. */
export const PENDING_SUFFIX = ".new";

/**
 * Python that creates the device key at `keyPath + ".new"` and prints the CSR as one hex line.
 * `installCode` later moves key and certificate into place together.
 */
export function onboardKeyCode(keyPath: string, name: string): string {
  return `${P256_PYTHON}onboard(${pyStr(keyPath + PENDING_SUFFIX)},${pyStr(name)})\n`;
}

/** Python that renames the pending key and certificate over the current ones, one right after the other. */
export function installCode(pairs: [pending: string, final: string][]): string {
  const lines = [
    "import os",
    "def _mv(a,b):",
    " try:",
    "  os.remove(b)",
    " except OSError:",
    "  pass",
    " os.rename(a,b)",
  ];
  for (const [pending, final] of pairs) lines.push(`_mv(${pyStr(pending)},${pyStr(final)})`);
  return lines.join("\n") + "\n";
}

/** The CSR DER from the script's output (the last non-empty line, hex). */
export function csrFromOutput(output: string): Uint8Array | undefined {
  const line = output.trim().split(/\r?\n/).at(-1)?.trim() ?? "";
  return /^(?:[0-9a-f]{2})+$/.test(line) ? Uint8Array.fromHex(line) : undefined;
}
