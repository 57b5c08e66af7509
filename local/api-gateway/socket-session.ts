/**
 * A WebSocket whose `$connect` succeeded, for its whole life: its frames checked against API
 * Gateway's limits before they are parsed, its messages routed, and `$disconnect` however it ends.
 */
import type { IncomingMessage } from "node:http";
import type WebSocket from "ws";
import { type ConnectionRegistry, clientClose } from "./connection-registry";
import type { ConnectionInfo } from "./event-builders";
import { FrameGuard } from "./frame-guard";
import type { Integrations } from "./integrations";

interface SocketSessionOptions {
  /** What the handshake admitted, by request. */
  accepted: WeakMap<IncomingMessage, ConnectionInfo>;
  registry: ConnectionRegistry;
  integrations: Integrations;
  limits: { maxFrameBytes: number; maxMessageBytes: number };
  disconnect: (connection: ConnectionInfo, code: number, reason: string) => void;
  track: <T>(work: Promise<T>) => Promise<T>;
}

export function socketSession(options: SocketSessionOptions) {
  const { accepted, registry, integrations, limits, track } = options;
  return (socket: WebSocket, request: IncomingMessage): void => {
    const info = accepted.get(request);
    accepted.delete(request);
    if (!info) {
      socket.terminate();
      return;
    }
    const connection = registry.add(info, socket);
    const guard = new FrameGuard(limits.maxFrameBytes, limits.maxMessageBytes);
    request.socket.prependListener("data", (chunk: Buffer) => {
      if (connection.closedBy) return;
      if (guard.push(chunk)) registry.close(connection, 1009, "Message too big");
    });
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (connection.closedBy) return;
      // "If a client app sends a binary frame, API Gateway rejects it and disconnects the client
      // with code 1003" (developer guide, binary media types for WebSocket APIs).
      if (isBinary) return registry.close(connection, 1003, "");
      registry.touch(connection);
      void track(integrations.onMessage(connection, data));
    });
    socket.on("error", () => {
      // A protocol error (bad UTF-8, bad frame): ws closes the socket and "close" follows.
    });
    socket.on("close", (code: number, reason: Buffer) => {
      registry.remove(connection);
      const ended = connection.closedBy ?? clientClose(code, reason.toString());
      options.disconnect(connection, ended.code, ended.reason);
    });
  };
}
