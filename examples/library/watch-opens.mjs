// Using ig as a library: print the files a process opens, for a few seconds.
//   sudo node examples/library/watch-opens.mjs PID [SECONDS]
// (after `npm run build`, with trace_open built into the store, as scripts/setup.sh does)
import { runGadget } from '../../dist/index.js';

const [pid, seconds = '5'] = process.argv.slice(2);
if (!pid) {
  console.error('usage: watch-opens.mjs PID [SECONDS]');
  process.exit(2);
}
for await (const batch of runGadget('trace_open', { params: { pid }, timeoutMs: Number(seconds) * 1000 })) {
  for (const e of batch.events) console.log(`${e.timestamp} ${e.comm}[${e.pid}] ${e.error || `fd ${e.fd}`} ${e.fname}`);
}
