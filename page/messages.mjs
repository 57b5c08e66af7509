/*
 * One room's message list. Its history comes first (and "Load earlier" pages further back), then
 * what arrives live, in the room's order (a late message takes its place by number); a message is
 * shown once however it came (by its id). Messages of different days are set apart by a date line
 * (it sticks to the top while its day is in view, so it is never cut off); a sender's messages
 * within five minutes are grouped. Edits and deletes change the message in place.
 */
import { applyState, dayLabel, element, markOwn, messageItem } from "./message-item.mjs";

/**
 * `isOwn(frame)`: whether a message is the reader's; `actions`: `{ onEdit(id, text), onDelete(id) }`
 * for the reader's own messages.
 */
export function createMessageList(isOwn, actions) {
  const list = element("ol", "messages");
  list.setAttribute("aria-live", "polite");
  /** The messages shown, by id. */
  const shown = new Map();
  /** History has been read: an empty room may now say so. */
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

  function itemFor(frame) {
    const item = messageItem(frame, isOwn(frame), actions);
    shown.set(frame.id, item);
    return item;
  }

  /** A message shown before `seq` came: the later number it must go before, if any is shown. */
  function laterThan(seq) {
    if (typeof seq !== "number") return undefined;
    return [...list.querySelectorAll(".message[data-seq]")].find((item) => Number(item.dataset.seq) > seq);
  }

  return {
    element: list,
    /** A message of the room (live, or filling a gap). */
    addMessage(frame) {
      if (shown.has(frame.id)) return;
      const item = itemFor(frame);
      const later = laterThan(frame.seq);
      if (later) {
        later.before(item);
        relayout();
      } else {
        append(item, item.classList.contains("own"));
      }
    },
    /**
     * A page of history, oldest first, shown above everything (the first page: above what came live
     * meanwhile); the reader's place is kept. `before` null: the start of the room's history.
     */
    addHistory({ messages, before }, loadEarlier) {
      const follow = !ready || nearBottom();
      const heightBefore = list.scrollHeight;
      const items = messages.filter((message) => !shown.has(message.id)).map(itemFor);
      const control = list.querySelector(".load-earlier");
      const top = control ? control.nextSibling : list.firstChild;
      for (const item of items) list.insertBefore(item, top);
      control?.remove();
      if (before) {
        const more = element("li", "load-earlier");
        const button = element("button", "secondary", "Load earlier messages");
        button.type = "button";
        button.addEventListener("click", () => {
          button.disabled = true;
          button.textContent = "Loading…";
          loadEarlier(before);
        });
        more.append(button);
        list.prepend(more);
      }
      ready = true;
      relayout();
      if (follow) list.scrollTop = list.scrollHeight;
      else list.scrollTop += list.scrollHeight - heightBefore;
    },
    /** An `edit` or `delete` frame. */
    applyChange(change) {
      const item = shown.get(change.id);
      if (item) applyState(item, change);
    },
    /** The messages `test` picks as the reader's own, found so after they were shown (the open chat). */
    markOwnWhere(test) {
      for (const item of shown.values()) if (test(item)) markOwn(item, actions);
    },
    addError(message, requestId) {
      const item = element("li", "note error", message);
      if (requestId) item.title = `request ${requestId}`;
      append(item, true);
    },
    addNote(message, className = "note") {
      append(element("li", className, message), true);
    },
    /** Someone joined or left, or a gap was filled: a quiet line, without pulling the reader down. */
    addQuiet(text, kind) {
      append(element("li", `note ${kind}`, text), false);
    },
  };
}
