/*
 * The chat page: one WebSocket to the chat API (the local gateway or the deployed one), reconnecting
 * with backoff. Everything a frame carries is rendered with textContent, never as HTML.
 *
 * Own messages: the server never tells a client its connectionId, and it drops unknown fields, so a
 * message cannot carry a nonce. The page keeps what it sent (name and text, in order) and marks the
 * first echo that matches as its own; that echo's connectionId is this connection's id, and from
 * then on a message is own exactly when its connectionId is that id. Each new connection starts over.
 */
"use strict";

(() => {
  /** API Gateway closes the socket (1009) on a frame over 32 KB, and a browser sends a message as one frame. */
  const MAX_FRAME_BYTES = 32 * 1024;
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 30_000;
  /** An echo later than this is not waited for (the send failed, or the server refused it). */
  const PENDING_TTL_MS = 60_000;
  const NAME_KEY = "chat.name";

  const $ = (id) => document.getElementById(id);
  const statusBox = $("status");
  const statusText = $("status-text");
  const connectionForm = $("connection");
  const urlInput = $("url");
  const connectButton = $("connect");
  const list = $("messages");
  const composer = $("composer");
  const nameInput = $("name");
  const textInput = $("text");
  const hint = $("composer-hint");
  const encoder = new TextEncoder();

  let socket = null;
  let socketUrl = "";
  /** The user asked to be connected (so a close is followed by a reconnect). */
  let wanted = false;
  let attempt = 0;
  let retryTimer = 0;
  let countdownTimer = 0;
  let ownId = null;
  /** What this connection sent and has not seen echoed yet: `{ name, data, at }`, oldest first. */
  let pending = [];

  // ---- connection -------------------------------------------------------------------------------

  function setStatus(state, text) {
    statusBox.dataset.state = state;
    statusText.textContent = text;
    const live = (state === "open" || state === "connecting") && socketUrl === urlInput.value.trim();
    connectButton.textContent = live ? "Disconnect" : state === "reconnecting" ? "Retry now" : "Connect";
  }

  function connect(url) {
    clearTimers();
    if (socket) dropSocket();
    socketUrl = url;
    wanted = true;
    setStatus("connecting", attempt > 0 ? `Reconnecting (attempt ${attempt + 1})…` : "Connecting…");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      wanted = false;
      setStatus("closed", `Cannot connect: ${error.message}`);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      ownId = null;
      pending = [];
      setStatus("open", "Connected");
      addNote(`Connected to ${url}`);
    };
    ws.onmessage = (event) => onFrame(event.data);
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      const wasOpen = statusBox.dataset.state === "open";
      const why = describeClose(event);
      if (wasOpen) addNote(`Connection closed: ${why}`, "note closed");
      if (!wanted) {
        setStatus("closed", `Disconnected: ${why}`);
        return;
      }
      scheduleReconnect(why);
    };
  }

  function describeClose(event) {
    const reason = event.reason ? ` ${event.reason}` : event.code === 1006 ? " (no connection)" : "";
    return `${event.code}${reason}`;
  }

  /** Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s. */
  function scheduleReconnect(why) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt++;
    const due = Date.now() + delay;
    const show = () => {
      const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setStatus("reconnecting", `Closed (${why}) · reconnecting in ${seconds} s`);
    };
    show();
    countdownTimer = setInterval(show, 1000);
    retryTimer = setTimeout(() => connect(socketUrl), delay);
  }

  function clearTimers() {
    clearTimeout(retryTimer);
    clearInterval(countdownTimer);
  }

  /** Forgets the current socket without reacting to its close. */
  function dropSocket() {
    const ws = socket;
    socket = null;
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.close(1000, "Bye");
  }

  function disconnect() {
    wanted = false;
    clearTimers();
    attempt = 0;
    if (socket) socket.close(1000, "Bye");
    else setStatus("closed", "Disconnected");
  }

  connectionForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = urlInput.value.trim();
    const state = statusBox.dataset.state;
    if ((state === "open" || state === "connecting") && url === socketUrl) {
      disconnect();
      return;
    }
    if (!/^wss?:\/\/./i.test(url)) {
      setStatus("closed", "The URL must start with ws:// or wss://");
      return;
    }
    attempt = 0;
    connect(url);
  });
  urlInput.addEventListener("input", () => setStatus(statusBox.dataset.state, statusText.textContent));
  // Back online: try now rather than wait out the backoff.
  window.addEventListener("online", () => {
    if (wanted && !socket) connect(socketUrl);
  });

  // ---- frames -----------------------------------------------------------------------------------

  function onFrame(raw) {
    let frame;
    try {
      frame = typeof raw === "string" ? JSON.parse(raw) : undefined;
    } catch {
      frame = undefined;
    }
    if (!frame || typeof frame !== "object") {
      addError(`Unexpected frame from the server: ${typeof raw === "string" ? raw.slice(0, 200) : "binary data"}`);
      return;
    }
    if (frame.type === "message" && typeof frame.data === "string") {
      addMessage(frame);
    } else if (frame.type === "error") {
      addError(String(frame.message), frame.requestId);
    } else if (typeof frame.message === "string") {
      // API Gateway's own frames: "Forbidden", "Internal server error", "Endpoint request timed out".
      addError(`The server could not handle the message: ${frame.message}`, frame.requestId);
    } else {
      addError(`Unexpected frame from the server: ${raw.slice(0, 200)}`);
    }
  }

  function isOwn(frame) {
    const now = Date.now();
    pending = pending.filter((sent) => now - sent.at < PENDING_TTL_MS);
    const index = pending.findIndex(
      (sent) =>
        sent.name === (frame.name ?? "") && sent.data === frame.data && (!ownId || ownId === frame.connectionId),
    );
    if (index >= 0 && !ownId) ownId = frame.connectionId;
    if (index >= 0) pending.splice(index, 1);
    return ownId !== null && frame.connectionId === ownId;
  }

  // ---- rendering (text only) --------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Appends an item, keeping the newest in view unless the reader has scrolled up to older ones. */
  function append(item, forceScroll) {
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(item);
    if (nearBottom || forceScroll) list.scrollTop = list.scrollHeight;
  }

  function addMessage(frame) {
    const own = isOwn(frame);
    const sentAt = new Date(frame.sentAt);
    const time = Number.isNaN(sentAt.getTime()) ? new Date() : sentAt;
    const id = typeof frame.connectionId === "string" ? frame.connectionId : "";

    const item = element("li", own ? "message own" : "message");
    item.dataset.connectionId = id;
    item.dataset.sender = frame.name ?? "";
    const previous = list.lastElementChild;
    if (
      previous?.classList.contains("message") &&
      previous.dataset.connectionId === id &&
      previous.dataset.sender === item.dataset.sender &&
      time.getTime() - Number(previous.dataset.time) < 5 * 60_000
    ) {
      item.classList.add("continued");
    }
    item.dataset.time = String(time.getTime());
    item.style.setProperty("--hue", String(hue(frame.name || id)));

    const meta = element("div", "meta");
    const sender = element("span", "sender", frame.name || `Anonymous ${id.slice(0, 4)}`);
    if (!frame.name) sender.classList.add("anonymous");
    const stamp = element("time", "time", time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    stamp.dateTime = time.toISOString();
    stamp.title = time.toLocaleString();
    meta.append(sender, stamp);
    if (own) meta.append(element("span", "you", "you"));
    item.append(meta, element("div", "text", frame.data));
    append(item, own);
  }

  function addError(message, requestId) {
    const item = element("li", "note error", message);
    if (requestId) item.title = `request ${requestId}`;
    append(item, true);
  }

  function addNote(message, className = "note") {
    append(element("li", className, message), true);
  }

  /** Hues far enough apart to tell senders apart. */
  const HUES = [145, 28, 212, 268, 88, 338, 188, 2, 300, 48];

  /** A colour per sender that stays the same when it reconnects: from its name, else its connection. */
  function hue(key) {
    let hash = 0;
    for (const char of key) hash = (hash * 31 + char.codePointAt(0)) % 1_000_003;
    return HUES[hash % HUES.length];
  }

  // ---- composing --------------------------------------------------------------------------------

  function showHint(message, isError) {
    hint.textContent = message;
    hint.classList.toggle("error", Boolean(isError));
  }

  function request() {
    const data = textInput.value.replace(/^\s*\n/, "").trimEnd();
    const name = nameInput.value.trim();
    return { action: "sendmessage", data, ...(name && { name }) };
  }

  function frameBytes(body) {
    return encoder.encode(JSON.stringify(body)).length;
  }

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
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showHint("Not connected: the message was not sent.", true);
      return;
    }
    socket.send(JSON.stringify(body));
    pending.push({ name: body.name ?? "", data: body.data, at: Date.now() });
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

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  textInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  textInput.addEventListener("input", fitText);
  nameInput.addEventListener("change", () => {
    try {
      localStorage.setItem(NAME_KEY, nameInput.value.trim());
    } catch {
      // Storage may be unavailable (private mode); the name just is not remembered.
    }
  });

  // ---- start ------------------------------------------------------------------------------------

  /** `?url=` first; else this host's stage as the local gateway reports it (`/config.json`), else `/dev`. */
  async function defaultUrl() {
    const fromQuery = new URLSearchParams(location.search).get("url");
    if (fromQuery) return fromQuery;
    if (!location.host) return "";
    let stage = "dev";
    try {
      const response = await fetch("/config.json", { cache: "no-store" });
      if (response.ok) stage = (await response.json()).stage || stage;
    } catch {
      // Served by something other than the local gateway: keep the default stage.
    }
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/${encodeURIComponent(stage)}`;
  }

  try {
    nameInput.value = localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    // No storage: start without a name.
  }
  defaultUrl().then((url) => {
    urlInput.value = url;
    if (url) connect(url);
    else setStatus("idle", "Enter the WebSocket URL and connect");
  });
})();
