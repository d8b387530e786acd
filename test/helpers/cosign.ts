/**
 * A key pair as `cosign generate-key-pair` writes it (cosign is in neither Debian 12 nor npm):
 * an ECDSA P-256 key as PKCS#8 DER, sealed with NaCl secretbox under a scrypt(N=32768, r=8,
 * p=1) key from the password (go-securesystemslib's `encrypted` JSON), in a PEM "ENCRYPTED
 * SIGSTORE PRIVATE KEY"; the public key a PEM "PUBLIC KEY". Written independently of ig's reader.
 */
import { generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';

export function cosignKeyPair(password: string): { key: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const k = scryptSync(Buffer.from(password), salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 << 20 });
  const sealed = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(xsalsa20poly1305(k, nonce).encrypt(der)).toString('base64'),
  });
  const body = Buffer.from(sealed).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return {
    key: `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${body}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`,
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
