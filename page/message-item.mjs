/*
 * One message as the page shows it: sender, tag, time, text, and as it changes (edited, deleted).
 * Everything a frame carries is rendered with textContent, never as HTML.
 *
 * Senders: with auth on, a frame's name and userId are the ones the authorizer verified, and the
 * page shows the name with a short tag of the user id, so two people who both chose "Ada" stay
 * apart. With auth off, a name is whatever the sender typed.
 */

/** Hues far enough apart to tell senders apart. */
const HUES = [145, 28, 212, 268, 88, 338, 188, 2, 300, 48];
/** A second click on Delete within this long takes the message back. */
const CONFIRM_MS = 4000;

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A message's list item; `own`: the reader's, with `actions` to edit and delete it. */
export function messageItem(frame, own, actions) {
  const sentAt = new Date(frame.sentAt);
  const time = Number.isNaN(sentAt.getTime()) ? new Date() : sentAt;
  const id = typeof frame.connectionId === "string" ? frame.connectionId : "";
  const userId = typeof frame.userId === "string" ? frame.userId : "";

  const item = element("li", "message");
  item.dataset.id = String(frame.id ?? "");
  if (typeof frame.seq === "number") item.dataset.seq = String(frame.seq);
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
  item.append(meta, element("div", "text", frame.data));
  applyState(item, frame);
  if (own) markOwn(item, actions);
  return item;
}

/** Marks the item as the reader's own: it sits on the right, and can be edited and deleted. */
export function markOwn(item, actions) {
  if (item.classList.contains("own")) return;
  item.classList.add("own");
  item.querySelector(".time").after(element("span", "you", "you"));
  if (!item.classList.contains("deleted")) item.append(controls(item, actions));
}

/** An edit or delete (a live frame, or a history item as it is now) applied to the item. */
export function applyState(item, change) {
  if (change.deleted || change.type === "delete") {
    item.classList.add("deleted");
    item.classList.remove("edited");
    item.querySelector(".text").textContent = "This message was deleted";
    item.querySelector(".actions")?.remove();
    item.querySelector(".edited")?.remove();
    return;
  }
  const editedAt = change.editedAt;
  if (!editedAt) return;
  if (typeof change.data === "string") item.querySelector(".text").textContent = change.data;
  item.classList.add("edited");
  const marker =
    item.querySelector(".edited") ?? item.querySelector(".meta").appendChild(element("span", "edited", "edited"));
  marker.title = `edited ${new Date(editedAt).toLocaleString()}`;
}

function controls(item, { onEdit, onDelete }) {
  const box = element("div", "actions");
  const edit = element("button", "link edit", "Edit");
  edit.type = "button";
  edit.addEventListener("click", () => onEdit(item.dataset.id, item.querySelector(".text").textContent));
  const remove = element("button", "link delete", "Delete");
  remove.type = "button";
  let armed = 0;
  remove.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed);
      armed = 0;
      remove.disabled = true;
      onDelete(item.dataset.id).finally(() => {
        remove.disabled = false;
      });
      return;
    }
    // Asked twice, not with a dialog: a slip of the mouse does not take a message back.
    remove.textContent = "Delete? Click again";
    armed = setTimeout(() => {
      armed = 0;
      remove.textContent = "Delete";
    }, CONFIRM_MS);
  });
  box.append(edit, remove);
  return box;
}

/** "Today", "Yesterday", or the date. */
export function dayLabel(time) {
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
