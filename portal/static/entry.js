// entry.js checks the proof of the entry on its page with verify.js, and
// says what it found: "verified" only when the log's signature, the
// witnesses' quorum and the inclusion proof all hold for this very entry.
"use strict";

(() => {
  const box = document.getElementById("proof");
  const status = document.getElementById("proof-status");
  const notes = document.getElementById("proof-notes");
  if (!box || !status || typeof govlogVerify === "undefined") return;
  const msgs = JSON.parse(document.getElementById("portal-msgs").textContent);
  // msg fills a catalogue string's %s verbs in order.
  const msg = (key, ...args) => msgs[key].replace(/%s/g, () => String(args.shift()));

  const show = (state, text) => {
    box.dataset.state = state;
    status.className = "status " + state;
    status.replaceChildren();
    const head = document.createElement("strong");
    head.textContent = state === "verified" ? "✓ " + msgs["proof.verified"] : state === "failed" ? "✗ " + msgs["proof.failed"] : "";
    if (head.textContent) status.append(head, document.createElement("br"));
    status.append(text);
  };
  const note = (text, cls) => {
    const li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    notes.append(li);
  };

  const check = async () => {
    show("checking", msgs["proof.checking"]);
    let bundle, policy;
    try {
      const [b, p] = await Promise.all([fetch(box.dataset.bundle), fetch(box.dataset.policy)]);
      if (!b.ok || !p.ok) throw new Error(`HTTP ${b.status} ${p.status}`);
      bundle = new Uint8Array(await b.arrayBuffer());
      policy = await p.text();
    } catch (e) {
      show("failed", msgs["proof.fail.fetch"]);
      note(e.message, "small");
      return;
    }
    const r = await govlogVerify.verifyBundle(bundle, policy);
    if (r.ok && r.leafHash !== box.dataset.leaf) {
      r.ok = false;
      r.failed = "entry";
      r.detail = `the proof is for leaf ${r.leafHash}, this page shows ${box.dataset.leaf}`;
    }
    for (const w of r.invalidWitnesses) note(msg("proof.badwitness", w));
    for (const w of r.lateWitnesses) note(msg("proof.latewitness", w));
    if (r.ok) {
      const who = r.witnesses.length > 0 ? r.witnesses.join(", ") : msgs["proof.nowitness"];
      show("verified", msg("proof.verified.how", r.size, who));
      return;
    }
    show("failed", msgs["proof.fail." + r.failed] || r.failed);
    note(r.detail, "small detail");
  };
  check();
})();
