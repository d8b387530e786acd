/**
 * Where the daemon listens (`-H`, repeatable) and how each kind of address is secured:
 *   unix:///path  created 0660, owned by root and the `--group` (default root's group), so only
 *                 root and that group's members may connect. The path is taken over only when it
 *                 holds a stale socket of ours (a socket owned by this user that nobody answers
 *                 on); a regular file, someone else's socket or a live daemon's socket is refused.
 *                 Each connection is accepted here, its peer's uid read from the kernel
 *                 (SO_PEERCRED) and stamped on it, then handed to gRPC (identity.ts).
 *   tcp://IP:PORT TLS (--tls-cert-file/--tls-key-file; --tls-client-ca-file makes client
 *                 certificates required). Plain TCP lets anyone who reaches the port run eBPF as
 *                 root: refused unless --tls-insecure says so.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync, type Stats } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { IgError } from '../errors.js';
import { native } from '../runtime/native.js';
import { grpcTarget, type TlsFiles } from './proto.js';
import { unixPeerAddress } from './identity.js';

export interface ListenOptions {
  tls: TlsFiles;
  /** accept plain TCP without TLS (loudly) */
  tlsInsecure?: boolean;
  /** group name or gid of the unix sockets (default 0) */
  group?: string;
  /** where warnings go */
  warn?: (line: string) => void;
}

export interface Listening {
  /** the addresses as a client would name them (tcp ports resolved) */
  addresses: string[];
  close(): Promise<void>;
}

/** Check every address and the TLS settings before anything is bound. */
export function checkListenOptions(hosts: string[], o: ListenOptions): void {
  if (hosts.length === 0) throw new IgError('usage', 'ig daemon needs an address to listen on', { hint: 'e.g. -H unix:///var/run/ig/ig.socket' });
  const tcp = hosts.filter((h) => !grpcTarget(h).startsWith('unix://'));
  if ((o.tls.cert && !o.tls.key) || (!o.tls.cert && o.tls.key)) {
    throw new IgError('usage', '--tls-cert-file and --tls-key-file go together', { hint: 'give the server certificate and its key' });
  }
  if (o.tls.ca && !o.tls.cert) throw new IgError('usage', '--tls-client-ca-file needs --tls-cert-file and --tls-key-file');
  if (tcp.length && !o.tls.cert && !o.tlsInsecure) {
    throw new IgError('usage', `refusing to serve ${tcp.join(', ')} over plain TCP: anyone who can reach the port could run eBPF programs as root on this node`, {
      hint: 'give --tls-cert-file, --tls-key-file and --tls-client-ca-file (client certificates), or --tls-insecure to accept plain TCP anyway',
    });
  }
  if (tcp.length && o.tls.cert && !o.tls.ca) {
    o.warn?.('ig daemon: warning: TLS without --tls-client-ca-file: any client that reaches the port may run gadgets (clients are told apart only by IP address)\n');
  }
  if (tcp.length && !o.tls.cert && o.tlsInsecure) {
    o.warn?.(`ig daemon: WARNING: serving ${tcp.join(', ')} over plain TCP (--tls-insecure): no encryption, and anyone who can reach the port may run gadgets\n`);
  }
}

/** `--group`: a group name from /etc/group or a numeric gid; undefined: the daemon's own group (root's, as root). */
export function groupId(group: string | undefined): number | undefined {
  if (group === undefined || group === '') return undefined;
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    /* no group file: only numbers work */
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new IgError('usage', `--group: no group named "${group}" in /etc/group`, { hint: 'give a group name or a numeric gid' });
}

/** Whether something accepts connections on the unix socket `file` (within 1 s). */
function answers(file: string): Promise<boolean | string> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    const done = (v: boolean | string) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(true)); // a listener too busy to accept is still alive
    s.once('connect', () => done(true));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? false : (e.code ?? e.message)));
  });
}

