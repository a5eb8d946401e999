// The agent panel: sign-in, presence, queue status, the offer, call
// controls, wrap-up, today's interactions, screen pop and click-to-dial,
// and the browser softphone (softphone.js). Every value from outside
// (caller, CRM record, notes, device names) is inserted as text.

import { connect } from './opencti.js';
import { API, APIError, Events } from './api.js';
import { Tabs } from './tabs.js';
import { Softphone, MIC_KEY, SPEAKER_KEY, PROCESSING_KEY } from './softphone.js';
import { wireSettings } from './settings.js';
import { openSSO, ssoStartURL, PopupBlockedError } from './sso.js';

const $ = id => document.getElementById(id);
const config = JSON.parse($('parley-config').textContent);
const sessionKey = `parley.session.${config.tenant}`;
const signoutKey = `parley.signout.${config.tenant}`;

const state = {
  cti: null,
  session: null, // {token, user, expires_at, max_expires_at}
  refreshTimer: null,
  me: null,
  presence: null,
  interaction: null, // the current one (offered, connected or in wrap-up)
  queues: new Map(),
  agents: [],
  today: [],
  events: null,
  softphone: null,
  timer: null,
  popped: new Set(),
  // recordNames are the names the CRM gave with click-to-dial, by record
  // id: the server links the record by id only.
  recordNames: new Map(),
  // crmUser is who the CRM says is signed in to it (checkCRMUser): null
  // before it answered, '' when it cannot say.
  crmUser: null,
};

// A 401 signs the panel out with the server's reason, unless another tab
// has refreshed the token meanwhile: then the request is sent again with
// the new one.
const api = new API(() => state.session && state.session.token, (msg, token) => {
  if (!state.session) return false;
  if (state.session.token !== token || adoptSession(loadSession())) return true;
  signedOut(sentence(msg) || 'Your session ended: sign in again.');
  return false;
});
const tabs = new Tabs(config.tenant);
// ctiReady resolves with the CRM connection, or null (startCTI).
let ctiReady = Promise.resolve(null);
window.parleyPanel = { state, tabs }; // for diagnosis in the browser console

// --- small helpers

function text(el, s) { el.textContent = s == null ? '' : String(s); }

function show(el, on) { el.hidden = !on; }

function status(msg, isError) {
  const el = $('status');
  text(el, msg || '');
  el.classList.toggle('error', !!isError);
  el.setAttribute('role', isError ? 'alert' : 'status');
}

function fatal(msg) {
  const el = $('fatal');
  text(el, msg);
  show(el, !!msg);
}

