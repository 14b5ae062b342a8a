/** Prometheus metrics of an instance: the series, the request middleware and the scrape endpoints (docs/metrics.md). */
export { publicMetrics, requestMetrics, startMetricsServer } from './http.js';
export { Metrics } from './metrics.js';
