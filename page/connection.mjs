/*
 * One WebSocket to the chat API (the local gateway or the deployed one), reconnecting with backoff,
 * its state shown in the status line. Each attempt asks `urlFor` for the URL to open, so a guest's
 * token is fetched (or renewed) before the handshake that needs it.
 */
import { SignInError } from "./sign-in.mjs";

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export function createConnection({ statusBox, statusText, connectButton, urlInput }, hooks) {
  let socket = null;
  let socketUrl = "";
  /** The user asked to be connected (so a close is followed by a reconnect). */
  let wanted = false;
  let attempt = 0;
  let retryTimer = 0;
  let countdownTimer = 0;
  /** Bumped by each connect and disconnect, so a token that arrives late opens nothing. */
  let generation = 0;

  function setStatus(state, text) {
    hooks.onState?.(state);
    statusBox.dataset.state = state;
    statusText.textContent = text;
    const live = (state === "open" || state === "connecting") && socketUrl === urlInput.value.trim();
    connectButton.textContent = live ? "Disconnect" : state === "reconnecting" ? "Retry now" : "Connect";
  }

  async function connect(url) {
    clearTimers();
    if (socket) dropSocket();
    socketUrl = url;
    wanted = true;
    const current = ++generation;
    setStatus("connecting", attempt > 0 ? `Reconnecting (attempt ${attempt + 1})…` : "Connecting…");
    let target;
    try {
      target = await hooks.urlFor(url);
    } catch (error) {
      if (current !== generation) return;
      if (error instanceof SignInError) {
        wanted = false;
        setStatus("idle", error.message);
      } else {
        scheduleReconnect(`cannot sign in: ${error.message}`);
      }
      return;
    }
    if (current !== generation) return;
    let ws;
    try {
      ws = new WebSocket(target);
    } catch (error) {
      wanted = false;
      setStatus("closed", `Cannot connect: ${error.message}`);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus("open", hooks.openStatus());
      hooks.onOpen(url);
    };
    ws.onmessage = (event) => hooks.onFrame(event.data);
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      const wasOpen = statusBox.dataset.state === "open";
      const why = describeClose(event, wasOpen);
      // A handshake refused (by the authorizer, say) shows as 1006 before open: try a fresh token.
      if (!wasOpen) hooks.onRefused();
      if (wasOpen) hooks.onClosed(why);
      if (!wanted) {
        setStatus("closed", `Disconnected: ${why}`);
        return;
      }
      scheduleReconnect(why);
    };
  }

  /** A close in words (RFC 6455's codes, and API Gateway's use of them), the code kept for the curious. */
  function describeClose(event, wasOpen) {
    const words = {
      1000: "closed",
      1001: "the server went away",
      1003: "the server refused binary data",
      1006: wasOpen ? "the connection was lost" : "could not connect",
      1009: "the message was too big",
      1011: "server error",
    }[event.code];
    const reason = event.reason && event.reason !== "Bye" ? `: ${event.reason}` : "";
    return `${words ?? `closed with code ${event.code}`}${reason}`;
  }

  /** Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s. */
  function scheduleReconnect(why) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt++;
    const due = Date.now() + delay;
    const show = () => {
      const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setStatus("reconnecting", `${why[0].toUpperCase()}${why.slice(1)} · reconnecting in ${seconds} s`);
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
    generation++;
    clearTimers();
    attempt = 0;
    if (socket) socket.close(1000, "Bye");
    else setStatus("closed", "Disconnected");
  }

  return {
    setStatus,
    /** Opens `url` afresh (a new connection: a changed name is a new token and a new connection). */
    open(url) {
      attempt = 0;
      return connect(url);
    },
    disconnect,
    /** Whether `url` is the connection wanted now (open or on its way). */
    isLive(url) {
      const state = statusBox.dataset.state;
      return (state === "open" || state === "connecting") && url === socketUrl;
    },
    /** The URL last asked for, if a connection is wanted. */
    get wantedUrl() {
      return wanted ? socketUrl : "";
    },
    retryNow() {
      if (wanted && !socket) connect(socketUrl);
    },
    /** The open socket, or null. */
    get socket() {
      return socket && socket.readyState === WebSocket.OPEN ? socket : null;
    },
  };
}
