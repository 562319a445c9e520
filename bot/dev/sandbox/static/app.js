/* KIM-Bot sandbox page: one persona's private chat with the bot.
 *
 * Data comes from the sandbox's JSON API (bot/sandbox/web.py). Messages are
 * text + Telegram entities (offsets in UTF-16 code units, which is exactly
 * how JavaScript indexes strings); they are rendered with DOM text nodes and
 * a fixed set of elements, never with innerHTML, so no message text can
 * inject markup.
 */
"use strict";

const state = {
  bot: null,
  personas: [],
  current: null, // persona key
  chats: new Map(), // chat id -> Map(message id -> message)
  seq: 0,
  seenSeq: new Map(), // persona key -> seq up to which its chat was seen
  loaded: false,
  clock: null, // {offset (s), timezone, jumps} from the sandbox, or null
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = {};
  try {
    body = await response.json();
  } catch (_) {
    body = {};
  }
  if (!response.ok) {
    throw new Error(body.error || response.statusText || "Fehler");
  }
  return body;
}

function postJSON(path, data) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/* ---------------------------------------------------------------- personas */

function persona(key = state.current) {
  return state.personas.find((p) => p.key === key) || null;
}

function initials(name) {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0].toUpperCase())
    .join("");
}

function unreadCount(p) {
  const chat = state.chats.get(p.user_id);
  if (!chat || p.key === state.current) return 0;
  const seen = state.seenSeq.get(p.key) || 0;
  let count = 0;
  for (const message of chat.values()) {
    if (message.from_bot && !message.deleted && !message.edited && message.seq > seen) count += 1;
  }
  return count;
}

function renderPersonas() {
  const list = $("persona-list");
  list.replaceChildren();
  for (const p of state.personas) {
    const button = el("button", "persona");
    button.type = "button";
    button.setAttribute("role", "tab");
    button.setAttribute("aria-selected", String(p.key === state.current));
    button.append(el("span", "persona-avatar", initials(p.name)), el("span", "persona-label", p.label));
    const unread = unreadCount(p);
    if (unread > 0) {
      const badge = el("span", "badge", String(unread));
      badge.setAttribute("aria-label", `${unread} neue Nachrichten`);
      button.append(badge);
    }
    button.addEventListener("click", () => selectPersona(p.key));
    list.append(button);
  }
}

function selectPersona(key) {
  if (!persona(key)) return;
  state.current = key;
  state.seenSeq.set(key, state.seq);
  const inPostfach = document.body.classList.contains("view-postfach");
  if (!inPostfach && location.hash !== `#${key}`) history.replaceState(null, "", `#${key}`);
  hideCommands();
  renderPersonas();
  renderHead();
  renderChat(true);
  $("input").focus({ preventScroll: true });
}

function renderHead() {
  const p = persona();
  const botName = state.bot ? state.bot.name : "Bot";
  $("chat-avatar").textContent = initials(botName);
  $("chat-title").textContent = state.bot ? `${botName} (@${state.bot.username})` : botName;
  $("chat-subtitle").textContent = p ? `Privater Chat von ${p.name}` : "";
}

/* ---------------------------------------------------------------- entities */

const SAFE_URL = /^(https?:|mailto:|tg:)/i;