function fmtDuration(sec) {
  sec = Math.max(0, Math.floor(sec));
  const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
  const mm = String(m).padStart(2, '0'), ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function since(iso) { return iso ? (Date.now() - Date.parse(iso)) / 1000 : 0; }

function recordName(rec) {
  return rec.name || state.recordNames.get(rec.id) || '';
}

function callerName(it) {
  const c = it.customer || {};
  const m = it.matches || [];
  return c.name || (it.linked_record && recordName(it.linked_record)) || (m.length === 1 && recordName(m[0])) || c.display || 'Unknown number';
}

function utf8Bytes(s) { return new TextEncoder().encode(s).length; }

function option(value, label, selected, disabled) {
  const o = document.createElement('option');
  o.value = value;
  text(o, label);
  o.selected = !!selected;
  o.disabled = !!disabled;
  return o;
}

// sentence makes a server message ("signed out everywhere: sign in again")
// a sentence to show.
function sentence(msg) {
  if (!msg) return '';
  const s = String(msg).trim();
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}

function describeError(e) { return e instanceof APIError || (e && e.message) ? e.message : String(e); }

// --- CRM (Open CTI)

// startCTI connects to the CRM page; it resolves with the connection, or
// null when there is none.
async function startCTI() {
  try {
    state.cti = await connect({ api: config.launch.api, scriptURL: config.script_url });
  } catch (e) {
    fatal(`The CRM connection failed: ${describeError(e)}. Screen pop and click-to-dial are off; calls still work.`);
    return null;
  }
  const cti = state.cti;
  cti.onNavigationChange(view => { tabs.claimFocus(); tabs.lastView = view; }).catch(e => console.warn('onNavigationChange', e));
  cti.notifyInitializationComplete().catch(e => fatal(`The CRM did not take the panel's start-up notice: ${describeError(e)}`));
  cti.setPanelSize(260, 700).catch(e => console.warn('setPanelSize', e));
  updateLabel();
  return cti;
}

// --- the CRM user. On a shared workstation the next agent signs in to the
// CRM in the same browser, where the panel's session (kept on Parley's
// origin) is still the previous agent's. With Parley's Apex class in the
// org (docs/salesforce/ParleyUser.cls) the panel asks the CRM who is signed
// in, and ends its session when that is not the Parley user's CRM
// username. The CRM's answer proves nothing (any script in this frame
// could make it up): it only ever ends a session, never starts one.
const USER_APEX = ['ParleyUser', 'userName'];
// How long the panel waits for the CRM connection before it starts without
// the check (which then runs when the connection is up), and when it asks
// again after the CRM did not answer in time.
const CHECK_WAIT_MS = 6000;
const CHECK_RETRY_MS = 15000;
// What a CRM username looks like (e-mail style, cc.MaxCRMUsernameLen).
const CRM_USERNAME = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

// crmCheck records who the CRM says is signed in ('' when it cannot say)
// and shows how the check went in Settings and the console.
function crmCheck(user, how) {
  state.crmUser = user;
  text($('settings-crm-user'), `CRM user check: ${how}.`);
  (user ? console.info : console.warn)(`The CRM user check is ${how}.`);
}

// checkCRMUser runs before the panel goes live (the events socket and the
// audio). It resolves false when it ended the session.
async function checkCRMUser() {
  const me = state.me;
  const mine = me && (me.crm_accounts || []).find(a => a.crm === 'salesforce');
  if (!mine) {
    crmCheck('', `off: ${me ? me.user.username : 'this user'} has no salesforce username in Parley (parley admin user set-crm)`);
    return true;
  }
  let timer;
  const cti = await Promise.race([ctiReady, new Promise(r => { timer = setTimeout(() => r(undefined), CHECK_WAIT_MS); })]);
  clearTimeout(timer);
  if (cti === undefined) {
    // The CRM connection is slow: start, and check once it is up.
    ctiReady.then(c => { if (c && state.me === me) askCRM(c, me, mine); });
    return true;
  }
  if (!cti) { crmCheck('', 'off: no CRM connection'); return true; }
  return askCRM(cti, me, mine);
}

// askCRM asks the CRM who is signed in and ends the session if that is
// not mine.username. A CRM that does not answer in time is asked again
// while the session lasts.
async function askCRM(cti, me, mine) {
  let answer;
  try {
    answer = await cti.runApex(...USER_APEX);
  } catch (e) {
    if (e.timeout) {
      crmCheck('', `waiting: the CRM did not answer ${USER_APEX.join('.')} in time; asking again in ${CHECK_RETRY_MS / 1000} s`);
      setTimeout(() => { if (state.me === me) askCRM(cti, me, mine); }, CHECK_RETRY_MS);
    } else {
      crmCheck('', `off: ${describeError(e)}. Install Parley's Apex class ParleyUser in the org and give the agents access to it (README: Set up single sign-on, step 7)`);
    }
    return true;
  }
  const raw = String(answer).trim();
  const crmUser = raw.toLowerCase();
  if (crmUser.length > 80 || !CRM_USERNAME.test(crmUser)) {
    crmCheck('', `off: ${USER_APEX.join('.')} answered ${JSON.stringify(raw.slice(0, 100))}, which is not a username`);
    return true;
  }
  crmCheck(crmUser, `on: the CRM is signed in as ${crmUser}`);
  // Signed out, or signed in again, while the CRM answered.
  if (state.me !== me || !state.session) return false;
  if (crmUser === mine.username) return true;
  // The other tabs first, with the reason (the server's end of the
  // session would reach them as a bare "signed out").
  const token = state.session.token;
  const msg = `Signed out: the CRM user is ${crmUser}, and this panel was ${me.user.display_name}'s (${mine.username}). ` +
    `Sign in as yourself. If you are ${me.user.display_name}, ask an administrator to correct your CRM username.`;
  tabs.broadcast({ type: 'signout', reason: msg });
  signedOut(msg, true);
  try {
    await new API(() => token).del('/sessions/current', 'Signing out');
  } catch (e) { console.warn('sign out', e); }
  return false;
}

function ctiCall(what, p) {
  if (!p) return Promise.resolve();
  return p.catch(e => { status(`${what}: ${describeError(e)}`, true); });
}

function labelFor() {
  const p = state.presence;
  if (!state.session || !p) return ['Phone', 'call'];
  switch (p.state) {
    case 'available': return ['Available', 'call'];
    case 'offered': return ['Incoming call', 'call'];
    case 'busy': {
      const it = state.interaction;
      return [`On call ${fmtDuration(since(it && it.answered_at ? it.answered_at : p.since))}`, 'end_call'];
    }
    case 'wrap_up': return ['Wrap-up', 'edit'];
    case 'not_ready': return [p.reason ? `Not ready: ${p.reason}` : 'Not ready', 'away'];
    default: return ['Signed out', 'offline'];
  }
}

let lastLabel = '';
function updateLabel() {
  if (!state.cti) return;
  const [label, icon] = labelFor();
  if (label === lastLabel) return;
  lastLabel = label;
  state.cti.setLabel(label).catch(e => console.warn('setLabel', e));
  state.cti.setIcon(icon).catch(e => console.warn('setIcon', e));
}

// --- screen pop

function popMoment(it) { return it.screen_pop === 'offer' ? 'offer' : 'answer'; }

async function screenPop(it) {
  if (!state.cti || state.popped.has(it.id)) return;
  state.popped.add(it.id);
  await tabs.once(`pop.${it.id}`, async () => {
    const c = it.customer || {};
    const matches = it.matches || [];
    const linked = it.linked_record;
    if (linked && linked.id) {
      await ctiCall('Screen pop', state.cti.screenPop('sobject', { recordId: linked.id }));
    } else if (matches.length === 1) {
      await ctiCall('Screen pop', state.cti.screenPop('sobject', { recordId: matches[0].id }));
    } else if (matches.length > 1) {
      status(`${matches.length} CRM records match: pick one below.`);
    } else if (c.withheld) {
      status('Withheld number: nothing to look up in the CRM.');
    } else if (c.number || c.email) {
      const defaults = c.email && !c.number ? { Email: c.email } : { Phone: c.number };
      await ctiCall('Screen pop', state.cti.screenPop('newRecord', { entityName: 'Contact', defaultFieldValues: defaults }));
    }
  });
}

function maybePop(it, moment, at) {
  if (!it || it.agent_id !== state.me.user.id) return;
  // A frame replayed after a reconnect may be about a call long gone.
  const current = state.presence && state.presence.interaction_id === it.id;
  if (!current && !(at && Date.now() - Date.parse(at) < 30000)) return;
  if (popMoment(it) !== moment) return;
  if (!tabs.isFocused()) return;
  screenPop(it);
}

async function pick(it, rec) {
  try {
    const updated = await api.put(`/interactions/${encodeURIComponent(it.id)}/link`, { record_id: rec.id }, 'Linking a record');
    setInteraction(updated);
    if (state.cti) await ctiCall('Screen pop', state.cti.screenPop('sobject', { recordId: rec.id }));
    status(`Linked to ${rec.name}.`);
  } catch (e) {
    status(describeError(e), true);
  }
}

// --- rendering

function renderMatches(ul, it, pickable) {
  ul.replaceChildren();
  for (const m of it.matches || []) {
    const li = document.createElement('li');
    const label = `${m.name} (${m.type}${m.company ? ', ' + m.company : ''})`;
    if (pickable) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'match';
      text(b, label);
      b.setAttribute('aria-label', `Link and open ${label}`);
      if (it.linked_record && it.linked_record.id === m.id) b.setAttribute('aria-current', 'true');
      b.addEventListener('click', () => pick(it, m));
      li.append(b);
    } else {
      text(li, label);
    }
    ul.append(li);
  }
  if (!pickable && (it.matches || []).length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    text(li, it.customer && it.customer.withheld ? 'No lookup (withheld number)' : 'No CRM match');
    ul.append(li);
  }
}

