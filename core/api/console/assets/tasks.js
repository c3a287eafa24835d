// tasks.js: the task form, the task list and a task's timeline.
import { api, imageURL, taskEvents } from './api.js';
import { h, replace, badge, ms, ago, status } from './dom.js';

const FINAL = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);
// cloudphone.v1.ActionType, by number (events carry the enum's number).
const ACTIONS = ['unspecified', 'tap', 'double_tap', 'long_press', 'swipe', 'type', 'key', 'launch', 'wait', 'take_over', 'note'];
const PHASES = ['observe', 'plan', 'infer', 'act', 'settle', 'overhead'];

export function tasksView(root, [id]) {
  const stops = [];
  const list = h('tbody', { id: 'task-list' });
  const detail = h('div', { id: 'task-detail' });
  root.append(h('div', { class: 'layout' },
    h('div', {}, taskForm(), h('div', { class: 'card' }, h('h2', {}, 'Tasks'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Task'), h('th', {}, 'State'), h('th', {}, 'Steps'), h('th', {}, 'Created'))), list))),
    detail));

  async function refresh() {
    try {
      const { tasks } = await api('/api/v1/tasks?limit=50');
      replace(list, tasks.map((t) => h('tr', {
        class: 'clickable' + (t.task_id === id ? ' active' : ''), dataset: { task: t.task_id },
        onclick: () => { location.hash = '#/tasks/' + encodeURIComponent(t.task_id); },
      },
      h('td', {}, h('div', {}, t.instruction), h('div', { class: 'muted mono', title: t.task_id }, t.task_id.slice(0, 14) + '…')),
      h('td', {}, badge(t.state)), h('td', {}, t.steps), h('td', { class: 'muted' }, ago(t.created_at)))));
      if (!tasks.length) replace(list, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No tasks yet: submit one.')));
    } catch (e) {
      status('tasks: ' + e.message);
    }
  }
  refresh();
  const timer = setInterval(refresh, 2000);
  stops.push(() => clearInterval(timer));

  if (id) stops.push(timeline(detail, id, refresh));
  else detail.append(h('div', { class: 'card muted' }, 'Pick a task to see its timeline.'));
  return () => stops.forEach((f) => f());
}

function taskForm() {
  const instruction = h('input', { id: 'instruction', required: true, placeholder: '打开设置 / open settings', autocomplete: 'off' });
  const device = h('select', { id: 'device' }, h('option', { value: '' }, 'any free device'));
  const planner = h('select', { id: 'planner' },
    h('option', { value: '' }, 'server default'), h('option', { value: 'intent' }, 'intent (offline)'), h('option', { value: 'autoglm' }, 'autoglm (model)'));
  const deadline = h('input', { id: 'deadline', type: 'number', min: 0, step: 1000, placeholder: 'best effort' });
  const priority = h('input', { id: 'priority', type: 'number', value: 0 });
  const err = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { id: 'submit-task', type: 'submit' }, 'Run');
  api('/api/v1/devices').then((ds) => ds.forEach((d) => device.append(h('option', { value: d.id }, d.id + ' (' + d.state + ')')))).catch(() => {});

  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      const body = { instruction: instruction.value.trim() };
      if (device.value) body.device_id = device.value;
      if (planner.value) body.planner = planner.value;
      if (deadline.value) body.deadline_ms = Number(deadline.value);
      if (Number(priority.value)) body.priority = Number(priority.value);
      try {
        const t = await api('/api/v1/run', { method: 'POST', body });
        instruction.value = '';
        location.hash = '#/tasks/' + encodeURIComponent(t.task_id);
      } catch (x) {
        err.textContent = `${x.status || ''} ${x.code || ''}: ${x.message}`;
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('label', { for: 'instruction' }, 'Instruction'), instruction,
  h('div', { class: 'row' },
    h('div', {}, h('label', { for: 'device' }, 'Device'), device),
    h('div', {}, h('label', { for: 'planner' }, 'Planner'), planner)),
  h('div', { class: 'row' },
    h('div', {}, h('label', { for: 'deadline' }, 'Deadline (ms)'), deadline),
    h('div', {}, h('label', { for: 'priority' }, 'Priority'), priority)),
  submit, err);
  return h('div', { class: 'card' }, h('h2', {}, 'New task'), form);
}

// timeline shows task id: its header and controls, then one entry per
// step, live over SSE until the final event.
function timeline(root, id, onChange) {
  const head = h('div', { class: 'card', id: 'task-head' }, 'Loading ', id, '…');
  const steps = h('div', { class: 'timeline', id: 'timeline' });
  root.append(head, h('div', { class: 'legend' }, PHASES.map((p) => h('span', {}, h('i', { class: 'ph-' + p }), p))), steps);
  const urls = [];
  let task = null;
  let paused = null;

  async function load() {
    try {
      task = await api('/api/v1/tasks/' + encodeURIComponent(id));
      renderHead();
    } catch (e) {
      replace(head, h('p', { class: 'error' }, e.message));
    }
  }

  async function control(op, body) {
    try {
      task = await api(`/api/v1/tasks/${encodeURIComponent(id)}/${op}`, { method: 'POST', body });
      renderHead();
      onChange();
    } catch (e) {
      status(op + ': ' + e.message);
    }
  }

  function renderHead() {
    const t = task;
    const buttons = [];
    if (t.state === 'paused') {
      buttons.push(h('button', { id: 'confirm', onclick: () => control('confirm', { approve: true }) }, 'Confirm'));
      buttons.push(h('button', { id: 'deny', class: 'danger', onclick: () => control('confirm', { approve: false }) }, 'Deny'));
      buttons.push(h('button', { id: 'resume', class: 'secondary', onclick: () => control('resume', {}) }, 'Resume (after take-over)'));
    }
    if (!FINAL.has(t.state)) buttons.push(h('button', { id: 'cancel', class: 'secondary', onclick: () => control('cancel', {}) }, 'Cancel'));
    replace(head,
      h('h2', {}, t.instruction),
      h('div', {}, badge(t.state), ' ', h('span', { id: 'task-state', dataset: { state: t.state } }, t.state),
        t.reason ? h('span', { class: 'muted' }, ' · ' + t.reason) : null),
      h('div', { class: 'muted mono' }, t.task_id, ' · tenant ', t.tenant, t.device ? ' · ' + t.device : '', t.planner ? ' · ' + t.planner : ''),
      t.message ? h('p', {}, t.message) : null,
      paused ? h('p', { class: 'event' }, 'Waiting for a person: ', paused) : null,
      h('div', { class: 'actions' }, buttons),
      h('div', { class: 'muted' }, 'created ', ago(t.created_at), t.finished_at ? ' · finished ' + ago(t.finished_at) : '',
        ' · ', t.steps, ' steps'));
  }

  function onEvent(ev) {
    switch (ev.kind) {
      case 'step':
        steps.append(stepEntry(ev, urls));
        break;
      case 'paused':
        paused = ev.message || actionText(ev.action);
        steps.append(h('div', { class: 'event' }, `step ${ev.step}: paused — ${paused}`));
        load();
        break;
      case 'resumed':
        paused = null;
        steps.append(h('div', { class: 'event' }, `step ${ev.step}: resumed ${ev.message || ''}`));
        load();
        break;
      case 'retry':
        steps.append(h('div', { class: 'event' }, `step ${ev.step}: retry — ${ev.error || ev.message || ''}`));
        break;
      case 'degraded':
        steps.append(h('div', { class: 'event' }, `after step ${ev.step}: degraded — ${ev.message || ''}`));
        break;
      case 'started':
      case 'state':
        load();
        break;
      case 'finished': {
        const r = ev.result || {};
        const ok = (ev.state || r.status) === 'succeeded';
        steps.append(h('div', { class: 'event finished' + (ok ? '' : ' bad'), id: 'finished' },
          `finished: ${ev.state || r.status}${r.elapsed_ns ? ' in ' + ms(r.elapsed_ns) : ''} — ${r.message || ev.message || ev.reason || ''}`));
        load().then(onChange);
        break;
      }
    }
  }

  load();
  const stop = taskEvents(id, onEvent, () => status('event stream closed'));
  // The stored state can trail an event by a moment (the event that
  // pauses a task is recorded before the task is): re-read it until final.
  const poll = setInterval(() => { if (!task || !FINAL.has(task.state)) load(); }, 1000);
  return () => { stop(); clearInterval(poll); urls.forEach((u) => URL.revokeObjectURL(u)); };
}

function actionText(a) {
  if (!a) return '';
  const type = ACTIONS[a.type] || String(a.type);
  const parts = [type];
  if (a.point) parts.push(`(${a.point.x}, ${a.point.y})`);
  if (a.end) parts.push(`→ (${a.end.x}, ${a.end.y})`);
  if (a.text) parts.push(JSON.stringify(a.text));
  if (a.key) parts.push(a.key);
  if (a.package || a.app) parts.push(a.app || a.package);
  if (a.message) parts.push('“' + a.message + '”');
  if (a.sensitive) parts.push('[sensitive]');
  return parts.join(' ');
}

function stepEntry(ev, urls) {
  const shot = h('div', { class: 'shot' });
  if (ev.screenshot_sha256) {
    imageURL('/api/v1/screenshots/' + ev.screenshot_sha256).then((u) => {
      urls.push(u);
      shot.append(h('img', { src: u, alt: 'screen before step ' + ev.step }));
    }).catch(() => shot.append(h('span', { class: 'muted' }, 'screenshot gone')));
  }
  const t = ev.timings || {};
  const total = t.total_ns || 1;
  // The agent counts the planner in overhead: the bar draws plan apart.
  const part = { ...t, overhead_ns: Math.max(0, (t.overhead_ns || 0) - (t.plan_ns || 0)) };
  const bar = h('div', { class: 'timings', title: 'share of the step’s total time per phase (the rest observes the next screen)' },
    PHASES.map((p) => (part[p + '_ns'] ? h('span', { class: 'ph-' + p, style: `width:${(100 * part[p + '_ns'] / total).toFixed(2)}%`, title: p + ' ' + ms(part[p + '_ns']) }) : null)));
  const what = ev.action ? actionText(ev.action) : ev.message ? 'finish: ' + ev.message : '';
  return h('div', { class: 'step', dataset: { step: ev.step } },
    shot,
    h('div', {},
      h('h3', {}, `Step ${ev.step}`, ev.current_app ? h('span', { class: 'muted' }, ' · ' + ev.current_app) : null),
      ev.thinking ? h('div', { class: 'thinking' }, ev.thinking) : null,
      h('div', { class: 'mono action' }, what),
      ev.error ? h('div', { class: 'error' }, ev.error) : null,
      bar,
      h('div', { class: 'muted' }, 'total ', ms(t.total_ns), ' · ',
        PHASES.filter((p) => part[p + '_ns']).map((p) => p + ' ' + ms(part[p + '_ns'])).join(' · '))));
}
