import { IgError } from '../errors.js';
import { findCredentials, type Credentials } from './auth.js';
import { ACCEPT_MANIFEST } from './mediatypes.js';
import { sha256 } from './json.js';
import { boundedFetch, registryTimeoutMs } from './http.js';
import { sleep } from './interrupt.js';
import { MAX_MANIFEST_BYTES, readBounded } from './limits.js';
import type { Reference } from './reference.js';
import type { Descriptor } from './types.js';

export interface RegistryClientOptions {
  authfile?: string;
  insecureRegistries?: string[];
  /** Attempts for 5xx, 429 and connection failures (default 4, i.e. 3 retries). */
  attempts?: number;
  /** First backoff in ms, doubled per retry (default 200). */
  backoffMs?: number;
  /** Blobs larger than this are uploaded in chunks (PATCH); default 8 MiB, env IG_PUSH_CHUNK_SIZE. */
  chunkSize?: number;
  /** Explicit credentials (ig login checks them before saving). */
  credentials?: Credentials;
  /** Ends every request and wait at once (Ctrl-C, a daemon session's end). */
  signal?: AbortSignal;
  /** How long an answer, or the next part of a body, may take (default 30 s, env IG_REGISTRY_TIMEOUT in seconds). */
  timeoutMs?: number;
}

type Scope = 'pull' | 'pull,push';

interface Req {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  scope: Scope;
  /** Statuses returned to the caller instead of becoming errors. */
  ok?: number[];
  what: string;
}

function causeCode(e: unknown): string {
  let c: unknown = e;
  for (let i = 0; i < 4 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    c = (c as { cause?: unknown }).cause;
  }
  return '';
}
function causeMessage(e: unknown): string {
  const c = (e as { cause?: { message?: string } }).cause;
  return c?.message ?? (e as Error).message;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (also Basic). */
export function parseWwwAuthenticate(h: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(h);
  const scheme = (m?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m?.[2] ?? ''))) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme, params };
}

/** A client of the OCI distribution API over Node's fetch: auth (bearer and basic), retries, digests checked. */
export class RegistryClient {
  private tokens = new Map<string, string>();
  private basic = new Map<string, string>();
  private creds = new Map<string, Credentials | undefined>();
  readonly chunkSize: number;

  constructor(readonly opts: RegistryClientOptions = {}) {
    this.chunkSize = opts.chunkSize ?? (Number(process.env.IG_PUSH_CHUNK_SIZE) || 8 << 20);
  }

  isInsecure(domain: string): boolean {
    const list = this.opts.insecureRegistries ?? [];
    const host = domain.replace(/:\d+$/, '');
    return list.includes(domain) || list.includes(host);
  }

  private base(domain: string): string {
    const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    return `${this.isInsecure(domain) ? 'http' : 'https'}://${host}`;
  }

