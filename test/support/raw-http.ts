/** Bytes on a TCP socket, for requests no well-behaved HTTP client would send. */
import net from "node:net";

/**
 * Writes `request` to 127.0.0.1:`port` and resolves with the response's status line (or
 * `"no answer"` after `timeoutMs`, or `"closed without answer"`).
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let received = "";
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done("no answer"), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n");
      if (end >= 0) done(received.slice(0, end));
    });
    socket.on("error", () => done(received || "closed without answer"));
    socket.on("close", () => done(received || "closed without answer"));
  });
}

/** An upgrade request to `path`, with the headers a WebSocket client sends, then `extra` lines. */
export function upgradeRequest(path: string, extra = "", overrides: Record<string, string | undefined> = {}): string {
  const headers: Record<string, string | undefined> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...overrides,
  };
  const lines = Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return `GET ${path} HTTP/1.1\r\n${lines}${extra}\r\n`;
}