function entityElement(entity, text) {
  switch (entity.type) {
    case "bold":
      return el("strong");
    case "italic":
      return el("em");
    case "underline":
      return el("u");
    case "strikethrough":
      return el("s");
    case "code":
      return el("code");
    case "pre": {
      const pre = el("pre");
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case "blockquote":
      return el("blockquote");
    case "expandable_blockquote":
      return el("blockquote", "expandable");
    case "spoiler": {
      const span = el("span", "spoiler");
      span.title = "Zum Aufdecken klicken";
      span.addEventListener("click", () => span.classList.add("revealed"));
      return span;
    }
    case "text_link":
    case "url": {
      const href = entity.type === "url" ? text : entity.url;
      if (!SAFE_URL.test(href || "")) return el("span", "link");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "bot_command":
      return el("span", "command");
    case "mention":
    case "text_mention":
    case "hashtag":
      return el("span", "mention");
    default:
      return null;
  }
}

/* Builds nodes for text + entities; overlapping entities are split. */
function renderText(text, entities, interactive) {
  const fragment = document.createDocumentFragment();
  const ordered = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const points = new Set([0, text.length]);
  for (const e of ordered) {
    points.add(Math.min(e.offset, text.length));
    points.add(Math.min(e.offset + e.length, text.length));
  }
  const bounds = [...points].sort((a, b) => a - b);
  let stack = []; // [{entity, node}]
  const parent = () => (stack.length ? stack[stack.length - 1].node : fragment);
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const start = bounds[i];
    const end = bounds[i + 1];
    const active = ordered.filter((e) => e.offset <= start && e.offset + e.length >= end);
    let keep = 0;
    while (keep < stack.length && keep < active.length && stack[keep].entity === active[keep]) keep += 1;
    stack = stack.slice(0, keep);
    for (const entity of active.slice(keep)) {
      const node = entityElement(entity, text.slice(entity.offset, entity.offset + entity.length)) || el("span");
      if (entity.type === "bot_command" && interactive) {
        node.classList.add("clickable");
        node.title = "Befehl senden";
        const command = text.slice(entity.offset, entity.offset + entity.length);
        node.addEventListener("click", () => sendText(command));
      }
      parent().append(node);
      stack.push({ entity, node });
    }
    parent().append(document.createTextNode(text.slice(start, end)));
  }
  return fragment;
}

/* -------------------------------------------------------------------- chat */

function currentMessages() {
  const p = persona();
  if (!p) return [];
  const chat = state.chats.get(p.user_id);
  if (!chat) return [];
  return [...chat.values()].filter((m) => !m.deleted).sort((a, b) => a.id - b.id);
}

/* Times as the bot sees them: in the bot's time zone, not the browser's. */
function zone() {
  return state.clock ? { timeZone: state.clock.timezone } : {};
}

function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit", ...zone() });
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} Byte`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(".", ",")} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} MB`;
}

function documentCard(document) {
  if (document.kind === "photo") {
    const figure = el("a", "photo");
    figure.href = document.url;
    figure.setAttribute("download", document.name);
    const image = el("img");
    image.src = `${document.url}?inline=1`;
    image.alt = document.name;
    figure.append(image);
    return figure;
  }
  const card = el("div", "document");
  const dot = document.name.lastIndexOf(".");
  const extension = dot > 0 ? document.name.slice(dot + 1, dot + 5).toUpperCase() : "DATEI";
  const icon = el("span", "document-icon", extension);
  icon.setAttribute("aria-hidden", "true");
  card.append(icon);
  if ((document.mime_type || "").startsWith("image/")) {
    const preview = el("img", "document-preview");
    preview.src = `${document.url}?inline=1`;
    preview.alt = document.name;
    card.prepend(preview);
    card.classList.add("with-preview");
  }
  const info = el("div", "document-info");
  info.append(el("div", "document-name", document.name), el("div", "document-size", formatSize(document.size)));
  const link = el("a", "document-download", "Herunterladen");
  link.href = document.url;
  link.setAttribute("download", document.name);
  card.append(info, link);
  return card;
}

function inlineKeyboard(message) {
  const box = el("div", "inline-keyboard");
  message.buttons.forEach((row, rowIndex) => {
    const line = el("div", "inline-row");
    row.forEach((button, columnIndex) => {
      if (button.url) {
        const link = el("a", "inline-button link-button", button.text);
        if (SAFE_URL.test(button.url)) link.href = button.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        line.append(link);
        return;
      }
      const node = el("button", "inline-button", button.text);
      node.type = "button";
      node.addEventListener("click", () => press(message, rowIndex, columnIndex, node));
      line.append(node);
    });
    box.append(line);
  });
  return box;
}

function messageNode(message) {
  const wrapper = el("div", `message ${message.from_bot ? "from-bot" : "from-me"}`);
  const bubble = el("div", "bubble");
  if (message.document) bubble.append(documentCard(message.document));
  if (message.text) {
    const body = el("div", "text");
    body.append(renderText(message.text, message.entities, message.from_bot));
    bubble.append(body);
  }
  const meta = el("div", "meta", formatTime(message.date));
  if (message.edited) meta.prepend(el("span", "edited", "bearbeitet · "));
  bubble.append(meta);
  wrapper.append(bubble);
  if (message.from_bot && message.buttons.length) wrapper.append(inlineKeyboard(message));
  return wrapper;
}

