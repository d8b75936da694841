/*
 * Pilot Rock chat widget: the Socket.IO connection to Rasa. Loads socket.io-client (served next
 * to the widget as vendor/socket.io.min.js), connects over WebSocket only and reconnects after
 * a lost connection or a server disconnect.
 *
 * Protocol (bot/rasa/channels/socketio.py, Rasa 3.6 SocketIOInput with session_persistence): on
 * connect, emit `session_request` {session_id, session_token, request[, last_seen]} with the
 * session this browser was given (both null at first) and a request number; the server rejoins
 * ours only when the token is the one it issued for that id, else it starts a new one, and its
 * `session_confirm` {session_id, session_token, request} is adopted unless it answers an older
 * request (one from before "Clear"). Visitor messages (outbox.js) and replies (inbox.js) only
 * flow once the session is confirmed.
 */

import { SESSION_ID, SESSION_TOKEN } from "./storage.js";
import { TEXT } from "./strings.js";

/**
 * The connection. `hooks` are called back: `onConfirm()` once the server confirmed the
 * session, `onBotMessage(data)` for each `bot_uttered`, `onDisconnect()` as soon as the socket
 * is lost (before anything else), and `onChange()` whenever `isReady()` may have changed.
 */
export function createConnection({ config, store, transcript, hooks }) {
  let socket = null;
  let confirmed = false; // session_confirm received for the latest session_request
  let requestNo = 0; // numbers session requests, so a stale confirm is recognised
  let loadAttempts = 0;

  function isReady() {
    return Boolean(socket && socket.connected && confirmed);
  }

  function showReconnecting() {
    transcript.setStatus(TEXT.reconnecting);
  }

  function requestSession() {
    confirmed = false;
    requestNo += 1;
    const state = store.state;
    const request = {
      session_id: state.sessionId,
      session_token: state.sessionToken,
      request: requestNo,
    };
    if (state.sessionId && state.sessionToken && state.lastSeen !== null) {
      request.last_seen = state.lastSeen; // the server sends again what came after it
    }
    socket.emit("session_request", request);
  }

  /** Adopt the session the server confirmed for our latest request; false if stale or bad. */
  function adoptSession(data) {
    if (!data || typeof data !== "object" || data.request !== requestNo) {
      return false; // an answer to an older request (say, from before the visitor cleared)
    }
    const { session_id: id, session_token: token } = data;
    if (typeof id !== "string" || !SESSION_ID.test(id)) {
      return false;
    }
    if (typeof token !== "string" || !SESSION_TOKEN.test(token)) {
      return false;
    }
    if (id !== store.state.sessionId || token !== store.state.sessionToken) {
      store.state.sessionId = id;
      store.state.sessionToken = token;
      store.save();
    }
    return true;
  }

  function startSocket(io) {
    socket = io(config.server, {
      path: config.socketPath,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 10000,
      // WebSocket only: no long-polling, so any of several server workers can hold the socket.
      transports: ["websocket"],
    });

    socket.on("connect", () => {
      requestSession();
    });

    socket.on("session_confirm", (data) => {
      if (!adoptSession(data)) {
        return;
      }
      confirmed = true;
      transcript.setStatus("");
      hooks.onConfirm();
    });

    socket.on("bot_uttered", hooks.onBotMessage);

    socket.on("disconnect", (reason) => {
      confirmed = false;
      hooks.onDisconnect();
      if (reason !== "io client disconnect") {
        showReconnecting(); // our own disconnect (clear) reconnects at once
      }
      hooks.onChange();
      if (reason === "io server disconnect") {
        // The server closed the socket: socket.io does not retry by itself then.
        setTimeout(() => socket.connect(), 2000);
      }
    });

    socket.on("connect_error", () => {
      showReconnecting();
      if (!socket.active) {
        setTimeout(() => socket.connect(), 5000);
      }
    });
  }

  /** socket.io-client v4: the page's own window.io if it is one, else ours, injected. */
  function loadSocketIo() {
    if (window.io && window.io.protocol === 5 && typeof window.io === "function") {
      return Promise.resolve(window.io);
    }
    return new Promise((resolve, reject) => {
      const previous = window.io;
      const tag = document.createElement("script");
      tag.src = config.socketIoUrl;
      tag.async = true;
      tag.addEventListener("load", () => {
        const io = window.io;
        if (previous !== undefined) {
          window.io = previous; // leave the page's own `io` alone
        }
        tag.remove();
        if (typeof io === "function") {
          resolve(io);
        } else {
          reject(new Error("socket.io-client did not load"));
        }
      });
      tag.addEventListener("error", () => {
        tag.remove();
        reject(new Error("socket.io-client could not be fetched"));
      });
      (document.head || document.documentElement).append(tag);
    });
  }

  function connect() {
    transcript.setStatus(TEXT.connecting);
    loadSocketIo().then(startSocket, () => {
      showReconnecting();
      loadAttempts += 1;
      setTimeout(connect, Math.min(30000, 1000 * 2 ** loadAttempts));
    });
  }

  /** Any session confirm still on its way is for the old conversation: ignore it. */
  function forgetSession() {
    requestNo += 1;
    confirmed = false;
  }

  /** A new socket: the old one stays in the old session's room and would still get its replies. */
  function reconnect() {
    if (socket && socket.connected) {
      socket.disconnect();
      socket.connect();
    }
  }

  // A lost network is noticed at once, not after the ping timeout.
  window.addEventListener("offline", () => {
    if (socket && socket.connected && socket.io.engine) {
      socket.io.engine.close();
    }
  });

  return {
    get socket() {
      return socket;
    },
    isReady,
    connect,
    requestSession,
    forgetSession,
    reconnect,
  };
}
