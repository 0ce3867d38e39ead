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
      placeholder: "Ask about the news…", send: "Send", sources: "Sources", conversation: "Conversation",
      thinking: "Searching the articles…", hello: "Ask me about the news. Answers quote the articles, with numbered sources.",
      up: "Helpful", down: "Not helpful", thanks: "Thanks for the feedback.", refused: "The news assistant is not available on this page.",
      failed: "Something went wrong. Try again.", busy: "Too many questions right now. Try again in ", seconds: " s.",
      source: "Source", unreachable: "The news assistant cannot be reached right now. Try again later.",
      evidence: "From the articles, while the answer is written (not the answer yet):",
      evidenceNone: "No sentence of the articles answers this directly; the sources are being read.", writing: "Writing the answer…",
      related: "Closest coverage (not an answer)", noLink: "no link to the article", newTab: " (opens in a new tab)",
      you: "You asked: ", answer: "Answer: ", sourcesCount: " sources."
    },
    nl: {
      title: "Vraag het nieuws", open: "Open de nieuwsassistent", close: "Sluiten", fresh: "Nieuw gesprek",
      placeholder: "Vraag iets over het nieuws…", send: "Versturen", sources: "Bronnen", conversation: "Gesprek",
      thinking: "De artikelen worden doorzocht…", hello: "Stel een vraag over het nieuws. Antwoorden citeren de artikelen, met genummerde bronnen.",
      up: "Nuttig", down: "Niet nuttig", thanks: "Bedankt voor de feedback.", refused: "De nieuwsassistent is op deze pagina niet beschikbaar.",
      failed: "Er ging iets mis. Probeer het opnieuw.", busy: "Te veel vragen. Probeer het opnieuw over ", seconds: " s.",
      source: "Bron", unreachable: "De nieuwsassistent is nu niet bereikbaar. Probeer het later opnieuw.",
      evidence: "Uit de artikelen, terwijl het antwoord wordt geschreven (nog niet het antwoord):",
      evidenceNone: "Geen zin uit de artikelen beantwoordt dit rechtstreeks; de bronnen worden gelezen.", writing: "Het antwoord wordt geschreven…",
      related: "Verwante artikelen (geen antwoord)", noLink: "geen link naar het artikel", newTab: " (opent in een nieuw tabblad)",
      you: "Uw vraag: ", answer: "Antwoord: ", sourcesCount: " bronnen."
    }
  };
  var T = TEXT[LANG] || TEXT.en;
  var TITLE = script.getAttribute("data-title") || T.title;
  var SIDE = LEFT ? "left" : "right";
  var PHONE = "(max-width: 480px)";
  var REDUCED = "(prefers-reduced-motion: reduce)";

  var CSS = [
    // Host-page rules (even !important ones) lose to these inside the shadow tree; nothing is inherited.
    ":host{all:initial !important;display:block !important;position:fixed !important;z-index:2147483000 !important;",
    "bottom:16px !important;" + SIDE + ":16px !important}",
    // Colours as variables: a dark set when the reader's system asks for it. Every text pair is at least
    // 4.5:1, every focus ring 3:1 against what is behind it.
    ".w{--bg:#fff;--fg:#1d1d1f;--muted:#4b5059;--log:#f4f5f7;--line:#c9cfd8;--brand:#14365d;--on-brand:#fff;",
    "--link:#1a5fb4;--ring:#1a5fb4;--bot:#fff;--user:#14365d;--on-user:#fff;--related:#eef1f5;--mark:#ffe58a;",
    "--err-bg:#fdecea;--err-line:#e8a49b;--err-fg:#8a1f11;--active:#fff4c2;",
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);letter-spacing:normal;",
    "text-align:left;text-transform:none;word-spacing:normal;direction:ltr}",
    "@media (prefers-color-scheme: dark){.w{--bg:#1f2126;--fg:#eceef1;--muted:#b9bec6;--log:#17191d;--line:#4a505a;",
    "--brand:#0d2747;--link:#9cc2ff;--ring:#9cc2ff;--bot:#262930;--user:#2d5f9a;--related:#2b2f37;",
    "--err-bg:#3b1d1a;--err-line:#8a3b31;--err-fg:#ffc9c0;--active:#4a4122}}",
    "*{box-sizing:border-box;font:inherit;color:inherit;letter-spacing:inherit}",
    "button{cursor:pointer;border:0;background:none;padding:0;font-family:inherit}",
    ":focus-visible{outline:3px solid var(--ring);outline-offset:2px}",
    "header :focus-visible,.user :focus-visible{outline-color:#fff}",
    ".bubble{width:56px;height:56px;border-radius:50%;background:var(--brand);color:var(--on-brand);box-shadow:0 4px 14px rgba(0,0,0,.3);",
    "display:flex;align-items:center;justify-content:center;font-size:26px}",
    ".bubble:focus-visible{outline-color:#1a5fb4;box-shadow:0 0 0 2px #fff,0 4px 14px rgba(0,0,0,.3)}",
    ".panel{position:absolute;bottom:70px;" + SIDE + ":0;width:380px;height:560px;max-height:calc(100vh - 100px);",
    "max-height:calc(100dvh - 100px);background:var(--bg);border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);",
    "display:flex;flex-direction:column;overflow:hidden;animation:na-in .18s ease-out}",
    "@keyframes na-in{from{opacity:0;transform:translateY(10px)}to{opacity:1;transform:none}}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:var(--brand);color:var(--on-brand);flex:none}",
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}",
    "header button{color:var(--on-brand);min-width:44px;min-height:44px;padding:0 8px;border-radius:6px;font-size:13px}",
    "header button[aria-label]{font-size:24px;line-height:1}",
    "header button:hover{background:rgba(255,255,255,.15)}",
    ".log{position:relative;flex:1;min-height:0;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;",
    "background:var(--log);scroll-behavior:smooth}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere;flex:none}",
    ".user{align-self:flex-end;background:var(--user);color:var(--on-user)}",
    ".bot{align-self:flex-start;background:var(--bot);border:1px solid var(--line)}",
    ".note{align-self:center;color:var(--muted);font-size:13px;text-align:center}",
    ".as-of{color:var(--muted);font-size:13px;margin-top:4px}",
    ".error{align-self:stretch;background:var(--err-bg);border:1px solid var(--err-line);color:var(--err-fg)}",
    ".elabel{font-size:12px;font-style:italic;color:var(--muted)}",
    ".equote{color:var(--muted);font-size:14px;border-left:3px solid var(--line);padding:2px 8px;margin:2px 0 8px}",
    ".cite{color:var(--link);font-weight:600;min-width:24px;min-height:24px;padding:0 2px;border-radius:3px;",
    "text-decoration:underline;display:inline-flex;align-items:center;justify-content:center;vertical-align:baseline}",
    ".srcs,.related{margin:8px 0 0;padding:6px 0 0;border-top:1px solid var(--line);white-space:normal}",
    "h3{margin:2px 0 4px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}",
    ".srcs ol,.related ul{margin:0;padding:0;list-style:none}",
    ".src{padding:6px 0;border-bottom:1px dashed var(--line);font-size:13px}",
    ".src.active{background:var(--active)}",
    ".title{display:inline-block;min-height:24px;padding:2px 0;font-weight:600}",
    "a.title{color:var(--link);text-decoration:underline}",
    ".meta{color:var(--muted);font-size:12px}",
    ".related{border:1px dashed var(--line);border-radius:8px;background:var(--related);padding:6px 8px;margin-top:10px}",
    ".related li{padding:3px 0;font-size:13px}.related .title{font-weight:500}",
    "details{margin-top:3px}summary{cursor:pointer;color:var(--muted);font-size:12px;min-height:24px;padding:3px 0}",
    "blockquote{margin:4px 0 0;padding:4px 8px;border-left:3px solid var(--line);white-space:pre-wrap}",
    "mark{background:var(--mark);color:#1d1d1f}",
    ".fb{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px;align-items:center;font-size:13px;color:var(--muted);white-space:normal}",
    ".fb button{border:1px solid var(--line);border-radius:6px;min-height:32px;padding:0 10px;background:var(--bg);color:var(--fg)}",
    ".fb button[aria-pressed=true]{background:var(--related);border-color:var(--link)}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid var(--line);background:var(--bg);flex:none}",
    "textarea{flex:1;resize:none;height:44px;max-height:120px;padding:10px;border:1px solid #8a93a0;border-radius:8px;font-size:16px;",
    "background:var(--bg);color:var(--fg)}",
    "textarea::placeholder{color:var(--muted);opacity:1}",
    "form button{background:var(--brand);color:var(--on-brand);border-radius:8px;padding:0 14px;min-height:44px;font-weight:600}",
    "form button:disabled{opacity:.6;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (prefers-reduced-motion: reduce){.panel{animation:none}.log{scroll-behavior:auto}}",
    // A phone: the open panel is the whole screen (the launcher hides under it; Tab stays inside).
    "@media " + PHONE + "{:host{bottom:12px !important;" + SIDE + ":12px !important}",
    ".panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}",
    ".w.open .bubble{display:none}}"
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
  var panel = el("section", { "class": "panel", id: "na-panel", role: "dialog", "aria-labelledby": "na-title", hidden: "" });
  var header = el("header");
  var heading = el("h2", { id: "na-title" }, TITLE);
  var freshBtn = el("button", { type: "button" }, T.fresh);
  var closeBtn = el("button", { type: "button", "aria-label": T.close, title: T.close }, "×");
  header.append(heading, freshBtn, closeBtn);
  // Not a live region: the whole answer is announced once, when complete, by ``announcer``.
  var log = el("div", { "class": "log", role: "region", "aria-label": T.conversation, tabindex: "0" });
  var form = el("form");
  var label = el("label", { "class": "sr", "for": "na-q" }, T.placeholder);
  var input = el("textarea", { id: "na-q", placeholder: T.placeholder, rows: "1", maxlength: "2000" });
  var sendBtn = el("button", { type: "submit" }, T.send);
  form.append(label, input, sendBtn);
  panel.append(header, log, form);
  var announcer = el("div", { "class": "sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  var wrap = el("div", { "class": "w" });
  wrap.append(panel, bubble, announcer);
  root.appendChild(wrap);

  function matches(query) { return !!(window.matchMedia && window.matchMedia(query).matches); }
  function onPhone() { return matches(PHONE); }

  function setOpen(open, focus) {
    state.open = open;
    save();
    panel.hidden = !open;
    wrap.classList.toggle("open", open);
    bubble.setAttribute("aria-expanded", String(open));
    if (open && onPhone()) panel.setAttribute("aria-modal", "true"); else panel.removeAttribute("aria-modal");
    if (open) keepLastQuestionInView();
    if (open && focus !== false) input.focus();
    if (!open && focus !== false) bubble.focus();
  }
  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); setOpen(false); return; }
    if (e.key === "Tab" && onPhone()) trapFocus(e);
  });
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

  // On a phone the panel covers the page: Tab and Shift+Tab go round the panel's own controls.
  function trapFocus(e) {
    var all = panel.querySelectorAll("button, a[href], textarea, summary, [tabindex]:not([tabindex='-1'])");
    var shown = Array.prototype.filter.call(all, function (node) {
      return !node.disabled && node.getClientRects().length > 0;
    });
    if (!shown.length) return;
    var first = shown[0], last = shown[shown.length - 1], active = root.activeElement;
    if (e.shiftKey && (active === first || !panel.contains(active))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (active === last || !panel.contains(active))) { e.preventDefault(); first.focus(); }
  }

  // The question stays in view above its answer: the log shows a turn from its question down.
  function showFrom(node) {
    if (!node) return;
    var top = Math.max(0, node.offsetTop - 12);
    if (log.scrollTo) log.scrollTo({ top: top, behavior: matches(REDUCED) ? "auto" : "smooth" });
    else log.scrollTop = top;
  }
  function keepLastQuestionInView() {
    var asked = log.querySelectorAll(".msg.user");
    if (asked.length) showFrom(asked[asked.length - 1]);
  }

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

  // An article's title: a link when it has a web address, plain text (not styled as one) when not.
  function articleTitle(s, prefix) {
    var url = safeUrl(s.url);
    var name = prefix + (s.title || s.doc_id);
    if (!url) return el("span", { "class": "title" }, name);
    var link = el("a", { "class": "title", href: url, target: "_blank", rel: "noopener noreferrer" }, name);
    link.appendChild(el("span", { "class": "sr" }, T.newTab));
    return link;
  }

  function articleMeta(s) {
    var meta = [s.outlet, s.date].filter(Boolean);
    if (!safeUrl(s.url)) meta.push(T.noLink);
    return el("div", { "class": "meta" }, meta.join(" · "));
  }

  function sourcesList(sources) {
    var box = el("section", { "class": "srcs", "aria-label": T.sources });
    box.appendChild(el("h3", { "aria-hidden": "true" }, T.sources));
    var list = el("ol");
    (sources || []).forEach(function (s) {
      var item = el("li", { "class": "src", "data-n": String(s.number) });
      item.append(articleTitle(s, "[" + s.number + "] "), articleMeta(s));
      var details = el("details");
      details.append(el("summary", null, T.source + " " + s.number), passageWithMarks(s.passage || "", s.supporting));
      item.appendChild(details);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  // A refusal's closest articles: coverage of the topic that does not answer; never numbered or cited.
  function relatedList(related) {
    var box = el("section", { "class": "related", "aria-label": T.related });
    box.appendChild(el("h3", { "aria-hidden": "true" }, T.related));
    var list = el("ul");
    related.forEach(function (s) {
      var item = el("li");
      item.append(articleTitle(s, ""), articleMeta(s));
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
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

  // A citation opens its source, shows it and takes the keyboard there (its link, else its passage).
  function reveal(msg, n) {
    var items = msg.querySelectorAll(".src");
    for (var i = 0; i < items.length; i++) {
      var on = items[i].getAttribute("data-n") === String(n);
      items[i].classList.toggle("active", on);
      if (on) {
        items[i].querySelector("details").open = true;
        items[i].scrollIntoView({ block: "nearest", behavior: matches(REDUCED) ? "auto" : "smooth" });
        (items[i].querySelector("a.title") || items[i].querySelector("summary")).focus({ preventScroll: true });
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

  function userMessage(text) {
    var msg = el("div", { "class": "msg user" });
    msg.append(el("span", { "class": "sr" }, T.you), document.createTextNode(text));
    return msg;
  }

  function botMessage(turn) {
    var msg = el("div", { "class": "msg bot" });
    var body = el("div", { "class": "text" });
    msg.appendChild(body);
    var numbers = (turn.sources || []).map(function (s) { return s.number; });
    answerText(body, turn.text, numbers);
    if (turn.revision_label) msg.appendChild(el("div", { "class": "as-of revision" }, turn.revision_label));
    if (turn.as_of_label) msg.appendChild(el("div", { "class": "as-of" }, turn.as_of_label));
    if (turn.sources && turn.sources.length) msg.appendChild(sourcesList(turn.sources));
    if (turn.related && turn.related.length) msg.appendChild(relatedList(turn.related));
    if (turn.turn_id) msg.appendChild(feedbackRow(turn));
    return msg;
  }

  function errorMessage(text, alert) {
    return el("div", alert ? { "class": "msg error", role: "alert" } : { "class": "msg error" }, text);
  }

  function render() {
    log.textContent = "";
    log.appendChild(el("div", { "class": "note" }, T.hello));
    state.turns.forEach(function (turn) {
      if (turn.role === "user") log.appendChild(userMessage(turn.text));
      else if (turn.role === "error") log.appendChild(errorMessage(turn.text, false));
      else log.appendChild(botMessage(turn));
    });
    keepLastQuestionInView();
  }

  function announce(text) {
    announcer.textContent = "";
    // a new text node in a cleared region: announced even when it repeats the last answer word for word
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // --- server ----------------------------------------------------------------------------------
  // What the reader is told stays plain; set-up problems (SITES, CORS, the server) go to the console,
  // and the server's log says what to change.
  function setupProblem(detail) {
    if (window.console && console.warn) console.warn("News assistant (site key " + JSON.stringify(SITE) + "): " + detail);
  }

  // fetch() rejects without a response when CORS refuses this origin or the network fails.
  function reach(url, options) {
    return fetch(url, options).catch(function (e) {
      setupProblem("no answer from " + BASE + " (" + (e && e.message) + "): the server is down, or this page's " +
                   "origin (" + location.origin + ") is not in its SITES setting.");
      throw new Error(T.unreachable);
    });
  }

  function failure(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      var detail = (body && body.error && body.error.message) || ("HTTP " + response.status);
      var message = T.failed;
      if (response.status === 429) message = T.busy + (response.headers.get("Retry-After") || "60") + T.seconds;
      else if (response.status === 400 || response.status === 413) message = detail;  // about the question
      else if (response.status === 401 || response.status === 403) { message = T.refused; setupProblem(detail); }
      else setupProblem(detail);
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
    var asked = userMessage(question);
    var msg = el("div", { "class": "msg bot", "aria-busy": "true" });
    var body = el("div", { "class": "text" }, T.thinking);
    msg.appendChild(body);
    log.append(asked, msg);
    showFrom(asked);
    sendBtn.disabled = true;
    var streamed = "", done = null, failed = null;
    // The server keeps the conversation: a follow-up sends its id only. When the server no longer has
    // it (expired: 404), the turns on this page go as history and a new conversation starts.
    var fresh = { question: question, history: history };
    var payload = state.conversation ? { question: question, conversation_id: state.conversation } : fresh;
    send("/api/chat", payload, "text/event-stream").then(function (r) {
      if (r.status !== 404 || payload === fresh) return r;
      state.conversation = null;
      return send("/api/chat", fresh, "text/event-stream");
    }).then(function (r) {
      if (!r.ok) return failure(r);
      return readEvents(r, function (name, data) {
        var value = JSON.parse(data);
        if (name === "evidence") {
          showEvidence(msg, body, value);
        } else if (name === "token") {
          streamed += value.text;
          body.textContent = streamed;
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
      var turn = { role: "assistant", text: done.answer, sources: done.sources, related: done.related || [],
                   turn_id: done.turn_id, abstained: done.abstained,
                   as_of_label: done.as_of_label || "", revision_label: done.revision_label || "" };
      state.turns.push(turn);
      log.replaceChild(botMessage(turn), msg);
      var count = (done.sources || []).length;
      announce(T.answer + done.answer + (count ? " " + count + T.sourcesCount : ""));
    }).catch(function (err) {
      var text = err.message || T.failed;
      state.turns.push({ role: "error", text: text });
      log.replaceChild(errorMessage(text, true), msg);
    }).then(function () {
      save();
      showFrom(asked);
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
