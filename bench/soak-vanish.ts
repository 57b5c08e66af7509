/**
 * The soak's third kind of churn (bench/soak.ts): a client that leaves in the middle of its
 * handshake, which no `ws` client can do on purpose, so the gateway's `$connect` is still running
 * (or its row just written) when the socket is gone.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import type { Ledger } from "./soak-clients";

/** A raw TCP socket writes the upgrade request for the stage path and is destroyed at once or after 1-30 ms. */
export function vanish(ledger: Ledger, url: string): void {
  const { port, pathname } = new URL(url);
  const delayMs = Math.random() < 0.5 ? 0 : 1 + Math.floor(Math.random() * 30);
  ledger.vanish.attempts++;
  if (delayMs === 0) ledger.vanish.atOnce++;
  else ledger.vanish.afterDelay++;
  ledger.pending++;
  const socket = net.connect({ host: "127.0.0.1", port: Number(port) });
  socket.once("connect", () => {
    socket.write(
      [
        `GET ${pathname} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        "",
        "",
      ].join("\r\n"),
    );
    if (delayMs === 0) socket.destroy();
    else setTimeout(() => socket.destroy(), delayMs);
  });
  // The gateway answered first: this one did not vanish mid-handshake, but it is gone all the same.
  socket.once("data", () => {
    ledger.vanish.answeredFirst++;
    socket.destroy();
  });
  socket.on("error", () => {});
  socket.once("close", () => {
    ledger.pending--;
  });
}
