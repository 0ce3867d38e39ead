/* News assistant chat widget. Embed with:
 *   <script src="https://HOST/widget.js" data-site-key="KEY" defer></script>
 * Optional: data-title, data-lang ("en" | "nl"), data-position ("right" | "left").
 * Dependency-free; lives in a Shadow DOM; everything from documents or the model is set as text
 * (textContent), never parsed as HTML. The conversation is kept in sessionStorage.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__newsAssistantWidget) return;
  window.__newsAssistantWidget = true;

  var SITE = script.getAttribute("data-site-key") || "";
  var BASE = new URL(script.src, location.href).origin;
  var LANG = (script.getAttribute("data-lang") || document.documentElement.lang || "en").slice(0, 2);
  var LEFT = script.getAttribute("data-position") === "left";
  var STORE_KEY = "news-assistant:" + SITE;
  var TOKEN_KEY = "news-assistant-token:" + SITE;
  var HISTORY_TURNS = 6;

  var TEXT = {
    en: {
      title: "Ask the news", open: "Open the news assistant", close: "Close", fresh: "New conversation",
      placeholder: "Ask about the news…", send: "Send", sources: "Sources",
      thinking: "Searching the articles…", hello: "Ask me about the news. Answers quote the articles, with numbered sources.",
      up: "Helpful", down: "Not helpful", thanks: "Thanks for the feedback.", refused: "This site is not allowed to use the assistant.",
      failed: "Something went wrong. Try again.", busy: "Too many questions right now. Try again in ", seconds: " s.",
      source: "Source", unreachable: "The assistant cannot be reached from this page: this site may not be allowed to use it, or the connection failed.",
      evidence: "From the articles, while the answer is written (not the answer yet):",
      evidenceNone: "No sentence of the articles answers this directly; the sources are being read.", writing: "Writing the answer…"
    },
    nl: {
      title: "Vraag het nieuws", open: "Open de nieuwsassistent", close: "Sluiten", fresh: "Nieuw gesprek",
      placeholder: "Vraag iets over het nieuws…", send: "Versturen", sources: "Bronnen",
      thinking: "De artikelen worden doorzocht…", hello: "Stel een vraag over het nieuws. Antwoorden citeren de artikelen, met genummerde bronnen.",
      up: "Nuttig", down: "Niet nuttig", thanks: "Bedankt voor de feedback.", refused: "Deze site mag de assistent niet gebruiken.",
      failed: "Er ging iets mis. Probeer het opnieuw.", busy: "Te veel vragen. Probeer het opnieuw over ", seconds: " s.",
      source: "Bron", unreachable: "De assistent is vanaf deze pagina niet bereikbaar: deze site mag hem misschien niet gebruiken, of de verbinding mislukte.",
      evidence: "Uit de artikelen, terwijl het antwoord wordt geschreven (nog niet het antwoord):",
      evidenceNone: "Geen zin uit de artikelen beantwoordt dit rechtstreeks; de bronnen worden gelezen.", writing: "Het antwoord wordt geschreven…"
    }
  };
  var T = TEXT[LANG] || TEXT.en;
  var TITLE = script.getAttribute("data-title") || T.title;

  var CSS = [
    // Host-page rules (even !important ones) lose to these inside the shadow tree; nothing is inherited.
    ":host{all:initial !important;display:block !important;position:fixed !important;z-index:2147483000 !important;",
    "bottom:16px !important;" + (LEFT ? "left" : "right") + ":16px !important}",
    ".w{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f;letter-spacing:normal;",
    "text-align:left;text-transform:none;word-spacing:normal;direction:ltr}",
    "*{box-sizing:border-box;font:inherit;color:inherit;letter-spacing:inherit}",
    "button{cursor:pointer;border:0;background:none;padding:0;font-family:inherit}",
    ":focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
    ".bubble{width:56px;height:56px;border-radius:50%;background:#14365d;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.3);",
    "display:flex;align-items:center;justify-content:center;font-size:26px}",
    ".panel{position:absolute;bottom:70px;" + (LEFT ? "left" : "right") + ":0;width:380px;height:560px;max-height:calc(100vh - 100px);",
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:#14365d;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}",
    "header button{color:#fff;min-width:40px;min-height:40px;padding:0 8px;border-radius:6px;font-size:13px}",
    "header button[aria-label]{font-size:24px;line-height:1}",
    "header button:hover{background:rgba(255,255,255,.15)}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}",
    ".user{align-self:flex-end;background:#14365d;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #dde1e6}",
    ".note{align-self:center;color:#555;font-size:13px;text-align:center}",
    ".error{align-self:stretch;background:#fdecea;border:1px solid #f5c2bd;color:#8a1f11}",
    ".elabel{font-size:12px;font-style:italic;color:#555}",
    ".equote{color:#444;font-size:14px;border-left:3px solid #c9d3df;padding:2px 8px;margin:2px 0 8px}",
    ".cite{color:#1a5fb4;font-weight:600;padding:0 1px;border-radius:3px;text-decoration:underline}",
    ".sources{margin:8px 0 0;padding:0;list-style:none;border-top:1px solid #e4e7eb;white-space:normal}",
    ".sources h3{margin:6px 0 2px;font-size:12px;text-transform:uppercase;color:#555;font-weight:600}",
    ".src{padding:6px 0;border-bottom:1px dashed #e4e7eb;font-size:13px}",
    ".src.active{background:#fff8d6}",
    ".src a,.src .t{color:#1a5fb4;font-weight:600}",
    ".meta{color:#666;font-size:12px}",
    "details{margin-top:3px}summary{cursor:pointer;color:#444;font-size:12px}",
    "blockquote{margin:4px 0 0;padding:4px 8px;border-left:3px solid #c9d3df;color:#333;white-space:pre-wrap}",
    "mark{background:#ffe58a;color:inherit}",
    ".fb{display:flex;gap:6px;margin-top:6px;align-items:center;font-size:12px;color:#555}",
    ".fb button{border:1px solid #ccd2da;border-radius:6px;min-height:32px;padding:0 10px;background:#fff}",
    ".fb button[aria-pressed=true]{background:#dbe9ff;border-color:#1a5fb4}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e7eb;background:#fff}",
    "textarea{flex:1;resize:none;height:44px;max-height:120px;padding:10px;border:1px solid #b8c0cc;border-radius:8px;font-size:16px}",
    "form button{background:#14365d;color:#fff;border-radius:8px;padding:0 14px;min-height:44px;font-weight:600}",
    "form button:disabled{opacity:.5;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){:host{bottom:12px !important;" + (LEFT ? "left" : "right") + ":12px !important}",
    ".panel{position:fixed;inset:0;width:100vw;height:100%;max-height:none;border-radius:0}}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text != null) node.textContent = String(text);
    return node;
  }

  function icon(path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    var shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    shape.setAttribute("fill", "currentColor");
    svg.appendChild(shape);
    return svg;
  }

  // --- state -----------------------------------------------------------------------------------
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || null; } catch (e) { return null; }
  }
  var state = load() || { conversation: null, turns: [], open: false };
  function save() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }

  // --- DOM -------------------------------------------------------------------------------------
  var host = el("news-assistant-widget", { "data-news-assistant": "" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", null, CSS));
  var bubble = el("button", { "class": "bubble", "aria-label": T.open, "aria-expanded": "false", "aria-controls": "na-panel" });
  bubble.appendChild(icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"));
  var panel = el("section", { "class": "panel", id: "na-panel", role: "dialog", "aria-label": TITLE, hidden: "" });
  var header = el("header");
  var heading = el("h2", null, TITLE);
  var freshBtn = el("button", { type: "button", title: T.fresh }, T.fresh);
  var closeBtn = el("button", { type: "button", "aria-label": T.close, title: T.close }, "×");
  header.append(heading, freshBtn, closeBtn);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", tabindex: "0" });
  var form = el("form");
  var label = el("label", { "class": "sr", "for": "na-q" }, T.placeholder);
  var input = el("textarea", { id: "na-q", placeholder: T.placeholder, rows: "1", maxlength: "2000" });
  var sendBtn = el("button", { type: "submit" }, T.send);
  form.append(label, input, sendBtn);
  panel.append(header, log, form);
  var wrap = el("div", { "class": "w" });
  wrap.append(panel, bubble);
  root.appendChild(wrap);

  function setOpen(open, focus) {
    state.open = open;
    save();
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    if (open && focus !== false) input.focus();
    if (!open && focus !== false) bubble.focus();
  }
  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); setOpen(false); } });
  freshBtn.addEventListener("click", function () {
    state.conversation = null; state.turns = []; save(); render(); input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (q && !sendBtn.disabled) { input.value = ""; ask(q); }
  });

  // --- rendering (text only) --------------------------------------------------------------------
  function safeUrl(url) {
    try { var u = new URL(url); return u.protocol === "https:" || u.protocol === "http:" ? u.href : null; } catch (e) { return null; }
  }

  function passageWithMarks(passage, supporting) {
    var box = el("blockquote");
    var ranges = [];
    (supporting || []).forEach(function (s) {
      var at = s ? passage.indexOf(s) : -1;
      if (at >= 0) ranges.push([at, at + s.length]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    ranges.forEach(function (r) {
      if (r[0] < pos) return;
      box.append(document.createTextNode(passage.slice(pos, r[0])), el("mark", null, passage.slice(r[0], r[1])));
      pos = r[1];
    });
    box.append(document.createTextNode(passage.slice(pos)));
    return box;
  }

  function sourcesList(sources) {
    var list = el("ol", { "class": "sources", "aria-label": T.sources });
    var h = el("h3", null, T.sources);
    list.appendChild(h);
    (sources || []).forEach(function (s) {
      var item = el("li", { "class": "src", "data-n": String(s.number) });
      var url = safeUrl(s.url);
      var name = "[" + s.number + "] " + (s.title || s.doc_id);
      item.appendChild(url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name) : el("span", { "class": "t" }, name));
      var meta = [s.outlet, s.date].filter(Boolean).join(" · ");
      if (meta) item.appendChild(el("div", { "class": "meta" }, meta));
      var details = el("details");
      details.append(el("summary", null, T.source + " " + s.number), passageWithMarks(s.passage || "", s.supporting));
      item.appendChild(details);
      list.appendChild(item);
    });
    return list;
  }

  function answerText(box, text, numbers) {
    box.textContent = "";
    var parts = String(text).split(/(\[\d{1,3}\])/);
    parts.forEach(function (part) {
      var m = /^\[(\d{1,3})\]$/.exec(part);
      if (m && numbers.indexOf(Number(m[1])) >= 0) {
        var b = el("button", { type: "button", "class": "cite", "aria-label": T.source + " " + m[1] }, part);
        b.addEventListener("click", function () { reveal(box.parentNode, m[1]); });
        box.appendChild(b);
      } else if (part) {
        box.appendChild(document.createTextNode(part));
      }
    });
  }

  function reveal(msg, n) {
    var items = msg.querySelectorAll(".src");
    for (var i = 0; i < items.length; i++) {
      var on = items[i].getAttribute("data-n") === String(n);
      items[i].classList.toggle("active", on);
      if (on) {
        items[i].querySelector("details").open = true;
        items[i].scrollIntoView({ block: "nearest" });
      }
    }
  }

  function feedbackRow(turn) {
    var row = el("div", { "class": "fb" });
    [[1, T.up], [-1, T.down]].forEach(function (opt) {
      var b = el("button", { type: "button", "aria-pressed": String(turn.rating === opt[0]) }, opt[1]);
      b.addEventListener("click", function () {
        call("/api/feedback", { turn_id: turn.turn_id, rating: opt[0] }).then(function () {
          turn.rating = opt[0]; save();
          row.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
          status.textContent = T.thanks;
        }).catch(function (err) { status.textContent = err.message; });
      });
      row.appendChild(b);
    });
    var status = el("span", { role: "status" });
    row.appendChild(status);
    return row;
  }

  // While the model writes: the articles quoted (citing the turn's sources, listed below), marked as
  // not the answer; the answer's text then grows in ``body``, and replaces all of it when done.
  function showEvidence(msg, body, evidence) {
    var numbers = (evidence.sources || []).map(function (s) { return s.number; });
    msg.insertBefore(el("div", { "class": "elabel" }, evidence.abstained ? T.evidenceNone : T.evidence), body);
    if (!evidence.abstained) {
      var quote = el("div", { "class": "equote" });
      msg.insertBefore(quote, body);
      answerText(quote, evidence.answer, numbers);
    }
    body.textContent = T.writing;
    if (numbers.length) msg.appendChild(sourcesList(evidence.sources));
  }

  function botMessage(turn) {
    var msg = el("div", { "class": "msg bot" });
    var body = el("div", { "class": "text" });
    msg.appendChild(body);
    fillBot(msg, turn);
    return msg;
  }

  function fillBot(msg, turn) {
    var numbers = (turn.sources || []).map(function (s) { return s.number; });
    answerText(msg.querySelector(".text"), turn.text, numbers);
    if (turn.sources && turn.sources.length) msg.appendChild(sourcesList(turn.sources));
    if (turn.turn_id) msg.appendChild(feedbackRow(turn));
  }

  function render() {
    log.textContent = "";
    log.appendChild(el("div", { "class": "note" }, T.hello));
    state.turns.forEach(function (turn) {
      if (turn.role === "user") log.appendChild(el("div", { "class": "msg user" }, turn.text));
      else if (turn.role === "error") log.appendChild(el("div", { "class": "msg error", role: "alert" }, turn.text));
      else log.appendChild(botMessage(turn));
    });
    log.scrollTop = log.scrollHeight;
  }

  // --- server ----------------------------------------------------------------------------------
  // fetch() rejects without a response when CORS refuses this origin or the network fails.
  function reach(url, options) {
    return fetch(url, options).catch(function () { throw new Error(T.unreachable); });
  }

  function failure(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      var message = (body && body.error && body.error.message) || T.failed;
      if (response.status === 429) message = T.busy + (response.headers.get("Retry-After") || "60") + T.seconds;
      if (response.status === 403) message = T.refused + " (" + message + ")";
      var err = new Error(message);
      err.status = response.status;
      return Promise.reject(err);
    });
  }

  function session(renew) {
    if (!renew) {
      try {
        var cached = JSON.parse(sessionStorage.getItem(TOKEN_KEY));
        if (cached && cached.expires > Date.now() + 30000) return Promise.resolve(cached.token);
      } catch (e) { /* fetch a new one */ }
    }
    return reach(BASE + "/api/widget/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ site_key: SITE })
    }).then(function (r) {
      if (!r.ok) return failure(r);
      return r.json().then(function (body) {
        try { sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: body.token, expires: Date.now() + body.expires_in * 1000 })); } catch (e) { /* ignore */ }
        return body.token;
      });
    });
  }

  function post(path, body, token, accept) {
    return reach(BASE + path, {
      method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "Accept": accept || "application/json", "X-Widget-Token": token }
    });
  }

  // POST with a session token; a stale token (401) is renewed once.
  function send(path, body, accept) {
    return session(false).then(function (token) {
      return post(path, body, token, accept).then(function (r) {
        if (r.status !== 401) return r;
        return session(true).then(function (fresh) { return post(path, body, fresh, accept); });
      });
    });
  }

  function call(path, body) {
    return send(path, body).then(function (r) { return r.ok ? r.json() : failure(r); });
  }

  // Server-sent events from a fetch body: calls onEvent(name, data) per event.
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function flush(block) {
      var name = "message", data = [];
      block.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) onEvent(name, data.join("\n"));
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { if (buffer.trim()) flush(buffer); return; }
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split(/\r?\n\r?\n/);
        buffer = parts.pop();
        parts.forEach(flush);
        return pump();
      });
    }
    return pump();
  }

  function ask(question) {
    var history = [];
    state.turns.filter(function (t) { return t.role !== "error"; }).slice(-2 * HISTORY_TURNS).forEach(function (t) {
      history.push({ role: t.role, content: t.text });
    });
    state.turns.push({ role: "user", text: question });
    save();
    render();
    var msg = el("div", { "class": "msg bot", "aria-busy": "true" });
    var body = el("div", { "class": "text" }, T.thinking);
    msg.appendChild(body);
    log.appendChild(msg);
    log.scrollTop = log.scrollHeight;
    sendBtn.disabled = true;
    var streamed = "", done = null, failed = null;
    var payload = { question: question, history: history };
    if (state.conversation) payload.conversation_id = state.conversation;
    send("/api/chat", payload, "text/event-stream").then(function (r) {
      if (!r.ok) return failure(r);
      return readEvents(r, function (name, data) {
        var value = JSON.parse(data);
        if (name === "evidence") {
          showEvidence(msg, body, value);
          log.scrollTop = log.scrollHeight;
        } else if (name === "token") {
          streamed += value.text;
          body.textContent = streamed;
          log.scrollTop = log.scrollHeight;
        } else if (name === "done") {
          done = value;
        } else if (name === "error") {
          failed = new Error((value.error && value.error.message) || T.failed);
        }
      });
    }).then(function () {
      if (failed) throw failed;
      if (!done) throw new Error(T.failed);
      state.conversation = done.conversation_id;
      state.turns.push({ role: "assistant", text: done.answer, sources: done.sources, turn_id: done.turn_id, abstained: done.abstained });
    }).catch(function (err) {
      state.turns.push({ role: "error", text: err.message || T.failed });
    }).then(function () {
      save();
      render();
      sendBtn.disabled = false;
      input.focus();
    });
  }

  function start() {
    document.body.appendChild(host);
    render();
    if (state.open) setOpen(true, false);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
