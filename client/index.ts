/**
 * The chat's client library: an ES module for browsers and Node (22 on, or with a WebSocket class
 * passed in), with nothing beyond the platform's WebSocket and fetch. README, "The client library".
 */
export { ChatClient, type ChatClientOptions, type ChatErrorEvent, type ChatEvents, isRoomName } from "./chat-client";
export type { ConnectionState, TokenProvider, WebSocketConstructor, WebSocketLike } from "./connection";
export {
  ChatClientError,
  ConnectionLostError,
  RequestRefusedError,
  RequestTimeoutError,
  SignInRefusedError,
} from "./errors";
export type {
  ChangeFrame,
  ChatMessageFrame,
  HistoryFrame,
  InviteFrame,
  PresenceFrame,
  TypingFrame,
  WhoFrame,
} from "./protocol";
export type { GapFilled, JoinedRoom } from "./rooms";
export { type GuestSignIn, guestSignIn, type SignedInUser } from "./sign-in";
