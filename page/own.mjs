/*
 * Which messages are the reader's own. Signed in, a message's verified user id says so. In the
 * open chat nothing does (the server tells no client its connection id), so the answer to each
 * send names the message sent, whose sender is then this page's connection: its messages, those
 * before and after, and those of its earlier connections, are the reader's.
 */

export function createOwnership(signIn) {
  /** The open chat: ids of messages this page sent, and the connections they came from. */
  const sentIds = new Set();
  const connections = new Set();

  return {
    isOwn(frame) {
      if (signIn.verified) return Boolean(signIn.user) && frame.userId === signIn.user.userId;
      if (sentIds.has(frame.id)) connections.add(frame.connectionId);
      return connections.has(frame.connectionId);
    },
    /**
     * A send answered with the message's id. Its echo usually came first: marked now, with every
     * message of its connection, in `lists`.
     */
    sent(id, shownItem, lists) {
      if (signIn.verified) return;
      sentIds.add(id);
      if (!shownItem) return;
      connections.add(shownItem.dataset.connectionId);
      for (const list of lists) list.markOwnWhere((item) => connections.has(item.dataset.connectionId));
    },
  };
}
