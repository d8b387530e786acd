import type { Argv, CommandModule } from 'yargs';
import { outputOption, type GlobalArgs } from '../options.js';
import * as act from '../actions/image.js';

/* Definitions only; the work happens in ../actions/image.ts (src/oci does the heavy lifting). */

type A = GlobalArgs & Record<string, unknown>;

const buildBuilder = (y: Argv) =>
  y
    .positional('path', { type: 'string', describe: 'gadget directory (program.bpf.c, gadget.yaml, build.yaml)', default: '.' })
    .option('tag', { alias: 't', type: 'string', describe: 'image reference to tag the result with (default: gadget.yaml name, else the directory name)' })
    .option('file', { alias: 'f', type: 'string', describe: 'build file (default PATH/build.yaml)' })
    .option('update-metadata', { type: 'boolean', default: false, describe: 'write/refresh gadget.yaml from the object\'s BTF' })
    .option('validate-metadata', { type: 'boolean', default: false, describe: 'check gadget.yaml against the object' })
    .option('platform', { type: 'string', describe: 'architectures to build for, e.g. linux/amd64,linux/arm64 (default: this machine\'s); one index entry each' });

const buildHandler = (a: A) => act.build(a);

export const buildAliasCommand: CommandModule<GlobalArgs, A> = {
  command: 'build [path]',
  describe: 'Build a gadget image (same as `ig image build`)',
  builder: buildBuilder as never,
  handler: buildHandler,
};

const sub: CommandModule<GlobalArgs, A>[] = [
  { command: 'build [path]', describe: 'Compile a gadget and store it as an image', builder: buildBuilder as never, handler: buildHandler },
  {
    command: 'pull <image>',
    describe: 'Pull an image from its registry into the local store',
    builder: (y) => y.positional('image', { type: 'string', demandOption: true }) as never,
    handler: (a) => act.pull(a),
  },
  {
    command: 'push <image> [destination]',
    describe: 'Push a local image to its registry (localhost:5000/trace_open pushes the local trace_open there, as skopeo copy would); or push IMAGE to DESTINATION',
    builder: (y) => y.positional('image', { type: 'string', demandOption: true }).positional('destination', { type: 'string', describe: 'where to push it (default: IMAGE itself)' }) as never,
    handler: (a) => act.push(a),
  },
  {
    command: ['list', 'ls'],
    describe: 'List the images in the local store',
    builder: (y) =>
      y.option('trunc', { type: 'boolean', default: true, describe: 'shorten digests; --no-trunc shows them whole' }).option('output', outputOption(['columns', 'json'], 'columns')) as never,
    handler: (a) => act.list(a),
  },
  {
    command: 'tag <src> <dst>',
    describe: 'Give a local image another name',
    builder: (y) => y.positional('src', { type: 'string', demandOption: true }).positional('dst', { type: 'string', demandOption: true }) as never,
    handler: (a) => act.tag(a),
  },
  {
    command: ['remove <images..>', 'rm'],
    describe: 'Remove local images (untag; content shared with other tags stays)',
    builder: (y) => y.positional('images', { type: 'string', array: true, demandOption: true }) as never,
    handler: (a) => act.remove(a),
  },
  {
    command: 'inspect <image>',
    describe: 'Show an image: layers, signatures, eBPF sections, programs, maps and variables, datasources and fields, params, gadget.yaml',
    builder: (y) =>
      y.positional('image', { type: 'string', demandOption: true })
        .option('output', outputOption(['yaml', 'json', 'jsonpretty'], 'yaml'))
        .option('extra-info', { type: 'string', describe: 'one part, in IG\'s shape: ebpf.sections, ebpf.maps, ebpf.programs, ebpf.variables, oci.manifest, oci.metadata, oci.repository, oci.tag, oci.digest, oci.created' })
        .option('show-datasources', { type: 'boolean', describe: 'the datasources with their fields' })
        .option('jsonpath', { type: 'string', describe: 'pick a part, e.g. \'.ebpf.programs[0].section\' (IG prefixes $)' }) as never,
    handler: async (a) => (await import('../actions/inspect.js')).inspect(a),
  },
  {
    command: 'types <image>',
    describe: 'Print TypeScript declarations of a gadget\'s events (for runGadget<E>() in the library)',
    builder: (y) => y.positional('image', { type: 'string', demandOption: true }).option('output-file', { type: 'string', describe: 'write them here instead of stdout' }) as never,
    handler: (a) => act.types(a),
  },
  {
    command: 'export <args..>',
    describe: 'Write images to an OCI layout tar: ig image export IMAGE… FILE.tar',
    builder: (y) => y.positional('args', { type: 'string', array: true, demandOption: true }) as never,
    handler: (a) => act.exportCmd(a),
  },
  {
    command: 'import <file>',
    describe: 'Read images from an OCI layout tar into the local store',
    builder: (y) => y.positional('file', { type: 'string', demandOption: true }) as never,
    handler: (a) => act.importCmd(a),
  },
  {
    command: 'prune',
    describe: 'Remove untagged manifests and unreferenced blobs from the local store',
    handler: (a) => act.prune(a),
  },
  {
    command: 'sign <image>',
    describe: 'Sign a local image (cosign format); the signature is pushed with the image',
    builder: (y) =>
      y.positional('image', { type: 'string', demandOption: true })
        .option('key', { type: 'string', demandOption: true, describe: 'ECDSA P-256 private key: cosign.key from cosign generate-key-pair (password in COSIGN_PASSWORD), or plain PEM' }) as never,
    handler: (a) => act.sign(a),
  },
  {
    command: 'verify <image>',
    describe: 'Verify an image\'s signature against public keys (from the local store; pulls the signature only if missing)',
    builder: (y) =>
      y.positional('image', { type: 'string', demandOption: true })
        .option('public-key', { type: 'string', array: true, describe: 'trusted public key (PEM), repeatable' })
        .option('offline', { type: 'boolean', default: false, describe: 'never ask the registry for a missing signature' }) as never,
    handler: (a) => act.verify(a),
  },
];

export const imageCommand: CommandModule<GlobalArgs, A> = {
  command: 'image',
  describe: 'Manage gadget images (build, pull, push, list, …)',
  builder: (y) => {
    let b = y as Argv<GlobalArgs>;
    for (const c of sub) b = b.command(c as CommandModule<GlobalArgs, GlobalArgs>);
    return b.demandCommand(1, 'name an image subcommand, e.g. `ig image list`') as never;
  },
  handler: () => {},
};
