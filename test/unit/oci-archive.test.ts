import { describe, expect, it } from 'vitest';
import { safeEntryName, safeLinkTarget } from '../../src/oci/archive.js';

describe('tar entry safety', () => {
  it.each(['oci-layout', 'index.json', 'blobs/sha256/abc', './blobs/sha256/abc', 'blobs//x'])('accepts %s', (n) => {
    expect(() => safeEntryName(n)).not.toThrow();
  });
  it('normalizes ./ and //', () => {
    expect(safeEntryName('./blobs//sha256/x')).toBe('blobs/sha256/x');
  });
  it.each(['../x', 'blobs/../../x', '/etc/passwd', 'a/..', 'C:/x', '..\\x'])('refuses %s', (n) => {
    expect(() => safeEntryName(n)).toThrow();
  });
  it('resolves symlinks relative to their directory and refuses escapes', () => {
    expect(safeLinkTarget('blobs/sha256/a', 'b', 'symlink')).toBe('blobs/sha256/b');
    expect(safeLinkTarget('blobs/sha256/a', '../../index.json', 'symlink')).toBe('index.json');
    expect(() => safeLinkTarget('blobs/sha256/a', '../../../etc/passwd', 'symlink')).toThrow(/outside the layout/);
    expect(() => safeLinkTarget('blobs/a', '/etc/passwd', 'symlink')).toThrow(/absolute/);
    expect(safeLinkTarget('blobs/sha256/a', 'blobs/sha256/b', 'link')).toBe('blobs/sha256/b');
    expect(() => safeLinkTarget('blobs/a', '../x', 'link')).toThrow(/outside the layout/);
  });
});
