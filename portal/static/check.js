// check.js hashes a document file in the browser (the file never leaves
// the reader's computer) and looks its SHA-256 up in every log through the
// JSON search API. Without JavaScript, the form's hash field does the same
// on the server.
"use strict";

(() => {
  const file = document.getElementById("file");
  const hashInput = document.getElementById("sha256");
  const out = document.getElementById("check-result");
  if (!file || !out) return;
  const msgs = JSON.parse(document.getElementById("portal-msgs").textContent);
  const msg = (key, ...args) => msgs[key].replace(/%s/g, () => String(args.shift()));
  document.querySelector(".js-only").hidden = false;

  const para = (text, cls, id) => {
    const p = document.createElement("p");
    p.textContent = text;
    if (cls) p.className = cls;
    if (id) p.id = id;
    return p;
  };

  // lookup returns every result, in every log, for the document's hash.
  const lookup = async (hex) => {
    const resp = await fetch("/api/v1/logs");
    if (!resp.ok) throw new Error(`/api/v1/logs: HTTP ${resp.status}`);
    const body = await resp.json();
    const logs = Array.isArray(body) ? body : body.logs;
    const results = [];
    for (const log of logs) {
      const q = new URLSearchParams({ log: log.name, sha256: hex });
      const r = await fetch("/api/v1/search?" + q);
      if (!r.ok) throw new Error(`${log.name}: HTTP ${r.status}`);
      results.push(...((await r.json()).results || []));
    }
    return results;
  };

  const render = (hex, results) => {
    const verdict = results.length > 0
      ? para(msgs["check.match"], "good", "check-verdict")
      : para(msgs["check.nomatch"], "bad", "check-verdict");
    const list = document.createElement("ol");
    list.className = "results";
    for (const r of results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.className = "title";
      a.href = `/entries/${encodeURIComponent(r.log)}/${r.index}`;
      a.textContent = r.title || r.type;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = `${r.log} #${r.index} · ${r.type}${r.agency ? " · " + r.agency : ""}${r.pending ? " · " + msgs["search.pending"] : ""}`;
      li.append(a, meta);
      list.append(li);
    }
    out.replaceChildren(verdict, para(msg("check.computed", hex), "small hash"), list);
  };

  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    if (!globalThis.crypto || !crypto.subtle) {
      out.replaceChildren(para(msgs["check.nocrypto"], "bad"));
      return;
    }
    out.replaceChildren(para(msgs["check.computing"]));
    try {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await f.arrayBuffer()));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      hashInput.value = hex;
      render(hex, await lookup(hex));
    } catch (e) {
      out.replaceChildren(para(msg("search.error", e.message), "bad"));
    }
  });
})();
