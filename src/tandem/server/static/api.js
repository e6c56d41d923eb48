// Talking to the Tandem server: the API key, JSON requests, and the streamed chat completion.

const KEY_STORAGE = "tandem.apiKey";
let memoryKey = ""; // used when localStorage is unavailable (private windows, file policies)

/** An error the page can act on: HTTP status, the server's message and code, Retry-After. */
export class ApiError extends Error {
  constructor(status, message, code = "", retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || memoryKey;
  } catch {
    return memoryKey;
  }
}

export function saveKey(key) {
  memoryKey = key;
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* memoryKey keeps it for this tab */
  }
}

/** Move `#key=...` from the address bar into storage, so the secret is not left in the URL. */
export function takeKeyFromUrl() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return false;
  const params = new URLSearchParams(hash);
  const key = params.get("key");
  if (!key) return false;
  saveKey(key.trim());
  params.delete("key");
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  window.history.replaceState(null, "", url);
  return true;
}

function headers(json = false) {
  const result = {};
  if (json) result["Content-Type"] = "application/json";
  const key = getKey();
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

function retryAfter(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1, Math.round(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(1, Math.round((date - Date.now()) / 1000));
}

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText || "error"}`;
  let code = "";
  try {
    const body = await response.json();
    if (body && body.error) {
      message = body.error.message || message;
      code = body.error.code || "";
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(response.status, message, code, retryAfter(response));
}

async function send(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "Can't reach the Tandem server. Check that it is running.", "network");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function getJson(path, signal) {
  const response = await send(path, { headers: headers(), signal });
  return response.json();
}

export async function postJson(path, body) {
  const response = await send(path, {
    method: "POST",
    headers: headers(true),
    body: JSON.stringify(body),
  });
  return response.json();
}

/** `{auth, scope}`: whether the server wants a key, and the scope of ours (null: missing or invalid). */
export function whoami() {
  return getJson("/v1/whoami");
}

/** `/readyz` without throwing: `{status, index_version?, error?}`; status "offline" when unreachable. */
export async function readiness() {
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    return await response.json();
  } catch {
    return { status: "offline" };
  }
}

/**
 * Ask a question and stream the answer: `onDelta(text)` for each verified sentence, then
 * resolves with the `tandem` extension of the final chunk. `conversation`: the stored conversation
 * this question continues (its turns are the context of a follow-up); without one, `history`, the
 * chat's earlier questions, is sent and the server starts a conversation. Abort with `signal`.
 */
export async function streamChat(question, { conversation = null, history = [], signal, onDelta }) {
  const earlier = conversation ? [] : history.map((content) => ({ role: "user", content }));
  const response = await send("/v1/chat/completions", {
    method: "POST",
    headers: headers(true),
    body: JSON.stringify({
      model: "tandem",
      stream: true,
      messages: [...earlier, { role: "user", content: question }],
      ...(conversation ? { conversation_id: conversation } : {}),
    }),
    signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let final = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let boundary;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return finished(final);
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(500, chunk.error.message || "the answer failed", chunk.error.code || "");
      }
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) onDelta(delta.content);
      if (chunk.tandem) final = chunk.tandem;
    }
  }
  return finished(final);
}

function finished(final) {
  if (!final) {
    throw new ApiError(0, "The connection closed before the answer was complete. Try again.", "incomplete");
  }
  return final;
}
