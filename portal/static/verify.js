// verify.js checks a govlog tlog-proof bundle in the browser, as
// govlog.VerifyBundle does in Go: the checkpoint's signature by the log's
// key, the witnesses' cosignatures against the policy's quorum, and the
// RFC 6962 inclusion proof of the entry carried in the bundle's extra line.
// Ed25519 and SHA-256 come from WebCrypto, which browsers give only to
// secure contexts (HTTPS, or http://localhost).
//
// Specs: https://c2sp.org/tlog-proof, https://c2sp.org/tlog-checkpoint,
// https://c2sp.org/signed-note, https://c2sp.org/tlog-cosignature,
// https://c2sp.org/tlog-policy.
//
// verifyBundle never throws for bad input: it returns
//   {ok, failed, detail, origin, size, index, leafHash, entry, witnesses,
//    invalidWitnesses, lateWitnesses, ignored}
// where failed names the part that failed ("bundle", "policy", "log",
// "quorum", "inclusion", "crypto") and detail says why, in English, for
// the page to show under its own translated message.
"use strict";

const govlogVerify = (() => {
  const BUNDLE_HEADER = "c2sp.org/tlog-proof@v1";
  const MAX_PROOF_HASHES = 64;
  const MAX_SIGNATURES = 100;
  const ED25519_TYPE = 0x01;
  const COSIGNATURE_V1_TYPE = 0x04;
  const SIG_PREFIX = "\u2014 "; // "— "
  // Cosignatures dated further ahead of the clock than this do not count,
  // as govlog.DefaultCosignatureSkew.
  const COSIGNATURE_SKEW_SECONDS = 10n * 60n;
  const MAX_INT64 = (1n << 63n) - 1n;
  const MAX_UINT64 = (1n << 64n) - 1n;

  class Failure extends Error {
    constructor(part, detail) {
      super(detail);
      this.part = part;
    }
  }
  const fail = (part, detail) => {
    throw new Failure(part, detail);
  };

  const utf8 = new TextEncoder();
  const strictUTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // decodeBase64 accepts only canonical padded standard base64, as the Go
  // side does, so every value has one spelling and a flipped bit shows.
  function decodeBase64(s) {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    if (encodeBase64(out) !== s) return null;
    return out;
  }

  function encodeBase64(bytes) {
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }

  // parseDecimal parses ASCII decimal with no leading zeroes into a BigInt
  // of at most 64 bits, or returns null.
  function parseDecimal(s) {
    if (!/^(0|[1-9][0-9]*)$/.test(s)) return null;
    const n = BigInt(s);
    return n > MAX_UINT64 ? null : n;
  }

  async function sha256(data) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }

  const leafHash = (entry) => sha256(concat(new Uint8Array([0]), entry));
  const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

  // validKeyName follows signed-note: non-empty, no Unicode space, no "+".
  function validKeyName(name) {
    return name !== "" && !/[\s+\p{Cc}]/u.test(name);
  }

  async function keyID(name, typedKey) {
    const h = await sha256(concat(utf8.encode(name + "\n"), typedKey));
    return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
  }

  // parseVKey parses "<name>+<hex id>+<base64 type||key>" and checks the ID.
  async function parseVKey(vkey, wantType) {
    const i = vkey.indexOf("+");
    const j = i < 0 ? -1 : vkey.indexOf("+", i + 1);
    if (j < 0) throw new Error(`malformed vkey ${vkey}`);
    const name = vkey.slice(0, i), idHex = vkey.slice(i + 1, j);
    const key = decodeBase64(vkey.slice(j + 1));
    if (!validKeyName(name)) throw new Error(`invalid key name in vkey ${vkey}`);
    if (!/^[0-9a-f]{8}$/i.test(idHex)) throw new Error(`invalid key ID in vkey ${vkey}`);
    if (key === null || key.length !== 33) throw new Error(`invalid key in vkey ${vkey}`);
    if (key[0] !== wantType) {
      throw new Error(`vkey ${vkey} has signature type 0x${key[0].toString(16).padStart(2, "0")}, want 0x0${wantType}`);
    }
    const id = parseInt(idHex, 16) >>> 0;
    if ((await keyID(name, key)) !== id) throw new Error(`vkey ${vkey}: key ID doesn't match the key`);
    const cryptoKey = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name, id, vkey, cryptoKey };
  }

  // parsePolicy reads a C2SP tlog-policy: log and witness keys, groups and
  // the quorum. Groups list only names defined on earlier lines, so one
  // pass in definition order evaluates them.
  async function parsePolicy(text) {
    const p = { logs: [], witnesses: [], nodes: [], quorum: -1 };
    const names = new Map();
    let haveQuorum = false;
    const lines = text.split("\n");
    for (let n = 0; n < lines.length; n++) {
      const f = lines[n].split(/[ \t]+/).filter((x) => x !== "");
      if (f.length === 0 || f[0].startsWith("#")) continue;
      const bad = (why) => new Error(`line ${n + 1}: ${why}`);
      const define = (name) => {
        if (name === "none" || names.has(name)) throw bad(`name ${name} is reserved or already defined`);
        names.set(name, p.nodes.length);
      };
      switch (f[0]) {
        case "log":
          if (f.length < 2 || f.length > 3) throw bad("want: log <vkey> [<url>]");
          p.logs.push(await parseVKey(f[1], ED25519_TYPE));
          break;
        case "witness": {
          if (f.length < 3 || f.length > 4) throw bad("want: witness <name> <vkey> [<url>]");
          define(f[1]);
          const w = await parseVKey(f[2], COSIGNATURE_V1_TYPE);
          w.policyName = f[1];
          p.nodes.push({ name: f[1], witness: p.witnesses.length });
          p.witnesses.push(w);
          break;
        }
        case "group": {
          if (f.length < 4) throw bad("want: group <name> <all|any|k> <name>...");
          const members = [];
          for (const m of f.slice(3)) {
            if (!names.has(m)) throw bad(`group member ${m} is not defined on an earlier line`);
            if (members.includes(names.get(m))) throw bad(`group member ${m} listed twice`);
            members.push(names.get(m));
          }
          let k;
          if (f[2] === "all") k = members.length;
          else if (f[2] === "any") k = 1;
          else {
            const d = parseDecimal(f[2]);
            if (d === null || d < 1n || d > BigInt(members.length)) throw bad(`threshold ${f[2]} is not all, any or 1 to ${members.length}`);
            k = Number(d);
          }
          define(f[1]);
          p.nodes.push({ name: f[1], witness: -1, k, members });
          break;
        }
        case "quorum":
          if (f.length !== 2) throw bad("want: quorum <name>");
          if (haveQuorum) throw bad("second quorum line");
          haveQuorum = true;
          if (f[1] !== "none") {
            if (!names.has(f[1])) throw bad(`quorum ${f[1]} is not defined on an earlier line`);
            p.quorum = names.get(f[1]);
          }
          break;
        default:
          throw bad(`unknown keyword ${f[0]}`);
      }
    }
    if (!haveQuorum) throw new Error("no quorum line");
    return p;
  }

  // checkQuorum returns "" if the witnesses marked in cosigned meet the
  // policy's quorum, or why not.
  function checkQuorum(p, cosigned) {
    if (p.quorum < 0) return "";
    const ok = [], have = [];
    p.nodes.forEach((node, i) => {
      have[i] = 0;
      if (node.witness >= 0) {
        ok[i] = cosigned[node.witness];
        return;
      }
      for (const m of node.members) if (ok[m]) have[i]++;
      ok[i] = have[i] >= node.k;
    });
    if (ok[p.quorum]) return "";
    const q = p.nodes[p.quorum];
    if (q.witness >= 0) return `no valid cosignature from witness ${q.name}`;
    return `group ${q.name} has ${have[p.quorum]} of ${q.members.length} members satisfied, needs ${q.k}`;
  }

  // parseNote splits a signed note into its text and signature lines, with
  // the checks note.Open and govlog make on the form.
  function parseNote(bytes) {
    let s;
    try {
      s = strictUTF8.decode(bytes);
    } catch {
      fail("bundle", "the checkpoint is not valid UTF-8");
    }
    if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) fail("bundle", "the checkpoint holds a control character");
    const split = s.lastIndexOf("\n\n");
    if (split < 0) fail("bundle", "the checkpoint has no signature block");
    const text = s.slice(0, split + 1), block = s.slice(split + 2);
    if (block === "" || !block.endsWith("\n")) fail("bundle", "the checkpoint's signature block is malformed");
    const sigs = [];
    for (const line of block.slice(0, -1).split("\n")) {
      if (!line.startsWith(SIG_PREFIX)) fail("bundle", `signature line ${JSON.stringify(line.slice(0, 64))} is malformed`);
      const rest = line.slice(SIG_PREFIX.length);
      const sp = rest.indexOf(" ");
      const name = sp < 0 ? rest : rest.slice(0, sp), b64 = sp < 0 ? "" : rest.slice(sp + 1);
      const raw = decodeBase64(b64);
      if (raw === null || !validKeyName(name) || raw.length < 5) fail("bundle", `signature line ${JSON.stringify(line.slice(0, 64))} is malformed`);
      if (sigs.length === MAX_SIGNATURES) fail("bundle", `more than ${MAX_SIGNATURES} signatures`);
      const id = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
      sigs.push({ name, id, line, sig: raw.slice(4) });
    }
    return { text, sigs };
  }

  function parseCheckpoint(text) {
    if (!text.endsWith("\n")) fail("bundle", "the checkpoint text doesn't end in a newline");
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || lines.some((l) => l === "")) fail("bundle", "the checkpoint needs at least 3 non-empty lines");
    const size = parseDecimal(lines[1]);
    if (size === null) fail("bundle", `tree size ${JSON.stringify(lines[1].slice(0, 32))} is not a decimal`);
    const root = decodeBase64(lines[2]);
    if (root === null || root.length !== 32) fail("bundle", "the root hash is not 32 bytes of base64");
    return { origin: lines[0], size, root };
  }

  // parseBundle reads a tlog-proof as govlog.ParseBundle does.
  function parseBundle(bytes) {
    let cut = -1;
    for (let i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] === 10 && bytes[i + 1] === 10) {
        cut = i;
        break;
      }
    }
    if (cut < 0) fail("bundle", "no empty line before the checkpoint");
    let lines;
    try {
      lines = strictUTF8.decode(bytes.subarray(0, cut)).split("\n");
    } catch {
      fail("bundle", "the proof lines are not valid UTF-8");
    }
    if (lines[0] !== BUNDLE_HEADER) fail("bundle", `the first line is not ${BUNDLE_HEADER}`);
    lines = lines.slice(1);
    let entry = null;
    if (lines.length > 0 && lines[0].startsWith("extra ")) {
      entry = decodeBase64(lines[0].slice(6));
      if (entry === null || entry.length === 0) fail("bundle", "extra is not non-empty canonical base64");
      lines = lines.slice(1);
    }
    if (lines.length === 0 || !lines[0].startsWith("index ")) fail("bundle", "the index line is missing");
    const index = parseDecimal(lines[0].slice(6));
    if (index === null) fail("bundle", "the index is not a decimal");
    lines = lines.slice(1);
    if (lines.length > MAX_PROOF_HASHES) fail("bundle", `${lines.length} proof hashes, at most ${MAX_PROOF_HASHES}`);
    const proof = lines.map((l) => {
      const h = decodeBase64(l);
      if (h === null || h.length !== 32) fail("bundle", `proof line ${JSON.stringify(l.slice(0, 64))} is not a base64 SHA-256 hash`);
      return h;
    });
    const note = parseNote(bytes.subarray(cut + 2));
    const checkpoint = parseCheckpoint(note.text);
    if (entry === null) fail("bundle", "no entry in the extra line");
    return { entry, index, proof, note, checkpoint };
  }

  // rootFromInclusionProof recomputes an RFC 6962 root from a leaf hash and
  // its inclusion proof (RFC 9162, section 2.1.3.2).
  async function rootFromInclusionProof(index, size, leaf, proof) {
    if (index >= size) fail("inclusion", `index ${index} is not below tree size ${size}`);
    const bitLen = (n) => n.toString(2).replace(/^0+/, "").length;
    const inner = bitLen(index ^ (size - 1n));
    const border = (index >> BigInt(inner)).toString(2).replace(/0/g, "").length;
    if (proof.length !== inner + border) fail("inclusion", `the proof has ${proof.length} hashes, want ${inner + border}`);
    let h = leaf;
    for (let i = 0; i < inner; i++) {
      h = ((index >> BigInt(i)) & 1n) === 0n ? await nodeHash(h, proof[i]) : await nodeHash(proof[i], h);
    }
    for (const p of proof.slice(inner)) h = await nodeHash(p, h);
    return h;
  }

  const verifySig = (key, sig, msg) => crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);

  // checkSignatures verifies the log's signature and the witnesses'
  // cosignatures. Like note.Open, only each key's first line counts, and
  // lines by keys outside the policy are set aside. A cosignature that
  // doesn't verify is not counted; the quorum decides.
  async function checkSignatures(policy, note, checkpoint, now, r) {
    const text = utf8.encode(note.text);
    const logs = policy.logs.filter((l) => l.name === checkpoint.origin);
    if (logs.length === 0) fail("log", `the policy has no log with origin ${checkpoint.origin}`);
    const seen = new Set(), seenUnknown = new Set();
    let signedByLog = false;
    const cosigned = policy.witnesses.map(() => false);
    for (const s of note.sigs) {
      const log = logs.find((l) => l.name === s.name && l.id === s.id);
      const w = policy.witnesses.findIndex((x) => x.name === s.name && x.id === s.id);
      if (!log && w < 0) {
        if (!seenUnknown.has(s.line)) r.ignored.push(`${s.name}+${s.id.toString(16).padStart(8, "0")}`);
        seenUnknown.add(s.line);
        continue;
      }
      const key = `${s.name}+${s.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (log) {
        if (s.sig.length !== 64 || !(await verifySig(log.cryptoKey, s.sig, text))) {
          fail("log", `the signature by the log's key ${log.name}+${hex32(log.id)} is invalid`);
        }
        signedByLog = true;
        continue;
      }
      const wit = policy.witnesses[w];
      if (s.sig.length !== 72) {
        r.invalidWitnesses.push(wit.policyName);
        continue;
      }
      const t = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
      const msg = concat(utf8.encode(`cosignature/v1\ntime ${t}\n`), text);
      if (t > MAX_INT64 || !(await verifySig(wit.cryptoKey, s.sig.subarray(8), msg))) {
        r.invalidWitnesses.push(wit.policyName);
        continue;
      }
      if (t > now + COSIGNATURE_SKEW_SECONDS) {
        r.lateWitnesses.push(wit.policyName);
        continue;
      }
      cosigned[w] = true;
    }
    if (!signedByLog) fail("log", `no signature by the key of log ${checkpoint.origin}`);
    r.witnesses = policy.witnesses.filter((_, i) => cosigned[i]).map((w) => w.policyName);
    const why = checkQuorum(policy, cosigned);
    if (why !== "") fail("quorum", why);
  }

  const hex32 = (n) => n.toString(16).padStart(8, "0");

  // verifyBundle checks bundleBytes (a Uint8Array) against policyText;
  // nowSeconds is the clock for cosignature timestamps (Unix seconds).
  async function verifyBundle(bundleBytes, policyText, nowSeconds) {
    const now = BigInt(Math.floor(nowSeconds ?? Date.now() / 1000));
    const r = {
      ok: false, failed: "", detail: "", origin: "", size: "", index: "", leafHash: "", entry: null,
      witnesses: [], invalidWitnesses: [], lateWitnesses: [], ignored: [],
    };
    try {
      if (!globalThis.crypto || !crypto.subtle) fail("crypto", "this page is not a secure context (HTTPS), so the browser offers no WebCrypto");
      let policy;
      try {
        policy = await parsePolicy(policyText);
      } catch (e) {
        fail("policy", e.message);
      }
      const b = parseBundle(bundleBytes);
      r.origin = b.checkpoint.origin;
      r.size = b.checkpoint.size.toString();
      r.index = b.index.toString();
      r.entry = b.entry;
      const leaf = await leafHash(b.entry);
      r.leafHash = hex(leaf);
      await checkSignatures(policy, b.note, b.checkpoint, now, r);
      const root = await rootFromInclusionProof(b.index, b.checkpoint.size, leaf, b.proof);
      if (!equalBytes(root, b.checkpoint.root)) {
        fail("inclusion", `the proof leads to root ${hex(root)}, the checkpoint's root is ${hex(b.checkpoint.root)}`);
      }
      r.ok = true;
    } catch (e) {
      r.failed = e instanceof Failure ? e.part : "crypto";
      r.detail = e.message;
    }
    return r;
  }

  return { verifyBundle, sha256, hex };
})();
