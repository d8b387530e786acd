// One fuzzing child: runs the inputs the parent names, one at a time, and says how each ended.
// A crash (native fault, V8 out-of-memory abort) or a hang ends this process; the parent notices.
import { classify } from './classify.js';
import { rngFor } from './rng.js';
import { TARGETS } from './targets/index.js';

const { FUZZ_KIND: kind, FUZZ_SEED: seed, FUZZ_STORE: store } = process.env;
const target = TARGETS[kind];
const state = await target.init({ store, generateOnly: false });
process.on('message', async (msg) => {
  const input = target.generate(rngFor(seed, kind, msg.index), state);
  const r = await classify(() => target.run(input, state));
  process.send({ index: msg.index, ...r });
});
process.on('disconnect', async () => {
  await target.close?.(state);
  process.exit(0);
});
process.send({ ready: true });