function renderPresence() {
  const sel = $('presence');
  const p = state.presence || { state: 'logged_out' };
  const reasons = (state.me && state.me.not_ready_reasons) || [];
  sel.replaceChildren();
  const busy = { offered: 'Incoming call', busy: 'On call', wrap_up: 'Wrap-up' }[p.state];
  if (busy) sel.append(option('', busy, true, true));
  const audio = state.softphone ? state.softphone.view() : null;
  const noAudio = audio && !audio.connected && p.state !== 'available';
  sel.append(option('available', noAudio ? 'Available (needs audio)' : 'Available', p.state === 'available', noAudio));
  for (const r of reasons) sel.append(option(`not_ready:${r}`, `Not ready: ${r}`, p.state === 'not_ready' && p.reason === r));
  if (p.state === 'not_ready' && !reasons.includes(p.reason)) sel.append(option(`not_ready:${p.reason || ''}`, `Not ready: ${p.reason || 'system'}`, true, true));
  sel.append(option('logged_out', 'Logged out', p.state === 'logged_out'));
  sel.append(option('signout', 'Sign out (every tab and browser)', false));
  text($('presence-since'), p.pending_state ? `then ${p.pending_state.replace('_', ' ')}` : '');
  updateLabel();
}

function setInteraction(it) {
  if (!it) { state.interaction = null; renderInteraction(); return; }
  if (state.interaction && state.interaction.id !== it.id && state.presence && state.presence.interaction_id !== it.id) return;
  state.interaction = it;
  renderInteraction();
}

