import { describe, expect, it } from 'vitest';
import { indexBytes, manifestBytes, sha256 } from '../../src/oci/json.js';
import { annotationsFrom } from '../../src/oci/build.js';

const desc = (d: string) => ({ mediaType: 'application/vnd.gadget.ebpf.program.v1+binary', digest: `sha256:${d.repeat(64)}`, size: 3 });

describe('deterministic manifest JSON', () => {
  it('gives the same bytes whatever the key insertion order', () => {
    const a = manifestBytes({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.gadget.v1+binary',
      config: { ...desc('a'), mediaType: 'application/vnd.gadget.config.v1+yaml', annotations: { z: '1', a: '2' } },
      layers: [desc('b')],
      annotations: { 'org.opencontainers.image.title': 't', 'io.x': 'y' },
    });
    const b = manifestBytes({
      annotations: { 'io.x': 'y', 'org.opencontainers.image.title': 't' },
      layers: [{ size: 3, digest: `sha256:${'b'.repeat(64)}`, mediaType: 'application/vnd.gadget.ebpf.program.v1+binary' }],
      config: { annotations: { a: '2', z: '1' }, size: 3, digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.gadget.config.v1+yaml' },
      artifactType: 'application/vnd.gadget.v1+binary',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      schemaVersion: 2,
    } as Parameters<typeof manifestBytes>[0]);
    expect(a.equals(b)).toBe(true);
    expect(sha256(a)).toBe(sha256(b));
    expect(a.toString()).toMatch(/^\{"schemaVersion":2,"mediaType":"application\/vnd\.oci\.image\.manifest\.v1\+json","artifactType":/);
    expect(a.toString()).not.toMatch(/\s/);
  });

  it('writes index entries in Go descriptor order with platform after annotations', () => {
    const i = indexBytes({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ platform: { os: 'linux', architecture: 'amd64' }, annotations: { b: '1' }, size: 1, digest: `sha256:${'c'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
    });
    expect(i.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${'c'.repeat(64)}","size":1,"annotations":{"b":"1"},"platform":{"architecture":"amd64","os":"linux"}}]}`,
    );
  });

  it('maps gadget.yaml to the annotation set', () => {
    const a = annotationsFrom(
      { name: 'n', description: 'd', homepageURL: 'h', documentationURL: 'doc', sourceURL: 's', annotations: { 'x.y': 'z', num: 3 } },
      '2023-11-14T22:13:20Z',
      '0.1.0',
    );
    expect(a).toEqual({
      'org.opencontainers.image.title': 'n',
      'org.opencontainers.image.description': 'd',
      'org.opencontainers.image.url': 'h',
      'org.opencontainers.image.documentation': 'doc',
      'org.opencontainers.image.source': 's',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'io.inspektor-gadget.builder.version': '0.1.0',
      'x.y': 'z',
      num: '3',
    });
  });
});
