/*
 * The conversations of the rooms joined: one message list each, the one shown in the page (as
 * `#messages`), the others kept aside where the reader left them.
 */
import { createMessageList } from "./messages.mjs";

/** `isOwn(frame)`, and `actionsFor(room)`: the edit and delete of the reader's messages in `room`. */
export function createConversations(isOwn, actionsFor) {
  const lists = new Map();

  return {
    /** The room's list, made the first time it is asked for. */
    of(room) {
      if (!lists.has(room)) lists.set(room, createMessageList(isOwn, actionsFor(room)));
      return lists.get(room);
    },
    all: () => lists.values(),
    /** Puts `room`'s list in the page in place of the one there ("" for none). */
    show(room) {
      const shown = document.getElementById("messages");
      const next = room ? this.of(room).element : document.createElement("ol");
      if (shown === next) return;
      shown.dataset.fromBottom = String(shown.scrollHeight - shown.scrollTop);
      shown.removeAttribute("id");
      next.id = "messages";
      next.classList.add("messages");
      shown.replaceWith(next);
      next.scrollTop = next.scrollHeight - Number(next.dataset.fromBottom ?? 0);
    },
    forget(room) {
      lists.delete(room);
    },
    clear() {
      lists.clear();
    },
  };
}
