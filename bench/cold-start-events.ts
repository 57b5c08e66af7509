/**
 * What each function is asked on its first invocations in `npm run bench:cold` (`./cold-start.ts`):
 * events shaped as AWS sends them, about a room of a few members, so each makes the calls it makes
 * when a person connects, speaks or leaves: DynamoDB reads and writes, posts to the room.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { issueToken, signingKey } from "../functions/auth/token-signing";
import type { BroadcastJob } from "../functions/broadcast/fanout";
import { messageId, type StoredMessage } from "../functions/chat/message";
import { ROOM_SHARDS, type RoomAddress, roomKey } from "../functions/chat/room";
import type {
  AuthorizerEvent,
  HttpRequestEvent,
  WebSocketEvent,
  WebSocketEventType,
} from "../functions/runtime/lambda-events";
import { API } from "./fanout-timeline";

/** The room the functions' events are about; its members are loaded by the benchmark. */
export const SMALL_ROOM_SIZE = 3;
const GUEST_TOKENS = { TOKEN_ISSUER: "websocket-chat/bench", TOKEN_AUDIENCE: API.apiId };

function webSocketEvent(
  eventType: WebSocketEventType,
  routeKey: string,
  connectionId: string,
  extra: Partial<WebSocketEvent> = {},
): WebSocketEvent {
  const now = Date.now();
  const requestId = randomUUID();
  return {
    requestContext: {
      routeKey,
      eventType,
      connectionId,
      requestId,
      extendedRequestId: requestId,
      messageDirection: "IN",
      stage: API.stage,
      domainName: `${API.apiId}.execute-api.us-east-1.amazonaws.com`,
      apiId: API.apiId,
      connectedAt: now - 1000,
      requestTime: "27/Nov/2026:02:40:28 +0000",
      requestTimeEpoch: now,
      identity: { sourceIp: "203.0.113.7", userAgent: "bench" },
      ...(eventType === "MESSAGE" && { messageId: randomUUID() }),
      ...(eventType === "DISCONNECT" && { disconnectStatusCode: 1001, disconnectReason: "Going away" }),
    },
    isBase64Encoded: false,
    ...extra,
  };
}

const message = (sender: string, action: string, body: object = {}) =>
  webSocketEvent("MESSAGE", action, sender, { body: JSON.stringify({ action, ...body }) });

/** The room the warm broadcasts go to: a slice of 1,000 in each shard, as the fan-out makes them. */
export const WARM_ROOM_SIZE = 1000 * ROOM_SHARDS;

/** `count` broadcast jobs to the warm room, one shard after another, each under its own slice name. */
export function warmJobs(label: string, count: number): BroadcastJob[] {
  const address = { ...API, room: `room-${WARM_ROOM_SIZE}` };
  const sentAt = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    endpoint: "https://bench.local/dev",
    address,
    frame: { type: "message", id: `${sentAt}#${label}`, room: address.room, connectionId: "bench", data: "hi", sentAt },
    delivery: label,
    shard: i % ROOM_SHARDS,
    range: {},
    slice: `${i % ROOM_SHARDS}.${i}`,
  }));
}

/** The messages `author` sent to `address` that `edit` and `delete` change: `count`, numbered from 1. */
export function authoredMessages(address: RoomAddress, author: string, count: number): StoredMessage[] {
  const sentAt = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    roomKey: roomKey(address),
    id: messageId(i + 1),
    seq: i + 1,
    room: address.room,
    connectionId: author,
    data: "hi",
    sentAt,
    expiresAt: 4_000_000_000,
  }));
}

/** What the functions get: their events, two per sample (the first cold), and the environment they need. */
export interface ColdStartEvents {
  env: Record<string, string>;
  /** Per function, the events of sample `sample` of `layout`. */
  events(name: string, sample: string): unknown[];
}

/**
 * `room` is the small room's connection ids; the first speaks, types, edits and deletes its
 * `messages` (each deleted once), the second joins other rooms and leaves them, a newcomer connects
 * and disconnects.
 */
