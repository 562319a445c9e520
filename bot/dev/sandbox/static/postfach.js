/* KIM-Bot sandbox page: the "Postfach", every e-mail the bot sent.
 *
 * Loaded after app.js and using its helpers ($, el, api, zone, formatSize,
 * SAFE_URL, state). The mails come from /api/mails (bot/dev/sandbox/
 * postfach_web.py), newest first, by long poll. A mail's text is shown with
 * DOM text nodes (its web addresses as links that open in a new tab); its
 * HTML part only inside a sandboxed iframe. The view replaces the chat;
 * the address #postfach opens it.
 */
"use strict";

const postfach = {
  mails: [], // newest first
  last: 0,
  seen: 0, // mails up to this number were seen in the view
  open: new Set(), // numbers of the mails shown opened
  html: new Set(), // numbers of the mails shown as HTML
};

if (location.hash === "#postfach") document.body.classList.add("view-postfach");

function inPostfach() {
  return document.body.classList.contains("view-postfach");
}

function showPostfach(show) {
  document.body.classList.toggle("view-postfach", show);
  $("postfach").hidden = !show;
  $("postfach-button").setAttribute("aria-pressed", String(show));
  $("postfach-button-label").textContent = show ? "Zum Chat" : "Postfach";
  if (show) {
    postfach.seen = postfach.last;
    if (location.hash !== "#postfach") history.replaceState(null, "", "#postfach");
    renderMails();
  } else if (state.current) {
    history.replaceState(null, "", `#${state.current}`);
    renderChat(true);
  }
  renderPostfachBadge();
}

function renderPostfachBadge() {
  const badge = $("postfach-badge");
  const unread = inPostfach() ? 0 : postfach.mails.filter((m) => m.number > postfach.seen).length;
  badge.hidden = unread === 0;
  badge.textContent = String(unread);
  badge.setAttribute("aria-label", `${unread} neue E-Mails`);
}

function formatMailTime(seconds) {
  return new Date(seconds * 1000).toLocaleString("de-DE", {
    weekday: "short",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...zone(),
  });
}

