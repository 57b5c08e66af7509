/**
 * DynamoDB's Time to Live, replayed for a DynamoDB that lacks it (the embedded one): items whose
 * TTL attribute (epoch seconds) has passed are deleted by a background sweep, without any request
 * of the handlers. As in DynamoDB, an expired item stays readable until the sweep reaches it (the
 * handlers filter such items out); DynamoDB itself deletes "within a few days" of expiry, so code
 * must never count on the moment. Like DynamoDB's, the sweep tells no handler what it deleted.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
import type { Key, Repository } from "../../dal/repository";

interface TtlReplay {
  /** Stops sweeping and waits for a sweep under way. */
  stop(): Promise<void>;
}

/** A table with TTL on: its items' key attributes and their expiry attribute. */
interface ExpiringTable {
  label: string;
  // biome-ignore lint/suspicious/noExplicitAny: any item type; only its key and expiry are read.
  repository: Repository<any>;
  keyAttributes: readonly string[];
  ttlAttribute: string;
}

/** Sweeps each table every `intervalMs`, logging each sweep that deleted items. */
export function startTtlReplay(
  tables: readonly ExpiringTable[],
  intervalMs: number,
  log: (line: string) => void,
): TtlReplay {
  let running: Promise<void> | undefined;
  const sweepTable = async ({ label, repository, keyAttributes, ttlAttribute }: ExpiringTable) => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    let deleted = 0;
    for await (const page of repository.scan({ attributes: [...keyAttributes, ttlAttribute] })) {
      for (const item of page as Record<string, string | number>[]) {
        if (!((item[ttlAttribute] as number) <= nowSeconds)) continue;
        // Conditional, as DynamoDB's own deletion is: an item written again since the scan stays.
        const key: Key = Object.fromEntries(keyAttributes.map((name) => [name, item[name] as string | number]));
        const onlyIfBelow = { attribute: ttlAttribute, value: nowSeconds + 1 };
        if (await repository.delete(key, { onlyIfBelow })) deleted++;
      }
    }
    if (deleted > 0) log(`TTL: deleted ${deleted} expired ${label}`);
  };
  const sweep = () => {
    running ??= (async () => {
      for (const table of tables) await sweepTable(table);
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
