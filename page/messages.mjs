/*
 * The message list. Everything a frame carries is rendered with textContent, never as HTML.
 *
 * Senders: with auth on, a frame's name and userId are the ones the authorizer verified, and the
 * page shows the name with a short tag of the user id, so two people who both chose "Ada" stay
 * apart. With auth off, a name is whatever the sender typed.
 *
 * A room's history comes first (and "Load earlier" pages further back), then what arrives live;
 * a message is shown once however it came (by its id). Messages of different days are set apart
 * by a date line; a sender's messages within five minutes are grouped.
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

  /** Ids of the messages shown: one that comes twice (history and live) is shown once. */
  let shown = new Set();
  /** History has been read for this connection: an empty room may now say so. */
  let ready = false;

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 80;

  /** Appends an item, keeping the newest in view unless the reader has scrolled up to older ones. */
  function append(item, forceScroll) {
    const follow = nearBottom() || forceScroll;
    list.append(item);
    relayout();
    if (follow) list.scrollTop = list.scrollHeight;
  }

  /** Date lines between days, grouping of a sender's consecutive messages, the empty-room hint. */
  function relayout() {
    for (const line of list.querySelectorAll(".date")) line.remove();
    let previous = null;
    for (const item of list.querySelectorAll(".message")) {
      const time = Number(item.dataset.time);
      const day = new Date(time).toDateString();
      if (!previous || new Date(Number(previous.dataset.time)).toDateString() !== day) {
        item.before(element("li", "date", dayLabel(time)));
        item.classList.remove("continued");
      } else {
        const sameSender = previous.dataset.sender === item.dataset.sender;
        item.classList.toggle("continued", sameSender && time - Number(previous.dataset.time) < 5 * 60_000);
      }
      previous = item;
    }
    list.classList.toggle("empty", ready && previous === null);
  }

  function messageItem(frame) {
    const own = isOwn(frame);
    const sentAt = new Date(frame.sentAt);
    const time = Number.isNaN(sentAt.getTime()) ? new Date() : sentAt;
    const id = typeof frame.connectionId === "string" ? frame.connectionId : "";
    const userId = typeof frame.userId === "string" ? frame.userId : "";

    const item = element("li", own ? "message own" : "message");
    item.dataset.connectionId = id;
    item.dataset.sender = `${userId || id}\n${frame.name ?? ""}`;
    if (userId) item.dataset.userId = userId;
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
    return { item, own };
  }

  /** Whether the frame is new here (and from now on it is not). */
  function fresh(frame) {
    if (typeof frame.id !== "string") return true;
    if (shown.has(frame.id)) return false;
    shown.add(frame.id);
    return true;
  }

  function addMessage(frame) {
    if (!fresh(frame)) return;
    const { item, own } = messageItem(frame);
    append(item, own);
  }

  /**
   * A page of history, oldest first, shown above everything (the first page: above what came live
   * meanwhile); the reader's place is kept. `before` null: the start of the room's history.
   */
  function addHistory(frame, loadEarlier) {
    const initial = !ready;
    const follow = initial || nearBottom();
    const heightBefore = list.scrollHeight;
    const items = frame.messages.filter(fresh).map((message) => messageItem(message).item);
    const control = list.querySelector(".load-earlier");
    const top = control ? control.nextSibling : list.firstChild;
    for (const item of items) list.insertBefore(item, top);
    control?.remove();
    if (frame.before) {
      const more = element("li", "load-earlier");
      const button = element("button", "secondary", "Load earlier messages");
      button.type = "button";
      button.addEventListener("click", () => {
        button.disabled = true;
        button.textContent = "Loading…";
        loadEarlier(frame.before);
      });
      more.append(button);
      list.prepend(more);
    }
    ready = true;
    relayout();
    if (follow) list.scrollTop = list.scrollHeight;
    else list.scrollTop += list.scrollHeight - heightBefore;
  }

  return {
    addMessage,
    addHistory,
    addError(message, requestId) {
      const item = element("li", "note error", message);
      if (requestId) item.title = `request ${requestId}`;
      append(item, true);
    },
    addNote(message, className = "note") {
      append(element("li", className, message), true);
    },
    /** Someone joined or left: a quiet line, without pulling the reader down. */
    addPresence(text) {
      append(element("li", "note presence", text), false);
    },
    /** A message this page sent, to know its echo. */
    sent(body) {
      pending.push({ name: body.name ?? "", data: body.data, at: Date.now() });
    },
    /** A new connection (to `room`, or none): its sender is learnt anew, the list starts over. */
    reset() {
      ownSender = null;
      pending = [];
      shown = new Set();
      ready = false;
      list.replaceChildren();
      relayout();
    },
  };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "Today", "Yesterday", or the date. */
function dayLabel(time) {
  const day = new Date(time).toDateString();
  if (day === new Date().toDateString()) return "Today";
  if (day === new Date(Date.now() - 86_400_000).toDateString()) return "Yesterday";
  return new Date(time).toLocaleDateString([], { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

/** A colour per sender that stays the same when it reconnects: from its user id or name, else its connection. */
function hue(key) {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)) % 1_000_003;
  return HUES[hash % HUES.length];
}
