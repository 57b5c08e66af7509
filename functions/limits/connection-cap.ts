/**
 * The connections one user may hold open at once (tabs and devices): each user's open connection
 * ids are a capped set in the limits table, joined at `$connect` and left at `$disconnect`. Since
 * `$disconnect` is best effort, a full set is checked against the connections table before a
 * connection is refused: ids whose row is gone are dropped, so a missed `$disconnect` never locks
 * its user out.
 */
import { ObjectNotFoundError } from "../../dal/errors";
import type { LimitsStore } from "../../dal/limits-table";
import type { Repository } from "../../dal/repository";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import type { VerifiedUser } from "../chat/identity";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketRequestContext } from "../runtime/lambda-events";
import { userConnectionsKey } from "./rate-limits";

export interface ConnectionCapDependencies {
  limits?: LimitsStore;
  connections: Repository<Connection>;
  config: Pick<FunctionConfig, "rateLimits" | "connectionTtlSeconds">;
  now: () => number;
}

/** Counts the connection against its user's cap; resolves why it is refused, or `undefined`. */
export async function admitConnection(
  deps: ConnectionCapDependencies,
  context: WebSocketRequestContext,
  user: VerifiedUser | undefined,
): Promise<string | undefined> {
  const cap = deps.config.rateLimits?.connectionsPerUser ?? 0;
  if (!user || !deps.limits || cap === 0) return undefined;
  const key = userConnectionsKey(context, user.userId);
  // The set outlives every connection in it: API Gateway closes a connection after 2 hours.
  const add = () =>
    (deps.limits as LimitsStore).addCapped(
      key,
      context.connectionId,
      cap,
      deps.config.connectionTtlSeconds + 60,
      deps.now(),
    );
  const full = await add();
  if (!full) return undefined;
  const gone = await goneConnections(deps.connections, full, deps.now());
  if (gone.length > 0) {
    await deps.limits.remove(key, gone);
    if (!(await add())) return undefined;
  }
  return `Too many connections: at most ${cap} open at once for one user; close one first`;
}

/** Takes the connection off its user's set. */
export async function releaseConnection(
  deps: { limits?: LimitsStore; config: Pick<FunctionConfig, "rateLimits"> },
  context: WebSocketRequestContext,
  userId: string | undefined,
): Promise<void> {
  if (!userId || !deps.limits || !deps.config.rateLimits?.connectionsPerUser) return;
  await deps.limits.remove(userConnectionsKey(context, userId), [context.connectionId]);
}

/** The ids among `ids` with no live row: closed without their `$disconnect`, or never opened. */
async function goneConnections(connections: Repository<Connection>, ids: string[], nowMs: number): Promise<string[]> {
  const rows = await Promise.all(
    ids.map((id) =>
      connections.get({ [CONNECTION_KEY]: id }).catch((error: unknown) => {
        if (error instanceof ObjectNotFoundError) return undefined;
        throw error;
      }),
    ),
  );
  return ids.filter((_, i) => {
    const row = rows[i];
    return !row || row.expiresAt <= Math.floor(nowMs / 1000);
  });
}
