/**
 * Private keys as `cosign generate-key-pair` writes them: PEM "ENCRYPTED SIGSTORE PRIVATE KEY"
 * (older cosign: "ENCRYPTED COSIGN PRIVATE KEY") around JSON in go-securesystemslib's
 * `encrypted` format — a scrypt KDF (N 32768/65536/131072, r 8, p 1, 32-byte salt) deriving a
 * 32-byte key for NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce) over the PKCS#8 DER of an
 * ECDSA P-256 key. The password comes from COSIGN_PASSWORD, as cosign reads it.
 * scrypt is Node's own; secretbox is @noble/ciphers' (audited; Node has no XSalsa20).
 */
import { createPrivateKey, scryptSync, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';
import { IgError } from '../errors.js';

const PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];
/** the strengths go-securesystemslib writes and accepts (others are refused: a huge N is a memory bomb) */
const SCRYPT_N = new Set([32768, 65536, 131072]);

interface Encrypted {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

/** The PEM's type when it is a cosign-encrypted key. */
export function cosignKeyType(pem: string): string | undefined {
  return PEM_TYPES.find((t) => pem.includes(`-----BEGIN ${t}-----`));
}

function pemBody(pem: string, type: string): Buffer {
  const m = pem.match(new RegExp(`-----BEGIN ${type}-----([\\s\\S]*?)-----END ${type}-----`));
  if (!m) throw new IgError('usage', `not a PEM block of type ${type}`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** Open go-securesystemslib's `encrypted` JSON with a passphrase. */
export function decryptSecretBox(json: Buffer | string, passphrase: string, what: string): Buffer {
  let d: Encrypted;
  try {
    d = JSON.parse(json.toString()) as Encrypted;
  } catch {
    throw new IgError('usage', `${what} is not cosign's encrypted key format (its PEM body is not JSON)`);
  }
  const p = d.kdf?.params;
  if (d.kdf?.name !== 'scrypt' || d.cipher?.name !== 'nacl/secretbox') {
    throw new IgError('usage', `${what} uses ${d.kdf?.name}/${d.cipher?.name}; only scrypt with nacl/secretbox (cosign's) is supported`);
  }
  if (!p || !SCRYPT_N.has(p.N) || p.r !== 8 || p.p !== 1) {
    throw new IgError('usage', `${what}: unsupported scrypt parameters N=${p?.N} r=${p?.r} p=${p?.p}`, { hint: 'cosign writes N=32768 (or 65536, 131072), r=8, p=1' });
  }
  const key = scryptSync(Buffer.from(passphrase, 'utf8'), Buffer.from(d.kdf.salt, 'base64'), 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + (1 << 20) });
  try {
    return Buffer.from(xsalsa20poly1305(key, Buffer.from(d.cipher.nonce, 'base64')).decrypt(Buffer.from(d.ciphertext, 'base64')));
  } catch {
    throw new IgError('usage', `cannot decrypt ${what}: wrong password`, { hint: 'set COSIGN_PASSWORD to the password the key was made with (cosign generate-key-pair asks for it)' });
  }
}

/** A cosign private key (PEM text) as a Node key; the password from COSIGN_PASSWORD. */
export function loadCosignPrivateKey(pem: string, file: string, password = process.env.COSIGN_PASSWORD): KeyObject {
  const type = cosignKeyType(pem)!;
  if (password === undefined) {
    throw new IgError('usage', `${file} is a cosign key encrypted with a password, and COSIGN_PASSWORD is not set`, {
      hint: 'export COSIGN_PASSWORD=… (the password given to cosign generate-key-pair; empty if none was)',
    });
  }
  const der = decryptSecretBox(pemBody(pem, type), password, file);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}
