// The side panel: the cited source or the trace of one answer. Beside the conversation on wide
// screens, a drawer over it on narrow ones. Escape closes it and returns focus to its opener.

import { getJson } from "./api.js";
import { el, icon } from "./dom.js";
import { renderSource } from "./source.js";
import { renderTrace } from "./trace.js";

export class Panel {
  constructor(onError) {
    this.onError = onError;
    this.root = document.getElementById("panel");
    this.body = document.getElementById("panel-body");
    this.scrim = document.getElementById("scrim");
    this.tabs = {
      source: document.getElementById("tab-source"),
      trace: document.getElementById("tab-trace"),
    };
    this.sources = new Map(); // doc_id -> Promise of GET /v1/sources/{doc_id}
    this.traces = new Map(); // trace_id -> Promise of GET /v1/traces/{id}
    this.view = null; // the AnswerView shown
    this.target = null; // the citation or passage shown in the source tab
    this.opener = null;
    const close = document.getElementById("panel-close");
    close.append(icon("close", 18));
    close.addEventListener("click", () => this.close());
    this.scrim.addEventListener("click", () => this.close());
    this.tabs.source.addEventListener("click", () => this.showSource(this.view, this.target));
    this.tabs.trace.addEventListener("click", () => this.showTrace(this.view));
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        if (event.target.getAttribute("role") !== "tab") return;
        const next = event.target === this.tabs.source ? this.tabs.trace : this.tabs.source;
        next.focus();
        next.click();
      }
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open(tab, opener) {
    if (opener) this.opener = opener;
    for (const [name, button] of Object.entries(this.tabs)) {
      button.setAttribute("aria-selected", String(name === tab));
      button.tabIndex = name === tab ? 0 : -1;
    }
    this.body.setAttribute("aria-labelledby", this.tabs[tab].id);
    this.root.hidden = false;
    this.scrim.hidden = false;
    document.body.classList.add("panel-open");
  }

  close() {
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.scrim.hidden = true;
    document.body.classList.remove("panel-open");
    if (this.view) this.view.element.classList.remove("is-inspected");
    if (this.opener && document.contains(this.opener)) this.opener.focus();
  }

  select(view) {
    if (this.view && this.view !== view) this.view.element.classList.remove("is-inspected");
    this.view = view;
    view.element.classList.add("is-inspected");
  }

  loading(text) {
    this.body.classList.remove("has-source");
    this.body.replaceChildren(
      el(
        "div",
        { class: "panel-loading", role: "status" },
        el("span", { class: "spinner", "aria-hidden": "true" }),
        text,
      ),
    );
  }

  focusHeading() {
    const heading = this.body.querySelector("#panel-heading");
    (heading || this.body).focus({ preventScroll: true });
  }

  document(docId) {
    if (!this.sources.has(docId)) {
      const request = getJson(`/v1/sources/${docId.split("/").map(encodeURIComponent).join("/")}`);
      request.catch(() => this.sources.delete(docId));
      this.sources.set(docId, request);
    }
    return this.sources.get(docId);
  }

  /** Show a citation (by number) or a retrieved passage of `view`'s answer, highlighted in its source. */
  async showSource(view, target, opener) {
    if (!view) return;
    this.select(view);
    const citations = view.tandem?.citations || [];
    if (typeof target === "number") target = citations.find((c) => c.number === target);
    else if (target && !target.number)
      target = citations.find((c) => c.chunk_id === target.chunk_id) || target;
    target = target || citations[0] || null;
    this.target = target;
    this.open("source", opener);
    if (!target) {
      this.body.replaceChildren(
        el(
          "div",
          { class: "panel-empty" },
          icon("doc", 28),
          el("p", {
            text: "This answer has no citations. Open a retrieved passage from the trace to read it in its source.",
          }),
        ),
      );
      this.focusHeading();
      return;
    }
    this.loading("Opening the source…");
    try {
      const doc = await this.document(target.doc_id);
      if (this.target !== target) return; // another citation was clicked meanwhile
      this.body.classList.add("has-source"); // the header stays put, the document scrolls
      renderSource(this.body, doc, target, {
        siblings: citations,
        onPick: (number) => this.showSource(view, number),
      });
      this.focusHeading();
    } catch (error) {
      this.body.replaceChildren(
        el("div", { class: "panel-empty" }, icon("alert", 28), el("p", { text: error.message })),
      );
      this.onError(error);
    }
  }

  async showTrace(view, opener) {
    if (!view?.tandem) return;
    this.select(view);
    this.open("trace", opener);
    const id = view.tandem.trace_id;
    let trace = null;
    let note = "";
    if (id) {
      this.loading("Loading the trace…");
      if (!this.traces.has(id)) {
        const request = getJson(`/v1/traces/${encodeURIComponent(id)}`);
        request.catch(() => this.traces.delete(id));
        this.traces.set(id, request);
      }
      try {
        trace = await this.traces.get(id);
      } catch (error) {
        if (error.status === 401) this.onError(error);
        note = `The stored trace could not be loaded (${error.message}); showing the timings sent with the answer.`;
      }
    }
    if (this.view !== view || this.tabs.trace.getAttribute("aria-selected") !== "true") return;
    renderTrace(this.body, view.tandem, trace, {
      note,
      onOpenPassage: (passage, button) => this.showSource(view, passage, button),
    });
    this.focusHeading();
  }
}