function renderInteraction() {
  const p = state.presence || {};
  const it = state.interaction && state.interaction.id === p.interaction_id ? state.interaction : null;
  show($('offer'), !!it && p.state === 'offered');
  show($('call'), !!it && p.state === 'busy');
  show($('wrapup'), !!it && p.state === 'wrap_up');
  if (state.softphone) state.softphone.ring(!!it && p.state === 'offered' && state.softphone.leader && state.softphone.view().state === 'connected');
  if (!it) return;
  if (p.state === 'offered') {
    text($('offer-caller'), callerName(it));
    text($('offer-queue'), it.queue_name || 'Direct call');
    renderMatches($('offer-matches'), it, false);
  } else if (p.state === 'busy') {
    text($('call-caller'), callerName(it));
    text($('call-queue'), it.queue_name || '');
    const several = (it.matches || []).length > 1;
    show($('call-pick'), several);
    if (several) renderMatches($('call-matches'), it, true);
    $('call-hold').setAttribute('aria-pressed', String(!!it.held));
    text($('call-hold'), it.held ? 'Resume' : 'Hold');
    $('call-mute').setAttribute('aria-pressed', String(!!it.muted));
    text($('call-mute'), it.muted ? 'Unmute' : 'Mute');
    text($('call-linked'), it.linked_record ? `Linked: ${recordName(it.linked_record) || `${it.linked_record.type} ${it.linked_record.id}`}` : '');
    renderTransfer();
  } else if (p.state === 'wrap_up') {
    text($('wrapup-caller'), callerName(it));
    const sel = $('wrapup-disposition');
    const list = it.dispositions || (state.me && state.me.dispositions) || [];
    if (sel.dataset.for !== it.id) {
      sel.replaceChildren(option('', 'Choose…', true));
      for (const d of list) sel.append(option(d, d, it.disposition === d));
      sel.dataset.for = it.id;
      $('wrapup-notes').value = it.notes || '';
      text($('wrapup-error'), '');
    }
    renderCount();
  }
  tick();
}

function tick() {
  const p = state.presence || {};
  const it = state.interaction;
  if (it && p.state === 'offered') text($('offer-wait'), fmtDuration(since(it.queued_at || it.created_at)));
  if (it && p.state === 'busy') text($('call-timer'), fmtDuration(since(it.answered_at || p.since)));
  if (p.state === 'wrap_up' && p.wrap_up_deadline) {
    const left = Math.max(0, Math.ceil(-since(p.wrap_up_deadline)));
    text($('wrapup-title'), `Wrap-up (${fmtDuration(left)} left)`);
  }
  if ([...state.queues.values()].some(q => q.waiting)) renderQueueRows();
  updateLabel();
}

function capBytes() { return (state.me && state.me.log_cap_bytes) || 4000; }

function renderCount() {
  const n = utf8Bytes($('wrapup-notes').value);
  const cap = capBytes();
  const el = $('wrapup-count');
  text(el, n > cap
    ? `${n} / ${cap} bytes: over the CRM's limit; the CRM log is cut and links to the full text`
    : `${n} / ${cap} bytes`);
  el.classList.toggle('warn', n > cap);
}

function renderQueues() {
  renderQueueRows();
  renderTransfer();
}

function renderQueueRows() {
  const body = $('queues');
  body.replaceChildren();
  const qs = [...state.queues.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const q of qs) {
    const tr = document.createElement('tr');
    // The longest wait grows between status events.
    const longest = q.longest_wait_seconds + (q.waiting && q.receivedAt ? (Date.now() - q.receivedAt) / 1000 : 0);
    for (const v of [q.name, q.waiting, q.waiting ? fmtDuration(longest) : '–', q.agents ? q.agents.available : 0]) {
      const td = document.createElement('td');
      text(td, v);
      tr.append(td);
    }
    body.append(tr);
  }
}

function renderTransfer() {
  const sel = $('transfer-target');
  const keep = sel.value;
  sel.replaceChildren(option('', 'Choose…', true));
  for (const q of [...state.queues.values()].sort((a, b) => a.name.localeCompare(b.name))) sel.append(option(`queue:${q.id}`, `Queue ${q.name}`, keep === `queue:${q.id}`));
  for (const a of state.agents) {
    if (state.me && a.id === state.me.user.id) continue;
    sel.append(option(`agent:${a.id}`, `${a.display_name || a.username} (${(a.state || '').replace('_', ' ')})`, keep === `agent:${a.id}`));
  }
}

function renderToday() {
  const ol = $('today');
  ol.replaceChildren();
  if (state.today.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    text(li, 'No interactions yet today.');
    ol.append(li);
    return;
  }
  for (const it of state.today) {
    const li = document.createElement('li');
    const t = new Date(it.created_at);
    const hhmm = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
    const what = it.outcome || it.state;
    text(li, `${hhmm} ${callerName(it)} · ${it.queue_name || it.direction} · ${what}${it.talk_seconds ? ' ' + fmtDuration(it.talk_seconds) : ''}`);
    ol.append(li);
  }
}

// renderAudio shows the softphone's Audio line, Retry, the level meter and
// the device choices, and re-renders the presence choice (Available needs
// live audio for a browser agent).
let lastAudio = '';
function renderAudio() {
  const sp = state.softphone;
  if (!sp) return;
  const v = sp.view();
  text($('audio-text'), `Audio: ${v.text}`);
  $('audio').dataset.state = v.state;
  document.body.dataset.audio = v.state;
  show($('audio-retry'), v.retry);
  const live = sp.leader && !!sp.stream;
  show($('audio-meter'), live);
  $('audio-level').style.width = `${live ? sp.level : 0}%`;
  $('audio-meter').setAttribute('aria-valuenow', String(live ? sp.level : 0));
  const settings = sp.leader && v.state !== 'not-used';
  show($('audio-settings'), settings);
  if (settings) renderDevices(sp);
  const key = `${v.state}|${v.connected}`;
  if (key !== lastAudio) {
    lastAudio = key;
    renderPresence();
    renderInteraction();
  }
}

