/*
 * The typing line under the conversation: "Ada is typing…" while someone in the room shown has
 * said so in the last few seconds (a notice comes at most every 3 s while they type), gone when
 * their message arrives or the notices stop.
 */

/** A notice holds this long: a little more than the time between two of them. */
const SHOWN_MS = 5000;

export function createTypingLine(line) {
  /** room -> Map(sender -> { name, until }) */
  const typing = new Map();
  let shownRoom = "";
  let timer = 0;

  const senderOf = (frame) => frame.userId ?? frame.connectionId;

  function render() {
    clearTimeout(timer);
    const now = Date.now();
    const here = typing.get(shownRoom) ?? new Map();
    for (const [sender, { until }] of here) if (until <= now) here.delete(sender);
    const names = [...here.values()].map(({ name }) => name);
    line.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : "Several people are typing…";
    if (names.length > 0) timer = setTimeout(render, Math.min(...[...here.values()].map(({ until }) => until)) - now);
  }

  return {
    /** A `typing` frame. */
    typing(frame) {
      if (!typing.has(frame.room)) typing.set(frame.room, new Map());
      typing.get(frame.room).set(senderOf(frame), {
        name: frame.name || `Anonymous ${String(frame.connectionId).slice(0, 4)}`,
        until: Date.now() + SHOWN_MS,
      });
      if (frame.room === shownRoom) render();
    },
    /** A message: its sender has stopped typing. */
    message(frame) {
      if (typing.get(frame.room)?.delete(senderOf(frame)) && frame.room === shownRoom) render();
    },
    show(room) {
      shownRoom = room;
      render();
    },
  };
}
