/*
 * Pilot Rock chat widget: its settings, read from the data-* attributes of the <script> tag
 * that loaded it, and the addresses of the files it loads next to itself.
 */

import { TEXT } from "./strings.js";

const DEFAULTS = {
  title: TEXT.title,
  color: "#0b5e59",
  socketPath: "/socket.io/",
};

/** The <script type="module"> tag that loaded the widget from `moduleUrl`, if any. */
function widgetScript(moduleUrl) {
  for (const tag of document.querySelectorAll("script[src]")) {
    if (tag.src === moduleUrl) {
      return tag;
    }
  }
  return document.querySelector('script[src*="pilotrock-widget"]');
}

/** The Rasa server: data-server, else this page's protocol and host on port 5005. */
function serverUrl(value) {
  const given = (value || "").trim();
  if (given) {
    return given.replace(/\/+$/, "");
  }
  const protocol = location.protocol === "https:" ? "https:" : "http:";
  const host = location.hostname || "localhost";
  return `${protocol}//${host.includes(":") ? `[${host}]` : host}:5005`;
}

function validColor(value) {
  const colour = (value || "").trim();
  return colour && window.CSS && CSS.supports("color", colour) ? colour : "";
}

/** The widget's settings; `moduleUrl` is the entry module's own URL (import.meta.url). */
export function readConfig(moduleUrl) {
  const script = widgetScript(moduleUrl);
  const attrs = (script && script.dataset) || {};
  return {
    server: serverUrl(attrs.server),
    title: (attrs.title || "").trim() || DEFAULTS.title,
    color: validColor(attrs.color) || DEFAULTS.color,
    open: attrs.open === "true",
    storageKind: attrs.storage === "local" ? "local" : "session",
    socketPath: (attrs.socketPath || "").trim() || DEFAULTS.socketPath,
    cssUrl: new URL("widget.css", moduleUrl).href,
    socketIoUrl: new URL("vendor/socket.io.min.js", moduleUrl).href,
  };
}
