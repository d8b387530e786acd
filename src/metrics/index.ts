export * from './server.js';
export { metricName, histogramPoints, mapMetricsProducer } from './gadget-maps.js';
