import { describe, expect, it } from 'vitest';
import { decryptSecretBox } from '../../src/oci/cosign-key.js';

// A known answer from go-securesystemslib's own tests (encrypted/encrypted_test.go, TestDecrypt),
// the library cosign seals its keys with: scrypt N=32768 r=8 p=1 + NaCl secretbox.
const VECTOR = '{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}';

describe('cosign\'s encrypted key format', () => {
  it('opens what go-securesystemslib sealed', () => {
    expect(decryptSecretBox(VECTOR, 'supersecret', 'k').toString()).toBe('reallyimportant');
  });

  it('says a wrong password is wrong, and refuses parameters cosign never writes', () => {
    expect(() => decryptSecretBox(VECTOR, 'nope', 'cosign.key')).toThrow('cannot decrypt cosign.key: wrong password');
    const odd = VECTOR.replace('"N":32768', '"N":99').replace('"r":8', '"r":99');
    expect(() => decryptSecretBox(odd, 'supersecret', 'cosign.key')).toThrow('cosign.key: unsupported scrypt parameters N=99 r=99 p=1');
  });
});
