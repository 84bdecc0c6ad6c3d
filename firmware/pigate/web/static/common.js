"use strict";
// Shared by the dashboard and the playground: element building, the CSRF token, the live stream.
const pigate = {
  csrf: "",
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  },
  table(headers, rows) {
    if (!rows.length) return pigate.el("p", {class: "empty", text: "nothing yet"});
    const t = pigate.el("table", {}, pigate.el("thead", {}, pigate.el("tr", {}, ...headers.map(h => pigate.el("th", {text: h})))));
    const body = pigate.el("tbody");
    for (const r of rows) body.append(pigate.el("tr", r.attrs || {}, ...r.cells.map(c => pigate.el("td", {}, c))));
    t.append(body);
    return t;
  },
  time(iso) { return iso ? new Date(iso).toLocaleString() : ""; },
  async state() {
    const r = await fetch("/ui/state", {credentials: "same-origin"});
    if (r.status === 401) { location.href = "/login"; return null; }
    const s = await r.json();
    pigate.csrf = s.csrf;
    for (const input of document.querySelectorAll("input[name=csrf]")) input.value = s.csrf;
    return s;
  },
  async post(url, fields) {
    const body = new URLSearchParams(fields);
    body.set("csrf", pigate.csrf);
    const r = await fetch(url, {method: "POST", body, credentials: "same-origin"});
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return {ok: r.ok, status: r.status, data};
  },
  live(handlers, onState) {
    const source = new EventSource("/events");
    source.onopen = () => onState(true);
    source.onerror = () => onState(false);
    for (const [name, fn] of Object.entries(handlers)) source.addEventListener(name, ev => fn(JSON.parse(ev.data)));
    return source;
  },
};
