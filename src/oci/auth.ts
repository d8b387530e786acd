import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { IgError } from '../errors.js';

/** Credentials for one registry, from a docker-style config.json. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}
interface AuthConfig {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

const IG_AUTHFILE = '/var/lib/ig/config.json';

/** Files to read credentials from, first found wins: --authfile, REGISTRY_AUTH_FILE, /var/lib/ig/config.json, ~/.docker/config.json. */
function authfileCandidates(explicit?: string): string[] {
  if (explicit) return [explicit];
  if (process.env.REGISTRY_AUTH_FILE) return [process.env.REGISTRY_AUTH_FILE];
  return [IG_AUTHFILE, path.join(os.homedir(), '.docker', 'config.json')];
}

/** Where `ig login` writes: --authfile, REGISTRY_AUTH_FILE, else IG's path as root, ~/.docker/config.json otherwise. */
function authfileForWrite(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.REGISTRY_AUTH_FILE) return process.env.REGISTRY_AUTH_FILE;
  return process.getuid?.() === 0 ? IG_AUTHFILE : path.join(os.homedir(), '.docker', 'config.json');
}

async function readConfig(file: string): Promise<AuthConfig | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IgError('auth', `cannot read credentials file ${file}: ${(e as Error).message}`);
  }
  try {
    const c = JSON.parse(text) as AuthConfig;
    if (typeof c !== 'object' || c === null) throw new Error('not an object');
    return c;
  } catch (e) {
    throw new IgError('auth', `credentials file ${file} is not valid JSON: ${(e as Error).message}`, {
      hint: 'fix or remove the file, then run `ig login REGISTRY`',
    });
  }
}

/** The keys a registry may be filed under in config.json. */
function keysFor(host: string): string[] {
  const keys = [host, `https://${host}`, `http://${host}`, `https://${host}/v2/`, `https://${host}/v1/`];
  if (host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io') {
    keys.push('https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io');
  }
  return keys;
}

function decode(e: AuthEntry, file: string, host: string): Credentials {
  if (e.identitytoken) return { identityToken: e.identitytoken, username: e.username };
  if (e.auth) {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i < 0) throw new IgError('auth', `credentials for ${host} in ${file} are malformed (auth is not base64 user:password)`, { hint: `run \`ig login ${host}\`` });
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (e.username !== undefined) return { username: e.username, password: e.password ?? '' };
  return {};
}

export async function findCredentials(host: string, authfile?: string): Promise<Credentials | undefined> {
  for (const file of authfileCandidates(authfile)) {
    const c = await readConfig(file);
    if (!c) continue;
    for (const k of keysFor(host)) {
      const e = c.auths?.[k];
      if (e) return decode(e, file, host);
    }
    // The first existing file is authoritative, as in docker/podman.
    return undefined;
  }
  return undefined;
}

async function writeConfig(file: string, c: AuthConfig): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, JSON.stringify(c, null, '\t') + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

export async function saveCredentials(host: string, username: string, password: string, authfile?: string): Promise<string> {
  const file = authfileForWrite(authfile);
  const c = (await readConfig(file)) ?? {};
  c.auths ??= {};
  for (const k of keysFor(host)) delete c.auths[k];
  c.auths[host] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  await writeConfig(file, c);
  return file;
}

/** Returns the file edited, or undefined when there was nothing to remove. */
export async function removeCredentials(host: string, authfile?: string): Promise<string | undefined> {
  const files = authfile || process.env.REGISTRY_AUTH_FILE ? authfileCandidates(authfile) : [authfileForWrite(), ...authfileCandidates()];
  for (const file of [...new Set(files)]) {
    const c = await readConfig(file);
    if (!c?.auths) continue;
    let found = false;
    for (const k of keysFor(host)) {
      if (k in c.auths) {
        delete c.auths[k];
        found = true;
      }
    }
    if (found) {
      await writeConfig(file, c);
      return file;
    }
  }
  return undefined;
}
