// The source view: a document's full text with the cited chunk highlighted, and the sentence
// the citation backs highlighted more strongly and scrolled into view.

import { el, humanize, percent } from "./dom.js";

/**
 * Where `sentence` lies within text[start:end]: exactly, then ignoring case, whitespace and
 * Markdown emphasis, then the chunk sentence sharing most of its words. `[from, to, exact]` or null.
 */
export function locateSentence(text, start, end, sentence) {
  if (!sentence) return null;
  const chunk = text.slice(start, end);
  const exact = chunk.indexOf(sentence);
  if (exact >= 0) return [start + exact, start + exact + sentence.length, true];

  const [flat, origin] = normalise(chunk);
  const needle = normalise(sentence)[0].trim();
  const at = needle ? flat.indexOf(needle) : -1;
  if (at >= 0) return [start + origin[at], start + origin[at + needle.length - 1] + 1, true];

  const wanted = words(sentence);
  if (!wanted.size) return null;
  let best = null;
  for (const match of chunk.matchAll(/[^.!?\n]+(?:[.!?]+|$)/g)) {
    const count = [...words(match[0])].filter((w) => wanted.has(w)).length;
    if (!best || count > best.count) best = { count, from: match.index, to: match.index + match[0].length };
  }
  // A paraphrase is matched only when it clearly shares its wording with one passage sentence.
  if (!best || best.count < 4 || best.count / wanted.size < 0.75) return null;
  const piece = chunk.slice(best.from, best.to);
  const lead = piece.length - piece.trimStart().length;
  return [start + best.from + lead, start + best.from + piece.trimEnd().length, false];
}

function normalise(text) {
  let flat = "";
  const origin = [];
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "*" || ch === "_" || ch === "`") continue;
    if (/\s/.test(ch)) {
      if (!space && flat) {
        flat += " ";
        origin.push(i);
      }
      space = true;
      continue;
    }
    space = false;
    flat += ch.toLowerCase();
    origin.push(i);
  }
  return [flat, origin];
}

function words(text) {
  return new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).filter((w) => w.length > 2));
}

