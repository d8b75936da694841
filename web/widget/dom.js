/*
 * Pilot Rock chat widget: DOM helpers. No innerHTML anywhere: elements are built one by one and
 * text from the bot only ever becomes text nodes, with **bold** and http(s)/mailto links turned
 * into <strong>/<a> elements.
 */

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (key === "text") {
      node.textContent = value;
    } else if (key === "className") {
      node.className = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child);
    }
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  clear: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
};

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of ICONS[name]) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** A safe link, or null when the URL is not http(s)/mailto. */
function safeLink(href, label) {
  let url;
  try {
    url = new URL(href);
  } catch (_) {
    return null;
  }
  if (!["http:", "https:", "mailto:"].includes(url.protocol)) {
    return null;
  }
  return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer", text: label });
}

const LINK_PATTERN = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|\b((?:https?:\/\/|mailto:)[^\s<>"]+)/g;

/** Append text with markdown links and bare URLs turned into safe <a> elements. */
function appendLinks(parent, text) {
  let last = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    let [whole, label, href, bare] = match;
    let trailing = "";
    if (bare) {
      // Sentence punctuation after a bare URL is not part of it.
      const cut = bare.match(/[.,;:!?)\]'"]+$/);
      if (cut) {
        trailing = cut[0];
        bare = bare.slice(0, -trailing.length);
      }
    }
    const link = bare ? safeLink(bare, bare.replace(/^mailto:/, "")) : safeLink(href, label);
    parent.append(document.createTextNode(text.slice(last, match.index)));
    parent.append(link || document.createTextNode(bare || whole));
    if (trailing) {
      parent.append(document.createTextNode(trailing));
    }
    last = match.index + whole.length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

/** Render the bot's light markup: **bold** and links. Everything else stays text. */
export function renderRich(parent, text) {
  const parts = text.split(/\*\*(?=\S)([\s\S]*?\S)\*\*/);
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      const strong = el("strong");
      appendLinks(strong, part);
      parent.append(strong);
    } else if (part) {
      appendLinks(parent, part);
    }
  });
}

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const DATE_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});

export function timeElement(ms) {
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return el("time", {
    datetime: date.toISOString(),
    title: date.toLocaleString(),
    text: (today ? TIME_FORMAT : DATE_TIME_FORMAT).format(date),
  });
}
