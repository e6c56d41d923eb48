// The Tandem chat page: wires the composer, the conversation, the side panel, the API key
// dialog and the readiness indicator together.

import {
  ApiError,
  getJson,
  getKey,
  postJson,
  readiness,
  saveKey,
  streamChat,
  takeKeyFromUrl,
  whoami,
} from "./api.js";
import { el, icon, logo, toast } from "./dom.js";
import { AnswerView, userMessage } from "./message.js";
import { Panel } from "./panel.js";

// Suggested questions come from the server (GET /v1/info: the sample_questions setting).
const FALLBACK_SAMPLES = [];

const $ = (id) => document.getElementById(id);
const ui = {
  log: $("log"),
  messages: $("messages"),
  welcome: $("welcome"),
  form: $("composer"),
  input: $("question"),
  send: $("send"),
  stop: $("stop"),
  newChat: $("new-chat"),
  keyButton: $("key-button"),
  dialog: $("key-dialog"),
};
// conversation: the id the server stores this chat under (follow-ups are read in its context);
// asked: the chat's earlier questions, sent instead when that conversation has expired.
const state = { busy: false, controller: null, pendingQuestion: null, asked: [], conversation: null };
const panel = new Panel((error) => reportError(error));

function setBusy(busy) {
  state.busy = busy;
  ui.stop.hidden = !busy;
  ui.send.hidden = busy;
  ui.form.classList.toggle("is-busy", busy);
  updateSend();
  if (!busy && (document.activeElement === ui.stop || document.activeElement === document.body))
    ui.input.focus();
}

