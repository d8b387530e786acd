/**
 * Who a client is, as far as the daemon can tell from its connection:
 *   - over a unix socket: the uid the kernel recorded when it connected (SO_PEERCRED), which
 *     listen.ts stamps on the connection before gRPC sees it;
 *   - over TLS with a client certificate: the certificate (its SHA-256 fingerprint; the subject
 *     for messages);
 *   - over TLS without client certificates, or plain TCP (--tls-insecure): the remote IP address,
 *     which is all there is (every client behind one port-forward or NAT is one client).
 * Limits are counted per identity.
 */
import type { PeerCertificate } from 'node:tls';

export interface ClientIdentity {
  /** stable key limits are counted under */
  key: string;
  /** for messages: "uid 1000", "client certificate CN=alice", "10.0.0.7" */
  display: string;
}

/** What listen.ts sets as the remote address of a unix-socket connection (gRPC's getPeer() returns it). */
const UNIX_PEER_PREFIX = 'unix-peer:';

export function unixPeerAddress(cred: { uid: number; gid: number; pid: number }): string {
  return `${UNIX_PEER_PREFIX}uid=${cred.uid},gid=${cred.gid},pid=${cred.pid}`;
}

interface CallLike {
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate };
}

export function identify(call: CallLike): ClientIdentity {
  const cert = call.getAuthContext?.().sslPeerCertificate;
  if (cert?.fingerprint256) {
    const cn = cert.subject?.CN;
    return { key: `cert:${cert.fingerprint256}`, display: `client certificate ${cn ? `CN=${String(cn)}` : cert.fingerprint256}` };
  }
  const peer = call.getPeer();
  if (peer.startsWith(UNIX_PEER_PREFIX)) {
    const uid = /uid=(\d+)/.exec(peer)?.[1] ?? '?';
    return { key: `uid:${uid}`, display: `uid ${uid}` };
  }
  // "1.2.3.4:5678", "[::1]:5678" → the address without the port
  const host = peer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return { key: `ip:${host}`, display: host };
}
