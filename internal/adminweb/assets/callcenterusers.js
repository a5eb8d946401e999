// The call center users page: sign in as an admin (the bearer token is
// kept in localStorage, never in a cookie), list the CRM's users with the
// Parley user mapped to each, and map or unmap them. Everything shown is
// inserted as text.

const SESSION_KEY = 'parley.admin.session';
const CRM = 'salesforce';
const $ = (id) => document.getElementById(id);

function loadSession() {
  try { return JSON.parse(localStorage.getItem(SESSION_KEY) || 'null'); } catch { return null; }
}

function saveSession(s) {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s)); else localStorage.removeItem(SESSION_KEY);
}

function status(text, isError) {
  const el = $('status');
  el.textContent = text || '';
  el.classList.toggle('error', !!isError);
}

// Sessions are short-lived (sessions.ttl): while the admin works, a call
// made with less than this left first refreshes the session (a new token,
// POST /sessions/current/refresh); an idle page's session runs out.
const REFRESH_BEFORE_MS = 15 * 60 * 1000;

async function refreshIfDue(s) {
  if (!s || !s.token || !s.expires_at) return;
  if (Date.parse(s.expires_at) - Date.now() > REFRESH_BEFORE_MS) return;
  let res;
  try {
    res = await fetch('/api/v1/sessions/current/refresh', { method: 'POST', headers: { Accept: 'application/json', Authorization: 'Bearer ' + s.token }, cache: 'no-store' });
  } catch {
    return; // the call itself says Parley cannot be reached
  }
  if (!res.ok) return; // at the session's longest life: the call's 401 asks to sign in again
  const data = await res.json();
  saveSession({ ...s, token: data.token, expires_at: data.expires_at });
}

// api calls the REST API; it throws an Error with the API's message.
async function api(method, path, body) {
  if (path !== '/sessions') await refreshIfDue(loadSession());
  const s = loadSession();
  const headers = { Accept: 'application/json' };
  if (s && s.token) headers.Authorization = 'Bearer ' + s.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new Error('Parley cannot be reached: check the network and try again');
  }
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (res.ok) return data;
  if (res.status === 401 && s) { saveSession(null); show(); }
  const err = new Error(data && data.error && data.error.message ? data.error.message : `${method} ${path} answered ${res.status}`);
  err.status = res.status;
  throw err;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function button(text, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

async function change(what, fn) {
  status(what + '…');
  try {
    await fn();
    await refresh();
    status(what + ': done');
  } catch (e) {
    status(e.message, true);
  }
}

function render(view) {
  const body = $('crm-users').tBodies[0];
  body.replaceChildren();
  const agents = view.unmatched_agents.map((a) => a.user);
  for (const u of view.users) {
    const row = body.insertRow();
    cell(row, u.username);
    cell(row, u.email);
    const action = row.insertCell();
    if (u.parley_user) {
      row.insertBefore(Object.assign(document.createElement('td'), { textContent: u.parley_user.username }), action);
      action.append(button('Unmap', () => change(`Unmap ${u.parley_user.username}`,
        () => api('DELETE', `/admin/users/${encodeURIComponent(u.parley_user.id)}/integrations/${CRM}`))));
      continue;
    }
    const mapped = document.createElement('td');
    mapped.textContent = 'not mapped';
    mapped.className = 'not-mapped';
    row.insertBefore(mapped, action);
    if (agents.length === 0) continue;
    const form = document.createElement('form');
    const pick = document.createElement('select');
    pick.setAttribute('aria-label', `Parley agent for ${u.username}`);
    for (const a of agents) pick.append(new Option(a.display_name ? `${a.username} (${a.display_name})` : a.username, a.id));
    form.append(pick, Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Map' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const agent = agents.find((a) => a.id === pick.value);
      change(`Map ${agent ? agent.username : pick.value} to ${u.username}`,
        () => api('PUT', `/admin/users/${encodeURIComponent(pick.value)}/integrations/${CRM}`, { username: u.username }));
    });
    action.append(form);
  }
  const unmatched = $('unmatched').tBodies[0];
  unmatched.replaceChildren();
  for (const a of view.unmatched_agents) {
    const row = unmatched.insertRow();
    cell(row, a.user.username);
    cell(row, a.crm_username ? `${a.crm_username} is not a user of the CRM` : 'no CRM username');
  }
  $('unmatched').hidden = view.unmatched_agents.length === 0;
  $('all-mapped').hidden = view.unmatched_agents.length !== 0;
}

async function refresh() {
  render(await api('GET', '/admin/crm-users'));
}

function show() {
  const s = loadSession();
  $('sign-in').hidden = !!s;
  $('view').hidden = !s;
  $('sign-out').hidden = !s;
  if (!s) return;
  $('signed-in').textContent = `Signed in to ${s.tenant} as ${s.username}.`;
  status('Loading the CRM users…');
  refresh().then(() => status(''), (e) => status(e.message, true));
}

$('sign-in').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  status('Signing in…');
  try {
    saveSession(null);
    const res = await api('POST', '/sessions', { tenant: f.get('tenant'), username: f.get('username'), password: f.get('password') });
    saveSession({ token: res.token, expires_at: res.expires_at, tenant: res.tenant ? res.tenant.slug : f.get('tenant'), username: res.user ? res.user.username : f.get('username') });
    ev.target.elements.password.value = '';
    show();
  } catch (e) {
    status(e.message, true);
  }
});

$('sign-out').addEventListener('click', async () => {
  try { await api('DELETE', '/sessions/current'); } catch { /* the session may be gone already */ }
  saveSession(null);
  status('Signed out.');
  show();
});

$('reload').addEventListener('click', () => change('Reload', async () => {}));

show();
