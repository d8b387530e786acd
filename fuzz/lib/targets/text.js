// The BPF_SEQ_PRINTF text record parser (iterator output: `[event]\n` then `name=value\0` pairs).
import { dist } from '../dist.js';
import { mutateBytes } from '../mutate.js';

const rec = (pairs) => '[event]\n' + pairs.map(([k, v]) => `${k}=${v}\0`).join('');
const CORPUS = [
  rec([['pid', 1], ['comm', 'systemd']]) + rec([['pid', 42], ['comm', 'bash\nx']]),
  rec([['a', '=b='], ['n', '-18446744073709551615']]) + rec([['n', '99999999999999999999']]),
  'noise\n' + rec([['x', '[event]\n']]) + '[event]\nbroken',
  rec([['k', 'v']]).repeat(50),
  '',
];

export default {
  name: 'text',
  describe: 'iterator text records (parseTextRecords)',
  async init() {
    return {};
  },
  generate(rng) {
    let b = Buffer.from(rng.pick(CORPUS));
    if (rng.chance(0.2)) b = Buffer.concat(Array.from({ length: 1 + rng.int(8) }, () => Buffer.from(rng.pick(CORPUS))));
    return mutateBytes(rng, b.length ? b : Buffer.from('[event]\n'), { max: 12 });
  },
  async run(input) {
    const { parseTextRecords } = await dist('runtime/text-records.js');
    parseTextRecords(input);
  },
};
