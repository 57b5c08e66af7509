/*
 * The chat page: where to connect and how to sign in (told by `/config.json`, the local gateway's
 * or the one a stack publishes beside the page; a link's `?url=` and `?tokenUrl=` may choose only
 * among what it names), and the wiring of the client library (`./chat-client.mjs`, built from
 * `client/`) to the rooms, the conversation shown, who is online, the typing line and the composer.
 */
import { ChatClient, ConnectionLostError } from "./chat-client.mjs";
import { createComposer } from "./composer.mjs";
import { followLink, loadConfig, refusal } from "./config.mjs";
import { createConversations } from "./conversations.mjs";
import { createOwnership } from "./own.mjs";
import { createPeople } from "./people.mjs";
import { createRooms } from "./rooms.mjs";
import { createSignIn } from "./sign-in.mjs";
import { createStatus } from "./status.mjs";
import { createTypingLine } from "./typing.mjs";

const NAME_KEY = "chat.name";
const $ = (id) => document.getElementById(id);
const urlInput = $("url");
const nameInput = $("name");

// config.json first: where the page may connect. Then an issuer's answer, which puts the address
// back as it was before the sign-in; then the link's choice of URL and room, read from that address.
const config = await loadConfig();
const signIn = await createSignIn(config, $("sign-in"));
const linkRefused = followLink(config);

/** The client of the connection wanted now, its URL, and the name it was made for. */
let client = null;
let clientUrl = "";
let joinedAs = null;

const own = createOwnership(signIn);
const views = createConversations(own.isOwn, (room) => ({
  onEdit: (id, text) => composer.startEditing(id, text),
  onDelete: (id) => refused(client.delete(room, id), room, "Not deleted").catch(() => {}),
}));
const people = createPeople({ summary: $("online"), list: $("members") }, { signIn, openDirect });
const typingLine = createTypingLine($("typing"));
const rooms = createRooms(
  { form: $("room-form"), input: $("room"), hint: $("room-hint"), named: $("rooms"), direct: $("directs") },
  { join: (room) => joinRoom({ room }), leave: leaveRoom, show: showRoom },
);
const status = createStatus(
  { statusBox: $("status"), statusText: $("status-text"), connectButton: $("connect"), urlInput },
  {
    openStatus: () =>
      `Connected${signIn.user ? ` as ${signIn.user.name}` : ""} · ${rooms.current ? rooms.title(rooms.current) : "no room"}`,
    onState: (state) => composer.setEnabled(state === "open", state === "open" ? "" : "Not connected"),
  },
);
const composer = createComposer(
  { form: $("composer"), text: $("text"), hint: $("composer-hint"), send: $("send"), nameInput },
  {
    canSend: () => (client?.state.state !== "open" ? "Not connected" : rooms.current ? "" : "Join a room first"),
    send: (data) => sendMessage(rooms.current, data),
    edit: (id, data) => refused(client.edit(rooms.current, id, data), rooms.current, "Not saved"),
    typing: () => rooms.current && client?.typing(rooms.current),
  },
);

/** Shows `room`'s conversation, its people and who is typing in it. */
function showRoom(room) {
  views.show(room);
  $("room-title").textContent = room ? rooms.title(room) : "Join a room to chat";
  people.show(room);
  typingLine.show(room);
  composer.reset();
  status.refresh();
  if (room) refreshWho(room);
}

function refreshWho(room) {
  client?.who(room).then(people.setMembers, () => {});
}

/** A room joined (or a page of its history read): its messages, then its people. */
function joined(result) {
  views.of(result.room).addHistory(result, (before) =>
    client.history(result.room, { before }).then(
      (page) => joined({ ...page, room: result.room }),
      () => {},
    ),
  );
  if (result.room === rooms.current) refreshWho(result.room);
}

function joinRoom(entry) {
  if (!client || (entry.with && !signIn.verified)) return;
  rooms.add(entry.room, entry.with ? { with: entry.with, name: entry.name } : {});
  views.of(entry.room);
  const joining = entry.with ? client.joinDirect(entry.with) : client.join(entry.room);
  joining.then(joined, (error) => {
    if (error instanceof ConnectionLostError) return;
    const title = rooms.title(entry.room);
    forgetRoom(entry.room);
    rooms.showError(`Cannot join ${title}: ${error.message}`);
  });
}

/** The direct room of the reader and `userId` (a person clicked, or an invitation); shown if `show`. */
async function openDirect(userId, name, show = true) {
  try {
    const result = await client.joinDirect(userId);
    rooms.add(result.room, { with: userId, name });
    joined(result);
    if (show) rooms.select(result.room, false);
  } catch (error) {
    rooms.showError(`Cannot talk to ${name || userId} alone: ${error.message}`);
  }
}

function leaveRoom(room) {
  client?.leave(room).catch(() => {});
  forgetRoom(room);
}

function forgetRoom(room) {
  rooms.remove(room);
  views.forget(room);
  people.forget(room);
}

/** A request's refusal, said in its room; the caller hears of it too. */
function refused(request, room, what) {
  return request.catch((error) => {
    views.of(room).addError(error instanceof ConnectionLostError ? `${what}: ${error.message}` : error.message);
    throw error;
  });
}

