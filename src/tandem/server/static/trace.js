// The trace view: what one answer was built from. Stage timings as a waterfall, the retrieved
// passages with their scores and ranks, the routing decision, guard result and versions.

import { copyText, el, formatMs, humanize, icon, percent } from "./dom.js";
import { routeBadge } from "./message.js";

const STAGE_LABEL = {
  guard: "Input guard",
  route: "Classify & route",
  retrieve: "Retrieve",
  encode: "Encode question",
  dense: "Dense search",
  lexical: "BM25 search",
  fusion: "Fuse rankings",
  policy: "Routing policy",
  verify_prepare: "Score sentences",
  quote: "Pick quote",
  select: "Select evidence",
  generate: "Generate & verify",
  prefill: "Read prompt",
  decode: "Write tokens",
};

/** Spans in reading order: top-level by start time, each followed by its children. */
function orderSpans(spans) {
  const top = spans.filter((s) => !s.parent).sort((a, b) => a.start_ms - b.start_ms);
  const ordered = [];
  for (const span of top) {
    ordered.push(span);
    ordered.push(...spans.filter((s) => s.parent === span.name).sort((a, b) => a.start_ms - b.start_ms));
  }
  const seen = new Set(ordered);
  return ordered.concat(spans.filter((s) => !seen.has(s)));
}

/** Without a stored trace: one bar per `*_ms` timing, each starting at zero. */
function spansFromTimings(timings = {}) {
  const skip = new Set(["total_ms", "first_token_ms"]);
  return Object.entries(timings)
    .filter(([name]) => !skip.has(name))
    .map(([name, ms]) => ({ name: name.replace(/_ms$/, ""), start_ms: 0, end_ms: ms, parent: null }));
}

function waterfall(spans, total) {
  const list = el("ol", { class: "waterfall", "aria-label": "Stage timings" });
  const scale = Math.max(total, ...spans.map((s) => s.end_ms), 1);
  for (const span of orderSpans(spans)) {
    const duration = Math.max(0, span.end_ms - span.start_ms);
    const left = (span.start_ms / scale) * 100;
    const width = (duration / scale) * 100;
    const group = span.parent || span.name;
    const label = STAGE_LABEL[span.name] || humanize(span.name);
    list.append(
      el(
        "li",
        {
          class: `wf-row${span.parent ? " wf-child" : ""}`,
          title: `${label}: ${formatMs(duration)}, from ${formatMs(span.start_ms)}`,
        },
        el("span", { class: "wf-name", text: label }),
        el(
          "span",
          { class: "wf-track", "aria-hidden": "true" },
          el("span", {
            class: `wf-bar wf-${group}`,
            style: `left:${left.toFixed(3)}%;width:max(3px,${width.toFixed(3)}%)`,
          }),
        ),
        el("span", { class: "wf-ms", text: formatMs(duration) }),
      ),
    );
  }
  const axis = el(
    "div",
    { class: "wf-axis", "aria-hidden": "true" },
    el("span", { text: "0" }),
    el("span", { text: formatMs(scale / 2) }),
    el("span", { text: formatMs(scale) }),
  );
  return el("div", { class: "wf" }, list, axis);
}

function score(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function passageTable(passages, citations, onOpen) {
  const cited = new Map();
  for (const c of citations)
    cited.set(c.chunk_id, [...new Set([...(cited.get(c.chunk_id) || []), c.number])]);
  const best = Math.max(...passages.map((p) => p.score || 0), 1e-9);
  const rows = passages.map((p) => {
    const numbers = cited.get(p.chunk_id) || [];
    const where = (p.heading_path || []).join(" › ");
    return el(
      "tr",
      { class: numbers.length ? "is-cited" : "" },
      el("td", { class: "num", text: String(p.rank) }),
      el(
        "td",
        { class: "doc-cell" },
        el(
          "button",
          { class: "link", type: "button", onclick: (event) => onOpen(p, event.currentTarget) },
          el("span", { class: "p-title", text: p.title || p.doc_id }),
          el("span", { class: "p-where", text: where || p.chunk_id }),
        ),
      ),
      el(
        "td",
        { class: "num fused" },
        el("span", { text: score(p.score) }),
        el(
          "span",
          { class: "scorebar", "aria-hidden": "true" },
          el("i", { style: `width:${Math.max(4, (100 * (p.score || 0)) / best).toFixed(1)}%` }),
        ),
      ),
      el(
        "td",
        { class: "num" },
        el("span", { text: score(p.dense_score) }),
        p.dense_rank ? el("span", { class: "rank", text: `#${p.dense_rank}` }) : null,
      ),
      el(
        "td",
        { class: "num" },
        el("span", { text: score(p.lexical_score, 2) }),
        p.lexical_rank ? el("span", { class: "rank", text: `#${p.lexical_rank}` }) : null,
      ),
      el(
        "td",
        { class: "cited-cell" },
        numbers.length
          ? numbers.map((n) =>
              el("span", { class: "cite static", text: String(n), "aria-label": `cited as ${n}` }),
            )
          : el("span", { class: "muted", text: "–" }),
      ),
    );
  });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "passages" },
      el("caption", { class: "visually-hidden", text: "Retrieved passages and their scores" }),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", class: "num", text: "#" }),
          el("th", { scope: "col", text: "Passage" }),
          el("th", { scope: "col", class: "num", text: "Fused" }),
          el("th", { scope: "col", class: "num", text: "Dense" }),
          el("th", { scope: "col", class: "num", text: "BM25" }),
          el("th", { scope: "col", text: "Cited" }),
        ),
      ),
      el("tbody", {}, rows),
    ),
  );
}

