// admin.js: plugins (versions, state, reload history) and vGPU slices.
import { api } from './api.js';
import { h, replace, badge, ms, ago, mib, status } from './dom.js';

export function pluginsView(root) {
  const body = h('tbody', { id: 'plugins' });
  root.append(h('div', { class: 'card' }, h('h1', {}, 'Plugins'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Version', 'Transport', 'State', 'Loaded', 'Reload history'].map((c) => h('th', {}, c)))), body)));
  async function refresh() {
    try {
      const list = await api('/api/v1/plugins?history=1');
      replace(body, list.map((p) => h('tr', { dataset: { plugin: p.name } },
        h('td', {}, h('b', {}, p.name), h('div', { class: 'muted mono' }, p.file)),
        h('td', {}, p.kind), h('td', { class: 'mono' }, p.version || '—'), h('td', {}, p.transport),
        h('td', {}, badge(p.state), p.error ? h('div', { class: 'error' }, p.error) : null),
        h('td', { class: 'muted' }, p.loaded_at ? ago(p.loaded_at) : '—'),
        h('td', {}, history(p.history || [])))));
      if (!list.length) replace(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No plugins loaded.')));
    } catch (e) {
      status('plugins: ' + e.message);
    }
  }
  refresh();
  const t = setInterval(refresh, 5000);
  return () => clearInterval(t);
}

function history(events) {
  if (!events.length) return h('span', { class: 'muted' }, 'none');
  const rows = events.slice().reverse().map((e) => h('tr', {},
    h('td', { class: 'muted' }, new Date(e.time).toLocaleTimeString()),
    h('td', {}, e.action), h('td', { class: 'mono' }, (e.previous_version ? e.previous_version + ' → ' : '') + (e.version || '')),
    h('td', {}, e.duration_ns ? ms(e.duration_ns) : ''), h('td', { class: 'error' }, e.error || '')));
  return h('details', {}, h('summary', {}, events.length + ' event' + (events.length > 1 ? 's' : '') + ', last: ' + events[events.length - 1].action),
    h('table', {}, h('tbody', {}, rows)));
}

export function slicesView(root) {
  const body = h('tbody', { id: 'slices' });
  root.append(h('div', { class: 'card' }, h('h1', {}, 'vGPU slices'),
    h('p', { class: 'muted' }, 'GPU time used against each slice’s guaranteed share, accelerator memory, ring queue.'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Slice', 'GPU share (used / guaranteed)', 'Memory', 'Queue', 'In flight', 'Done / failed', 'Models'].map((c) => h('th', {}, c)))), body)));
  async function refresh() {
    try {
      const list = await api('/api/v1/slices');
      replace(body, list.map((s) => {
        const used = s.share_percent || 0;
        const memPct = s.memory_mib ? (100 * s.memory_used_mib) / s.memory_mib : 0;
        return h('tr', { dataset: { slice: s.name } },
          h('td', {}, h('b', {}, s.name), s.tenants && s.tenants.length ? h('div', { class: 'muted' }, 'tenants: ' + s.tenants.join(', ')) : null),
          h('td', {}, h('div', { class: 'bar' }, h('span', { class: used > s.compute_percent ? 'over' : '', style: `width:${Math.min(100, used).toFixed(1)}%` })),
            `${used.toFixed(1)}% / ${s.compute_percent}%`, s.lent_time_ns ? h('div', { class: 'muted' }, 'borrowed ' + ms(s.lent_time_ns)) : null),
          h('td', {}, h('div', { class: 'bar' }, h('span', { style: `width:${Math.min(100, memPct).toFixed(1)}%` })), `${mib(s.memory_used_mib)} / ${mib(s.memory_mib)}`),
          h('td', {}, s.queue_depth), h('td', {}, s.in_flight), h('td', {}, `${s.completed} / ${s.failed}`),
          h('td', { class: 'mono' }, (s.loaded || []).map((m) => m.name).join(', ') || (s.models || []).join(', ') || 'any'));
      }));
      if (!list.length) replace(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No vGPU slices configured (vgpu.slices).')));
    } catch (e) {
      status('slices: ' + e.message);
    }
  }
  refresh();
  const t = setInterval(refresh, 3000);
  return () => clearInterval(t);
}
