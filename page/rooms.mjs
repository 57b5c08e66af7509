/*
 * The rooms the page is in: the list beside the conversation (each with its count of messages not
 * yet seen, and a way to leave), the direct conversations under it, and the room picker. The room
 * shown is in the page's address (`?room=kitchen`), so a link opens it and Back returns to the last
 * one; the rooms joined are remembered in this browser, and joined again on the next visit.
 */
import { isRoomName } from "./chat-client.mjs";

export const DEFAULT_ROOM = "lobby";
const STORAGE_KEY = "chat.rooms";

/** The room named in the page's address, or the lobby. */
function roomInAddress() {
  const room = new URLSearchParams(location.search).get("room");
  return room && isRoomName(room) ? room : DEFAULT_ROOM;
}

function stored() {
  try {
    const rooms = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "[]");
    return Array.isArray(rooms) ? rooms.filter((entry) => typeof entry?.room === "string") : [];
  } catch {
    return [];
  }
}

/**
 * `hooks.join(room)`: join a named room; `hooks.leave(room)`; `hooks.show(room)`: the room to show
 * changed.
 */
export function createRooms({ form, input, hint, named, direct }, hooks) {
  /** room -> { room, with?, name?, unread } in the order joined */
  const entries = new Map();
  let current = roomInAddress();
  input.value = current;

  function save() {
    try {
      const list = [...entries.values()].map(({ room, with: other, name }) => ({ room, with: other, name }));
      localStorage.setItem(STORAGE_KEY, JSON.stringify(list));
    } catch {
      // No storage (private mode): the rooms are just not remembered.
    }
  }

  const title = (entry) => (entry.with ? entry.name || "Someone" : `#${entry.room}`);

  function render() {
    const item = (entry) => {
      const li = document.createElement("li");
      li.dataset.room = entry.room;
      if (entry.room === current) li.classList.add("current");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "link room";
      open.textContent = title(entry);
      open.addEventListener("click", () => select(entry.room, true));
      li.append(open);
      if (entry.unread > 0) {
        const badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = String(entry.unread);
        badge.title = `${entry.unread} new`;
        li.append(badge);
      }
      const leave = document.createElement("button");
      leave.type = "button";
      leave.className = "link leave";
      leave.textContent = "×";
      leave.title = `Leave ${title(entry)}`;
      leave.setAttribute("aria-label", `Leave ${title(entry)}`);
      leave.addEventListener("click", () => hooks.leave(entry.room));
      li.append(leave);
      return li;
    };
    const all = [...entries.values()];
    named.replaceChildren(...all.filter((entry) => !entry.with).map(item));
    direct.replaceChildren(...all.filter((entry) => entry.with).map(item));
  }

  function show(message) {
    hint.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  /** Shows `room`, joining it first if need be; a named room goes into the address. */
  function select(room, push) {
    show("");
    const entry = entries.get(room);
    input.value = entry?.with ? "" : room;
    if (!entry) hooks.join(room);
    if (push && !entries.get(room)?.with && room !== roomInAddress()) {
      const address = new URL(location.href);
      if (room === DEFAULT_ROOM) address.searchParams.delete("room");
      else address.searchParams.set("room", room);
      history.pushState(null, "", address);
    }
    if (room === current) return;
    current = room;
    const shown = entries.get(room);
    if (shown) shown.unread = 0;
    render();
    hooks.show(room);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = input.value.trim().replace(/^#/, "");
    if (!isRoomName(wanted)) {
      show("A room's name is 1 to 64 letters, digits, - or _ (no spaces).");
      input.focus();
      return;
    }
    select(wanted, true);
  });
  input.addEventListener("input", () => show(""));
  window.addEventListener("popstate", () => select(roomInAddress(), false));

  return {
    get current() {
      return current;
    },
    /** What to join on a new connection: the room shown first, then the others remembered. */
    wanted() {
      const known = entries.size > 0 ? [...entries.values()] : stored();
      const first = known.find((entry) => entry.room === current) ?? (current ? [{ room: current }] : [])[0];
      return [...(first ? [first] : []), ...known.filter((entry) => entry.room !== current)];
    },
    title(room) {
      const entry = entries.get(room);
      return entry ? title(entry) : `#${room}`;
    },
    /** A room joined: listed (and remembered). */
    add(room, details = {}) {
      entries.set(room, { unread: 0, ...entries.get(room), room, ...details });
      save();
      render();
    },
    /** A room left: no longer listed; another is shown if it was. */
    remove(room) {
      entries.delete(room);
      save();
      if (room === current) {
        const next = entries.keys().next().value;
        current = next ?? "";
        input.value = entries.get(current)?.with ? "" : current;
        hooks.show(current);
      }
      render();
    },
    /** A message in `room`: counted if the room is not the one shown. */
    unseen(room) {
      const entry = entries.get(room);
      if (!entry || room === current) return;
      entry.unread++;
      render();
    },
    select,
    /** Forgets every room (a new connection will list them again as it joins). */
    clear() {
      entries.clear();
      render();
    },
    showError: show,
  };
}
