import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import type { StreamOpener } from '../../src/k8s/port-forward.js';

/**
 * What PortForward.portForward does with its streams, minus the API server and kubelet: the far
 * end's bytes written to `output`, `input`'s bytes sent there (its 'data' and 'end'), the far
 * end here a TCP connection to 127.0.0.1:PORT.
 */
export function tcpStreamOpener(port: number, opened?: () => void, closedOne?: () => void): StreamOpener {
  return async (output, input) => {
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    opened?.();
    input.on('data', (d: Buffer) => s.write(d));
    input.on('end', () => s.end());
    s.on('data', (d: Buffer) => output.write(d));
    const closed = once(s, 'close').then(() => closedOne?.());
    return { close: () => s.destroy(), closed };
  };
}

/**
 * The kubelet's side of a port-forward: a connection to 127.0.0.1:PORT made from inside the
 * network namespace of process PID (the pod's), its bytes relayed over the child's stdin/stdout.
 */
export function netnsStreamOpener(pid: number, port: number): StreamOpener {
  const relay = `const s = require('net').connect(${port}, '127.0.0.1'); process.stdin.pipe(s); s.pipe(process.stdout); s.on('close', () => process.exit(0)); s.on('error', () => process.exit(1));`;
  return async (output, input) => {
    const child = spawn('nsenter', ['-t', String(pid), '-n', '--', process.execPath, '-e', relay], { stdio: ['pipe', 'pipe', 'ignore'] });
    input.on('data', (d: Buffer) => child.stdin.write(d));
    input.on('end', () => child.stdin.end());
    child.stdin.on('error', () => {});
    child.stdout.on('data', (d: Buffer) => output.write(d));
    const closed = once(child, 'exit').then(() => undefined);
    return { close: () => child.kill(), closed };
  };
}
