/*
 * The room: in the page's address (`?room=kitchen`), so a link opens it, and in the WebSocket URL
 * the page connects with (`?room=`, which `$connect` reads). The names the server takes: 1 to 64
 * letters, digits, - or _; `lobby` when none is given.
 */

export const DEFAULT_ROOM = "lobby";
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The room named in the page's address, or the lobby. */
function roomInAddress() {
  const room = new URLSearchParams(location.search).get("room");
  return room && ROOM_NAME.test(room) ? room : DEFAULT_ROOM;
}

/** `url` (a WebSocket URL) asking for `room`. */
export function withRoom(url, room) {
  const target = new URL(url);
  target.searchParams.set("room", room);
  return target.href;
}

/**
 * The room picker: a form whose field holds the room; entering another name puts it in the
 * address (a new history entry, so Back returns to the last room) and calls `onChange`.
 */
export function createRoomPicker({ form, input, hint }, onChange) {
  let room = roomInAddress();
  input.value = room;

  function show(message) {
    hint.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function go(next, push) {
    show("");
    input.value = next;
    if (next === room) return;
    room = next;
    if (push) {
      const address = new URL(location.href);
      if (next === DEFAULT_ROOM) address.searchParams.delete("room");
      else address.searchParams.set("room", next);
      history.pushState(null, "", address);
    }
    onChange(next);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = input.value.trim().replace(/^#/, "");
    if (!ROOM_NAME.test(wanted)) {
      show("A room's name is 1 to 64 letters, digits, - or _ (no spaces).");
      input.focus();
      return;
    }
    go(wanted, true);
  });
  input.addEventListener("input", () => show(""));
  window.addEventListener("popstate", () => go(roomInAddress(), false));

  return {
    get room() {
      return room;
    },
  };
}
