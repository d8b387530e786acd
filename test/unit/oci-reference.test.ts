import { describe, expect, it } from 'vitest';
import { normalizeReference, parseReference, shortName } from '../../src/oci/reference.js';

describe('reference normalization (IG rules)', () => {
  it.each([
    ['trace_open', 'ghcr.io/inspektor-gadget/gadget/trace_open:latest'],
    ['trace_open:v0.30.0', 'ghcr.io/inspektor-gadget/gadget/trace_open:v0.30.0'],
    ['myorg/foo', 'ghcr.io/myorg/foo:latest'],
    ['myorg/team/foo:v2', 'ghcr.io/myorg/team/foo:v2'],
    ['localhost:5000/foo:v1', 'localhost:5000/foo:v1'],
    ['localhost/foo', 'localhost/foo:latest'],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b:latest'],
    ['docker.io/library/x', 'docker.io/library/x:latest'],
    ['ghcr.io/inspektor-gadget/gadget/trace_exec:main', 'ghcr.io/inspektor-gadget/gadget/trace_exec:main'],
    [`foo@sha256:${'a'.repeat(64)}`, `ghcr.io/inspektor-gadget/gadget/foo@sha256:${'a'.repeat(64)}`],
    [`localhost:5000/foo:v1@sha256:${'b'.repeat(64)}`, `localhost:5000/foo:v1@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, want) => {
    expect(normalizeReference(input)).toBe(want);
  });

  it('splits domain, repository, tag and digest', () => {
    const r = parseReference('localhost:5000/a/b:v1');
    expect(r).toMatchObject({ domain: 'localhost:5000', repository: 'a/b', tag: 'v1', name: 'localhost:5000/a/b' });
  });

  it.each(['', 'Foo', 'foo:', 'foo@sha256:abc', 'a//b', 'foo:bad tag', '-foo'])('rejects %j with a usage error', (bad) => {
    expect(() => parseReference(bad)).toThrow(/invalid image reference/);
    try {
      parseReference(bad);
    } catch (e) {
      expect((e as { code: string }).code).toBe('usage');
      expect((e as { hint: string }).hint).toBeTruthy();
    }
  });

  it('strips the official prefix for display only', () => {
    expect(shortName('ghcr.io/inspektor-gadget/gadget/trace_open')).toBe('trace_open');
    expect(shortName('ghcr.io/myorg/foo')).toBe('ghcr.io/myorg/foo');
  });
});
