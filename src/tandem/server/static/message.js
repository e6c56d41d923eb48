// One exchange in the conversation: the question, and the streamed answer with its citations,
// routing badge, handoff card, feedback controls and a way into the trace.

import { el, formatMs, humanize, icon, logo, percent, copyText } from "./dom.js";

const CITATION = /\s*\[(\d+(?:\s*,\s*\d+)*)\]/g;
const MODE_LABEL = {
  generated: "Generated, every sentence checked against its source",
  extractive: "Quoted from the source",
  abstained: "No supported answer",
  handoff: "Handed to a person",
  refused: "Declined by policy",
  blocked: "Blocked by the guard",
};

export function userMessage(text) {
  return el("div", { class: "msg msg-user" }, el("p", { class: "bubble", text }));
}

/** Text with `[n]` markers turned into superscript citation buttons (`onCite(button)`). */
function withCitations(text, sentenceIndex, onCite) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(CITATION)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    const group = el("sup", { class: "cites" });
    for (const number of match[1].split(",").map((n) => Number(n.trim()))) {
      group.append(
        el("button", {
          class: "cite pending",
          type: "button",
          text: String(number),
          dataset: { n: String(number), s: String(sentenceIndex) },
          "aria-label": `Source ${number}`,
          "aria-disabled": "true",
          onclick: (event) => onCite(event.currentTarget),
        }),
      );
    }
    nodes.push(group);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function plain(text) {
  return text.replace(CITATION, "").replace(/\s+/g, " ").trim();
}

/** Pills for intent / urgency / risk with their confidence, plus the routing action. */
export function routeBadge(route) {
  if (!route) return null;
  const predictions = route.predictions || {};
  const badge = el("div", {
    class: "route",
    role: "group",
    "aria-label": "How this question was classified",
  });
  const action = route.action || "answer";
  if (action.startsWith("handoff")) {
    badge.append(
      el(
        "span",
        { class: "pill pill-handoff" },
        icon("person", 13),
        `Handoff · ${humanize(route.queue || action.split(":")[1] || "team")}`,
      ),
    );
  } else if (action === "answer_and_flag") {
    badge.append(el("span", { class: "pill pill-flag" }, icon("flag", 13), "Flagged for review"));
  } else if (action === "refuse") {
    badge.append(el("span", { class: "pill pill-handoff" }, icon("shield", 13), "Refused"));
  }
  for (const name of ["intent", "urgency", "risk"]) {
    const p = predictions[name];
    if (!p) continue;
    const tone = pillTone(name, p.label);
    const alternatives = (p.alternatives || [])
      .map(([label, c]) => `${humanize(label)} ${percent(c)}`)
      .join(", ");
    badge.append(
      el(
        "span",
        {
          class: `pill pill-${tone}`,
          title: alternatives
            ? `${humanize(name)}: ${humanize(p.label)} (${percent(p.confidence)}). Also: ${alternatives}`
            : null,
        },
        el("span", { class: "pill-key", text: name }),
        el("span", { text: humanize(p.label) }),
        el("span", { class: "pill-conf", text: percent(p.confidence) }),
      ),
    );
  }
  return badge;
}

function cardHead(symbol, title, sub) {
  return el(
    "div",
    { class: "card-head" },
    el("span", { class: "card-icon" }, icon(symbol, 18)),
    el("div", {}, el("strong", { text: title }), el("span", { class: "card-sub", text: sub })),
  );
}

function pillTone(name, label) {
  if (name === "risk") return label === "none" ? "calm" : "danger";
  if (name === "urgency") return /urgent|high|critical/.test(label) ? "warn" : "neutral";
  return "neutral";
}

/** An assistant answer being streamed; `finish(tandem)` completes it with the server's extension. */
export class AnswerView {
  /**
   * handlers: openSource(view, citation, button), openTrace(view, button),
   * sendFeedback(view, rating, comment) -> Promise, retry(question)
   */
  constructor(question, handlers) {
    this.question = question;
    this.handlers = handlers;
    this.text = "";
    this.sentences = []; // each streamed sentence without its markers, to match its citations
    this.tandem = null;
    // Each verified sentence is announced as it arrives.
    this.body = el("div", { class: "answer-body", "aria-live": "polite" });
    this.thinking = el(
      "div",
      { class: "thinking", role: "status" },
      el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
      el("span", { text: "Searching the documents…" }),
    );
    this.card = el("div", { class: "answer-card" }, this.body, this.thinking);
    this.main = el("div", { class: "msg-main" }, this.card);
    const avatar = el("div", { class: "avatar" }, logo(30));
    this.element = el("article", { class: "msg msg-bot", "aria-label": "Answer" }, avatar, this.main);
    this.slowTimer = setTimeout(() => {
      this.thinking.lastChild.textContent = "Writing an answer from the best passages…";
    }, 1500);
  }

