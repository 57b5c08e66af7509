/*
 * The composer: the text box grows with what is typed, Enter sends (Shift+Enter is a new line),
 * nothing is sent silently wrong (an empty message, one over API Gateway's 32 KB frame: each says
 * why, and the text stays); while typing, the room is told (the client sends a notice every few
 * seconds at most). Editing one's own message uses the same box: Enter saves, Escape gives up.
 */

/** API Gateway closes the socket (1009) on a frame over 32 KB, and a browser sends a message as one frame. */
const MAX_FRAME_BYTES = 32 * 1024;
const encoder = new TextEncoder();
const frameBytes = (body) => encoder.encode(JSON.stringify(body)).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/**
 * `hooks.send(text)` and `hooks.edit(id, text)` resolve once the server has it (or reject, and the
 * text comes back); `hooks.typing()` says one is typing; `hooks.canSend()` why not, or "".
 */
export function createComposer({ form, text, hint, send, nameInput }, hooks) {
  /** The message being edited: `{ id, original }`, or null. */
  let editing = null;

  function showHint(message, isError) {
    hint.textContent = message;
    hint.classList.toggle("error", Boolean(isError));
  }

  /** The frame the text would go out in (with the name the open chat sends). */
  function body() {
    const data = text.value.replace(/^\s*\n/, "").trimEnd();
    return { action: editing ? "edit" : "sendmessage", data, name: nameInput.value.trim() };
  }

  function fitText() {
    text.style.height = "auto";
    text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
    const bytes = frameBytes(body());
    // What the text is now decides the hint: an old warning goes once it no longer holds.
    if (bytes > MAX_FRAME_BYTES * 0.9)
      showHint(`${kb(bytes)} of ${MAX_FRAME_BYTES / 1024} KB`, bytes > MAX_FRAME_BYTES);
    else showHint(editing ? "Editing your message · Enter saves, Escape cancels" : "");
  }

  function stopEditing() {
    editing = null;
    send.textContent = "Send";
    form.classList.remove("editing");
    text.value = "";
    fitText();
  }

  function submit() {
    const { data } = body();
    if (data.trim() === "") {
      // Nothing would be sent; say so rather than do nothing.
      showHint(text.value === "" ? "Type a message first." : "A message of only spaces is not sent.", true);
      return;
    }
    const bytes = frameBytes(body());
    if (bytes > MAX_FRAME_BYTES) {
      showHint(
        `Too long to send: this message is ${kb(bytes)} and one message can be at most ${MAX_FRAME_BYTES / 1024} KB. Shorten it or split it up.`,
        true,
      );
      return;
    }
    const why = hooks.canSend();
    if (why) {
      showHint(`${why}: the message was not sent. It stays here until you send it.`, true);
      return;
    }
    const draft = text.value;
    const done = editing ? hooks.edit(editing.id, data) : hooks.send(data);
    const wasEditing = editing;
    if (editing) stopEditing();
    text.value = "";
    fitText();
    showHint("");
    done.catch(() => {
      // Refused or lost: the text comes back, unless something new has been typed meanwhile.
      if (text.value !== "") return;
      if (wasEditing) startEditing(wasEditing.id, wasEditing.original);
      text.value = draft;
      fitText();
    });
  }

  function startEditing(id, original) {
    editing = { id, original };
    send.textContent = "Save";
    form.classList.add("editing");
    text.value = original;
    fitText();
    text.focus();
  }

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && editing) {
      event.preventDefault();
      stopEditing();
    }
  });
  text.addEventListener("input", () => {
    fitText();
    if (text.value.trim() !== "" && !editing) hooks.typing();
  });

  return {
    submit,
    startEditing,
    /** The room changed: an edit under way is of a message of the other room. */
    reset() {
      if (editing) stopEditing();
    },
    setEnabled(enabled, title) {
      send.disabled = !enabled;
      send.title = title;
    },
  };
}
