/*
 * The message list. Everything a frame carries is rendered with textContent, never as HTML.
 *
 * Senders: with auth on, a frame's name and userId are the ones the authorizer verified, and the
 * page shows the name with a short tag of the user id, so two people who both chose "Ada" stay
 * apart. With auth off, a name is whatever the sender typed.
 *
 * Own messages: a signed-in guest knows its user id from its token. Otherwise the page keeps what
 * it sent, in order, and marks the first echo that matches as its own; that echo's sender (its user
 * id, else its connection id: the server never tells a client either) is this page's, and from then
 * on a message is own exactly when it comes from that sender. Each new connection starts over.
 */

/** An echo later than this is not waited for (the send failed, or the server refused it). */
const PENDING_TTL_MS = 60_000;
/** Hues far enough apart to tell senders apart. */
const HUES = [145, 28, 212, 268, 88, 338, 188, 2, 300, 48];

export function createMessageList(list, signIn) {
  let ownSender = null;
  /** What this connection sent and has not seen echoed yet: `{ name, data, at }`, oldest first. */
  let pending = [];

  const senderOf = (frame) => (typeof frame.userId === "string" ? frame.userId : String(frame.connectionId ?? ""));

  function isOwn(frame) {
    const user = signIn.user;
    if (user && typeof frame.userId === "string") return frame.userId === user.userId;
    const now = Date.now();
    pending = pending.filter((sent) => now - sent.at < PENDING_TTL_MS);
    const index = pending.findIndex(
      (sent) =>
        sent.data === frame.data &&
        (signIn.verified || sent.name === (frame.name ?? "")) &&
        (!ownSender || ownSender === senderOf(frame)),
    );
    if (index >= 0 && !ownSender) ownSender = senderOf(frame);
    if (index >= 0) pending.splice(index, 1);
    return ownSender !== null && senderOf(frame) === ownSender;
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
    const userId = typeof frame.userId === "string" ? frame.userId : "";

    const item = element("li", own ? "message own" : "message");
    item.dataset.connectionId = id;
    item.dataset.sender = `${userId || id}\n${frame.name ?? ""}`;
    if (userId) item.dataset.userId = userId;
    const previous = list.lastElementChild;
    if (
      previous?.classList.contains("message") &&
      previous.dataset.sender === item.dataset.sender &&
      time.getTime() - Number(previous.dataset.time) < 5 * 60_000
    ) {
      item.classList.add("continued");
    }
    item.dataset.time = String(time.getTime());
    item.style.setProperty("--hue", String(hue(userId || frame.name || id)));

    const meta = element("div", "meta");
    const sender = element("span", "sender", frame.name || `Anonymous ${id.slice(0, 4)}`);
    if (!frame.name) sender.classList.add("anonymous");
    meta.append(sender);
    if (userId) {
      // 32 bits of the id: finding a token with another's tag takes billions of sign-ins, not thousands.
      const tag = element("span", "tag", `#${userId.replace(/^guest-/, "").slice(0, 8)}`);
      tag.title = `${userId.startsWith("guest-") ? "Guest" : "User"} ${userId}`;
      meta.append(tag);
    }
    const stamp = element("time", "time", time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    stamp.dateTime = time.toISOString();
    stamp.title = time.toLocaleString();
    meta.append(stamp);
    if (own) meta.append(element("span", "you", "you"));
    item.append(meta, element("div", "text", frame.data));
    append(item, own);
  }

  return {
    addMessage,
    addError(message, requestId) {
      const item = element("li", "note error", message);
      if (requestId) item.title = `request ${requestId}`;
      append(item, true);
    },
    addNote(message, className = "note") {
      append(element("li", className, message), true);
    },
    /** A message this page sent, to know its echo. */
    sent(body) {
      pending.push({ name: body.name ?? "", data: body.data, at: Date.now() });
    },
    /** A new connection: its sender is learnt anew. */
    reset() {
      ownSender = null;
      pending = [];
    },
  };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A colour per sender that stays the same when it reconnects: from its user id or name, else its connection. */
function hue(key) {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)) % 1_000_003;
  return HUES[hash % HUES.length];
}
