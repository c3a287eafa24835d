// devices.js: the devices grid with live screenshots and state.
import { api, imageURL, DeviceStream } from './api.js';
import { h, replace, badge, ago, status } from './dom.js';

const SHOT_EVERY = 3000; // ms between screenshot refreshes of one device

export function devicesView(root) {
  const devices = new Map(); // id → status
  const cards = new Map(); // id → {el, img, meta, url, busy}
  const live = h('span', { class: 'live', title: 'device stream' });
  const liveText = h('span', { class: 'muted' }, 'connecting…');
  const grid = h('div', { class: 'grid', id: 'devices' });
  const empty = h('p', { class: 'muted' }, 'No devices yet.');
  root.append(h('div', { class: 'card' },
    h('div', { class: 'row' }, h('h1', {}, 'Devices'), h('span', { style: 'flex:0 0 auto' }, live, liveText))),
  grid, empty);

  function render(id) {
    const d = devices.get(id);
    let c = cards.get(id);
    if (!d) {
      if (c) { c.el.remove(); if (c.url) URL.revokeObjectURL(c.url); cards.delete(id); }
      empty.hidden = devices.size > 0;
      return;
    }
    if (!c) {
      const img = h('img', { alt: 'screen of ' + id });
      c = { img, screen: h('div', { class: 'screen' }, 'no screenshot yet'), meta: h('div', { class: 'meta' }), url: '', busy: false, at: 0 };
      c.el = h('div', { class: 'device', dataset: { id } }, c.screen, c.meta);
      cards.set(id, c);
      const ids = [...devices.keys()].sort();
      const next = ids[ids.indexOf(id) + 1];
      grid.insertBefore(c.el, next && cards.get(next) ? cards.get(next).el : null);
    }
    const lease = d.lease ? h('div', { class: 'muted' }, 'lease ', d.lease.owner || '(another tenant)', d.lease.tenant ? ' · ' + d.lease.tenant : '') : null;
    const labels = Object.entries(d.labels || {}).map(([k, v]) => k + '=' + v).join(' ');
    replace(c.meta,
      h('div', { class: 'id' }, d.id),
      h('div', {}, badge(d.state), ' ', badge(d.health && d.health.status)),
      lease,
      labels ? h('div', { class: 'muted mono' }, labels) : null,
      d.health && d.health.message ? h('div', { class: 'error' }, d.health.message) : null,
      d.health && d.health.last_ok ? h('div', { class: 'muted' }, 'last ok ', ago(d.health.last_ok)) : null);
    empty.hidden = true;
  }

  function apply(id, d) {
    if (d) devices.set(id, d); else devices.delete(id);
    render(id);
  }

  // Screenshots: one request at a time per device, each device at most
  // every SHOT_EVERY ms, only for devices that are up.
  async function shoot(id) {
    const c = cards.get(id), d = devices.get(id);
    if (!c || !d || c.busy || ['offline', 'missing', 'booting'].includes(d.state)) return;
    c.busy = true;
    try {
      const url = await imageURL('/api/v1/devices/' + encodeURIComponent(id) + '/screenshot');
      if (c.url) URL.revokeObjectURL(c.url);
      c.url = url;
      c.img.src = url;
      if (c.img.parentNode !== c.screen) replace(c.screen, c.img);
    } catch (e) {
      if (!c.url) replace(c.screen, e.message);
    } finally {
      c.busy = false;
    }
  }
  const timer = setInterval(() => { for (const id of cards.keys()) shoot(id); }, SHOT_EVERY);

  // State: the WebSocket; while it is down, poll the list.
  let up = false;
  const stream = new DeviceStream(apply, (on) => {
    up = on;
    live.classList.toggle('on', on);
    liveText.textContent = on ? 'live' : 'reconnecting (polling)…';
  });
  async function poll(force) {
    if (up && !force) return;
    try {
      const list = await api('/api/v1/devices');
      const ids = new Set(list.map((d) => d.id));
      for (const d of list) apply(d.id, d);
      for (const id of [...devices.keys()]) if (!ids.has(id)) apply(id, null);
      for (const id of ids) if (!cards.get(id).url) shoot(id);
    } catch (e) {
      status('devices: ' + e.message);
    }
  }
  poll(true);
  const pollTimer = setInterval(poll, 2000);

  return () => {
    clearInterval(timer);
    clearInterval(pollTimer);
    stream.close();
    for (const c of cards.values()) if (c.url) URL.revokeObjectURL(c.url);
  };
}
