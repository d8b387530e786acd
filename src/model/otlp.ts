/** Where OTLP goes: OTLP/HTTP with protobuf bodies (`url` is the signal's path, e.g. …:4318/v1/metrics). */
export interface OtlpTarget {
  url: string;
  /** metrics: time between exports */
  intervalMs: number;
}
