// api.js: the console's only way to the server. Every call carries the
// token as "Authorization: Bearer"; the two streams (SSE, WebSocket) carry
// it as ?access_token=, as browsers cannot set their headers.

const KEY = 'cloudphone.token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => sessionStorage.setItem(KEY, t.trim()),
  clear: () => sessionStorage.removeItem(KEY),
};

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls path and returns its JSON (or the Response when raw).
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = {};
  if (token.get()) headers.Authorization = 'Bearer ' + token.get();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) {
    let code = 'http_' + r.status, message = r.statusText;
    try {
      const e = await r.json();
      code = e.error.code;
      message = e.error.message;
    } catch { /* not a JSON error body */ }
    if (r.status === 401) window.dispatchEvent(new CustomEvent('cloudphone:unauthorized', { detail: message }));
    throw new APIError(r.status, code, message);
  }
  if (raw) return r;
  return r.status === 204 ? null : r.json();
}

// imageURL fetches an image with the token and returns an object URL
// (the caller revokes it).
export async function imageURL(path) {
  const r = await api(path, { raw: true });
  return URL.createObjectURL(await r.blob());
}

function withToken(path) {
  if (!token.get()) return path; // auth off
  return path + (path.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(token.get());
}

// Event kinds a task's SSE stream names (core/agent and core/tasks).
const KINDS = ['started', 'state', 'step', 'infer', 'paused', 'resumed', 'retry', 'degraded', 'finished', 'error'];

// taskEvents follows GET /api/v1/tasks/{id}/events from the first event;
// onEvent gets each parsed event. The stream is closed after "finished".
// Returns a function that stops following.
export function taskEvents(id, onEvent, onError) {
  const es = new EventSource(withToken('/api/v1/tasks/' + encodeURIComponent(id) + '/events'));
  const handle = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    ev.kind = ev.kind || m.type;
    onEvent(ev);
    if (ev.kind === 'finished') es.close();
  };
  for (const k of KINDS) es.addEventListener(k, handle);
  es.onerror = () => { if (es.readyState === EventSource.CLOSED && onError) onError(); };
  return () => es.close();
}

// sha256hex hashes a string's UTF-8 bytes: WebCrypto where the page is a
// secure context (https, localhost), else the small implementation below.
export async function sha256hex(s) {
  const bytes = new TextEncoder().encode(s);
  if (globalThis.crypto && crypto.subtle) {
    const d = await crypto.subtle.digest('SHA-256', bytes);
    return hex(new Uint8Array(d));
  }
  return hex(sha256(bytes));
}

function hex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

// sha256 is FIPS 180-4 SHA-256 over bytes.
export function sha256(bytes) {
  const n = ((bytes.length + 9 + 63) >> 6) << 6;
  const m = new Uint8Array(n);
  m.set(bytes);
  m[bytes.length] = 0x80;
  const dv = new DataView(m.buffer);
  dv.setUint32(n - 8, Math.floor(bytes.length / 0x20000000));
  dv.setUint32(n - 4, (bytes.length << 3) >>> 0);
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const W = new Uint32Array(64);
  const rotr = (x, r) => (x >>> r) | (x << (32 - r));
  for (let off = 0; off < n; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = W[i - 16] + s0 + W[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  H.forEach((v, i) => ov.setUint32(4 * i, v));
  return out;
}

// DeviceStream follows GET /api/v1/devices/stream (core/api/devstream):
// it checks each packet's hash, acks good ones, nacks corrupt ones, and
// reconnects resuming its session. onState(id, status|null) gets changes;
// onLive(bool) says whether the socket is up.
export class DeviceStream {
  constructor(onState, onLive) {
    this.onState = onState;
    this.onLive = onLive;
    this.session = '';
    this.done = 0; // every seq up to it is processed (the resume point)
    this.seen = new Set(); // processed seqs above done
    this.applied = new Map(); // device id → seq of the state shown
    this.closed = false;
    this.backoff = 500;
    this.queue = Promise.resolve();
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let path = '/api/v1/devices/stream';
    if (this.session) path += '?session=' + this.session + '&resume=' + this.done;
    const ws = new WebSocket(proto + '//' + location.host + withToken(path));
    this.ws = ws;
    ws.onopen = () => { this.backoff = 500; };
    ws.onmessage = (m) => { this.queue = this.queue.then(() => this.handle(ws, m.data)); };
    ws.onclose = (e) => {
      this.onLive(false);
      if (e.code === 1008) this.session = ''; // dropped: start afresh
      if (!this.closed) setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  async handle(ws, text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (m.type === 'hello') {
      if (!m.resumed) { this.done = 0; this.seen.clear(); this.applied.clear(); }
      this.session = m.session;
      this.onLive(true);
      return;
    }
    if (m.type !== 'state') return;
    if ((await sha256hex(m.data)) !== m.hash) {
      ws.send(JSON.stringify({ type: 'nack', seq: m.seq }));
      return;
    }
    // A late retransmission must not roll a device back.
    if ((this.applied.get(m.device_id) || 0) < m.seq) {
      this.applied.set(m.device_id, m.seq);
      this.onState(m.device_id, JSON.parse(m.data));
    }
    if (m.seq > this.done) this.seen.add(m.seq);
    while (this.seen.has(this.done + 1)) this.seen.delete(++this.done);
    ws.send(JSON.stringify({ type: 'ack', seq: m.seq }));
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close(1000, 'console closed');
  }
}
