/**
 * What each emulator does where API Gateway's behaviour is documented, tried on the running
 * emulator with a real client (`npm run bench:peers -- --behaviour`), beside what AWS does:
 * - `$connect` answering 401 refuses the handshake with 401 ("If the `$connect` route's
 *   integration returns a status other than 2xx, the connection is refused",
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html);
 * - a frame over 32 KB closes the connection with 1009 (quotas,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html);
 * - an action no route selects, with no `$default` route, is answered
 *   `{"message": "Forbidden", ...}` (the frame AWS sends; this project's conformance tests).
 */
import WebSocket from "ws";

export interface Behaviour {
  refusedConnect: string;
  bigFrame: string;
  unknownRoute: string;
}

export const AWS_BEHAVIOUR: Behaviour = {
  refusedConnect: "refused, 401",
  bigFrame: "closed, 1009",
  unknownRoute: '{"message": "Forbidden", ...}',
};

const WAIT_MS = 5_000;

export async function probeBehaviour(url: string): Promise<Behaviour> {
  return {
    refusedConnect: await handshake(`${url}?refuse=1`),
    bigFrame: await afterSending(url, JSON.stringify({ action: "sendmessage", data: "x".repeat(40 * 1024) })),
    unknownRoute: await afterSending(url, JSON.stringify({ action: "no-such-route" })),
  };
}

/** How a handshake ends: accepted, or refused with the status the client saw. */
function handshake(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once("open", () => {
      socket.terminate();
      resolve("accepted");
    });
    socket.once("unexpected-response", (_request, response) => {
      resolve(`refused, ${response.statusCode}`);
      socket.terminate();
    });
    socket.once("error", (error) => resolve(`error: ${error.message}`));
  });
}

/** What one client gets after sending `frame`: the first frame back, the close, or nothing. */
function afterSending(url: string, frame: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { maxPayload: 1024 * 1024 });
    const timer = setTimeout(() => {
      resolve("nothing (kept open)");
      socket.terminate();
    }, WAIT_MS);
    const done = (what: string) => {
      clearTimeout(timer);
      resolve(what);
      socket.terminate();
    };
    socket.once("open", () => socket.send(frame));
    socket.once("message", (data) => {
      const text = String(data).replace(/, "connectionId".*$/, ", ...}");
      done(text.length > 60 ? `a frame of ${text.length} bytes` : text);
    });
    socket.once("close", (code) => done(`closed, ${code}`));
    socket.once("error", (error) => done(`error: ${error.message}`));
  });
}
