/** The chat as tests drive it: a gateway with the project's routes, and what its clients say and see. */
import type { ChatMessageFrame } from "../../functions/chat/message";
import type { TokenResponse } from "../../functions/handlers/token-endpoint";
import { type FunctionConfig, readFunctionConfig } from "../../functions/runtime/function-config";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../local/express-server";
import { tableReader } from "./dynamodb";
import { eventually, type TestClient } from "./websocket";

/** A gateway with the project's routes, its execution log kept, and a reader of its table (closed with it). */
export async function chatGateway(options: LocalGatewayOptions = {}) {
  const log: string[] = [];
  const gw = await startLocalGateway({ port: 0, servePage: false, log: (line) => log.push(line), ...options });
  const table = tableReader(options.dynamodbEndpoint ?? gw.dynamodbEndpoint, gw.tableName, gw.credentials);
  const close = async () => {
    table.close();
    await gw.close();
  };
  return { ...gw, log, table, close };
}

/**
 * The functions' settings for `gw`'s tables, signed as its operator (who may do anything there):
 * what a test's own SDK clients and repositories use to look behind a gateway's back.
 */
export function operatorConfig(
  gw: Pick<LocalGateway, "tableName" | "messagesTableName" | "dynamodbEndpoint" | "credentials">,
  environment: Record<string, string> = {},
): FunctionConfig {
  const config = readFunctionConfig({
    TABLE_NAME: gw.tableName,
    MESSAGES_TABLE_NAME: gw.messagesTableName,
    DYNAMODB_ENDPOINT_URL: gw.dynamodbEndpoint,
    ...environment,
  });
  return { ...config, credentials: gw.credentials };
}

/** Rejects if `promise` does not settle within `ms`, naming `what`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The client's connection id, read from the Forbidden frame a non-JSON frame gets back. */
export async function whoAmI(client: TestClient): Promise<string> {
  client.socket.send("who am I?");
  const frame = await within(3000, "who am I?", client.nextJson<{ message: string; connectionId: string }>());
  if (frame.message !== "Forbidden") throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
  return frame.connectionId;
}

/** Chat messages a client received, in order. */
export function messagesAt(client: TestClient): ChatMessageFrame[] {
  return client.received
    .filter((frame): frame is string => typeof frame === "string")
    .map((frame) => JSON.parse(frame) as ChatMessageFrame)
    .filter((frame) => frame.type === "message");
}

/** A guest token for `name` from the gateway's token endpoint at `origin` (`http://host:port`). */
export async function signIn(origin: string, name: string): Promise<TokenResponse> {
  const response = await fetch(`${origin}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 200) throw new Error(`token for ${name}: ${response.status} ${await response.text()}`);
  return (await response.json()) as TokenResponse;
}

export const say = (client: TestClient, data: string, name?: string) =>
  client.socket.send(JSON.stringify({ action: "sendmessage", data, ...(name && { name }) }));

/**
 * Resolves once the gateway has logged `count` invocations of `route`: each line is written once
 * its handler has returned, so after every post it made was handed to its socket.
 */
export function invoked(log: readonly string[], route: string, count: number, timeoutMs = 10_000): Promise<void> {
  const pattern = new RegExp(` ${route.replace("$", "\\$")} connection=`);
  return eventually(() => log.filter((line) => pattern.test(line)).length >= count, timeoutMs);
}

/**
 * Sends a frame no route takes and waits for API Gateway's Forbidden answer: frames on one socket
 * arrive in order, so every frame handed to the client's socket before has arrived by then.
 */
export async function roundTrip(client: TestClient): Promise<void> {
  const forbidden = () => client.received.filter((frame) => String(frame).startsWith('{"message": "Forbidden"')).length;
  const before = forbidden();
  client.socket.send("round trip");
  await eventually(() => forbidden() > before);
}
