/*
 * Pilot Rock chat widget: what it keeps in the browser's storage under "pilotrock-chat": the
 * session (id and token), the transcript, the newest server timestamp shown, the queue of
 * unsent messages and how many messages arrived unread (all, and from a navigator). Also the
 * checks every stored or received value goes through.
 */

const STORAGE_KEY = "pilotrock-chat";
const MAX_MESSAGES = 200;

export const SESSION_ID = /^[A-Za-z0-9-]{16,64}$/;
export const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

export function newId() {
  if (window.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A server timestamp (seconds since the epoch), or null. */
export function serverTime(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** A reply's place among its event's messages (0 when not given). */
export function partNumber(value) {
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

function pickStorage(kind) {
  try {
    const store = kind === "local" ? window.localStorage : window.sessionStorage;
    const probe = `${STORAGE_KEY}:probe`;
    store.setItem(probe, "1");
    store.removeItem(probe);
    return store;
  } catch (_) {
    return null; // storage blocked: keep everything in memory for this page view
  }
}

/** No session yet: the server issues one with its token on the first `session_confirm`. */
function freshState() {
  return {
    v: 1,
    sessionId: null,
    sessionToken: null,
    lastSeen: null,
    messages: [],
    queue: [],
    unread: 0,
    unreadStaff: 0,
  };
}

function validSession(data) {
  const id = data.sessionId;
  const token = data.sessionToken;
  if (typeof id === "string" && SESSION_ID.test(id)) {
    // A stored session without a token (an older widget) is simply replaced by a new one.
    return typeof token === "string" && SESSION_TOKEN.test(token)
      ? { sessionId: id, sessionToken: token }
      : { sessionId: null, sessionToken: null };
  }
  return { sessionId: null, sessionToken: null };
}

/** A stored count (unread messages), or 0. */
function count(value) {
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

function validMessage(m) {
  if (!m || typeof m.text !== "string" || !["bot", "user", "staff"].includes(m.from)) {
    return false;
  }
  for (const key of ["staff", "kind"]) {
    if (m[key] !== undefined && typeof m[key] !== "string") {
      delete m[key];
    }
  }
  if (m.at !== undefined && serverTime(m.at) === null) {
    delete m.at;
  }
  if (m.part !== undefined && !Number.isInteger(m.part)) {
    delete m.part;
  }
  return true;
}

function loadState(storage) {
  try {
    const raw = storage && storage.getItem(STORAGE_KEY);
    const data = raw ? JSON.parse(raw) : null;
    if (data && data.v === 1 && Array.isArray(data.messages) && Array.isArray(data.queue)) {
      Object.assign(data, validSession(data));
      data.lastSeen = serverTime(data.lastSeen);
      data.messages = data.messages.filter(validMessage);
      data.queue = data.queue.filter((q) => q && typeof q.message === "string");
      data.unread = count(data.unread);
      data.unreadStaff = Math.min(count(data.unreadStaff), data.unread);
      return data;
    }
  } catch (_) {
    // unreadable: start again
  }
  return freshState();
}

/**
 * The widget's state, loaded from sessionStorage ("session") or localStorage ("local"), or
 * kept in memory when storage is blocked. `store.state` is replaced on `reset()`, so read it
 * through the store every time.
 */
export function createStore(kind) {
  const storage = pickStorage(kind);
  const store = {
    state: loadState(storage),

    save() {
      if (store.state.messages.length > MAX_MESSAGES) {
        store.state.messages = store.state.messages.slice(-MAX_MESSAGES);
      }
      try {
        if (storage) {
          storage.setItem(STORAGE_KEY, JSON.stringify(store.state));
        }
      } catch (_) {
        // quota exceeded: the conversation still works, it just is not restored
      }
    },

    /** Forget the conversation and the session (not saved until the next `save()`). */
    reset() {
      store.state = freshState();
    },

    findMessage(id) {
      return store.state.messages.find((m) => m.id === id);
    },
  };
  return store;
}