function sendMessage(room, data) {
  if (!signIn.verified) client.name = nameInput.value.trim() || undefined;
  return refused(client.send(room, data), room, "Not sent").then(({ id }) =>
    own.sent(id, views.of(room).element.querySelector(`.message[data-id="${id}"]`), views.all()),
  );
}

/** A client for `url`, in the rooms the page is in: another URL or another name is another connection. */
function start(url) {
  client?.close();
  const name = nameInput.value.trim();
  joinedAs = name;
  const current = new ChatClient({ url, token: signIn.tokenFor(name), ...(!signIn.verified && name && { name }) });
  client = current;
  clientUrl = url;
  const wanted = rooms.wanted();
  views.clear();
  rooms.clear();
  showRoom(rooms.current);
  follow(current, url);
  for (const entry of wanted) joinRoom(entry);
  status.started(url);
  current.open().catch(() => {});
}

/** The client's events, into the page (while it is the page's client). */
function follow(current, url) {
  const on = (type, listener) => current.on(type, (event) => client === current && listener(event));
  let opened = false;
  on("state", (state) => {
    status.follow(state);
    people.setConnected(state.state === "open");
    const view = rooms.current && views.of(rooms.current);
    if (state.state === "open" && !opened) {
      opened = true;
      // The endpoint normalises the name (NFC, trimmed): show the one others see, unless it has been edited since.
      if (signIn.user && nameInput.value.trim() === joinedAs) nameInput.value = signIn.user.name;
      const as = signIn.user ? `, as ${signIn.user.name}` : "";
      view?.addNote(`Connected to ${url}, room ${rooms.title(rooms.current)}${as}`);
    } else if (state.state === "reconnecting" && state.wasOpen) {
      view?.addNote(`Connection closed: ${state.reason}`, "note closed");
    }
  });
  on("message", (frame) => {
    views.of(frame.room).addMessage(frame);
    typingLine.message(frame);
    if (!own.isOwn(frame)) rooms.unseen(frame.room);
  });
  on("edit", (frame) => views.of(frame.room).applyChange(frame));
  on("delete", (frame) => views.of(frame.room).applyChange(frame));
  on("presence", (frame) => {
    const who = people.presence(frame);
    views.of(frame.room).addQuiet(frame.event === "join" ? `${who} joined` : `${who} left`, "presence");
  });
  on("typing", (frame) => typingLine.typing(frame));
  on("invite", ({ from }) => openDirect(from.userId, from.name, false));
  on("error", (event) => views.of(event.room ?? rooms.current).addError(event.message, event.requestId));
  on("gap-filled", ({ room, filled, missed, after }) => {
    const view = views.of(room);
    if (after === "reconnect" && filled > 0) {
      view.addQuiet(`${filled} message${filled === 1 ? "" : "s"} arrived while you were away`, "gap");
    }
    if (missed > 0) {
      const many = missed === 1 ? "1 message is" : `${missed} messages are`;
      view.addQuiet(
        `${many} no longer kept and could not be shown: history does not reach back that far`,
        "gap missed",
      );
    }
    if (after === "reconnect" && room === rooms.current) refreshWho(room);
  });
}

$("connection").addEventListener("submit", (event) => {
  event.preventDefault();
  const url = urlInput.value.trim();
  const refusedUrl = refusal(config, url);
  if (status.isLive(url)) client?.close();
  else if (refusedUrl) status.setStatus("closed", refusedUrl);
  else start(url);
});
urlInput.addEventListener("input", () => status.setStatus(status.state, $("status-text").textContent));
// Back online: try now rather than wait out the backoff.
window.addEventListener("online", () => client?.reconnectNow());

/** A guest's name is in its token: a new name is a new token and a new connection. */
function applyName() {
  const name = nameInput.value.trim();
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Storage may be unavailable (private mode); the name just is not remembered.
  }
  if (config.auth !== "guest" || !name || name === joinedAs) return;
  const url = (status.state === "closed" ? "" : clientUrl) || urlInput.value.trim();
  if (url) start(url);
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  if (document.activeElement === nameInput) applyName();
  else composer.submit();
});
nameInput.addEventListener("change", applyName);

// ---- start --------------------------------------------------------------------------------------

try {
  nameInput.value = localStorage.getItem(NAME_KEY) ?? "";
} catch {
  // No storage: start without a name.
}
if (config.auth === "guest") nameInput.placeholder = "Your name (to join)";
if (config.auth === "oidc") {
  // The name is the issuer's.
  nameInput.readOnly = true;
  nameInput.value = signIn.user?.name ?? "";
  nameInput.placeholder = "Your name (from your sign-in)";
}
$("direct-hint").textContent = signIn.verified
  ? "Choose someone online to talk to them alone."
  : "Direct messages need sign-in: this chat has none.";
urlInput.value = config.url;
joinedAs = nameInput.value.trim();
if (linkRefused) status.setStatus("closed", linkRefused);
else if (config.url) start(config.url);
else status.setStatus("idle", "Enter the WebSocket URL and connect");
