// GET /metrics of a worker process, on its own port (WORKER_METRICS_PORT, default
// 9464; 0 = off): a worker has no HTTP API, so a plain node:http server is all it needs.
import { createServer, type Server } from 'node:http';
import type { Logger } from '../src/logger.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface RunningMetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on host:port. A port in use is logged and metrics stay off: a second worker
 * on one machine must not die for its metrics (give each its own WORKER_METRICS_PORT).
 */
export async function startMetricsServer(metrics: WorkerMetrics, host: string, port: number, logger: Logger): Promise<RunningMetricsServer | null> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    logger.warn({ err: (err as Error).message, port }, `worker metrics are off: cannot listen on ${host}:${port} (set WORKER_METRICS_PORT to a free port, 0 = off)`);
    return null;
  }
  const bound = (server.address() as { port: number }).port;
  logger.info({ port: bound }, `worker metrics on http://${host}:${bound}/metrics`);
  return { port: bound, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