  private async credentials(domain: string): Promise<Credentials | undefined> {
    if (this.opts.credentials) return this.opts.credentials;
    if (!this.creds.has(domain)) this.creds.set(domain, await findCredentials(domain, this.opts.authfile));
    return this.creds.get(domain);
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  private async fetchOnce(url: string, init: RequestInit, domain: string, what: string): Promise<Response> {
    try {
      return await boundedFetch(url, { ...init, redirect: 'follow' }, { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs ?? registryTimeoutMs(), what, host: domain });
    } catch (e) {
      if (e instanceof IgError) throw e; // interrupted, or the registry stalled
      const code = causeCode(e);
      const tls = /SSL|TLS|EPROTO|CERT/i.test(code) || /SSL|TLS|certificate|wrong version/i.test(causeMessage(e));
      if (tls && !this.isInsecure(domain)) {
        const msg = /wrong version number|packet length too long|http request/i.test(causeMessage(e)) ? 'it does not answer TLS (a plain-HTTP registry?)' : causeMessage(e);
        throw new IgError('registry', `cannot talk HTTPS to registry ${domain} (${what}): ${msg}`, {
          hint: `if ${domain} serves plain HTTP, pass --insecure-registries ${domain}`,
          cause: e,
        });
      }
      const err = new IgError('registry', `cannot reach registry ${domain} (${what}): ${code || causeMessage(e)}`, {
        hint: this.isInsecure(domain)
          ? `check that the registry at ${domain} is running`
          : `check that the registry at ${domain} is running; for a plain-HTTP registry pass --insecure-registries ${domain}`,
        cause: e,
      });
      (err as { retryable?: boolean }).retryable = true;
      throw err;
    }
  }

  private authHeader(domain: string, repo: string, scope: Scope): string | undefined {
    return this.tokens.get(`${domain}|${repo}|${scope}`) ?? this.basic.get(domain);
  }

  /** Handle a 401 challenge: fetch a bearer token or set basic auth. Returns false when we have nothing to offer. */
  private async authenticate(domain: string, repo: string, scope: Scope, challenge: string | null): Promise<boolean> {
    const creds = await this.credentials(domain);
    const { scheme, params } = parseWwwAuthenticate(challenge ?? '');
    if (scheme === 'basic') {
      if (!creds?.username) return false;
      this.basic.set(domain, 'Basic ' + Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64'));
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) {
      throw new IgError('auth', `registry ${domain} asks for an unsupported authentication scheme "${challenge}"`);
    }
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (repo) url.searchParams.set('scope', `repository:${repo}:${scope}`);
    else if (params.scope) url.searchParams.set('scope', params.scope);
    const headers: Record<string, string> = {};
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service: params.service ?? '', scope: url.searchParams.get('scope') ?? '', client_id: 'ig' });
      res = await this.fetchOnce(params.realm, { method: 'POST', body: form }, domain, 'token');
    } else {
      if (creds?.username) headers.authorization = 'Basic ' + Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64');
      res = await this.fetchOnce(url.toString(), { headers }, domain, 'token');
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new IgError('auth', `registry ${domain} refused the credentials${creds?.username ? ` of user "${creds.username}"` : ''} (HTTP ${res.status})`, {
        hint: `log in again with \`ig login ${domain}\``,
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new IgError('auth', `token request to ${url.origin} failed: HTTP ${res.status}`);
    }
    let j: { token?: string; access_token?: string };
    try {
      j = JSON.parse((await readBounded(res, 1 << 20, `token of ${domain}`)).toString('utf8'));
    } catch (e) {
      if (e instanceof IgError) throw e;
      throw new IgError('auth', `token service of ${domain} answered something that is not JSON`);
    }
    const tok = j?.token ?? j?.access_token;
    if (!tok) throw new IgError('auth', `token service of ${domain} returned no token`);
    this.tokens.set(`${domain}|${repo}|${scope}`, `Bearer ${tok}`);
    return true;
  }

  /** One request with auth, retries (5xx, 429, connection failures) and clear errors for 401/403/404. */
  async request(ref: Pick<Reference, 'domain' | 'repository'>, path: string, r: Req): Promise<Response> {
    const domain = ref.domain;
    const repo = ref.repository;
    const url = path.startsWith('http') ? path : `${this.base(domain)}${path}`;
    const attempts = this.opts.attempts ?? 4;
    const backoff = this.opts.backoffMs ?? 200;
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...(r.headers ?? {}) };
      const a = this.authHeader(domain, repo, r.scope);
      if (a) headers.authorization = a;
      let res: Response;
      try {
        res = await this.fetchOnce(url, { method: r.method ?? 'GET', headers, body: r.body as unknown as BodyInit | undefined }, domain, r.what);
      } catch (e) {
        if ((e as { retryable?: boolean }).retryable && attempt < attempts) {
          await sleep(backoff * 2 ** (attempt - 1), this.opts.signal, `retrying ${r.what}`);
          continue;
        }
        throw e;
      }
      if (r.ok?.includes(res.status)) return res;
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        if (!authTried && (await this.authenticate(domain, repo, r.scope, challenge))) {
          authTried = true;
          attempt--;
          continue;
        }
        const creds = await this.credentials(domain);
        throw new IgError('auth', creds?.username
          ? `registry ${domain} refused the credentials of user "${creds.username}" for ${r.what}`
          : `registry ${domain} requires authentication for ${r.what}`, { hint: `log in with \`ig login ${domain} -u USER --password-stdin\`` });
      }
      if (res.status === 403) {
        await res.body?.cancel();
        throw new IgError('auth', `registry ${domain} denied access to ${repo} (${r.what}, HTTP 403)`, {
          hint: 'check that your account may ' + (r.scope === 'pull' ? 'read' : 'write') + ' this repository',
        });
      }
      if ((res.status >= 500 || res.status === 429) && attempt < attempts) {
        const ra = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await sleep(Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 10_000) : backoff * 2 ** (attempt - 1), this.opts.signal, `retrying ${r.what}`);
        continue;
      }
      if (res.ok) return res;
      const text = await readBounded(res, 64 << 10, `error body of ${r.what}`).then((b) => b.toString('utf8')).catch(() => '');
      let detail = '';
      try {
        const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
        detail = (j.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
      } catch {
        detail = text.slice(0, 200);
      }
      if (res.status === 404) {
        throw new IgError('not-found', `${r.what} not found in registry ${domain}${detail ? ` (${detail})` : ''}`, {
          hint: 'check the image name and tag',
        });
      }
      if (res.status === 429) {
        throw new IgError('registry', `registry ${domain} is rate limiting us (HTTP 429) for ${r.what}`, { hint: 'wait a while and try again, or log in to get a higher limit' });
      }
      throw new IgError('registry', `registry ${domain} answered HTTP ${res.status} for ${r.what}${detail ? `: ${detail}` : ''}`, {
        hint: res.status >= 500 ? 'the registry has a problem; try again later' : undefined,
      });
    }
  }

  /** GET /v2/ to check reachability and credentials (ig login). */
  async ping(domain: string): Promise<void> {
    await this.request({ domain, repository: '' }, '/v2/', { scope: 'pull', what: 'API check (/v2/)' }).then((r) => r.body?.cancel());
  }

  /** Fetch a manifest or index by tag or digest; the bytes are checked against the digest. */
  async getManifest(ref: Reference, tagOrDigest: string): Promise<{ mediaType: string; digest: string; body: Buffer }> {
    const what = tagOrDigest.startsWith('sha256:') ? `manifest ${ref.name}@${tagOrDigest}` : `image ${ref.name}:${tagOrDigest}`;
    const res = await this.request(ref, `/v2/${ref.repository}/manifests/${tagOrDigest}`, { headers: { accept: ACCEPT_MANIFEST }, scope: 'pull', what });
    let body: Buffer;
    try {
      body = await readBounded(res, MAX_MANIFEST_BYTES, `${what} from registry ${ref.domain}`);
    } catch (e) {
      if (e instanceof IgError) throw e;
      throw new IgError('registry', `connection to ${ref.domain} lost while reading ${what}`, { cause: e, hint: 'try again' });
    }
    const digest = sha256(body);
    const expected = tagOrDigest.startsWith('sha256:') ? tagOrDigest : res.headers.get('docker-content-digest');
    if (expected && expected.startsWith('sha256:') && expected !== digest) {
      throw new IgError('digest', `${what} does not match its digest: expected ${expected}, got ${digest}`, {
        hint: 'the registry (or something between) served different content; nothing was stored',
      });
    }
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const j = JSON.parse(body.toString('utf8')) as { mediaType?: string };
      if (j.mediaType) mediaType = j.mediaType;
    } catch {
      throw new IgError('invalid-image', `${what} is not JSON`, { hint: 'is this an OCI image?' });
    }
    return { mediaType, digest, body };
  }

  async hasBlob(ref: Reference, digest: string): Promise<boolean> {
    const res = await this.request(ref, `/v2/${ref.repository}/blobs/${digest}`, { method: 'HEAD', scope: 'pull,push', ok: [404], what: `blob ${digest}` });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300;
  }

  /** GET a blob; the caller streams and verifies it (Store.ingest). */
  async getBlob(ref: Reference, desc: Descriptor): Promise<Response> {
    return this.request(ref, `/v2/${ref.repository}/blobs/${desc.digest}`, { scope: 'pull', what: `blob ${desc.digest} of ${ref.name}` });
  }

  private location(ref: Reference, res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new IgError('registry', `registry ${ref.domain} gave no upload location`);
    return new URL(loc, `${this.base(ref.domain)}/`).toString();
  }

  /** Upload a blob unless the registry has it (HEAD). Monolithic up to chunkSize, chunked (PATCH) above. Returns false if skipped. */
  async pushBlob(ref: Reference, desc: Descriptor, data: Buffer, onBytes?: (n: number) => void): Promise<boolean> {
    if (await this.hasBlob(ref, desc.digest)) {
      onBytes?.(data.length);
      return false;
    }
    const what = `upload of blob ${desc.digest} to ${ref.name}`;
    const start = await this.request(ref, `/v2/${ref.repository}/blobs/uploads/`, { method: 'POST', scope: 'pull,push', what });
    await start.body?.cancel();
    let loc = this.location(ref, start);
    const withDigest = (u: string) => {
      const url = new URL(u);
      url.searchParams.set('digest', desc.digest);
      return url.toString();
    };
    if (data.length <= this.chunkSize) {
      const res = await this.request(ref, withDigest(loc), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
        body: data,
        scope: 'pull,push',
        what,
      });
      await res.body?.cancel();
      onBytes?.(data.length);
      return true;
    }
    for (let off = 0; off < data.length; off += this.chunkSize) {
      const chunk = data.subarray(off, Math.min(off + this.chunkSize, data.length));
      const res = await this.request(ref, loc, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(chunk.length),
          'content-range': `${off}-${off + chunk.length - 1}`,
        },
        body: Buffer.from(chunk),
        scope: 'pull,push',
        what,
      });
      await res.body?.cancel();
      loc = this.location(ref, res);
      onBytes?.(chunk.length);
    }
    const res = await this.request(ref, withDigest(loc), { method: 'PUT', headers: { 'content-length': '0' }, scope: 'pull,push', what });
    await res.body?.cancel();
    return true;
  }

  async pushManifest(ref: Reference, tagOrDigest: string, mediaType: string, body: Buffer): Promise<string> {
    const res = await this.request(ref, `/v2/${ref.repository}/manifests/${tagOrDigest}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body,
      scope: 'pull,push',
      what: `manifest ${ref.name}:${tagOrDigest}`,
    });
    await res.body?.cancel();
    const digest = sha256(body);
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) throw new IgError('digest', `registry ${ref.domain} stored manifest ${ref.name}:${tagOrDigest} as ${got}, expected ${digest}`);
    return digest;
  }

  /** Delete a manifest by digest (or a tag, where the registry allows it; Docker distribution 2.8 does not). */
  async deleteManifest(ref: Reference, tagOrDigest: string): Promise<void> {
    const res = await this.request(ref, `/v2/${ref.repository}/manifests/${tagOrDigest}`, {
      method: 'DELETE',
      scope: 'pull,push',
      ok: [405],
      what: `manifest ${ref.name}:${tagOrDigest}`,
    });
    await res.body?.cancel();
    if (res.status === 405) {
      throw new IgError('registry', `registry ${ref.domain} does not allow deleting ${tagOrDigest}`, {
        hint: tagOrDigest.startsWith('sha256:') ? 'enable storage.delete on the registry' : 'delete by digest instead of by tag',
      });
    }
  }
}
