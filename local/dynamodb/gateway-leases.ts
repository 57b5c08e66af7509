/**
 * Which local gateways are alive on a DynamoDB that several may share (two terminals, two
 * developers on one LocalStack). Each gateway holds a lease, renewed while it runs, in a small
 * table beside the connections table; a gateway starting up removes only the connection rows of
 * gateways whose lease has lapsed or whose process on this machine has died. Local only: in AWS
 * each stack has its own table and no clean-up at start.
 */
import { hostname } from "node:os";
import { ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { DynamoDBRepository } from "../../dal/dynamodb-repository";
import { ObjectNotFoundError, RepositoryError } from "../../dal/errors";
import type { FunctionConfig } from "../../functions/runtime/function-config";
import { tablesClient } from "../../functions/runtime/handler-dependencies";
import { adminClient, DynamoDBUnreachableError, ensureTable } from "./tables";

interface Lease {
  apiId: string;
  host: string;
  pid: number;
  /** Epoch milliseconds of the last renewal. */
  renewedAt: number;
}

/** A lease not renewed for this long has lapsed (its gateway stopped without saying so). */
export const LEASE_LAPSE_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

interface LeaseOptions {
  /** Milliseconds between renewals (default 10 s). */
  renewEveryMs?: number;
  /**
   * Called when a renewal finds this gateway's lease gone: the DynamoDB came back empty (an
   * in-memory LocalStack restarted). The lease is written again once it resolves.
   */
  onTablesLost?: () => Promise<void>;
}

interface GatewayLease {
  /** API ids of the gateways alive now, this one included. */
  liveGateways(): Promise<Set<string>>;
  /** Stops renewing and gives the lease up. */
  release(): Promise<void>;
}

export function leaseTableName(connectionsTable: string): string {
  return `${connectionsTable}-local-gateways`;
}

/** Whether a process with this id runs on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes a lease for the gateway serving `apiId`, creating the lease table if missing. */
export async function takeGatewayLease(
  config: FunctionConfig,
  apiId: string,
  log: (line: string) => void,
  options: LeaseOptions = {},
): Promise<GatewayLease> {
  const tableName = leaseTableName(config.tableName);
  await createLeaseTable(config, tableName);
  const client = tablesClient(config);
  const leases = new DynamoDBRepository<Lease>({ client, tableName, keyAttributes: ["apiId"] });
  const renew = () => leases.put({ apiId, host: hostname(), pid: process.pid, renewedAt: Date.now() });
  await renew();
  let warned = false;
  let renewing: Promise<void> | undefined;
  const timer = setInterval(() => {
    renewing ??= (async () => {
      try {
        // Our own lease gone (with its table, or from a table another gateway has just made again):
        // the DynamoDB lost its tables, and each gateway on it must notice for itself.
        await leases.get({ apiId });
        await renew();
        warned = false;
      } catch (error) {
        const lost =
          error instanceof ObjectNotFoundError ||
          (error instanceof RepositoryError && error.cause instanceof ResourceNotFoundException);
        if (!lost) {
          if (!warned)
            log(`renewing this gateway's lease failed (another gateway may take its rows): ${String(error)}`);
          warned = true;
          return;
        }
        await createLeaseTable(config, tableName);
        await options.onTablesLost?.();
        await renew();
      }
    })()
      .catch((error: unknown) => log(`recreating the tables failed: ${String(error)}`))
      .finally(() => {
        renewing = undefined;
      });
  }, options.renewEveryMs ?? RENEW_EVERY_MS);
  timer.unref();

  // On this machine the process tells (a gateway suspended past the lapse is still alive); elsewhere the lease does.
  const alive = (lease: Lease, now: number) =>
    lease.host === hostname() ? processAlive(lease.pid) : lease.renewedAt > now - LEASE_LAPSE_MS;
  return {
    async liveGateways() {
      const live = new Set([apiId]);
      const now = Date.now();
      for await (const page of leases.scan()) {
        for (const lease of page) {
          if (alive(lease, now)) live.add(lease.apiId);
          else if (lease.apiId !== apiId) await leases.delete({ apiId: lease.apiId });
        }
      }
      return live;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      await leases.delete({ apiId }).catch(() => {
        // DynamoDB gone first: the lease lapses by itself.
      });
      client.destroy();
    },
  };
}

/** Creates the lease table unless it exists; the first call to the DynamoDB, so the one that says it is not there. */
async function createLeaseTable(config: FunctionConfig, tableName: string): Promise<void> {
  const admin = adminClient(config);
  try {
    await ensureTable(admin, tableName, "apiId");
  } catch (error) {
    // No HTTP answer at all. The first call a gateway makes to its DynamoDB, so the one that says so.
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === undefined) {
      throw new DynamoDBUnreachableError(config.dynamodbEndpoint, error);
    }
    throw error;
  } finally {
    admin.destroy();
  }
}
