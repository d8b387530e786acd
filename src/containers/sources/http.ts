import http from 'node:http';

/** GET a JSON document from an HTTP API on a unix socket. */
export function getJson<T>(socket: string, path: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path, agent: false, headers: { Host: 'd' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) {
          const err = new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 200).trim()}`) as Error & { status?: number };
          err.status = res.statusCode;
          return reject(err);
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(new Error(`GET ${path}: response is not JSON: ${(e as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  });
}

/**
 * Follow a streaming endpoint (podman/docker events): `onData` per chunk, `onEnd`
 * when the stream stops. The socket is unref'd. Returns a cancel function.
 */
export function follow(socket: string, path: string, onData: () => void, onEnd: (err?: Error) => void): () => void {
  let ended = false;
  const end = (e?: Error) => {
    if (ended) return;
    ended = true;
    onEnd(e);
  };
  const req = http.get({ socketPath: socket, path, agent: false, headers: { Host: 'd' } }, (res) => {
    if ((res.statusCode ?? 0) >= 300) {
      res.resume();
      return end(new Error(`GET ${path}: HTTP ${res.statusCode}`));
    }
    res.on('data', () => onData());
    res.on('end', () => end());
    res.on('error', (e) => end(e));
  });
  req.on('socket', (s) => s.unref());
  req.on('error', (e) => end(e));
  return () => {
    ended = true;
    req.destroy();
  };
}
