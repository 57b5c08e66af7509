/*
 * The chat page: where to connect and how to sign in (told by `/config.json`, the local gateway's
 * or the one a stack publishes beside the page; a link's `?url=` and `?tokenUrl=` may choose only
 * among what it names), the room (`?room=`), the composer, and the wiring of the connection, the
 * sign-in, the message list and who is online.
 */
import { followLink, loadConfig, refusal } from "./config.mjs";
import { createConnection } from "./connection.mjs";
import { createMessageList } from "./messages.mjs";
import { createPeople } from "./people.mjs";
import { createRoomPicker, withRoom } from "./room.mjs";
import { createSignIn } from "./sign-in.mjs";

/** API Gateway closes the socket (1009) on a frame over 32 KB, and a browser sends a message as one frame. */
const MAX_FRAME_BYTES = 32 * 1024;
const NAME_KEY = "chat.name";

const $ = (id) => document.getElementById(id);
const connectionForm = $("connection");
const urlInput = $("url");
const composer = $("composer");
const nameInput = $("name");
const textInput = $("text");
const hint = $("composer-hint");
const sendButton = $("send");
const encoder = new TextEncoder();

// config.json first: where the page may connect. Then an issuer's answer, which puts the address
// back as it was before the sign-in; then the link's choice of URL and room, read from that address.
const config = await loadConfig();
const signIn = await createSignIn(config, $("sign-in"));
const linkRefused = followLink(config);
const messages = createMessageList($("messages"), signIn);
const people = createPeople({ summary: $("online"), list: $("members") }, signIn);
const picker = createRoomPicker({ form: $("room-form"), input: $("room"), hint: $("room-hint") }, () => {
  // Another room is another connection.
  const url = connection.wantedUrl || urlInput.value.trim();
  if (url) connection.open(url);
});

/** The URL to open: the room, and with auth off the name, so the room's notices can say who came. */
function connectUrl(url) {
  const target = new URL(withRoom(url, picker.room));
  const name = nameInput.value.trim();
  if (!signIn.verified && name) target.searchParams.set("name", name);
  return target.href;
}

const send = (request) => connection.socket?.send(JSON.stringify(request));

const connection = createConnection(
  { statusBox: $("status"), statusText: $("status-text"), connectButton: $("connect"), urlInput },
  {
    urlFor: (url) => signIn.urlFor(connectUrl(url), nameInput.value.trim()),
    openStatus: () => `Connected${signIn.user ? ` as ${signIn.user.name}` : ""} · #${picker.room}`,
    onOpen(url) {
      messages.reset();
      people.reset(picker.room);
      // The endpoint normalises the name (NFC, trimmed): show the one others see, unless it has been edited since.
      if (signIn.user && nameInput.value.trim() === joinedAs) nameInput.value = signIn.user.name;
      messages.addNote(`Connected to ${url}, room #${picker.room}${signIn.user ? `, as ${signIn.user.name}` : ""}`);
      send({ action: "who" });
      send({ action: "history" });
    },
    onState(state) {
      sendButton.disabled = state !== "open";
      sendButton.title = state === "open" ? "" : "Not connected";
      if (state !== "open") people.reset(undefined);
    },
    onFrame,
    onRefused: () => signIn.forget(),
    onClosed: (why) => messages.addNote(`Connection closed: ${why}`, "note closed"),
  },
);

