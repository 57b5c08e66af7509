import type { Repository } from "../dal/repository";
import type { FunctionConfig } from "./config";
import { CONNECTION_KEY, type Connection, connectingWindowMs } from "./connection";
import {
  ConnectionGoneError,
  type ConnectionManager,
  type ConnectionManagerFactory,
  managementEndpoint,
} from "./connection-manager";
import { validateDisplayName } from "./display-name";
import type { WebSocketEvent, WebSocketHandler } from "./events";
import { verifiedUser } from "./identity";

/**
 * What a client sends: `{"action":"sendmessage","data":"hello"}`. With auth off it may add
 * `"name":"Ada"`; with auth on the name is the one the authorizer verified, and a `name` in the
 * message is ignored, so no one can speak under another's name.
 */
export interface SendMessageRequest {
  action: "sendmessage";
  data: string;
  /** Display name, optional. */
  name?: string;
}

/** The frame every connection receives for a message. */
export interface ChatMessageFrame {
  type: "message";
  /** The sender's connection id. */
  connectionId: string;
  /** With auth on: the sender's verified user id (`guest-{uuid}`, or the issuer's `sub`). */
  userId?: string;
  name?: string;
  data: string;
  /** ISO-8601, when the message was handled. */
  sentAt: string;
}

/** The frame the sender alone receives when its request is refused. */
export interface ErrorFrame {
  type: "error";
  message: string;
  requestId: string;
}

export interface SendMessageHandlerDependencies {
  connections: Repository<Connection>;
  managementApi: ConnectionManagerFactory;
  config: Pick<
    FunctionConfig,
    "region" | "managementEndpoint" | "broadcastConcurrency" | "maxMessageBytes" | "connectTimeoutMs"
  >;
  now: () => number;
  logger: Pick<Console, "warn">;
}

/** Counts of one broadcast, returned for tests and logged when something failed. */
export interface BroadcastOutcome {
  delivered: number;
  /** Posts answered 410: the client has left, or is still connecting. */
  gone: number;
  failed: number;
}

/**
 * `sendmessage`: validates the request, then posts the message to every connection of this API
 * and stage in the table, page by page, with at most `broadcastConcurrency` posts in flight.
 * Connections that answer 410 are deleted unless they may still be connecting; any other failure
 * does not stop the rest. Failures make one log line per broadcast, never one per connection:
 * under load that would be millions of lines, each paid for in CloudWatch.
 */
export function createSendMessageHandler(deps: SendMessageHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, requestId } = event.requestContext;
    const manager = deps.managementApi(
      deps.config.managementEndpoint ?? managementEndpoint(event.requestContext, deps.config.region),
    );

    const user = verifiedUser(event.requestContext);
    const parsed = parseRequest(event, deps.config.maxMessageBytes, user === undefined);
    if (typeof parsed === "string") {
      const frame: ErrorFrame = { type: "error", message: parsed, requestId };
      await manager.post(connectionId, JSON.stringify(frame)).catch((error: unknown) => {
        if (!(error instanceof ConnectionGoneError))
          deps.logger.warn(`error frame to ${connectionId} failed: ${describe(error)}`);
      });
      return { statusCode: 400, body: parsed };
    }

    const frame: ChatMessageFrame = {
      type: "message",
      connectionId,
      ...(user ? { userId: user.userId, name: user.name } : { name: parsed.name }),
      data: parsed.data,
      sentAt: new Date(deps.now()).toISOString(),
    };
    const { outcome, firstFailure } = await broadcast(deps, event, manager, Buffer.from(JSON.stringify(frame)));
    if (firstFailure !== undefined) {
      deps.logger.warn(
        `broadcast ${requestId}: ${outcome.delivered} delivered, ${outcome.gone} gone, ${outcome.failed} failed; first failure: ${firstFailure}`,
      );
    }
    return { statusCode: 200, body: JSON.stringify(outcome) };
  };
}

/** The request, or why it is refused (a sentence for the sender); `name` is read only if `readName`. */
export function parseRequest(
  event: WebSocketEvent,
  maxMessageBytes: number,
  readName = true,
): SendMessageRequest | string {
  let request: unknown;
  try {
    request = JSON.parse(event.body ?? "");
  } catch {
    return "The message is not valid JSON";
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return "The message must be a JSON object";
  }
  const { data, name } = request as Record<string, unknown>;
  if (typeof data !== "string") return '"data" must be a string';
  if (data.trim() === "") return '"data" must not be empty';
  const bytes = Buffer.byteLength(data);
  if (bytes > maxMessageBytes) return `"data" is ${bytes} bytes; the limit is ${maxMessageBytes}`;
  if (!readName || name === undefined || (typeof name === "string" && name.trim() === "")) {
    return { action: "sendmessage", data };
  }
  const displayName = validateDisplayName(name);
  if ("error" in displayName) return displayName.error;
  return { action: "sendmessage", data, name: displayName.name };
}

/** `name: message` of an error, without its stack. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function broadcast(
  deps: SendMessageHandlerDependencies,
  event: WebSocketEvent,
  manager: ConnectionManager,
  frame: Uint8Array,
): Promise<{ outcome: BroadcastOutcome; firstFailure?: string }> {
  const outcome: BroadcastOutcome = { delivered: 0, gone: 0, failed: 0 };
  let firstFailure: string | undefined;
  // A 410 from a connection whose `$connect` began within the window may mean it is still
  // connecting: deleting its row would leave it open and deaf for good.
  const connectingSince = deps.now() - connectingWindowMs(deps.config.connectTimeoutMs);
  const deliver = async (connectionId: string): Promise<void> => {
    try {
      await manager.post(connectionId, frame);
      outcome.delivered++;
    } catch (error) {
      if (!(error instanceof ConnectionGoneError)) {
        outcome.failed++;
        firstFailure ??= `post to ${connectionId}: ${describe(error)}`;
        return;
      }
      outcome.gone++;
      try {
        await deps.connections.delete(
          { [CONNECTION_KEY]: connectionId },
          { onlyIfBelow: { attribute: "connectedAt", value: connectingSince } },
        );
      } catch (deleteError) {
        firstFailure ??= `removing gone connection ${connectionId}: ${describe(deleteError)}`;
      }
    }
  };

  // `broadcastConcurrency` workers, each taking the next connection id when its post ends; the next
  // page is read when the ids run out. (Racing the set of posts in flight, as before, attached a
  // reaction to every pending post per delivery: 100 each at the default concurrency.)
  const { apiId, stage } = event.requestContext;
  const pages = deps.connections
    .scan({ attributes: [CONNECTION_KEY], where: { apiId, stage } })
    [Symbol.asyncIterator]();
  let ids: string[] = [];
  let nextId = 0;
  let reading: Promise<boolean> | undefined;
  const take = async (): Promise<string | undefined> => {
    while (nextId === ids.length) {
      reading ??= pages.next().then((page) => {
        reading = undefined;
        if (page.done) return false;
        ids = page.value.map((connection) => connection.connectionId);
        nextId = 0;
        return true;
      });
      if (!(await reading)) return undefined;
    }
    return ids[nextId++];
  };
  const worker = async (): Promise<void> => {
    for (let id = await take(); id !== undefined; id = await take()) await deliver(id);
  };
  await Promise.all(Array.from({ length: deps.config.broadcastConcurrency }, worker));
  return { outcome, firstFailure };
}
