// A/B preload for the fix proposed in bench/README.md: make ig's stdout blocking when it is a pipe,
// as the C consumer's stdio is. Without it, libuv writes a pipe non-blocking, at most one pipe
// buffer (64 KiB) per event-loop turn, JSON piles up in process.stdout and the sink's back-pressure
// rule drops whole batches.
//   IG_BENCH_NODE_ARGS="--import $PWD/bench/lib/ab-blocking-stdout.mjs" node bench/run.js --quick
const h = process.stdout._handle;
if (h && typeof h.setBlocking === 'function' && process.stdout._type === 'pipe') h.setBlocking(true);