export async function coldStartEvents(room: string[], messages: StoredMessage[]): Promise<ColdStartEvents> {
  const privateKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  const key = signingKey(privateKeyPem);
  const now = Math.floor(Date.now() / 1000);
  const token = await issueToken(key.signer, {
    ...{ iss: GUEST_TOKENS.TOKEN_ISSUER, aud: GUEST_TOKENS.TOKEN_AUDIENCE },
    sub: `guest-${randomUUID()}`,
    name: "Ada",
    iat: now,
    nbf: now,
    exp: now + 86_400,
  });
  const [sender, member] = room as [string, string];
  const [edited, ...deletable] = messages.map((stored) => stored.id);
  const toDelete = () => {
    const id = deletable.shift();
    if (!id) throw new Error("no message left to delete: seed more");
    return id;
  };
  const address = { ...API, room: `room-${room.length}` };
  const connect = (id: string) =>
    webSocketEvent("CONNECT", "$connect", id, {
      headers: { Host: "bench.local" },
      queryStringParameters: { room: address.room },
      multiValueQueryStringParameters: { room: [address.room] },
    });
  const job = (slice: string) => ({
    endpoint: "https://bench.local/dev",
    address: address,
    frame: {
      type: "message",
      id: `${new Date().toISOString()}#${slice}`,
      room: address.room,
      connectionId: sender,
      data: "hi",
      sentAt: new Date().toISOString(),
    },
    delivery: slice,
    shard: 0,
    range: {},
    slice: "0.0",
  });
  const authorizerEvent = (): AuthorizerEvent => ({
    type: "REQUEST",
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:${API.apiId}/${API.stage}/$connect`,
    queryStringParameters: { token },
    multiValueQueryStringParameters: { token: [token] },
    requestContext: connect("authorizing").requestContext,
  });
  const tokenRequest = (): HttpRequestEvent => ({
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Ada" }),
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      http: { method: "POST", path: "/", protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "bench" },
      time: "27/Nov/2026:02:40:28 +0000",
      timeEpoch: Date.now(),
    },
  });
  const byName: Record<string, (sample: string) => unknown[]> = {
    onconnect: (sample) => [connect(`joiner-${sample}`), connect(`joiner-${sample}-2`)],
    ondisconnect: (sample) => [
      webSocketEvent("DISCONNECT", "$disconnect", `joiner-${sample}`),
      webSocketEvent("DISCONNECT", "$disconnect", `joiner-${sample}-2`),
    ],
    sendmessage: () => [
      message(sender, "sendmessage", { data: "hello" }),
      message(sender, "sendmessage", { data: "again" }),
    ],
    who: () => [message(sender, "who"), message(sender, "who")],
    join: (sample) => [1, 2].map((i) => message(member, "join", { room: `side-${sample}-${i}` })),
    leave: (sample) => [1, 2].map((i) => message(member, "leave", { room: `side-${sample}-${i}` })),
    typing: () => [message(sender, "typing"), message(sender, "typing")],
    edit: () => [
      message(sender, "edit", { id: edited, data: "hi!" }),
      message(sender, "edit", { id: edited, data: "hi" }),
    ],
    delete: () => [message(sender, "delete", { id: toDelete() }), message(sender, "delete", { id: toDelete() })],
    history: () => [message(sender, "history"), message(sender, "history")],
    broadcast: (sample) => [job(`cold-${sample}`), job(`cold-${sample}-2`)],
    authorizer: () => [authorizerEvent(), authorizerEvent()],
    token: () => [tokenRequest(), tokenRequest()],
  };
  return {
    env: {
      ...GUEST_TOKENS,
      AUTH_MODE: "guest",
      TOKEN_PUBLIC_KEY: key.publicKeyPem,
      TOKEN_KMS_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/bench",
    },
    events: (name, sample) => {
      const events = byName[name];
      if (!events) throw new Error(`no events for ${name}`);
      return events(sample);
    },
  };
}
