/*
 * Who is online in the room shown: filled by the `who` answer, kept by the presence notices (of
 * every joined room, shown or not). A large room sends no notices (the server's limit): its list is
 * the one `who` gave, marked as such. A signed-in person is a button: it opens the direct room of
 * the two of you.
 */

export function createPeople({ summary, list }, { signIn, openDirect }) {
  /** room -> { members: Map(connectionId -> member), partial } */
  const rooms = new Map();
  let shownRoom = "";
  let connected = false;

  const roomOf = (room) => {
    if (!rooms.has(room)) rooms.set(room, { members: new Map(), partial: false });
    return rooms.get(room);
  };

  function label(member) {
    if (member.name) return member.name;
    return `Anonymous ${String(member.connectionId).slice(0, 4)}`;
  }

  function person(member) {
    const item = document.createElement("li");
    item.dataset.connectionId = member.connectionId;
    const own = signIn.user && member.userId === signIn.user.userId;
    if (own) {
      item.classList.add("own");
      item.title = "you";
    }
    if (!member.name) item.classList.add("anonymous");
    if (!member.userId || own) {
      item.textContent = label(member);
      return item;
    }
    // Direct rooms are between users the authorizer verified.
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link person";
    button.textContent = label(member);
    button.title = `Message ${label(member)} directly`;
    button.addEventListener("click", () => openDirect(member.userId, member.name));
    item.append(button);
    return item;
  }

  function render() {
    if (!connected || !shownRoom) {
      summary.textContent = connected ? "No room" : "Not connected";
      list.replaceChildren();
      return;
    }
    const { members, partial } = roomOf(shownRoom);
    summary.textContent = `${members.size}${partial ? "+" : ""} online in ${shownRoom.startsWith("dm-") ? "this conversation" : `#${shownRoom}`}`;
    const sorted = [...members.values()].sort((a, b) => label(a).localeCompare(label(b)));
    list.replaceChildren(...sorted.map(person));
  }

  return {
    /** The room the list shows ("" for none). */
    show(room) {
      shownRoom = room;
      render();
    },
    /** Connected or not: not connected, nobody is known to be anywhere. */
    setConnected(open) {
      connected = open;
      if (!open) rooms.clear();
      render();
    },
    /** The `who` answer of a room. */
    setMembers(frame) {
      rooms.set(frame.room, {
        members: new Map(frame.members.map((member) => [member.connectionId, member])),
        partial: Boolean(frame.truncated),
      });
      render();
    },
    /** A presence notice: returns the name to show in the notice. */
    presence(frame) {
      const { members } = roomOf(frame.room);
      if (frame.event === "join") members.set(frame.connectionId, frame);
      const known = members.get(frame.connectionId);
      if (frame.event === "leave") members.delete(frame.connectionId);
      render();
      return label(frame.name ? frame : (known ?? frame));
    },
    forget(room) {
      rooms.delete(room);
      render();
    },
  };
}