function updateSend() {
  ui.send.disabled = state.busy || !ui.input.value.trim();
}

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 200)}px`;
}

function nearBottom() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 140;
}

function scrollToBottom(force = false) {
  if (force || nearBottom())
    ui.log.scrollTo({ top: ui.log.scrollHeight, behavior: force ? "auto" : "smooth" });
}

/** A title and a short, actionable description of a failed request. */
function describe(error) {
  if (error.status === 429) {
    return ["Tandem is busy", `Other questions are being answered. Retry in ${error.retryAfter || 5} s.`];
  }
  if (error.status === 503) {
    const wait = error.retryAfter ? ` Retry in ${error.retryAfter} s.` : "";
    return ["Not available right now", `${error.message}.${wait}`.replace(/\.\./g, ".")];
  }
  return ["Couldn't answer", error.message || "Something went wrong."];
}

/** Toast for an error; 401 also opens the key dialog (and re-asks `question` once a key is saved). */
function reportError(error, question = null) {
  if (error.status === 401) {
    state.pendingQuestion = question;
    toast(error.message, { kind: "warning", title: "API key needed" });
    openKeyDialog(getKey() ? "The saved key was not accepted. Enter a valid API key." : "");
    return;
  }
  const retry = question ? { label: "Retry", run: () => ask(question) } : null;
  if (error.status === 429) {
    toast(`Retry in ${error.retryAfter || 5} s.`, {
      kind: "warning",
      title: "Tandem is busy",
      action: retry,
      timeout: ((error.retryAfter || 5) + 5) * 1000,
    });
    return;
  }
  if (error.status === 503) {
    const [title, text] = describe(error);
    toast(text, { kind: "warning", title, action: retry });
    return;
  }
  toast(error.message || String(error), {
    kind: "error",
    title: error.status ? `Error ${error.status}` : "Error",
  });
}

const handlers = {
  openSource: (view, number, button) => panel.showSource(view, number, button),
  openTrace: (view, button) => panel.showTrace(view, button),
  retry: (question) => ask(question),
  async sendFeedback(view, rating, comment) {
    try {
      return await postJson("/v1/feedback", {
        rating,
        trace_id: view.tandem?.trace_id || null,
        comment,
        question: view.question.slice(0, 8000),
        answer: view.text.slice(0, 16000),
      });
    } catch (error) {
      reportError(error);
      throw error;
    }
  },
};

async function ask(text) {
  const question = (text || "").trim();
  if (!question || state.busy) return;
  ui.welcome.hidden = true;
  ui.newChat.hidden = false;
  const asked = userMessage(question);
  ui.messages.append(asked);
  const view = new AnswerView(question, handlers);
  ui.messages.append(view.element);
  ui.input.value = "";
  autosize();
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  scrollToBottom(true);
  try {
    const options = {
      conversation: state.conversation,
      history: state.asked.slice(-8),
      signal: controller.signal,
      onDelta: (sentence) => {
        const stick = nearBottom();
        view.addSentence(sentence);
        if (stick) scrollToBottom();
      },
    };
    let tandem;
    try {
      tandem = await streamChat(question, options);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404 && state.conversation)) throw error;
      // The conversation expired: carry on in a new one, with this chat's questions as its context.
      tandem = await streamChat(question, { ...options, conversation: null });
    }
    state.conversation = (tandem && tandem.conversation_id) || state.conversation;
    ui.messages.dataset.conversation = state.conversation || "";
    state.asked.push(question);
    const stick = nearBottom();
    view.finish(tandem);
    if (stick) scrollToBottom();
  } catch (error) {
    if (error.name === "AbortError") {
      view.stop();
    } else {
      const apiError = error instanceof ApiError ? error : new ApiError(0, error.message || String(error));
      if (apiError.status === 401) {
        // Not an answer at all: take the exchange back and ask again once a key is saved.
        asked.remove();
        view.element.remove();
        ui.input.value = question;
        autosize();
        if (!ui.messages.childElementCount) {
          ui.welcome.hidden = false;
          ui.newChat.hidden = true;
        }
      } else {
        view.fail(...describe(apiError), [429, 503].includes(apiError.status));
      }
      reportError(apiError, question);
    }
  } finally {
    if (state.controller === controller) state.controller = null;
    setBusy(false);
  }
}

function newChat() {
  if (state.controller) state.controller.abort();
  panel.close();
  ui.messages.replaceChildren();
  state.asked = [];
  state.conversation = null;
  delete ui.messages.dataset.conversation;
  ui.welcome.hidden = false;
  ui.newChat.hidden = true;
  ui.input.focus();
}

// ---- API key -------------------------------------------------------------------------------

function openKeyDialog(problem = "") {
  const error = $("key-error");
  error.textContent = problem;
  $("key-input").value = "";
  if (!ui.dialog.open) ui.dialog.showModal();
  $("key-input").focus();
}

async function saveKeyFromDialog(event) {
  event.preventDefault();
  const candidate = $("key-input").value.trim();
  if (!candidate) return;
  const previous = getKey();
  const save = $("key-save");
  save.disabled = true;
  saveKey(candidate);
  try {
    const who = await whoami();
    if (who.auth && !who.scope) {
      saveKey(previous);
      $("key-error").textContent = "That key was not accepted: it is unknown or was revoked.";
      return;
    }
    ui.dialog.close();
    ui.keyButton.hidden = !who.auth;
    toast(`Key saved (${who.scope} access).`, { kind: "success", timeout: 3000 });
    const pending = state.pendingQuestion;
    state.pendingQuestion = null;
    if (pending) ask(pending);
    else ui.input.focus();
  } catch (error) {
    saveKey(previous);
    $("key-error").textContent = error.message;
  } finally {
    save.disabled = false;
  }
}

async function checkKey() {
  try {
    const who = await whoami();
    ui.keyButton.hidden = !who.auth;
    if (who.auth && !who.scope) {
      openKeyDialog(getKey() ? "The saved key was not accepted. Enter a valid API key." : "");
    }
  } catch {
    /* the status indicator reports an unreachable server */
  }
}

// ---- Readiness and suggestions -------------------------------------------------------------

const STATUS = {
  ready: ["ready", (r) => `Ready · index v${r.index_version}`],
  loading: ["loading", () => "Loading models…"],
  no_index: ["warn", () => "No documents yet"],
  failed: ["error", () => "Failed to start"],
  offline: ["error", () => "Server unreachable"],
};

async function pollReady() {
  const result = await readiness();
  const [tone, text] = STATUS[result.status] || ["warn", () => result.status];
  const status = $("status");
  status.className = `status status-${tone}`;
  status.title = result.error || "";
  $("status-text").textContent = text(result);
  setTimeout(pollReady, result.status === "ready" ? 30000 : 2000);
}

async function loadSamples() {
  let samples = FALLBACK_SAMPLES;
  try {
    const info = await getJson("/v1/info");
    if (Array.isArray(info.samples) && info.samples.length) samples = info.samples.slice(0, 6);
    if (info.name) $("brand-sub").textContent = info.name;
  } catch {
    /* older servers have no /v1/info */
  }
  $("samples").replaceChildren(
    ...samples.map((question) =>
      el(
        "div",
        { role: "listitem" },
        el("button", { class: "chip", type: "button", text: question, onclick: () => ask(question) }),
      ),
    ),
  );
}

// ---- Start ---------------------------------------------------------------------------------

function start() {
  takeKeyFromUrl();
  $("brand-mark").append(logo(30));
  $("welcome-mark").append(logo(52));
  ui.send.append(icon("send", 18));
  ui.stop.append(icon("stop", 14), el("span", { class: "stop-label", text: "Stop" }));
  ui.newChat.prepend(icon("plus", 16));
  ui.keyButton.prepend(icon("key", 15));

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(ui.input.value);
  });
  ui.input.addEventListener("input", () => {
    autosize();
    updateSend();
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask(ui.input.value);
    }
  });
  ui.stop.addEventListener("click", () => state.controller?.abort());
  ui.newChat.addEventListener("click", newChat);
  ui.keyButton.addEventListener("click", () => openKeyDialog());
  $("key-form").addEventListener("submit", saveKeyFromDialog);
  $("key-cancel").addEventListener("click", () => ui.dialog.close());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && panel.isOpen && !ui.dialog.open) panel.close();
  });

  autosize();
  loadSamples();
  checkKey();
  pollReady();
  ui.input.focus();
}

start();