function renderDevices(sp) {
  const fill = (sel, list, chosen, what) => {
    const sig = list.map(d => d.deviceId + d.label).join('|') + '#' + chosen;
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.replaceChildren(option('', `Default ${what}`, !chosen));
    list.forEach((d, i) => {
      if (!d.deviceId || d.deviceId === 'default') return;
      sel.append(option(d.deviceId, d.label || `${what} ${i + 1} (name shown once the microphone is allowed)`, d.deviceId === chosen));
    });
  };
  fill($('audio-mic'), sp.devices.mics, localStorage.getItem(MIC_KEY) || '', 'microphone');
  const spk = $('audio-speaker');
  spk.disabled = !sp.canChooseSpeaker();
  spk.title = spk.disabled ? 'This browser plays on its default speaker only' : '';
  fill(spk, sp.devices.speakers, localStorage.getItem(SPEAKER_KEY) || '', 'speaker');
  $('audio-processing').checked = localStorage.getItem(PROCESSING_KEY) !== 'off';
}

// --- data

async function loadToday() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  try {
    state.today = await api.get(`/interactions?since=${encodeURIComponent(midnight.toISOString())}&limit=50`, "Today's interactions") || [];
    renderToday();
  } catch (e) {
    console.warn('today', e);
  }
}

async function loadAgents() {
  try {
    state.agents = await api.get('/agents', 'The agent list') || [];
  } catch (e) {
    state.agents = [];
  }
  renderTransfer();
}

async function loadCurrent() {
  const id = state.presence && state.presence.interaction_id;
  if (!id) { setInteraction(null); return; }
  try {
    const res = await api.get(`/interactions/${encodeURIComponent(id)}`, 'The current interaction');
    state.interaction = res.interaction || res;
    renderInteraction();
  } catch (e) {
    status(describeError(e), true);
  }
}

function setPresence(p) {
  if (!p || (state.me && p.user_id !== state.me.user.id)) return;
  const before = state.presence && state.presence.interaction_id;
  state.presence = p;
  renderPresence();
  if (p.interaction_id && p.interaction_id !== (state.interaction && state.interaction.id)) {
    loadCurrent();
  } else if (!p.interaction_id && before) {
    state.interaction = null;
  }
  renderInteraction();
}

function onFrame(f) {
  const d = f.data || {};
  switch (f.type) {
    case 'hello':
      if (state.softphone) state.softphone.hello(d.softphone || { enabled: false, endpoint: 'sip', ice_servers: [] });
      setPresence(d.presence);
      for (const q of d.queues || []) state.queues.set(q.id, { ...q, receivedAt: Date.now() });
      renderQueues();
      return;
    case 'agent.state':
      setPresence(d.presence);
      if (d.presence && state.agents.some(a => a.id === d.presence.user_id)) {
        for (const a of state.agents) if (a.id === d.presence.user_id) a.state = d.presence.state;
        renderTransfer();
      }
      return;
    case 'queue.status':
      if (d.queue) { state.queues.set(d.queue.id, { ...d.queue, receivedAt: Date.now() }); renderQueues(); }
      return;
  }
  const it = d.interaction;
  if (!it || it.agent_id !== state.me.user.id) return;
  if (!state.presence || state.presence.interaction_id === it.id || !state.interaction || state.interaction.id === it.id) {
    state.interaction = it;
    renderInteraction();
  }
  switch (f.type) {
    case 'interaction.offered': maybePop(it, 'offer', f.at); break;
    case 'interaction.connected': maybePop(it, 'answer', f.at); break;
    case 'interaction.ended':
    case 'interaction.wrapped':
      loadToday();
      break;
    case 'interaction.logged':
      loadToday();
      if (state.cti && tabs.isFocused()) {
        tabs.once(`refresh.${it.id}`, () => ctiCall('Refresh the CRM page', state.cti.refreshView()));
      }
      break;
  }
}

function onEventsState(s, msg) {
  if (s === 'up') { status(''); return; }
  if (state.softphone) state.softphone.socketDown();
  if (s === 'unauthorized') { signedOut(sentence(msg) || 'Your session ended: sign in again.'); return; }
  status(`Live updates paused: ${msg}. Reconnecting…`, true);
}

// --- session

// saveSession stores the session for the other tabs, or removes it; reason
// (with none) is why, for the other tabs to show. A reason stays until
// the next sign-in: a tab told by another must not remove it before a
// third has read it.
function saveSession(s, reason) {
  if (s) {
    localStorage.removeItem(signoutKey);
    localStorage.setItem(sessionKey, JSON.stringify(s));
    return;
  }
  if (reason) localStorage.setItem(signoutKey, reason);
  localStorage.removeItem(sessionKey);
}

function loadSession() {
  try { return JSON.parse(localStorage.getItem(sessionKey) || 'null'); } catch { return null; }
}

