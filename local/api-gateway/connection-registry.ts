/**
 * The gateway's open connections: their identity, activity and API Gateway's time limits
 * (idle 10 min, at most 2 h; both end the connection with 1001 "Going away").
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
import { isUtf8 } from "node:buffer";
import type WebSocket from "ws";
import type { ConnectionInfo } from "./event-builders";

export interface LiveConnection extends ConnectionInfo {
  socket: WebSocket;
  lastActiveAt: number;
  /** Set when the gateway ends the connection: what `$disconnect` reports. */
  closedBy?: { code: number; reason: string };
  timers: NodeJS.Timeout[];
}

interface RegistryLimits {
  idleTimeoutMs: number;
  maxConnectionMs: number;
}

export const GOING_AWAY = { code: 1001, reason: "Going away" } as const;

/** What `$disconnect` reports when the client ended the connection. */
export function clientClose(code: number, reason: string): { code: number; reason: string } {
  if (code === 1005) return { code, reason: reason || "Client-side close frame status not set" };
  if (code === 1006) return { code, reason: reason || "Connection closed abnormally" };
  return { code, reason };
}

export class ConnectionRegistry {
  private readonly connections = new Map<string, LiveConnection>();

  constructor(private readonly limits: RegistryLimits) {}

  get size(): number {
    return this.connections.size;
  }

  /** The connection, unless it is unknown or already closing. */
  get(connectionId: string): LiveConnection | undefined {
    const connection = this.connections.get(connectionId);
    return connection && !connection.closedBy && connection.socket.readyState === connection.socket.OPEN
      ? connection
      : undefined;
  }

  add(info: ConnectionInfo, socket: WebSocket): LiveConnection {
    const connection: LiveConnection = { ...info, socket, lastActiveAt: info.connectedAt, timers: [] };
    const goAway = () => this.close(connection, GOING_AWAY.code, GOING_AWAY.reason);
    connection.timers.push(
      setTimeout(goAway, this.limits.idleTimeoutMs),
      setTimeout(goAway, Math.max(0, info.connectedAt + this.limits.maxConnectionMs - Date.now())),
    );
    for (const timer of connection.timers) timer.unref();
    this.connections.set(info.connectionId, connection);
    return connection;
  }

  /** A message went to or came from the client: it is active, and its idle timer starts again. */
  touch(connection: LiveConnection): void {
    connection.lastActiveAt = Date.now();
    connection.timers[0]?.refresh();
  }

  /**
   * Sends `data` as a text frame when it is UTF-8, else as a binary frame. Traffic either way keeps
   * a connection from the idle timeout: AWS documents none of it, but connections kept open by
   * server pushes alone are observed (a keep-alive every 9.5 min, hotsock.io's "Keep-alive"). Ping
   * frames are answered with a pong and do not count, since that is not sourced either way.
   */
  send(connection: LiveConnection, data: Buffer): void {
    this.touch(connection);
    connection.socket.send(data, { binary: !isUtf8(data) });
  }

  /** The gateway ends the connection; `$disconnect` will report `code` and `reason`. */
  close(connection: LiveConnection, code: number, reason: string): void {
    if (connection.closedBy) return;
    connection.closedBy = { code, reason };
    connection.socket.close(code, reason);
  }

  remove(connection: LiveConnection): void {
    for (const timer of connection.timers) clearTimeout(timer);
    this.connections.delete(connection.connectionId);
  }

  all(): LiveConnection[] {
    return [...this.connections.values()];
  }

  /** Closes every connection and resolves once each socket has closed. */
  async closeAll(code: number, reason: string): Promise<void> {
    await Promise.all(
      this.all().map(
        (connection) =>
          new Promise<void>((resolve) => {
            connection.socket.once("close", () => resolve());
            this.close(connection, code, reason);
            // A client that never answers the close frame is cut off, as AWS would.
            setTimeout(() => connection.socket.terminate(), 1000).unref();
          }),
      ),
    );
  }
}
