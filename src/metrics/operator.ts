/**
 * --metrics-listen: the gadget's counter_/gauge_/hist_ maps served as Prometheus text while it
 * runs (the server starts once the maps exist, and stops with the run).
 */
import type { DataOperator, RunContext } from '../datasource/operator.js';
import { metricsReader } from './gadget-maps.js';
import { parseListenAddress, startMetricsServer, type MetricsServer } from './server.js';

export function metricsOperator(listen: string | undefined): DataOperator {
  return {
    name: 'metrics',
    instantiate(ctx: RunContext) {
      if (!listen) return undefined;
      parseListenAddress(listen); // a bad address fails now
      if (ctx.mode === 'describe') return undefined;
      let server: MetricsServer | undefined;
      return {
        async start() {
          server = await startMetricsServer(listen, metricsReader(ctx.spec, (m) => ctx.kernel.mapFd(m)));
          ctx.notice(`serving metrics on ${server.url}\n`);
        },
        async close() {
          await server?.close();
        },
      };
    },
  };
}
