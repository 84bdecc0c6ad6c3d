"use strict";
// The playground: lint and run a script on a call to the simulator's handset, press its keys, follow what is
// spoken and played (the live stream's `media` events of this call), and listen to what the handset heard.
(function () {
  const {el} = pigate;
  const $ = id => document.getElementById(id);
  const EXAMPLE = `<Response>
<UserInput timeout="10" repeat="true">
<InitialCommands>
<Speak>Welcome to the pigate IVR.</Speak>
<Speak>To hear some news, press 1.</Speak>
<Speak>To do nothing, press 2.</Speak>
</InitialCommands>
<Inputs>
<Input key="1"><Speak>There is no news today.</Speak></Input>
<Input key="2"><Speak>You pressed button 2. You did nothing.</Speak></Input>
</Inputs>
</UserInput>
<Speak>Good bye.</Speak>
</Response>`;
  let callId = null;

  function showProblems(problems) {
    const list = $("problems");
    list.replaceChildren(...problems.map(p => el("li", {class: "problem", "data-line": p.line, "data-column": p.column},
      el("b", {text: `line ${p.line}, column ${p.column}: `}), p.message)));
  }

  async function refresh() {
    const r = await fetch("/playground/state", {credentials: "same-origin"});
    if (!r.ok) return;
    const s = await r.json();
    $("handset-number").textContent = s.handset;
    $("call-state").textContent = s.call ? s.call.state : "none";
    if (callId && s.call) $("run-state").textContent = `call ${callId}: ${s.call.state}`;
  }

  async function start() {
    const s = await pigate.state();
    if (!s) return;
    $("ozml").value = localStorage.getItem("pigate.ozml") || EXAMPLE;
    for (const key of "123456789*0#") {
      $("keypad").append(el("button", {type: "button", class: "key", "data-key": key, id: `key-${key === "*" ? "star" : key === "#" ? "hash" : key}`, text: key}));
    }
    $("keypad").addEventListener("click", async ev => {
      const key = ev.target.dataset && ev.target.dataset.key;
      if (!key) return;
      // Listed as it is pressed (before the call's answer to it can arrive on the live stream).
      const item = el("li", {class: "pressed", text: `pressed ${key}`});
      $("transcript").append(item);
      const r = await pigate.post("/playground/keys", {digits: key});
      if (!r.ok) item.textContent = `pressing ${key} failed: ${(r.data && r.data.detail) || r.status}`;
    });
    $("example").addEventListener("click", () => { $("ozml").value = EXAMPLE; });
    $("hangup").addEventListener("click", async () => { await pigate.post("/playground/hangup", {}); refresh(); });
    $("listen").addEventListener("click", () => { const a = $("audio"); a.src = `/playground/audio.wav?t=${Date.now()}`; a.play().catch(() => {}); });
    $("run-form").addEventListener("submit", async ev => {
      ev.preventDefault();
      const ozml = $("ozml").value;
      localStorage.setItem("pigate.ozml", ozml);
      $("run-state").textContent = "checking…";
      const r = await pigate.post("/playground/run", {ozml});
      if (r.data && r.data.problems && r.data.problems.length) {
        showProblems(r.data.problems);
        $("run-state").textContent = `${r.data.problems.length} problem(s)`;
        return;
      }
      showProblems([]);
      if (!r.ok) { $("run-state").textContent = (r.data && (r.data.detail || r.data.title)) || `failed (${r.status})`; return; }
      callId = r.data.call_id;
      $("transcript").replaceChildren();
      $("run-state").textContent = `calling (${callId})`;
      refresh();
    });
    const live = $("live");
    pigate.live({
      media(m) {
        if (!callId || m.call_id !== callId) return;
        $("transcript").append(el("li", {class: `media ${m.kind}`, "data-kind": m.kind},
          m.kind === "speak" ? `spoke: ${m.what}` : m.kind === "play" ? `played: ${m.what}` : "beep"));
      },
      calls() { refresh(); },
      history() { refresh(); },
    }, up => { live.textContent = up ? "live" : "offline"; live.className = `live ${up ? "on" : "off"}`; });
    refresh();
  }
  start();
})();