/* Plain text with its web addresses as links (text nodes only). */
const WEB_ADDRESS = /https?:\/\/[^\s<>"()]+/g;

function linkedText(text) {
  const fragment = document.createDocumentFragment();
  let from = 0;
  for (const match of text.matchAll(WEB_ADDRESS)) {
    const address = match[0].replace(/[.,;:!?]+$/, "");
    fragment.append(document.createTextNode(text.slice(from, match.index)));
    const link = el("a", "", address);
    if (SAFE_URL.test(address)) link.href = address;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    from = match.index + address.length;
  }
  fragment.append(document.createTextNode(text.slice(from)));
  return fragment;
}

function mailBody(mail) {
  if (postfach.html.has(mail.number) && mail.html) {
    const frame = el("iframe", "mail-html");
    frame.src = mail.html;
    frame.title = `HTML-Ansicht: ${mail.subject}`;
    frame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("referrerpolicy", "no-referrer");
    return frame;
  }
  const body = el("div", "mail-text");
  if (mail.text === null) body.append(el("em", "muted", "Diese E-Mail hat keinen Text-Teil."));
  else body.append(linkedText(mail.text));
  return body;
}

function mailCard(mail) {
  const card = el("details", "mail");
  card.open = postfach.open.has(mail.number);
  card.dataset.number = String(mail.number);
  card.addEventListener("toggle", () => {
    if (card.open) postfach.open.add(mail.number);
    else postfach.open.delete(mail.number);
  });
  const summary = el("summary", "mail-summary");
  const line = el("div", "mail-line");
  line.append(el("span", "mail-to", mail.to), el("time", "mail-time", formatMailTime(mail.received)));
  summary.append(el("div", "mail-subject", mail.subject || "(ohne Betreff)"), line);
  if (mail.attachments.length) summary.append(el("span", "mail-clip", `📎 ${mail.attachments.length}`));
  card.append(summary);

  const head = el("dl", "mail-head");
  for (const [label, value] of [
    ["Von", mail.from],
    ["An", mail.to],
    ["Datum", mail.date],
  ]) {
    head.append(el("dt", "", label), el("dd", "", value));
  }
  card.append(head);

  if (mail.html) {
    const switcher = el("div", "mail-switch");
    switcher.setAttribute("role", "group");
    switcher.setAttribute("aria-label", "Ansicht");
    for (const [label, asHtml] of [
      ["Text", false],
      ["HTML", true],
    ]) {
      const button = el("button", "mail-switch-button", label);
      button.type = "button";
      button.setAttribute("aria-pressed", String(postfach.html.has(mail.number) === asHtml));
      button.addEventListener("click", () => {
        if (asHtml) postfach.html.add(mail.number);
        else postfach.html.delete(mail.number);
        card.replaceWith(mailCard(mail));
      });
      switcher.append(button);
    }
    card.append(switcher);
  }
  card.append(mailBody(mail));

  const files = el("div", "mail-files");
  for (const file of mail.attachments) {
    const link = el("a", "mail-file");
    link.href = file.url;
    link.setAttribute("download", file.name);
    link.append(el("span", "mail-file-name", `📎 ${file.name}`), el("span", "mail-file-size", formatSize(file.size)));
    files.append(link);
  }
  const original = el("a", "mail-eml", "Original (.eml)");
  original.href = mail.eml;
  original.setAttribute("download", "");
  files.append(original);
  card.append(files);
  return card;
}

function renderRecipients() {
  const select = $("postfach-to");
  const chosen = select.value;
  const known = new Set([...select.options].map((o) => o.value));
  for (const mail of postfach.mails) {
    if (!known.has(mail.to)) {
      select.append(new Option(mail.to, mail.to));
      known.add(mail.to);
    }
  }
  select.value = chosen;
}

function renderMails() {
  if (!inPostfach()) return;
  const list = $("mail-list");
  const to = $("postfach-to").value;
  const shown = postfach.mails.filter((m) => !to || m.to === to);
  list.replaceChildren(...shown.map(mailCard));
  if (!shown.length) {
    const empty = el("div", "empty");
    empty.append(
      el("p", "", "Noch keine E-Mails."),
      el("p", "", "Geben Sie im Chat zum Beispiel /email name@beispiel.de ein."),
    );
    list.append(empty);
  }
}

async function pollMails() {
  let failures = 0;
  let loaded = false;
  for (;;) {
    try {
      const result = await api(`/api/mails?since=${postfach.last}&timeout=${loaded ? 25 : 0}`);
      failures = 0;
      if (!result.available) {
        document.body.classList.remove("view-postfach"); // a sandbox without e-mail: no Postfach
        return;
      }
      if (result.last < postfach.last) {
        // the sandbox started afresh: load again
        Object.assign(postfach, { mails: [], last: 0, seen: 0 });
        loaded = false;
        continue;
      }
      postfach.mails = [...result.mails, ...postfach.mails];
      postfach.last = result.last;
      if (!loaded || inPostfach()) postfach.seen = postfach.last; // what was there at load counts as seen
      $("postfach-button").hidden = false;
      renderRecipients();
      if (!loaded && inPostfach()) showPostfach(true);
      else if (result.mails.length) renderMails();
      renderPostfachBadge();
      loaded = true;
    } catch (_) {
      failures += 1;
      await sleep(Math.min(1000 * failures, 5000));
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("postfach-button").addEventListener("click", () => showPostfach(!inPostfach()));
  $("postfach-to").addEventListener("change", renderMails);
  window.addEventListener("hashchange", () => {
    if ((location.hash === "#postfach") !== inPostfach()) showPostfach(location.hash === "#postfach");
  });
  pollMails();
});