  addSentence(text) {
    this.text += (this.text ? " " : "") + text;
    this.sentences.push(plain(text));
    const lead = this.body.childNodes.length ? " " : "";
    this.body.append(...withCitations(lead + text, this.sentences.length - 1, (b) => this.cite(b)));
  }

  cite(button) {
    if (button.citation) this.handlers.openSource(this, button.citation, button);
  }

  /** The citation behind marker `number` in sentence `index` (one passage can back several sentences). */
  citation(number, index) {
    const all = (this.tandem?.citations || []).filter((c) => c.number === number);
    const sentence = this.sentences[index];
    return all.find((c) => plain(c.sentence || "") === sentence) || all[0] || null;
  }

  settle() {
    clearTimeout(this.slowTimer);
    this.thinking.remove();
  }

  finish(tandem) {
    this.tandem = tandem;
    this.settle();
    if (!this.text.trim() && tandem.abstained) this.addSentence("The documentation doesn't cover this.");
    const mode = tandem.mode || (tandem.abstained ? "abstained" : "generated");
    this.card.classList.add(`answer-${mode}`);
    const header = this.kindHeader(tandem, mode);
    if (header) this.card.prepend(header);
    for (const button of this.body.querySelectorAll(".cite")) {
      const c = this.citation(Number(button.dataset.n), Number(button.dataset.s));
      button.classList.remove("pending");
      button.citation = c;
      if (c) {
        button.removeAttribute("aria-disabled");
        button.setAttribute("aria-label", `Source ${c.number}: ${c.title || c.doc_id}`);
        button.title = [c.title, ...(c.heading_path || [])].filter(Boolean).join(" › ");
      }
    }
    if (tandem.citations?.length) this.main.append(this.sourceList(tandem.citations));
    this.main.append(this.footer(tandem, mode));
  }

  /** The header that sets handoffs, abstentions, refusals and flagged answers apart. */
  kindHeader(tandem, mode) {
    if (mode === "handoff") {
      const queue = humanize(tandem.route?.queue || "support");
      const header = cardHead("person", `Handed to the ${queue} team`, "A person will follow up on this.");
      if (tandem.ticket) {
        const copy = el(
          "button",
          {
            class: "ticket",
            type: "button",
            title: "Copy the ticket id",
            onclick: () => copyText(copy, tandem.ticket),
          },
          el("span", { class: "ticket-label", text: "Ticket" }),
          el("span", { class: "ticket-id", text: tandem.ticket }),
          icon("copy", 14),
        );
        header.append(copy);
      }
      return header;
    }
    if (mode === "abstained") {
      return cardHead(
        "search",
        "Not covered by the documents",
        "Tandem only answers what the sources support.",
      );
    }
    if (mode === "blocked" || tandem.guard?.blocked) {
      return cardHead("shield", "Blocked", "The request was stopped by the content guard.");
    }
    if (mode === "refused") {
      return cardHead("shield", "Declined", "This request is outside what Tandem may answer.");
    }
    if (tandem.route?.action === "answer_and_flag") {
      const sub = tandem.ticket
        ? `A person will check this answer (ticket ${tandem.ticket}).`
        : "A person will check this answer.";
      const header = cardHead("flag", "Flagged for review", sub);
      header.classList.add("card-head-flag");
      return header;
    }
    return null;
  }

  sourceList(citations) {
    const list = el("ol", { class: "sources", "aria-label": "Sources" });
    const seen = new Set();
    for (const c of citations) {
      if (seen.has(c.number)) continue; // several sentences can cite the same passage
      seen.add(c.number);
      const where = (c.heading_path || []).join(" › ") || c.doc_id;
      list.append(
        el(
          "li",
          {},
          el(
            "button",
            {
              class: "source-chip",
              type: "button",
              onclick: (event) => this.handlers.openSource(this, c.number, event.currentTarget),
            },
            el("span", { class: "source-num", text: String(c.number) }),
            el("span", { class: "source-title", text: c.title || c.doc_id }),
            el("span", { class: "source-where", text: c.page ? `${where} · p. ${c.page}` : where }),
          ),
        ),
      );
    }
    return list;
  }

