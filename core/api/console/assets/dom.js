// dom.js: tiny DOM helpers; strings always become text nodes, never markup.

// h builds an element: h('div', {class: 'x', onclick: f}, 'text', child…).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (k === 'style') el.style.cssText = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function badge(state) {
  return h('span', { class: 'badge ' + String(state || 'unknown').replace(/[^a-z_]/g, '') }, state || 'unknown');
}

export function ms(ns) {
  if (!ns) return '0 ms';
  const v = ns / 1e6;
  return v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(v < 10 ? 1 : 0) + ' ms';
}

export function ago(t) {
  if (!t) return '';
  const d = (Date.now() - new Date(t).getTime()) / 1000;
  if (d < 60) return Math.max(0, Math.round(d)) + 's ago';
  if (d < 3600) return Math.round(d / 60) + 'm ago';
  return new Date(t).toLocaleString();
}

export function mib(n) {
  return n >= 1024 ? (n / 1024).toFixed(1) + ' GiB' : n + ' MiB';
}

export function status(text) {
  document.getElementById('status').textContent = text;
}
