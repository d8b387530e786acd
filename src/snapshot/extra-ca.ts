/**
 * NODE_EXTRA_CA_CERTS, applied when ig may first make a TLS connection instead of at every start.
 *
 * With the variable set, node parses its whole root store and the extra file before any script
 * runs: on this machine (where it names the system bundle of ~140 certificates) that is ~85 ms of
 * CPU per start, more than the rest of `ig run` takes to its first event, and most runs read a
 * local image and never open a TLS connection. So bin/ig hands the file over in
 * IG_DEFERRED_EXTRA_CA_CERTS, and here every TLS context made without its own `ca` gets node's
 * root certificates plus the extra ones — what node itself does with the variable. Child
 * processes get NODE_EXTRA_CA_CERTS back as it was.
 *
 * node:tls itself costs ~9 ms to load, so even that waits for the first possible TLS user:
 * fetch() (the registry client), an npm package loaded at run time (gRPC, OTLP exporters, the
 * Kubernetes client: build-snapshot.mjs's require and import call `__igBeforeTls`), node's tls,
 * https or http2 module, or the ES module bundle (entry.ts's other commands).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const DEFERRED = 'IG_DEFERRED_EXTRA_CA_CERTS';

declare global {
  /** set while NODE_EXTRA_CA_CERTS waits to be applied; call before anything may use TLS */
  // eslint-disable-next-line no-var
  var __igBeforeTls: (() => void) | undefined;
}

export function deferExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED];
  if (file === undefined) return;
  delete env[DEFERRED];
  env.NODE_EXTRA_CA_CERTS = file;
  const fetch = globalThis.fetch;
  const apply = () => {
    globalThis.__igBeforeTls = undefined;
    globalThis.fetch = fetch;
    addToDefaultContexts(file);
  };
  globalThis.__igBeforeTls = apply;
  globalThis.fetch = function fetchWithExtraCa(...args: Parameters<typeof fetch>) {
    apply();
    return fetch(...args);
  };
}

/** Every TLS context made without its own `ca` trusts node's root certificates and the file's. */
function addToDefaultContexts(file: string): void {
  const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  const createSecureContext = tls.createSecureContext;
  let ca: string[] | undefined;
  tls.createSecureContext = function withExtraCa(options) {
    if (options?.ca !== undefined) return createSecureContext(options);
    ca ??= [...tls.rootCertificates, ...extraCerts(file)];
    return createSecureContext({ ...options, ca });
  };
}

/** The PEM certificates of the file; as node does, a file it cannot read is a warning, not an error. */
function extraCerts(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
    return [];
  }
}