function stat(label, value) {
  return el(
    "div",
    { class: "stat" },
    el("span", { class: "stat-label", text: label }),
    el("span", { class: "stat-value", text: value }),
  );
}

function section(title, ...content) {
  return el("section", { class: "t-section" }, el("h3", { text: title }), ...content);
}

function definitions(pairs) {
  const list = el("dl", { class: "defs" });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(el("dt", { text: term }), el("dd", { text: String(value) }));
  }
  return list;
}

/**
 * Render the trace of an answer. `trace` is `GET /v1/traces/{id}` (null if it could not be
 * loaded: the view then falls back to the timings in the answer). `onOpenPassage(p, button)`.
 */
export function renderTrace(body, tandem, trace, { onOpenPassage, note = "" } = {}) {
  const timings = trace?.timings_ms || tandem.timings_ms || {};
  const total = trace?.total_ms ?? timings.total_ms ?? 0;
  const spans = trace?.spans?.length ? trace.spans : spansFromTimings(timings);
  const tokens = trace?.tokens || {};
  const passages = tandem.passages?.length ? tandem.passages : trace?.retrieved || [];
  const citations = tandem.citations || trace?.citations || [];
  const traceId = tandem.trace_id || trace?.trace_id || "";

  const copy = el(
    "button",
    {
      class: "icon-btn",
      type: "button",
      "aria-label": "Copy the trace id",
      title: "Copy the trace id",
      onclick: () => copyText(copy, traceId),
    },
    icon("copy", 15),
  );
  const head = el(
    "div",
    { class: "src-head" },
    el("p", { class: "eyebrow", text: "Trace" }),
    el("h2", { class: "src-title", id: "panel-heading", tabindex: "-1", text: "How this answer was made" }),
    traceId ? el("p", { class: "trace-id" }, el("code", { text: traceId }), copy) : null,
    note ? el("p", { class: "note", text: note }) : null,
  );

  const stats = el(
    "div",
    { class: "stats" },
    stat("Total", formatMs(total)),
    stat("First token", timings.first_token_ms ? formatMs(timings.first_token_ms) : "–"),
    stat("Tokens", tokens.prompt ? `${tokens.prompt} → ${tokens.completion ?? 0}` : "–"),
    stat("Outcome", humanize(trace?.mode || tandem.mode || "")),
  );

  const parts = [head, stats, section("Stage timings", waterfall(spans, total))];
  parts.push(
    section(
      `Retrieved passages (${passages.length})`,
      passages.length
        ? passageTable(passages, citations, onOpenPassage)
        : el("p", { class: "muted", text: "No passages were retrieved." }),
    ),
  );

  const route = trace?.route || tandem.route;
  if (route) {
    const reasons = el(
      "ul",
      { class: "reasons" },
      (route.reasons || []).map((r) => el("li", { text: r })),
    );
    parts.push(
      section(
        "Routing",
        routeBadge(route),
        reasons,
        definitions([
          ["Action", route.action],
          ["Queue", route.queue],
          ["Rule", route.rule],
          ["Ticket", trace?.ticket ?? tandem.ticket],
        ]),
      ),
    );
  }
  const guard = trace?.guard || tandem.guard;
  if (guard) {
    parts.push(
      section(
        "Guard",
        definitions([
          ["Blocked", guard.blocked ? "yes" : "no"],
          ["Injection score", guard.injection_score !== undefined ? percent(guard.injection_score) : null],
          [
            "Findings",
            (guard.findings || []).length
              ? (guard.findings || [])
                  .map((f) => `${humanize(f.kind || f.guard)} (${f.action || "report"})`)
                  .join(", ")
              : "none",
          ],
        ]),
      ),
    );
  }
  const versions = trace?.versions || tandem.versions || {};
  parts.push(section("Versions", definitions(Object.entries(versions).map(([k, v]) => [humanize(k), v]))));
  body.replaceChildren(el("div", { class: "trace" }, ...parts));
}