function renderChat(forceBottom) {
  const chat = $("chat");
  const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  const messages = currentMessages();
  chat.replaceChildren();
  if (!messages.length) {
    const empty = el("div", "empty");
    empty.append(
      el("p", "", state.loaded ? "Noch keine Nachrichten." : "Lade …"),
      el("p", "", state.loaded ? "Schreiben Sie zum Beispiel /start, um anzufangen." : ""),
    );
    chat.append(empty);
  }
  let lastDay = "";
  for (const message of messages) {
    const day = new Date(message.date * 1000).toLocaleDateString("de-DE", {
      weekday: "short",
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
      ...zone(),
    });
    if (day !== lastDay) {
      chat.append(el("div", "day", day));
      lastDay = day;
    }
    chat.append(messageNode(message));
  }
  renderReplyKeyboard(messages);
  if (forceBottom || nearBottom) chat.scrollTop = chat.scrollHeight;
}

function renderReplyKeyboard(messages) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  let rows = null;
  for (const message of messages) {
    if (!message.from_bot || !message.keyboard) continue;
    rows = message.keyboard.remove ? null : message.keyboard.rows;
  }
  box.hidden = !rows;
  if (!rows) return;
  for (const row of rows) {
    const line = el("div", "reply-row");
    for (const label of row) {
      const button = el("button", "reply-button", label);
      button.type = "button";
      button.addEventListener("click", () => sendText(label));
      line.append(button);
    }
    box.append(line);
  }
}

/* ----------------------------------------------------------------- actions */

function showToast(text, alert) {
  const toast = $("toast");
  toast.textContent = text;
  toast.classList.toggle("alert", Boolean(alert));
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => {
    toast.hidden = true;
  }, alert ? 6000 : 3000);
}

async function sendText(text) {
  const p = persona();
  if (!p || !text.trim()) return false;
  hideCommands();
  try {
    await postJSON(`/api/chats/${encodeURIComponent(p.key)}/send`, { text });
    return true;
  } catch (error) {
    showToast(`Senden fehlgeschlagen: ${error.message}`, true);
    return false;
  }
}

async function press(message, row, column, node) {
  const p = persona();
  if (!p) return;
  node.disabled = true;
  node.classList.add("pressed");
  try {
    const { update_id: updateId } = await postJSON(`/api/chats/${encodeURIComponent(p.key)}/press`, {
      message_id: message.id,
      row,
      column,
    });
    const answer = await api(`/api/answers/${updateId}?timeout=10`);
    if (answer.text) showToast(answer.text, answer.show_alert);
  } catch (error) {
    showToast(error.message, true);
  } finally {
    node.disabled = false;
    node.classList.remove("pressed");
  }
}

function hideCommands() {
  $("commands").hidden = true;
  $("commands-button").setAttribute("aria-expanded", "false");
}

async function toggleCommands() {
  const box = $("commands");
  if (!box.hidden) {
    hideCommands();
    return;
  }
  const p = persona();
  if (!p) return;
  const list = $("command-list");
  list.replaceChildren();
  try {
    const commands = await api(`/api/chats/${encodeURIComponent(p.key)}/commands`);
    if (!commands.length) list.append(el("li", "muted", "Der Bot hat keine Befehle hinterlegt."));
    for (const command of commands) {
      const item = el("li");
      const button = el("button", "command-item");
      button.type = "button";
      button.append(el("span", "command", `/${command.command}`), el("span", "command-description", command.description));
      button.addEventListener("click", () => {
        const input = $("input");
        input.value = `/${command.command} `;
        hideCommands();
        input.focus();
      });
      item.append(button);
      list.append(item);
    }
  } catch (error) {
    list.append(el("li", "muted", error.message));
  }
  box.hidden = false;
  $("commands-button").setAttribute("aria-expanded", "true");
}

/* -------------------------------------------------------------------- clock */