function onFrame(raw) {
  let frame;
  try {
    frame = typeof raw === "string" ? JSON.parse(raw) : undefined;
  } catch {
    frame = undefined;
  }
  if (!frame || typeof frame !== "object") {
    messages.addError(
      `Unexpected frame from the server: ${typeof raw === "string" ? raw.slice(0, 200) : "binary data"}`,
    );
  } else if (frame.type === "message" && typeof frame.data === "string") {
    messages.addMessage(frame);
  } else if (frame.type === "history" && Array.isArray(frame.messages)) {
    messages.addHistory(frame, (before) => send({ action: "history", before }));
  } else if (frame.type === "who" && Array.isArray(frame.members)) {
    people.setMembers(frame);
  } else if (frame.type === "presence" && (frame.event === "join" || frame.event === "leave")) {
    const name = people.presence(frame);
    messages.addPresence(frame.event === "join" ? `${name} joined` : `${name} left`);
  } else if (frame.type === "error") {
    messages.addError(String(frame.message), frame.requestId);
  } else if (typeof frame.message === "string") {
    // API Gateway's own frames: "Forbidden", "Internal server error", "Endpoint request timed out".
    messages.addError(`The server could not handle the message: ${frame.message}`, frame.requestId);
  } else {
    messages.addError(`Unexpected frame from the server: ${raw.slice(0, 200)}`);
  }
}

connectionForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = urlInput.value.trim();
  const refused = refusal(config, url);
  if (connection.isLive(url)) {
    connection.disconnect();
  } else if (refused) {
    connection.setStatus("closed", refused);
  } else {
    connection.open(url);
  }
});
urlInput.addEventListener("input", () => connection.setStatus($("status").dataset.state, $("status-text").textContent));
// Back online: try now rather than wait out the backoff.
window.addEventListener("online", () => connection.retryNow());

// ---- composing ----------------------------------------------------------------------------------

function showHint(message, isError) {
  hint.textContent = message;
  hint.classList.toggle("error", Boolean(isError));
}

/** The request to send; with auth on the server takes the name from the token, so none is sent. */
function request() {
  const data = textInput.value.replace(/^\s*\n/, "").trimEnd();
  const name = signIn.verified ? "" : nameInput.value.trim();
  return { action: "sendmessage", data, ...(name && { name }) };
}

const frameBytes = (body) => encoder.encode(JSON.stringify(body)).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

function sendMessage() {
  const body = request();
  if (body.data.trim() === "") {
    // Nothing would be sent; say so rather than do nothing.
    showHint(textInput.value === "" ? "Type a message first." : "A message of only spaces is not sent.", true);
    return;
  }
  const bytes = frameBytes(body);
  if (bytes > MAX_FRAME_BYTES) {
    showHint(
      `Too long to send: this message is ${kb(bytes)} and one message can be at most ${MAX_FRAME_BYTES / 1024} KB. Shorten it or split it up.`,
      true,
    );
    return;
  }
  if (!connection.socket) {
    showHint("Not connected: the message was not sent. It stays here until you send it.", true);
    return;
  }
  send(body);
  messages.sent(body);
  textInput.value = "";
  fitText();
  showHint("");
}

/** Grows the text box with its content, up to a few lines; warns as the size limit nears. */
function fitText() {
  textInput.style.height = "auto";
  textInput.style.height = `${Math.min(textInput.scrollHeight, 160)}px`;
  const bytes = frameBytes(request());
  // What the text is now decides the hint: an old warning goes once it no longer holds.
  if (bytes > MAX_FRAME_BYTES * 0.9) showHint(`${kb(bytes)} of ${MAX_FRAME_BYTES / 1024} KB`, bytes > MAX_FRAME_BYTES);
  else showHint("");
}

/** The name the current (or coming) guest connection asked its token for. */
let joinedAs = null;

/** A guest's name is in its token: a new name is a new token and a new connection. */
function applyName() {
  const name = nameInput.value.trim();
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Storage may be unavailable (private mode); the name just is not remembered.
  }
  if (config.auth !== "guest" || !name || name === joinedAs) return;
  const url = connection.wantedUrl || urlInput.value.trim();
  if (!url) return;
  joinedAs = name;
  connection.open(url);
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  if (document.activeElement === nameInput) applyName();
  else sendMessage();
});
textInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  }
});
textInput.addEventListener("input", fitText);
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
urlInput.value = config.url;
joinedAs = nameInput.value.trim();
if (linkRefused) connection.setStatus("closed", linkRefused);
else if (config.url) connection.open(config.url);
else connection.setStatus("idle", "Enter the WebSocket URL and connect");