// --- session lifetime. Sessions are short-lived (sessions.ttl): before
// the expiry one tab refreshes the token (a Web Lock picks it; the others
// find the new token stored when they get the lock) and shares it through
// localStorage and the tabs' channel. The replaced token keeps working on
// the server for a few seconds, for the requests other tabs sent with it.

const REFRESH_LOCK = `parley.refresh.${config.tenant}`;

// refreshDelay is how long until the session is refreshed: a quarter of
// what is left, at most five minutes, before the expiry.
function refreshDelay(s) {
  const exp = Date.parse((s && s.expires_at) || '');
  if (!exp) return 1000; // a session stored without its expiry: learn it
  const left = exp - Date.now();
  return Math.max(0, left - Math.min(300e3, left / 4));
}

function scheduleRefresh(delay) {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = null;
  if (!state.session || state.session.final) return;
  state.refreshTimer = setTimeout(refreshSession, delay === undefined ? refreshDelay(state.session) : delay);
}

// adoptSession takes up a newer token of this tab's session (another tab
// refreshed it); false if s is not one (another user's, or older: messages
// may come out of order).
function adoptSession(s) {
  if (!state.session || !s || !s.token || s.token === state.session.token) return false;
  if (s.user && state.session.user && s.user.id !== state.session.user.id) return false;
  if (Date.parse(s.expires_at || '') < Date.parse(state.session.expires_at || '')) return false;
  state.session = s;
  scheduleRefresh();
  return true;
}

async function refreshSession() {
  const run = async () => {
    if (!state.session) return;
    // Another tab refreshed while this one waited for the lock (and this
    // one may have taken up its token already: then it is not due yet).
    if (adoptSession(loadSession())) return;
    if (refreshDelay(state.session) > 1000) { scheduleRefresh(); return; }
    try {
      const s = await api.post('/sessions/current/refresh', {}, 'Staying signed in');
      // The answer's token is the session's newest, whatever this tab
      // took up meanwhile.
      if (!state.session) return;
      state.session = { token: s.token, user: s.user, expires_at: s.expires_at, max_expires_at: s.max_expires_at };
      saveSession(state.session);
      tabs.broadcast({ type: 'refresh', session: state.session });
      scheduleRefresh();
    } catch (e) {
      if (!state.session) return; // a 401: signed out with the reason
      if (e.status === 409 && adoptSession(loadSession())) return;
      if (e.status === 403) {
        // The session's longest life (sessions.max): it ends at its expiry.
        state.session.final = true;
        status(sentence(describeError(e)), true);
        return;
      }
      if (e.status === 404) { state.session.final = true; console.warn('session refresh', e); return; } // an older server
      // Parley or the network is down: try again while the session lasts.
      const left = Date.parse(state.session.expires_at || '') - Date.now();
      console.warn('session refresh', e);
      scheduleRefresh(left > 0 ? Math.max(1000, Math.min(15000, left / 2)) : 15000);
    }
  };
  if (navigator.locks) await navigator.locks.request(REFRESH_LOCK, run);
  else await run();
}

async function start() {
  try {
    state.me = await api.get('/me');
  } catch (e) {
    if (e.status === 401) { signedOut(''); return; }
    status(describeError(e), true);
    return;
  }
  scheduleRefresh();
  // The CRM may be signed in as someone else (a shared workstation).
  if (!(await checkCRMUser())) return;
  show($('signin'), false);
  show($('main'), true);
  text($('who'), `${state.me.user.display_name} · ${state.me.tenant.display_name}`);
  setPresence(state.me.presence);
  try {
    for (const q of await api.get('/queues') || []) state.queues.set(q.id, { ...q, receivedAt: Date.now() });
  } catch (e) { console.warn('queues', e); }
  renderQueues();
  loadToday();
  loadAgents();
  if (state.events) state.events.stop();
  if (state.softphone) state.softphone.stop();
  state.softphone = new Softphone({
    key: `${config.tenant}:${state.me.user.id}`,
    send: f => !!state.events && state.events.send(f),
    onChange: renderAudio,
    audio: $('remote-audio'),
    site: config.launch.origin,
  });
  window.parleyPanel.softphone = state.softphone;
  show($('audio'), true);
  renderAudio();
  state.events = new Events(api, onFrame, onEventsState, f => { if (state.softphone) state.softphone.control(f); });
  state.events.start();
  clearInterval(state.timer);
  state.timer = setInterval(tick, 1000);
  if (state.cti) {
    ctiCall('Click-to-dial', state.cti.enableClickToDial());
    ctiCall('Click-to-dial', state.cti.onClickToDial(onClickToDial));
  }
}

