/**
 * Each broadcast's figures as CloudWatch metrics, in embedded metric format: one JSON line that
 * CloudWatch Logs turns into metrics, with no PutMetricData call.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * Its own module, so the functions that broadcast nothing do not load Powertools' Metrics.
 */

import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { cloudLogger } from "../runtime/telemetry";

/** What one broadcast did: posts delivered, found gone, failed; Lambda hand-offs refused. */
interface BroadcastFigures {
  delivered: number;
  gone: number;
  failed: number;
  handOffsFailed?: number;
}

/** Records each broadcast (`inline` in sendmessage, `worker` for a slice of a large room). */
export interface BroadcastMetrics {
  record(kind: "inline" | "worker", figures: BroadcastFigures, durationMs: number): void;
}

/** Metric names, as the alarms (`infra/`) read them. */
export const BROADCAST_METRICS = {
  delivered: "BroadcastDelivered",
  gone: "BroadcastGone",
  failed: "BroadcastFailed",
  handOffsFailed: "BroadcastHandOffsFailed",
  duration: "BroadcastDuration",
} as const;

export interface Telemetry {
  logger: Logger;
  metrics: BroadcastMetrics;
}

/**
 * The logger and metrics of a deployed function that broadcasts, made once per cold start; the
 * metrics' namespace comes from `POWERTOOLS_METRICS_NAMESPACE`, their `service` dimension from
 * `POWERTOOLS_SERVICE_NAME`.
 */
export function cloudTelemetry(): Telemetry {
  return { logger: cloudLogger(), metrics: cloudBroadcastMetrics() };
}

function cloudBroadcastMetrics(): BroadcastMetrics {
  const metrics = new Metrics();
  return {
    record(kind, figures, durationMs) {
      // The kind is metadata, not a dimension: one alarm reads every broadcast's failures.
      metrics.addMetadata("kind", kind);
      metrics.addMetric(BROADCAST_METRICS.delivered, MetricUnit.Count, figures.delivered);
      metrics.addMetric(BROADCAST_METRICS.gone, MetricUnit.Count, figures.gone);
      metrics.addMetric(BROADCAST_METRICS.failed, MetricUnit.Count, figures.failed);
      metrics.addMetric(BROADCAST_METRICS.handOffsFailed, MetricUnit.Count, figures.handOffsFailed ?? 0);
      metrics.addMetric(BROADCAST_METRICS.duration, MetricUnit.Milliseconds, durationMs);
      // One line per broadcast, written now: a later failure of the invocation cannot lose it.
      metrics.publishStoredMetrics();
    },
  };
}
