// Preload for profiling the ig process at full throughput:
//   IG_BENCH_PROF=/tmp/ig.cpuprofile IG_BENCH_PROF_DELAY_MS=1500 node --import ./bench/lib/cpuprof.mjs bin/ig.js run ...
// Why not `node --cpu-prof`: its SIGPROF timer interrupts the verifier (the kernel returns EAGAIN
// when a signal is pending during verification) and a gadget with a long loop then fails to load.
// This starts the sampling profiler only after the gadget is loaded and writes the profile at exit.
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.IG_BENCH_PROF;
if (out) {
  const session = new inspector.Session();
  session.connect();
  let started = false;
  setTimeout(() => {
    session.post('Profiler.enable', () => session.post('Profiler.start', () => (started = true)));
  }, Number(process.env.IG_BENCH_PROF_DELAY_MS ?? 1500)).unref();
  process.on('exit', () => {
    if (!started) return;
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(out, JSON.stringify(res.profile));
    });
  });
}