// signedOut shows the sign-in with msg; shared: the other tabs show msg
// too (else they say they were signed out in another tab).
function signedOut(msg, shared) {
  // The softphone first: its softphone.release goes on the socket.
  if (state.softphone) { state.softphone.stop(); state.softphone = null; }
  if (state.events) { state.events.stop(); state.events = null; }
  show($('audio'), false);
  clearInterval(state.timer);
  clearTimeout(state.refreshTimer);
  const had = state.session;
  state.session = null;
  state.crmUser = null;
  text($('settings-crm-user'), '');
  state.me = null;
  state.presence = null;
  state.interaction = null;
  // Only a tab that had the session forgets it: a tab starting signed out
  // must not remove the one another tab has just saved.
  if (had) saveSession(null, shared ? msg : '');
  if (state.cti) state.cti.disableClickToDial().catch(() => {});
  show($('main'), false);
  show($('signin'), true);
  text($('who'), '');
  // ssoMode=true: for a tenant whose kind offers single sign-on, the CRM
  // sign-in in a popup (internal/sso) above the password form; for one whose
  // kind has none, the page says why and the password sign-in is the way in.
  text($('signin-notice'), config.sso_notice || '');
  show($('signin-notice'), !!config.sso_notice);
  show($('signin-sso'), !!(config.launch.sso && config.sso));
  text($('signin-error'), msg || '');
  updateLabel();
  $('signin-username').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const body = { tenant: $('signin-tenant').value.trim(), username: $('signin-username').value.trim(), password: $('signin-password').value };
  $('signin-submit').disabled = true;
  text($('signin-error'), '');
  try {
    const s = await api.post('/sessions', body, 'Sign-in');
    $('signin-password').value = '';
    await signedIn(s);
  } catch (e) {
    text($('signin-error'), describeError(e));
  } finally {
    $('signin-submit').disabled = false;
  }
}

// signedIn keeps a new session (from the password or the CRM sign-in),
// tells the other tabs and starts the panel.
async function signedIn(s) {
  state.session = { token: s.token, user: s.user, expires_at: s.expires_at, max_expires_at: s.max_expires_at };
  saveSession(state.session);
  // The session goes with the message: another tab's read of
  // localStorage may not see this write yet.
  tabs.broadcast({ type: 'signin', session: state.session });
  await start();
}

// signInSSO signs in with the CRM in a popup (a click: popups need a user
// gesture). A blocked popup shows how to allow it and a retry button.
async function signInSSO() {
  text($('signin-sso-error'), '');
  text($('signin-error'), '');
  show($('signin-sso-retry'), false);
  const url = ssoStartURL(location.origin, { tenant: config.tenant, origin: config.launch.origin, sandbox: config.launch.sandbox });
  try {
    await signedIn(await openSSO(window, url, location.origin));
  } catch (e) {
    text($('signin-sso-error'), e instanceof Error ? e.message : describeError(e));
    show($('signin-sso-retry'), e instanceof PopupBlockedError);
  }
}

// signOut signs the agent out everywhere: every session (every tab, every
// browser) ends, their sockets close and the CRM grant is revoked.
async function signOut() {
  try {
    await api.del('/me/sessions', 'Signing out everywhere');
  } catch (e) {
    // An older server has no sign-out everywhere: this session at least.
    if (e.status === 404) await api.del('/sessions/current').catch(e2 => console.warn('sign out', e2));
    else console.warn('sign out', e);
  }
  tabs.broadcast({ type: 'signout' });
  signedOut('Signed out in every tab and browser.');
}

// --- actions

async function act(what, path, body, after) {
  try {
    const r = await api.post(path, body);
    if (after) after(r);
    return r;
  } catch (e) {
    status(`${what}: ${describeError(e)}`, true);
    return null;
  }
}

function current() { return state.interaction && encodeURIComponent(state.interaction.id); }

async function changePresence() {
  const v = $('presence').value;
  if (v === 'signout') { await signOut(); return; }
  const [st, reason] = v.split(':');
  try {
    const p = await api.put('/me/state', { state: st, reason: reason || '' }, 'Changing your state');
    setPresence(p);
    status('');
  } catch (e) {
    status(describeError(e), true);
    renderPresence();
  }
}

async function onClickToDial(p) {
  if (state.cti) state.cti.setPanelVisible(true).catch(e => console.warn('setPanelVisible', e));
  if (!state.session) { status('Sign in to dial.', true); return; }
  status(`Dialling ${p.number || '(no number)'}…`);
  if (p.recordId && p.recordName) state.recordNames.set(p.recordId, p.recordName);
  const r = await act('Dialling', '/calls', { to: p.number || '', record_id: p.recordId || '', object_type: p.objectType || '' });
  if (r) {
    status(`Calling ${p.recordName || p.number}: your phone rings first.`);
    if (r.id) { state.interaction = r; renderInteraction(); }
  }
}

async function submitWrapUp(ev) {
  ev.preventDefault();
  const it = state.interaction;
  if (!it) return;
  const body = { notes: $('wrapup-notes').value, disposition: $('wrapup-disposition').value };
  if (it.linked_record) body.record_id = it.linked_record.id;
  $('wrapup-submit').disabled = true;
  try {
    await api.put(`/interactions/${encodeURIComponent(it.id)}/wrapup`, body, 'Wrap-up');
    text($('wrapup-error'), '');
    status('Wrap-up saved; the log goes to the CRM.');
    loadToday();
  } catch (e) {
    text($('wrapup-error'), describeError(e));
  } finally {
    $('wrapup-submit').disabled = false;
  }
}

