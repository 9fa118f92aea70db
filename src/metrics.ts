import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metrics KEP-2258 lists as missing on the kubelet side, measured from the caller's side: calls by
 * tool and outcome, kubelet request duration and bytes, lines returned, and calls turned away.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly toolCalls = new Counter({
    name: 'kube_node_logs_tool_calls_total',
    help: 'MCP tool calls by tool and outcome (ok, error).',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly kubeletRequestSeconds = new Histogram({
    name: 'kube_node_logs_kubelet_request_duration_seconds',
    help: 'Duration of log requests to kubelets through the apiserver node proxy, by outcome.',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60],
    registers: [this.registry],
  });
  readonly kubeletBytes = new Counter({
    name: 'kube_node_logs_kubelet_response_bytes_total',
    help: 'Bytes of log answers read from kubelets.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly linesScanned = new Counter({
    name: 'kube_node_logs_lines_scanned_total',
    help: 'Log lines read from nodes.',
    registers: [this.registry],
  });
  readonly linesReturned = new Counter({
    name: 'kube_node_logs_lines_returned_total',
    help: 'Raw log lines shown in tool answers.',
    registers: [this.registry],
  });
  readonly rejectedCalls = new Counter({
    name: 'kube_node_logs_rejected_calls_total',
    help: 'Calls or node requests turned away, by reason (invalid, busy, rate-limited, limit-store-down).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly redactions = new Counter({
    name: 'kube_node_logs_redactions_total',
    help: 'Secrets redacted from log text, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** Cluster mode (several replicas sharing limits through Redis). */
  readonly limitStoreUp = new Gauge({
    name: 'kube_node_logs_limit_store_up',
    help: 'Cluster mode: 1 while the shared limit store (Redis) answers, else 0 (node log queries are then refused, or run under local limits with --redis-fallback local).',
    registers: [this.registry],
  });
  readonly limitStoreErrors = new Counter({
    name: 'kube_node_logs_limit_store_errors_total',
    help: 'Cluster mode: errors talking to the shared limit store, by operation (connection, ping, limiter, session, cancel).',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  readonly limitStoreTransitions = new Counter({
    name: 'kube_node_logs_limit_store_transitions_total',
    help: 'Cluster mode: times the shared limit store went down or came back, by direction.',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly limitSlotsReaped = new Counter({
    name: 'kube_node_logs_limit_slots_reaped_total',
    help: 'Cluster mode: slots of replicas that stopped renewing their lease (crashed, cut off) given back before their expiration.',
    registers: [this.registry],
  });
  /** Set by the cluster scheduler: slots in use across all replicas (sampled at scrape time). */
  clusterRunning?: () => Promise<number | undefined>;
  readonly limitClusterRunning = new Gauge({
    name: 'kube_node_logs_limit_cluster_running',
    help: 'Cluster mode: node log requests running across all replicas together, as booked in Redis (the global limiter).',
    registers: [this.registry],
    collect: async () => {
      const n = await this.clusterRunning?.();
      if (n !== undefined) this.limitClusterRunning.set(n);
    },
  });
  readonly httpSessionEvents = new Counter({
    name: 'kube_node_logs_http_session_events_total',
    help: 'MCP-over-HTTP session events: opened, closed, expired, evicted-idle, evicted-per-client, refused-full.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly httpSessionsOpen = new Gauge({
    name: 'kube_node_logs_http_sessions_open',
    help: 'MCP-over-HTTP sessions currently open.',
    registers: [this.registry],
  });
  readonly httpRequestTimeouts = new Counter({
    name: 'kube_node_logs_http_request_timeouts_total',
    help: 'HTTP requests cut because their headers or body did not arrive in time, by phase.',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
