// Small DOM helpers: element building (text only, never HTML from the server), icons, toasts, formats.

/**
 * `el("button", {class: "x", onclick: f, "aria-label": "Close"}, "text", child)`.
 * Strings become text nodes; `text` sets textContent; `hidden`/`disabled` take booleans.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "style") node.style.cssText = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  send: ["M12 19V5", "M5 12l7-7 7 7"],
  stop: ["M7 7h10v10H7z"],
  close: ["M18 6 6 18", "M6 6l12 12"],
  up: [
    "M7 10v12",
    "M15 5.88 14 10h5.83a2 2 0 0 1 1.92 2.56l-2.33 8A2 2 0 0 1 17.5 22H4a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h2.76a2 2 0 0 0 1.79-1.11L12 2a3.13 3.13 0 0 1 3 3.88Z",
  ],
  down: [
    "M17 14V2",
    "M9 18.12 10 14H4.17a2 2 0 0 1-1.92-2.56l2.33-8A2 2 0 0 1 6.5 2H20a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-2.76a2 2 0 0 0-1.79 1.11L12 22a3.13 3.13 0 0 1-3-3.88Z",
  ],
  key: [
    "M21 2l-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.78 7.78 5.5 5.5 0 0 1 7.78-7.78zm0 0L15.5 7.5m0 0 3 3L22 7l-3-3m-3.5 3.5L19 4",
  ],
  doc: [
    "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z",
    "M14 2v6h6",
    "M16 13H8",
    "M16 17H8",
    "M10 9H8",
  ],
  trace: ["M3 6h7", "M6 12h10", "M12 18h9"],
  alert: [
    "M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z",
    "M12 9v4",
    "M12 17h.01",
  ],
  info: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M12 16v-4", "M12 8h.01"],
  person: [
    "M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2",
    "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
    "M16 11l2 2 4-4",
  ],
  shield: ["M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z", "M9 9l6 6", "M15 9l-6 6"],
  flag: ["M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z", "M4 22v-7"],
  copy: [
    "M20 9h-9a2 2 0 0 0-2 2v9a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2v-9a2 2 0 0 0-2-2z",
    "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
  ],
  check: ["M20 6 9 17l-5-5"],
  plus: ["M12 5v14", "M5 12h14"],
  retry: ["M3 12a9 9 0 1 0 3-6.7L3 8", "M3 3v5h5"],
  search: ["M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z", "M21 21l-4.35-4.35"],
};

/** An inline SVG icon (decorative: hidden from assistive technology). */
export function icon(name, size = 18) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [k, v] of Object.entries({
    viewBox: "0 0 24 24",
    width: size,
    height: size,
    fill: "none",
    stroke: "currentColor",
    "stroke-width": 2,
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
    class: `icon icon-${name}`,
  })) {
    svg.setAttribute(k, String(v));
  }
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** The Tandem mark: two wheels joined, as on a tandem bicycle. */
export function logo(size = 28) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 32 32");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "logo");
  const shapes = [
    ["rect", { x: 0, y: 0, width: 32, height: 32, rx: 9, class: "logo-bg" }],
    ["circle", { cx: 10.5, cy: 18.5, r: 5, class: "logo-wheel" }],
    ["circle", { cx: 21.5, cy: 18.5, r: 5, class: "logo-wheel" }],
    ["path", { d: "M10.5 18.5 14 10h6l1.5 8.5", class: "logo-frame" }],
  ];
  for (const [tag, attrs] of shapes) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    svg.append(node);
  }
  return svg;
}

/**
 * Show a toast; `kind` is "error", "warning", "success" or "info". `action` adds a button
 * (`{label, run}`). Returns a function that dismisses it.
 */
export function toast(message, { kind = "info", action = null, timeout = 7000, title = "" } = {}) {
  const region = document.getElementById("toasts");
  const symbol = { error: "alert", warning: "alert", success: "check", info: "info" }[kind] || "info";
  const item = el(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { class: "toast-icon" }, icon(symbol, 18)),
    el(
      "div",
      { class: "toast-text" },
      title ? el("strong", { text: title }) : null,
      el("span", { text: message }),
    ),
  );
  const dismiss = () => {
    item.classList.add("leaving");
    setTimeout(() => item.remove(), 180);
  };
  if (action) {
    item.append(
      el("button", {
        class: "btn btn-small",
        type: "button",
        text: action.label,
        onclick: () => {
          dismiss();
          action.run();
        },
      }),
    );
  }
  item.append(
    el(
      "button",
      { class: "icon-btn toast-close", type: "button", "aria-label": "Dismiss", onclick: dismiss },
      icon("close", 16),
    ),
  );
  region.append(item);
  if (timeout) setTimeout(dismiss, timeout);
  return dismiss;
}

/** 0.54 -> "0.5 ms", 26.7 -> "27 ms", 17335 -> "17.3 s". */
export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** "returns_and_warranty" -> "Returns and warranty". */
export function humanize(label) {
  const text = String(label ?? "")
    .replace(/[_-]+/g, " ")
    .trim();
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

export function percent(value) {
  return `${Math.round(Number(value) * 100)}%`;
}

/** Copy text and show the button as done for a moment. */
export async function copyText(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.classList.add("copied");
    setTimeout(() => button.classList.remove("copied"), 1200);
  } catch {
    toast("Copying is blocked in this browser; select the text instead.", { kind: "warning" });
  }
}
