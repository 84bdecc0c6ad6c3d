"use strict";
// The dashboard: a first paint from /ui/state, then every section as the live stream sends it.
(function () {
  const {el, table, time} = pigate;
  const body = id => document.querySelector(`#${id} .body`);

  function bars(n) {
    const b = el("span", {class: "bars", title: `${n} of 5`});
    for (let i = 1; i <= 5; i++) b.append(el("i", {class: i <= n ? "on" : ""}));
    return b;
  }
  const REGISTRATION = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"};
  const badge = (state) => el("span", {class: `badge s-${String(state || "").replace(/[^a-z_]/gi, "")}`, text: state || "?"});

  const render = {
    lines(lines) {
      const box = body("modems");
      box.replaceChildren(...lines.map(l => el("div", {class: "modem", "data-line": l.name},
        el("h3", {}, l.name, " ", badge(l.state)),
        el("dl", {},
          el("dt", {text: "Model"}), el("dd", {text: l.model || "?"}),
          el("dt", {text: "Number"}), el("dd", {text: l.number || ""}),
          el("dt", {text: "SIM"}), el("dd", {text: l.sim || "none"}),
          el("dt", {text: "Operator"}), el("dd", {text: l.operator || "none"}),
          el("dt", {text: "Signal"}), el("dd", {class: "signal"}, bars(l.signal_bars),
            el("span", {class: "signal-value", text: l.signal_percent === null ? "no signal" : `${l.signal_percent}%` + (l.signal_dbm !== null ? ` (${l.signal_dbm} dBm)` : "")})),
          el("dt", {text: "Registration"}), el("dd", {text: REGISTRATION[l.registration] || String(l.registration ?? "")}),
          el("dt", {text: "Last error"}), el("dd", {class: l.last_error ? "error" : "error none", text: l.last_error || "none"}),
        ))));
      if (!lines.length) box.replaceChildren(el("p", {class: "empty", text: "no modem configured"}));
    },
    sip(accounts) {
      body("sip").replaceChildren(accounts.length
        ? table(["Trunk", "Kind", "Where", "State", "Last error"], accounts.map(a => ({attrs: {"data-trunk": a.name},
          cells: [a.name, a.kind, a.where, el("span", {class: "trunk-state", "data-state": a.state}, badge(a.state)),
            el("span", {class: a.last_error ? "error" : "error none", text: a.last_error || "none"})]})))
        : el("p", {class: "empty", text: "no SIP trunk configured"}));
    },
    leds(leds) {
      const set = (name, pattern) => { const led = document.getElementById(`led-${name}`); led.dataset.pattern = pattern; };
      set("power", leds.power);
      set("network", leds.network);
    },
    activity() {
      const led = document.getElementById("led-activity");
      led.dataset.pattern = "on";
      clearTimeout(render._act);
      render._act = setTimeout(() => { led.dataset.pattern = "off"; }, 120);
    },
    calls(calls) {
      body("calls").replaceChildren(table(["Call", "Direction", "From", "To", "State", "Talk"],
        calls.map(c => ({cells: [c.id, c.direction, c.from, c.to, badge(c.state), `${c.talk_seconds}s`]}))));
    },
    outbox(msgs) {
      body("outbox").replaceChildren(table(["Created", "To", "Text", "State", "Parts", "Line"], msgs.map(m => ({
        attrs: {"data-sms": m.id},
        cells: [time(m.created), m.recipient, el("span", {class: "text", text: m.text}),
          el("span", {class: "sms-state", "data-state": m.state}, badge(m.state), m.reason ? ` ${m.reason}` : ""),
          el("span", {class: "parts"}, ...m.parts.map(p => el("span", {class: "part",
            title: `part ${p.seq}: ${p.state}` + (p.reference !== null ? `, reference ${p.reference}` : "") + (p.report ? `, report ${p.report}` : "") + (p.reason ? `, ${p.reason}` : "")},
            `${p.seq}: ${p.state}${p.report ? " / " + p.report : ""}`))),
          m.line || ""]}))));
    },
    inbox(msgs) {
      body("inbox").replaceChildren(table(["Received", "From", "Line", "Text"], msgs.map(m => ({
        cells: [time(m.received), m.from, m.line, el("span", {class: "text", text: m.text + (m.incomplete ? " (incomplete)" : "")})]}))));
    },
    history(calls) {
      body("history").replaceChildren(table(["Started", "Direction", "From", "To", "Result", "Talk", "Recording"], calls.map(c => ({
        cells: [time(c.started), c.direction, c.from, c.to, c.result || c.state, `${c.talk_seconds}s`,
          el("span", {}, ...c.recordings.map(r => el("audio", {controls: "", preload: "none", src: r.url})))]}))));
    },
    webhooks(w) {
      const posts = table(["At", "Notification", "URL", "Answer", "Time", "Error"], w.posts.map(d => ({
        cells: [time(d.at), d.kind, el("span", {class: "url", text: d.url}), d.status === null ? "none" : String(d.status),
          `${Math.round(d.seconds * 1000)} ms`, el("span", {class: "error", text: d.error})]})));
      const queue = table(["Notification", "For", "URL", "State", "Attempts", "Next try", "Last error"], w.sms_queue.map(h => ({
        cells: [h.kind, h.subject, el("span", {class: "url", text: h.url}), badge(h.state), String(h.attempts), time(h.next_attempt),
          el("span", {class: "error", text: h.last_error || ""})]})));
      body("webhooks").replaceChildren(el("h3", {text: "Posts"}), posts, el("h3", {text: "SMS notification queue (retries)"}), queue);
    },
  };

  function paint(sections) { for (const [name, data] of Object.entries(sections)) if (render[name]) render[name](data); }

  async function start() {
    const s = await pigate.state();
    if (!s) return;
    document.getElementById("nav-playground").hidden = !s.playground;
    document.getElementById("logout").hidden = !s.auth;
    paint(s.sections);
    const live = document.getElementById("live");
    const handlers = {};
    for (const name of Object.keys(render)) handlers[name] = data => render[name](data);
    for (const name of ["outbox", "inbox", "calls"]) handlers[name] = data => { render[name](data); render.activity(); };
    pigate.live(handlers, up => { live.textContent = up ? "live" : "offline"; live.className = `live ${up ? "on" : "off"}`; });
    document.getElementById("send-form").addEventListener("submit", async ev => {
      ev.preventDefault();
      const form = ev.target;
      const out = document.getElementById("send-result");
      out.textContent = "sending…";
      const r = await pigate.post("/ui/sms", {recipient: form.recipient.value, text: form.text.value});
      if (r.ok) { out.textContent = `accepted: ${r.data.id}`; out.dataset.sms = r.data.id; form.text.value = ""; }
      else out.textContent = (r.data && (r.data.detail || r.data.title)) || `failed (${r.status})`;
    });
  }
  start();
})();
