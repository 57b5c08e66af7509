/*
 * Who is online in the room: filled by the `who` answer, kept by the presence notices. A large
 * room sends no notices (the server's limit): its list is the one `who` gave, marked as such.
 */

export function createPeople({ summary, list }, signIn) {
  /** connectionId -> { connectionId, name, userId } */
  let members = new Map();
  let room = "";
  /** The last `who` answer was cut short, or this room sends no notices: the count is a floor. */
  let partial = false;
  let connected = false;

  function label(member) {
    if (member.name) return member.name;
    return `Anonymous ${String(member.connectionId).slice(0, 4)}`;
  }

  function render() {
    if (!connected) {
      summary.textContent = "Not connected";
      list.replaceChildren();
      return;
    }
    const count = members.size;
    summary.textContent = `${count}${partial ? "+" : ""} online in #${room}`;
    const sorted = [...members.values()].sort((a, b) => label(a).localeCompare(label(b)));
    list.replaceChildren(
      ...sorted.map((member) => {
        const item = document.createElement("li");
        item.textContent = label(member);
        item.dataset.connectionId = member.connectionId;
        if (!member.name) item.classList.add("anonymous");
        const own = signIn.user && member.userId === signIn.user.userId;
        if (own) {
          item.classList.add("own");
          item.title = "you";
        }
        return item;
      }),
    );
  }

  return {
    /** A new connection to `room`, or none (`room` undefined): the list starts over. */
    reset(nextRoom) {
      members = new Map();
      room = nextRoom ?? "";
      connected = nextRoom !== undefined;
      partial = false;
      render();
    },
    /** The `who` answer. */
    setMembers(frame) {
      members = new Map(frame.members.map((member) => [member.connectionId, member]));
      partial = Boolean(frame.truncated);
      render();
    },
    /** A presence notice: returns the name to show in the notice. */
    presence(frame) {
      if (frame.event === "join") members.set(frame.connectionId, frame);
      const known = members.get(frame.connectionId);
      if (frame.event === "leave") members.delete(frame.connectionId);
      render();
      return label(frame.name ? frame : (known ?? frame));
    },
  };
}
