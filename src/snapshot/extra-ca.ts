/**
 * NODE_EXTRA_CA_CERTS, applied when ig first makes a TLS connection instead of at every start.
 *
 * With the variable set, node parses its whole root store and the extra file before any script
 * runs: on this machine (where it names the system bundle of ~140 certificates) that is ~85 ms of
 * CPU per start, more than the rest of `ig run` takes to its first event, and most runs read a
 * local image and never open a TLS connection. So bin/ig hands the file over in
 * IG_DEFERRED_EXTRA_CA_CERTS, and here every TLS context made without its own `ca` gets node's
 * root certificates plus the extra ones — what node itself does with the variable — built on
 * first use (the registry client's fetch, https, gRPC and OTLP exporters all make theirs with
 * tls.createSecureContext). Child processes get NODE_EXTRA_CA_CERTS back as it was.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const DEFERRED = 'IG_DEFERRED_EXTRA_CA_CERTS';

export function applyDeferredExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED];
  if (file === undefined) return;
  delete env[DEFERRED];
  env.NODE_EXTRA_CA_CERTS = file;
  // loaded now, not in the snapshot: node's tls module holds per-process OpenSSL state
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
