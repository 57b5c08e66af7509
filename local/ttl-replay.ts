/**
 * DynamoDB's Time to Live, replayed for a DynamoDB that lacks it (the embedded one): rows whose
 * `expiresAt` (epoch seconds) has passed are deleted by a background sweep, without any request of
 * the handlers. As in DynamoDB, an expired row stays readable until the sweep reaches it; DynamoDB
 * itself deletes "within a few days" of expiry, so code must never count on the moment.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
import type { Repository } from "../dal/repository";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE, type Connection } from "../functions/connection";

export interface TtlReplay {
  /** Stops sweeping and waits for a sweep under way. */
  stop(): Promise<void>;
}

/** Sweeps `connections` every `intervalMs`, logging each sweep that deleted rows. */
export function startTtlReplay(
  connections: Repository<Connection>,
  intervalMs: number,
  log: (line: string) => void,
): TtlReplay {
  let running: Promise<number> | undefined;
  const sweep = () => {
    running ??= (async () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      let deleted = 0;
      for await (const page of connections.scan({ attributes: [CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE] })) {
        for (const row of page) {
          if (!(row.expiresAt <= nowSeconds)) continue;
          // Conditional, as DynamoDB's own deletion is: a row written again since the scan stays.
          const key = { [CONNECTION_KEY]: row.connectionId };
          const onlyIfBelow = { attribute: CONNECTION_TTL_ATTRIBUTE, value: nowSeconds + 1 } as const;
          if (await connections.delete(key, { onlyIfBelow })) deleted++;
        }
      }
      if (deleted > 0) log(`TTL: deleted ${deleted} expired connection row(s)`);
      return deleted;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => log(`TTL sweep failed: ${String(error)}`));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