/** One line of the document: its kind (heading, list, question…) and how much leading syntax to hide. */
function lineKind(line, docKind) {
  if (docKind === "markdown") {
    const heading = /^(#{1,6})\s+/.exec(line);
    if (heading) return { cls: `line-h line-h${heading[1].length}`, hide: heading[0].length };
    const bullet = /^\s*[-*+]\s+/.exec(line);
    if (bullet) return { cls: "line-li line-bullet", hide: bullet[0].length };
    if (/^\s*\d+\.\s+/.test(line)) return { cls: "line-li", hide: 0 };
  }
  if (docKind === "faq") {
    if (/^Q:\s/.test(line)) return { cls: "line-q", hide: 0 };
    if (/^A:\s/.test(line)) return { cls: "line-a", hide: 0 };
  }
  if (/^\s*[-•]\s+/.test(line)) return { cls: "line-li", hide: 0 };
  return { cls: "", hide: 0 };
}

/** Append `text` with Markdown `**bold**` shown as bold (the asterisks are kept, hidden, for copying). */
function appendInline(parent, text, markdown, state) {
  if (!markdown || !text.includes("**")) {
    parent.append(state.bold ? el("strong", { text }) : document.createTextNode(text));
    return;
  }
  const parts = text.split("**");
  parts.forEach((part, i) => {
    if (i > 0) {
      parent.append(el("span", { class: "md-syntax", text: "**" }));
      state.bold = !state.bold;
    }
    if (part) parent.append(state.bold ? el("strong", { text: part }) : document.createTextNode(part));
  });
}

/** The document as lines, with [chunkStart, chunkEnd) and the sentence range marked. */
function renderText(doc, chunk, sentence) {
  const text = doc.text || "";
  const markdown = doc.kind === "markdown";
  const container = el("div", { class: `doc doc-${doc.kind || "text"}` });
  const cuts = [chunk.start, chunk.end, ...(sentence ? [sentence[0], sentence[1]] : [])];
  let offset = 0;
  for (const line of text.split("\n")) {
    const lineStart = offset;
    const lineEnd = offset + line.length;
    offset = lineEnd + 1;
    const inChunk = lineEnd > chunk.start && lineStart < chunk.end;
    if (!line.trim()) {
      container.append(
        el("div", {
          class: `gap${inChunk && lineStart >= chunk.start && lineEnd < chunk.end ? " in-chunk" : ""}`,
        }),
      );
      continue;
    }
    const kind = lineKind(line, doc.kind);
    const row = el("div", { class: `line ${kind.cls}${inChunk ? " in-chunk" : ""}` });
    if (kind.hide) row.append(el("span", { class: "md-syntax", text: line.slice(0, kind.hide) }));
    const points = [
      lineStart + kind.hide,
      lineEnd,
      ...cuts.filter((c) => c > lineStart + kind.hide && c < lineEnd),
    ];
    const sorted = [...new Set(points)].sort((a, b) => a - b);
    const state = { bold: false };
    for (let i = 0; i < sorted.length - 1; i++) {
      const [from, to] = [sorted[i], sorted[i + 1]];
      const piece = text.slice(from, to);
      if (from >= chunk.start && to <= chunk.end) {
        const strong = sentence && from >= sentence[0] && to <= sentence[1];
        const mark = el("mark", { class: strong ? "hl hl-sentence" : "hl" });
        appendInline(mark, piece, markdown, state);
        row.append(mark);
      } else {
        appendInline(row, piece, markdown, state);
      }
    }
    container.append(row);
  }
  return container;
}

/**
 * Render the source of `target` (a citation, or a retrieved passage) into `body`.
 * `siblings` are the answer's citations (for switching between them); `onPick(number)` switches.
 */
export function renderSource(body, doc, target, { siblings = [], onPick = null } = {}) {
  const chunk = (doc.chunks || []).find((c) => c.chunk_id === target.chunk_id) || target;
  const range = { start: chunk.start ?? target.start, end: chunk.end ?? target.end };
  // A selected answer carries its exact span in the chunk (`span_start`/`span_end`); else the
  // verifier names the passage sentence that backs the answer sentence (`evidence`); else find
  // the answer sentence itself in the chunk.
  const exact =
    target.span_start !== undefined && target.span_start !== null && range.start !== undefined
      ? [range.start + target.span_start, range.start + target.span_end, true]
      : null;
  const sentence =
    exact ||
    (target.evidence && locateSentence(doc.text || "", range.start, range.end, target.evidence)) ||
    (target.sentence ? locateSentence(doc.text || "", range.start, range.end, target.sentence) : null);
  const headings = chunk.heading_path?.length ? chunk.heading_path : target.heading_path || [];
  const page = chunk.page ?? target.page;

  const eyebrow = target.number ? `Source ${target.number}` : `Retrieved passage · rank ${target.rank}`;
  const head = el(
    "div",
    { class: "src-head" },
    el("p", { class: "eyebrow", text: eyebrow }),
    el("h2", { class: "src-title", id: "panel-heading", tabindex: "-1", text: doc.title || doc.doc_id }),
    el(
      "p",
      { class: "crumbs" },
      el("span", { class: "crumb-file", text: doc.doc_id }),
      ...headings.map((h) => el("span", { class: "crumb", text: h })),
      page ? el("span", { class: "crumb crumb-page", text: `page ${page}` }) : null,
      doc.kind ? el("span", { class: "kind", text: humanize(doc.kind) }) : null,
    ),
  );
  const numbers = [...new Set(siblings.map((c) => c.number))];
  if (numbers.length > 1 && onPick) {
    const nav = el(
      "div",
      { class: "cite-nav", role: "group", "aria-label": "Citations in this answer" },
      el("span", { class: "cite-nav-label", text: "Citations" }),
    );
    for (const number of numbers) {
      const c = siblings.find((s) => s.number === number);
      nav.append(
        el("button", {
          class: `cite${c.number === target.number ? " current" : ""}`,
          type: "button",
          text: String(c.number),
          "aria-label": `Source ${c.number}: ${c.title || c.doc_id}`,
          "aria-current": c.number === target.number ? "true" : null,
          onclick: () => onPick(c.number),
        }),
      );
    }
    head.append(nav);
  }
  if (target.sentence) {
    const caption = [];
    if (target.support !== undefined && target.support !== null)
      // a selected span's score is the evidence selector's probability that it answers
      caption.push(`${exact ? "selector" : "support"} ${percent(target.support)}`);
    caption.push(
      sentence
        ? sentence[2]
          ? "highlighted below"
          : "closest passage sentence highlighted"
        : "the passage is highlighted below",
    );
    head.append(
      el(
        "figure",
        { class: "quote" },
        el("blockquote", { text: target.sentence }),
        el("figcaption", { text: `Answer sentence · ${caption.join(" · ")}` }),
      ),
    );
  }
  const text = renderText(doc, range, sentence);
  text.setAttribute("aria-label", `Full text of ${doc.title || doc.doc_id}`);
  text.tabIndex = 0;
  body.replaceChildren(el("div", { class: "src" }, head, text));
  const focus = text.querySelector(".hl-sentence") || text.querySelector(".hl");
  if (focus) requestAnimationFrame(() => focus.scrollIntoView({ block: "center" }));
}
