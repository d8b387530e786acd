import { IgError } from '../../errors.js';
import type { GlobalArgs } from '../options.js';
import { RegistryClient, removeCredentials, saveCredentials } from '../../oci/index.js';
import { insecureList } from './image.js';

type A = GlobalArgs & Record<string, unknown>;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function host(s: string): string {
  return s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

export async function login(a: A): Promise<void> {
  const registry = host(String(a.registry));
  const username = a.username as string | undefined;
  if (!username) throw new IgError('usage', 'ig login needs a user name', { hint: `ig login ${registry} -u USER --password-stdin` });
  let password = a.password as string | undefined;
  if (a['password-stdin']) {
    if (password !== undefined) throw new IgError('usage', '--password and --password-stdin are mutually exclusive');
    password = await readStdin();
  }
  if (password === undefined || password === '') {
    throw new IgError('usage', 'ig login needs a password', { hint: `echo PASSWORD | ig login ${registry} -u ${username} --password-stdin` });
  }
  // Check the credentials against the registry before saving them.
  const client = new RegistryClient({ insecureRegistries: insecureList(a), credentials: { username, password }, attempts: 2 });
  await client.ping(registry);
  const file = await saveCredentials(registry, username, password, a.authfile);
  process.stdout.write(`Login Succeeded (credentials stored in ${file})\n`);
}

export async function logout(a: A): Promise<void> {
  const registry = host(String(a.registry));
  const file = await removeCredentials(registry, a.authfile);
  if (!file) throw new IgError('not-found', `not logged in to ${registry}`, { hint: 'nothing to remove' });
  process.stdout.write(`Removed login credentials for ${registry} from ${file}\n`);
}