function wire() {
  $('signin').addEventListener('submit', signIn);
  wireSettings(api, config);
  $('signin-sso-button').addEventListener('click', signInSSO);
  $('signin-sso-retry').addEventListener('click', signInSSO);
  $('presence').addEventListener('change', changePresence);
  $('offer-accept').addEventListener('click', () => act('Accepting', `/interactions/${current()}/accept`));
  $('offer-reject').addEventListener('click', () => act('Rejecting', `/interactions/${current()}/reject`));
  // Hold and mute toggle what the server says about the call (held,
  // muted), so a new call, a reload or another tab starts from the truth.
  const toggle = (field, path, verbs) => () => {
    const it = state.interaction;
    const on = !(it && it[field]);
    act(on ? verbs[0] : verbs[1], `/interactions/${current()}/${path}`, { on }, r => {
      if (state.interaction && r && r.id === state.interaction.id) state.interaction = r;
      else if (state.interaction) state.interaction[field] = on;
      renderInteraction();
    });
  };
  $('call-mute').addEventListener('click', toggle('muted', 'mute', ['Muting', 'Unmuting']));
  $('call-hold').addEventListener('click', toggle('held', 'hold', ['Holding', 'Resuming']));
  $('call-keypad-toggle').addEventListener('click', () => {
    const open = $('keypad').hidden;
    show($('keypad'), open);
    $('call-keypad-toggle').setAttribute('aria-expanded', String(open));
  });
  for (const b of $('keypad').querySelectorAll('button[data-digit]')) {
    b.setAttribute('aria-label', `Send ${b.dataset.digit}`);
    b.addEventListener('click', () => {
      // The tab with the audio sends the digit in the media (RFC 4733);
      // another tab, or an agent on a SIP phone, asks the server to.
      if (state.softphone && state.softphone.dtmf(b.dataset.digit)) return;
      act('Sending a digit', `/interactions/${current()}/dtmf`, { digits: b.dataset.digit });
    });
  }
  $('transfer').addEventListener('submit', ev => {
    ev.preventDefault();
    const v = $('transfer-target').value;
    if (!v) { status('Choose a queue or an agent to transfer to.', true); return; }
    const [kind, id] = v.split(':');
    act('Transferring', `/interactions/${current()}/transfer`, kind === 'queue' ? { queue_id: id } : { agent_id: id }, () => status('Transferred.'));
  });
  $('call-hangup').addEventListener('click', () => act('Hanging up', `/interactions/${current()}/hangup`));
  $('wrapup-notes').addEventListener('input', renderCount);
  $('audio-retry').addEventListener('click', () => { if (state.softphone) state.softphone.retry(); });
  $('audio-mic').addEventListener('change', () => { if (state.softphone) state.softphone.chooseMic($('audio-mic').value); });
  $('audio-speaker').addEventListener('change', () => { if (state.softphone) state.softphone.chooseSpeaker($('audio-speaker').value); });
  $('audio-processing').addEventListener('change', () => {
    if ($('audio-processing').checked) localStorage.removeItem(PROCESSING_KEY); else localStorage.setItem(PROCESSING_KEY, 'off');
    if (state.softphone) state.softphone.chooseMic($('audio-mic').value);
  });
  $('wrapup').addEventListener('submit', submitWrapUp);
  // joinSession takes up a session another tab signed in with: the one
  // its message carries (this tab's localStorage may not show the write
  // yet), else the stored one.
  const joinSession = (session) => {
    if (state.session) return;
    state.session = (session && session.token) ? session : loadSession();
    if (state.session) start();
  };
  tabs.onMessage(m => {
    if (m.type === 'signout' && state.session) signedOut(typeof m.reason === 'string' && m.reason ? m.reason : 'Signed out in another tab.');
    if (m.type === 'signin') joinSession(m.session);
    if (m.type === 'refresh') adoptSession(m.session);
  });
  // The session in localStorage is the source of truth across tabs: its
  // storage event reaches every other tab even when a BroadcastChannel
  // message does not (seen with background tabs in Chromium).
  addEventListener('storage', ev => {
    if (ev.key !== sessionKey) return;
    if (ev.newValue) { if (state.session) adoptSession(loadSession()); else joinSession(); }
    else if (state.session) signedOut(localStorage.getItem(signoutKey) || 'Signed out in another tab.');
  });
}

async function main() {
  wire();
  const t = $('signin-tenant');
  t.value = config.tenant;
  t.readOnly = !!config.launch.tenant;

  ctiReady = startCTI(); // in parallel: a CRM that never answers does not hold up sign-in
  state.session = loadSession();
  if (state.session && state.session.token) {
    await start();
  } else {
    signedOut('');
  }
}

main();
