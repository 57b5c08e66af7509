/*
 * The chat page: where to connect and how to sign in (told by the local gateway's `/config.json`,
 * or by `?url=` and `?tokenUrl=` for a deployed stack), the composer, and the wiring of the
 * connection, the sign-in and the message list.
 */
import { createConnection } from "./connection.mjs";
import { createMessageList } from "./messages.mjs";
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
const encoder = new TextEncoder();

/** `?url=` (and `?tokenUrl=` for guest sign-in) first; else what the local gateway reports. */
async function readConfig() {
  const query = new URLSearchParams(location.search);
  const url = query.get("url");
  if (url) {
    const tokenUrl = query.get("tokenUrl");
    return { url, auth: query.get("auth") ?? (tokenUrl ? "guest" : "none"), tokenUrl };
  }
  if (!location.host) return { url: "", auth: "none" };
  let config = {};
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch {
    // Served by something other than the local gateway: the default stage, no sign-in.
  }
  const stage = config.stage || "dev";
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const tokenUrl = config.tokenUrl ? new URL(config.tokenUrl, location.href).href : undefined;
  return { url: `${scheme}://${location.host}/${encodeURIComponent(stage)}`, auth: config.auth ?? "none", tokenUrl };
}

const config = await readConfig();
const signIn = createSignIn(config);
const messages = createMessageList($("messages"), signIn);
const connection = createConnection(
  { statusBox: $("status"), statusText: $("status-text"), connectButton: $("connect"), urlInput },
  {
    urlFor: (url) => signIn.urlFor(url, nameInput.value.trim()),
    openStatus: () => (signIn.user ? `Connected as ${signIn.user.name}` : "Connected"),
    onOpen(url) {
      messages.reset();
      // The endpoint normalises the name (NFC, trimmed): show the one others see, unless it has been edited since.
      if (signIn.user && nameInput.value.trim() === joinedAs) nameInput.value = signIn.user.name;
      messages.addNote(`Connected to ${url}${signIn.user ? ` as ${signIn.user.name}` : ""}`);
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
  if (connection.isLive(url)) {
    connection.disconnect();
  } else if (!/^wss?:\/\/./i.test(url)) {
    connection.setStatus("closed", "The URL must start with ws:// or wss://");
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

function send() {
  const body = request();
  if (body.data.trim() === "") return;
  const bytes = frameBytes(body);
  if (bytes > MAX_FRAME_BYTES) {
    showHint(
      `Too long to send: this message is ${kb(bytes)} and one message can be at most ${MAX_FRAME_BYTES / 1024} KB. Shorten it or split it up.`,
      true,
    );
    return;
  }
  const socket = connection.socket;
  if (!socket) {
    showHint("Not connected: the message was not sent.", true);
    return;
  }
  socket.send(JSON.stringify(body));
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
  if (bytes > MAX_FRAME_BYTES * 0.9) {
    showHint(`${kb(bytes)} of ${MAX_FRAME_BYTES / 1024} KB`, bytes > MAX_FRAME_BYTES);
  } else if (hint.textContent && !hint.classList.contains("error")) {
    showHint("");
  }
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
  else send();
});
textInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
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
urlInput.value = config.url;
joinedAs = nameInput.value.trim();
if (config.url) connection.open(config.url);
else connection.setStatus("idle", "Enter the WebSocket URL and connect");