/* The sandbox's clock runs ahead of real time by `offset` seconds once a
 * person jumps; every tab learns the offset with each poll. */
function applyClock(clock) {
  if (!clock) return;
  state.clock = clock;
  $("clock").hidden = false;
  renderClock();
}

function renderClock() {
  if (!state.clock) return;
  const now = new Date(Date.now() + state.clock.offset * 1000);
  const node = $("clock-now");
  node.textContent = now.toLocaleString("de-DE", {
    weekday: "short",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...zone(),
  });
  node.dateTime = now.toISOString();
}

async function jump(name, buttons) {
  for (const button of buttons) button.disabled = true;
  showToast(name === "day" ? "Die Uhr läuft einen Tag vor …" : "Die Uhr läuft eine Stunde vor …");
  try {
    applyClock(await postJSON("/api/clock", { jump: name }));
    showToast(`Sandbox-Zeit jetzt: ${$("clock-now").textContent}`);
  } catch (error) {
    showToast(`Die Uhr ließ sich nicht vorstellen: ${error.message}`, true);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

async function setupClock() {
  try {
    applyClock(await api("/api/clock"));
  } catch (_) {
    return; // a sandbox without clock control
  }
  const buttons = [...document.querySelectorAll(".clock-button[data-jump]")];
  for (const button of buttons) {
    button.addEventListener("click", () => jump(button.dataset.jump, buttons));
  }
  setInterval(renderClock, 15000);
}

/* ------------------------------------------------------------------ polling */

function apply(result) {
  if (result.seq < state.seq) {
    // the emulator was reset: start over
    state.chats.clear();
    state.seq = 0;
    return;
  }
  let touchesCurrent = false;
  const current = persona();
  for (const message of result.messages) {
    if (!state.chats.has(message.chat_id)) state.chats.set(message.chat_id, new Map());
    state.chats.get(message.chat_id).set(message.id, message);
    if (current && message.chat_id === current.user_id) touchesCurrent = true;
  }
  state.seq = Math.max(state.seq, result.seq);
  applyClock(result.clock);
  if (current) state.seenSeq.set(current.key, state.seq);
  if (!state.loaded) {
    state.loaded = true;
    for (const p of state.personas) state.seenSeq.set(p.key, state.seq);
    touchesCurrent = true;
  }
  if (touchesCurrent) renderChat(false);
  renderPersonas();
}

async function pollForever() {
  let failures = 0;
  for (;;) {
    try {
      const timeout = state.loaded ? 25 : 0;
      apply(await api(`/api/messages?since=${state.seq}&timeout=${timeout}`));
      if (failures) $("banner").hidden = true;
      failures = 0;
    } catch (_) {
      failures += 1;
      const banner = $("banner");
      banner.textContent = "Keine Verbindung zur Sandbox – neuer Versuch …";
      banner.hidden = false;
      await sleep(Math.min(1000 * failures, 5000));
    }
  }
}

/* --------------------------------------------------------------------- start */

function setupComposer() {
  const input = $("input");
  const grow = () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    input.style.overflowY = input.scrollHeight > 160 ? "auto" : "hidden";
  };
  input.addEventListener("input", grow);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    $("send").disabled = true;
    if (await sendText(text)) {
      input.value = "";
      grow();
    }
    $("send").disabled = false;
    input.focus();
  });
  $("commands-button").addEventListener("click", toggleCommands);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hideCommands();
  });
}

async function start() {
  setupComposer();
  try {
    const info = await api("/api/personas");
    state.bot = info.bot;
    state.personas = info.personas;
  } catch (error) {
    $("banner").textContent = `Die Sandbox antwortet nicht: ${error.message}`;
    $("banner").hidden = false;
    return;
  }
  await setupClock();
  const wanted = decodeURIComponent(location.hash.slice(1));
  selectPersona(persona(wanted) ? wanted : state.personas[0] && state.personas[0].key);
  window.addEventListener("hashchange", () => {
    const key = decodeURIComponent(location.hash.slice(1));
    if (key !== state.current && persona(key)) selectPersona(key);
  });
  pollForever();
}

document.addEventListener("DOMContentLoaded", start);
