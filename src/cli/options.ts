import type { Options } from 'yargs';

/** Flags every command accepts. */
export const globalOptions = {
  'oci-store': {
    type: 'string',
    describe: 'local OCI layout store (default /var/lib/ig/oci-store as root, ~/.ig/oci-store otherwise; env IG_OCI_STORE)',
    global: true,
  },
  authfile: {
    type: 'string',
    describe: 'registry credentials file (docker config.json; env REGISTRY_AUTH_FILE)',
    global: true,
  },
  'insecure-registries': {
    type: 'string',
    describe: 'comma list of host[:port] reached over plain HTTP',
    global: true,
  },
  config: {
    type: 'string',
    describe: 'defaults from this YAML file (default: /etc/ig/config.yaml, ~/.ig/config.yaml, ~/.config/ig/config.yaml; env IG_CONFIG)',
    global: true,
  },
} satisfies Record<string, Options>;

export interface GlobalArgs {
  'oci-store'?: string;
  authfile?: string;
  'insecure-registries'?: string;
  config?: string;
}

/** Output format flag shared by list-like commands. */
export const outputOption = (choices: string[], dflt: string): Options => ({
  alias: 'o',
  type: 'string',
  choices,
  default: dflt,
  describe: 'output format',
});
