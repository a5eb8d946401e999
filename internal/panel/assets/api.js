// The Parley REST API and the events WebSocket, as the panel uses them.

/** APIError is an answer of the API that is not a success. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'APIError';
    this.status = status;
    this.code = code;
  }
}

/** API calls Parley's REST API with the session's bearer token. */
export class API {
  // onUnauthorized(message, token) is called when a signed-in request
  // gets 401 with token (the session expired or was ended elsewhere, or
  // another tab replaced the token by a refresh). It returns true when a
  // newer token is there to retry with (another tab's refresh), else it
  // signs the panel out.
  constructor(getToken, onUnauthorized) { this.getToken = getToken; this.onUnauthorized = onUnauthorized || (() => false); }

  async request(method, path, body, what, retried) {
    const headers = { Accept: 'application/json' };
    const token = this.getToken();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new APIError(0, 'network', 'Parley cannot be reached: check the network and try again');
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (res.ok) return data;
    const err = data && data.error;
    const message = err && err.message ? err.message : `${method} ${path} answered ${res.status}`;
    const code = err && err.code ? err.code : '';
    if (res.status === 401 && token) {
      if (!retried && this.onUnauthorized(message, token)) return this.request(method, path, body, what, true);
    }
    // A route this server does not have: another part of Parley is newer
    // than the server. Say what is missing instead of failing silently.
    if (res.status === 404 && /^no route /.test(message)) {
      throw new APIError(404, 'missing', `${what ? what + ' is ' : ''}not available on this Parley server (no ${method} /api/v1${path.replace(/[?].*/, '')})`);
    }
    throw new APIError(res.status, code, message);
  }

  get(path, what) { return this.request('GET', path, undefined, what); }
  post(path, body, what) { return this.request('POST', path, body === undefined ? {} : body, what); }
  put(path, body, what) { return this.request('PUT', path, body, what); }
  del(path, what) { return this.request('DELETE', path, undefined, what); }
}

/**
 * Events keeps the events WebSocket open: a ticket from POST
 * /api/v1/events/ticket, then /api/v1/events, reconnecting with
 * after=<last seq> when the socket closes. Frames with a seq (hello has
 * 0) are events and go to onFrame; frames without one are control frames
 * (softphone.answer, softphone.error, softphone.closed) and go to
 * onControl, never counted as events. send writes a control frame.
 */
export class Events {
  constructor(api, onFrame, onState, onControl) {
    this.api = api;
    this.onFrame = onFrame;
    this.onState = onState || (() => {});
    this.onControl = onControl || (() => {});
    this.lastSeq = 0;
    this.ws = null;
    this.stopped = false;
    this.delay = 500;
    this.timer = null;
    this.opens = 0; // sockets opened so far (reconnects are opens - 1)
  }

  start() { this.stopped = false; this.open(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000, 'panel closed'); this.ws = null; }
  }

  async open() {
    if (this.stopped) return;
    let ticket;
    try {
      ticket = (await this.api.post('/events/ticket', {}, 'Live events')).ticket;
    } catch (e) {
      if (e.status === 401) { this.onState('unauthorized', e.message); return; }
      this.onState('down', e.message);
      this.retry();
      return;
    }
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let url = `${proto}//${location.host}/api/v1/events?ticket=${encodeURIComponent(ticket)}`;
    if (this.lastSeq > 0) url += `&after=${this.lastSeq}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => { this.delay = 500; this.opens++; this.onState('up'); };
    ws.onmessage = m => {
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      if (!f || typeof f !== 'object') return;
      if (typeof f.seq !== 'number') { this.onControl(f); return; }
      if (f.seq > this.lastSeq) this.lastSeq = f.seq;
      this.onFrame(f);
    };
    ws.onclose = ev => {
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 1008 && /signed out|expired/.test(ev.reason)) { this.onState('unauthorized', ev.reason); return; }
      this.onState('down', ev.reason || 'the connection to Parley was lost');
      this.retry();
    };
  }

  /** send writes frame (an object) on the open socket; false when none is open. */
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  retry() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, 15000);
  }
}
