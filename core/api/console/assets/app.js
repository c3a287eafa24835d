// app.js: login, navigation between the console's views.
import { api, token } from './api.js';
import { replace, status } from './dom.js';
import { devicesView } from './devices.js';
import { tasksView } from './tasks.js';
import { pluginsView, slicesView } from './admin.js';

const views = { devices: devicesView, tasks: tasksView, plugins: pluginsView, slices: slicesView };
const $ = (id) => document.getElementById(id);
let stopView = null;
let authOff = false; // the server runs with api.auth.disabled: no token needed

function showLogin(message) {
  if (stopView) { stopView(); stopView = null; }
  $('view').hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('whoami').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').focus();
}

async function signIn(t) {
  token.set(t);
  try {
    const me = await api('/api/v1/whoami');
    $('whoami').textContent = `${me.subject} · ${me.role} · tenant ${me.tenant}` + (authOff ? ' (auth off)' : '');
  } catch (e) {
    token.clear();
    showLogin(e.status === 401 ? 'The server refused this token: ' + e.message : 'Sign-in failed: ' + e.message);
    return false;
  }
  $('login').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = authOff;
  $('view').hidden = false;
  route();
  return true;
}

// route shows the view the location hash names: #/devices, #/tasks,
// #/tasks/<id>, #/plugins, #/slices.
function route() {
  if (!token.get() && !authOff) return showLogin();
  const [, tab = 'devices', ...rest] = location.hash.replace(/^#/, '').split('/');
  const view = views[tab] || devicesView;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab);
  if (stopView) stopView();
  const root = replace($('view'));
  stopView = view(root, rest.map(decodeURIComponent)) || null;
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('token').value);
});
$('logout').addEventListener('click', () => {
  token.clear();
  showLogin('Signed out.');
});
window.addEventListener('hashchange', () => { if (token.get() || authOff) route(); });
window.addEventListener('cloudphone:unauthorized', (e) => {
  token.clear();
  showLogin('Your token was refused (' + e.detail + '): sign in again.');
});
window.addEventListener('unhandledrejection', (e) => status(String(e.reason && e.reason.message || e.reason)));

// A server with auth switched off answers whoami without a token: no login.
async function start() {
  if (token.get()) return signIn(token.get());
  try {
    const r = await fetch('/api/v1/whoami');
    if (r.ok) {
      authOff = true;
      return signIn('');
    }
  } catch { /* server unreachable: the login says so on submit */ }
  showLogin();
}
start();
