/**
 * Where the configuration files are (config-file.ts reads them): apart from the reader, so that
 * `ig run` can see there are none without loading the YAML parser.
 */
import os from 'node:os';
import path from 'node:path';

export function configPaths(): string[] {
  const home = process.env.HOME || os.homedir();
  return ['/etc/ig/config.yaml', path.join(home, '.ig', 'config.yaml'), path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'ig', 'config.yaml')];
}

/** `--config FILE` / `--config=FILE` as typed (read before any parser exists). */
export function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--config') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return process.env.IG_CONFIG || undefined;
}