  footer(tandem, mode) {
    const total = tandem.timings_ms?.total_ms;
    this.thumbs = ["up", "down"].map((rating) =>
      el(
        "button",
        {
          class: `icon-btn thumb thumb-${rating}`,
          type: "button",
          "aria-label": rating === "up" ? "Helpful" : "Not helpful",
          "aria-pressed": "false",
          title: rating === "up" ? "Helpful" : "Not helpful",
          onclick: () => this.rate(rating),
        },
        icon(rating, 17),
      ),
    );
    const actions = el(
      "div",
      { class: "actions" },
      el("span", {
        class: "meta",
        text: [MODE_LABEL[mode] || humanize(mode), total ? formatMs(total) : ""].filter(Boolean).join(" · "),
      }),
      el("span", { class: "thumbs", role: "group", "aria-label": "Rate this answer" }, ...this.thumbs),
      el(
        "button",
        {
          class: "btn btn-ghost btn-small trace-btn",
          type: "button",
          onclick: (event) => this.handlers.openTrace(this, event.currentTarget),
        },
        icon("trace", 15),
        "Trace",
      ),
    );
    this.feedbackSlot = el("div", { class: "feedback-slot" });
    return el("div", { class: "msg-footer" }, routeBadge(tandem.route), actions, this.feedbackSlot);
  }

  rate(rating) {
    if (this.feedbackSent) return;
    for (const b of this.thumbs)
      b.setAttribute("aria-pressed", String(b.classList.contains(`thumb-${rating}`)));
    const comment = el("textarea", {
      id: `comment-${this.tandem.trace_id}`,
      class: "input",
      rows: 2,
      maxlength: 2000,
      placeholder: rating === "up" ? "What was helpful? (optional)" : "What was wrong or missing? (optional)",
    });
    const submit = el("button", {
      class: "btn btn-primary btn-small",
      type: "submit",
      text: "Send feedback",
    });
    const form = el(
      "form",
      { class: "feedback-form", "aria-label": "Feedback on this answer" },
      el("label", {
        for: comment.id,
        text: rating === "up" ? "Thanks! Anything to add?" : "Sorry about that. What went wrong?",
      }),
      comment,
      el(
        "div",
        { class: "form-row" },
        el("button", {
          class: "btn btn-ghost btn-small",
          type: "button",
          text: "Cancel",
          onclick: () => this.cancelRating(),
        }),
        submit,
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      submit.textContent = "Sending…";
      try {
        await this.handlers.sendFeedback(this, rating, comment.value.trim());
        this.feedbackSent = true;
        for (const b of this.thumbs) b.disabled = true;
        this.feedbackSlot.replaceChildren(
          el(
            "p",
            { class: "feedback-done", role: "status" },
            icon("check", 16),
            "Thanks, your feedback was saved.",
          ),
        );
      } catch {
        submit.disabled = false;
        submit.textContent = "Send feedback";
      }
    });
    this.feedbackSlot.replaceChildren(form);
    comment.focus();
  }

  cancelRating() {
    for (const b of this.thumbs) b.setAttribute("aria-pressed", "false");
    this.feedbackSlot.replaceChildren();
    this.thumbs[0].focus();
  }

  /** An answer that failed; `busy` (429/503) means "try again later" rather than an error. */
  fail(title, message, busy = false) {
    this.settle();
    this.card.classList.add(busy ? "answer-busy" : "answer-error");
    this.card.prepend(
      el(
        "div",
        { class: "card-head" },
        el("span", { class: "card-icon" }, icon("alert", 18)),
        el("div", {}, el("strong", { text: title }), el("span", { class: "card-sub", text: message })),
      ),
    );
    this.card.append(
      el(
        "div",
        { class: "form-row" },
        el(
          "button",
          {
            class: "btn btn-small",
            type: "button",
            onclick: () => this.handlers.retry(this.question),
          },
          icon("retry", 15),
          "Try again",
        ),
      ),
    );
  }

  stop() {
    this.settle();
    this.card.classList.add("answer-stopped");
    this.card.append(
      el("p", {
        class: "stopped-note",
        text: this.text ? "Stopped." : "Stopped before an answer was ready.",
      }),
    );
  }
}