/** Make `file` free for a new socket: absent, or a stale socket of ours (removed). Anything else is refused. */
async function claimSocketPath(file: string): Promise<void> {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new IgError('usage', `cannot use ${file} for the daemon's socket: ${(e as Error).message}`);
  }
  if (!st.isSocket()) {
    throw new IgError('usage', `${file} exists and is not a socket; refusing to replace it`, { hint: 'remove it yourself if it is not needed, or choose another -H unix:///path' });
  }
  const me = process.geteuid?.() ?? 0;
  if (st.uid !== me) {
    throw new IgError('usage', `${file} is a socket of uid ${st.uid}, not of this daemon; refusing to replace it`, { hint: 'choose another -H unix:///path' });
  }
  const alive = await answers(file);
  if (alive === true) {
    throw new IgError('usage', `another daemon is listening on ${file}`, { hint: 'stop it first, or choose another -H unix:///path' });
  }
  if (alive !== false) throw new IgError('usage', `cannot tell whether ${file} is in use (${alive}); refusing to replace it`);
  unlinkSync(file); // a socket left by a daemon that died
}

interface Bound { address: string; close(): Promise<void> }

async function listenUnix(server: grpc.Server, file: string, gid: number | undefined): Promise<Bound> {
  mkdirSync(path.dirname(file), { recursive: true });
  await claimSocketPath(file);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = net.createServer((conn) => {
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
    try {
      if (fd === undefined || fd < 0) throw new Error('no file descriptor');
      // gRPC reports this as the call's peer (identity.ts)
      Object.defineProperty(conn, 'remoteAddress', { value: unixPeerAddress(native().peerCredentials(fd)) });
    } catch {
      conn.destroy(); // a client we cannot identify is not served
      return;
    }
    injector.injectConnection(conn);
  });
  // Bind with a umask that leaves the socket 0600 until it is 0660 and in its group: never a
  // moment where others could connect. (bind happens synchronously inside listen().)
  const umask = process.umask(0o177);
  let ino: number;
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', (e) => reject(new IgError('usage', `cannot listen on unix://${file}: ${e.message}`)));
      listener.listen(file, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  try {
    if (gid !== undefined) chownSync(file, -1, gid);
    chmodSync(file, 0o660);
    ino = lstatSync(file).ino;
  } catch (e) {
    listener.close();
    throw new IgError('usage', `cannot set the owner and mode of ${file}: ${(e as Error).message}`);
  }
  return {
    address: `unix://${file}`,
    close: () =>
      new Promise<void>((resolve) => {
        injector.destroy();
        listener.close(() => {
          // remove the socket only if it is still ours (another daemon may have replaced a stale one)
          try {
            if (lstatSync(file).ino === ino) unlinkSync(file);
          } catch {
            /* already gone */
          }
          resolve();
        });
      }),
  };
}

function serverCredentials(tls: TlsFiles): grpc.ServerCredentials {
  if (!tls.cert || !tls.key) return grpc.ServerCredentials.createInsecure();
  const read = (f: string, what: string) => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new IgError('usage', `cannot read the ${what} ${f}: ${(e as Error).message}`);
    }
  };
  return grpc.ServerCredentials.createSsl(
    tls.ca ? read(tls.ca, 'client CA (--tls-client-ca-file)') : null,
    [{ cert_chain: read(tls.cert, 'server certificate (--tls-cert-file)'), private_key: read(tls.key, 'server key (--tls-key-file)') }],
    !!tls.ca,
  );
}

async function listenTcp(server: grpc.Server, host: string, target: string, tls: TlsFiles): Promise<Bound> {
  const creds = serverCredentials(tls);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, creds, (err, p) => (err ? reject(new IgError('usage', `cannot listen on ${host}: ${err.message}`)) : resolve(p)));
  });
  return {
    address: `tcp://${target.replace(/:\d+$/, '')}:${port}`,
    close: async () => server.unbind(target),
  };
}

/** Bind every address (all or none: on a failure, what was bound is closed again). */
export async function listenAll(server: grpc.Server, hosts: string[], o: ListenOptions): Promise<Listening> {
  checkListenOptions(hosts, o);
  const gid = groupId(o.group);
  const bound: Bound[] = [];
  try {
    for (const h of hosts) {
      const target = grpcTarget(h);
      bound.push(target.startsWith('unix://') ? await listenUnix(server, target.slice('unix://'.length), gid) : await listenTcp(server, h, target, o.tls));
    }
  } catch (e) {
    await Promise.allSettled(bound.map((b) => b.close()));
    throw e;
  }
  return { addresses: bound.map((b) => b.address), close: async () => void (await Promise.allSettled(bound.map((b) => b.close()))) };
}
