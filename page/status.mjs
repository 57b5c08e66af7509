/*
 * The status line and the Connect button, following the client's connection: connecting,
 * connected, reconnecting (with the backoff's countdown, said in words rather than close codes),
 * or closed, and why.
 */

export function createStatus({ statusBox, statusText, connectButton, urlInput }, hooks) {
  let countdown = 0;
  /** The URL of the client wanted now ("" once disconnected), for the button's label. */
  let liveUrl = "";

  function setStatus(state, text) {
    hooks.onState?.(state);
    statusBox.dataset.state = state;
    statusText.textContent = text;
    const live = (state === "open" || state === "connecting") && liveUrl === urlInput.value.trim();
    connectButton.textContent = live ? "Disconnect" : state === "reconnecting" ? "Retry now" : "Connect";
  }

  /** The client's `state` event. */
  function follow(event) {
    clearInterval(countdown);
    if (event.state === "connecting") {
      setStatus("connecting", event.attempt > 0 ? `Reconnecting (attempt ${event.attempt + 1})…` : "Connecting…");
    } else if (event.state === "open") {
      setStatus("open", hooks.openStatus());
    } else if (event.state === "reconnecting") {
      const due = Date.now() + event.delayMs;
      const why = `${event.reason[0].toUpperCase()}${event.reason.slice(1)}`;
      const show = () => {
        const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
        setStatus("reconnecting", `${why} · reconnecting in ${seconds} s`);
      };
      show();
      countdown = setInterval(show, 1000);
    } else if (event.signInRefused) {
      liveUrl = "";
      setStatus("idle", event.reason);
    } else {
      liveUrl = "";
      setStatus("closed", event.reason === "closed" ? "Disconnected" : `Disconnected: ${event.reason}`);
    }
  }

  return {
    setStatus,
    follow,
    /** A client for `url` is on its way. */
    started(url) {
      liveUrl = url;
    },
    /** Whether `url` is the connection wanted now (open or on its way). */
    isLive(url) {
      const state = statusBox.dataset.state;
      return (state === "open" || state === "connecting") && url === liveUrl;
    },
    /** The state shown now. */
    get state() {
      return statusBox.dataset.state;
    },
    /** The status again (the room it names changed). */
    refresh() {
      if (statusBox.dataset.state === "open") setStatus("open", hooks.openStatus());
    },
  };
}
