/** What the client library's unit tests share: a client on fake sockets and a fake clock, and what it emitted. */
import sinon from "sinon";
import { ChatClient, type ChatClientOptions, type ChatEvents } from "../../../client/chat-client";
import { ChatStandIn, fakeWebSocket } from "../../support/fake-socket";

export type Recorded = { [K in keyof ChatEvents]: Array<ChatEvents[K]> };

/** A client whose sockets the stand-in chat answers (unless `manual`), on a fake clock; close it with `done`. */
export function clientOnFakes(options: Partial<ChatClientOptions> = {}, manual = false) {
  const clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  const chat = new ChatStandIn();
  const ws = fakeWebSocket((socket) => {
    if (!manual) socket.answer = chat.serve;
  });
  const client = new ChatClient({
    url: "wss://chat.example/dev",
    WebSocket: ws.WebSocket,
    random: () => 0.5,
    ...options,
  });
  const events = {} as Recorded;
  for (const type of [
    "message",
    "edit",
    "delete",
    "presence",
    "typing",
    "invite",
    "error",
    "gap-filled",
    "state",
  ] as const) {
    events[type] = [];
    client.on(type, (event) => (events[type] as unknown[]).push(event));
  }
  return {
    clock,
    chat,
    ws,
    client,
    events,
    /** Lets the client's promises and the stand-in's answers run. */
    settle: () => clock.tickAsync(0),
    done() {
      client.close();
      clock.restore();
    },
  };
}

/** The data of the messages emitted for `room`, in order. */
export const texts = (events: Recorded, room: string) =>
  events.message.filter((message) => message.room === room).map((message) => message.data);

/** Opens the client in `rooms` (the stand-in answering), and waits until each has its history. */
export async function connected(fixture: ReturnType<typeof clientOnFakes>, rooms: string[]): Promise<void> {
  const joins = rooms.map((room) => fixture.client.join(room));
  const opened = fixture.client.open();
  await fixture.settle();
  fixture.ws.last.open();
  await opened;
  await Promise.all(joins);
  await fixture.settle();
}
