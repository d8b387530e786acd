/**
 * Errors a user can act on. Every failure that reaches the CLI is an IgError with
 * a stable code, a one-line message naming what was wrong, and a hint saying what
 * to do. The CLI prints `error: <message>` (+ `hint: <hint>`) and exits non-zero,
 * never a stack trace (set IG_DEBUG=1 to see one).
 */
export type ErrorCode =
  | 'usage' // bad flags or arguments
  | 'not-found' // image, gadget, container, file
  | 'invalid-image' // image exists but is malformed
  | 'invalid-object' // eBPF ELF cannot be used (not ELF, no BTF, ...)
  | 'unsupported' // kernel lacks a feature (kprobes, fentry, ...)
  | 'verifier' // the verifier rejected a program
  | 'kernel' // any other kernel refusal
  | 'registry' // registry protocol or HTTP failure
  | 'auth' // registry authentication failure
  | 'digest' // content does not match its digest
  | 'signature' // an image is unsigned, or signed by no trusted key
  | 'denied' // an image is not in --allowed-gadgets
  | 'store' // local store problem
  | 'container' // container runtime problem
  | 'build' // gadget compilation failure
  | 'kubernetes' // the API server cannot be reached, or refused a request
  | 'interrupted' // stopped by SIGINT/SIGTERM while waiting (exit code 130)
  | 'wasm' // a gadget's wasm module is unusable, or failed while running
  | 'internal';

export class IgError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'IgError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? (code === 'usage' ? 2 : 1);
  }
}

export function isIgError(e: unknown): e is IgError {
  return e instanceof IgError;
}
