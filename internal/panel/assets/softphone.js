// The browser softphone: one persistent WebRTC audio leg to Parley per
// signed-in browser agent, in exactly one tab (the leader).
//
// Leadership is a Web Lock named parley-audio:<tenant>:<user> held for the
// tab's life; a BroadcastChannel of the same name carries the leader's
// audio state to the other tabs (which show it and send digits through
// the REST API). Where Web Locks are missing, the tabs elect a leader over
// the channel alone (heartbeats; the lowest id wins a tie).
//
// The leader takes the microphone (getUserMedia), makes an
// RTCPeerConnection with the ICE servers of the socket's hello frame, waits
// for ICE gathering (non-trickle, at most 3 s) and sends softphone.offer on
// the event socket; softphone.answer completes it. Every new socket (its
// hello) and every softphone.closed that is not "replaced by another
// panel" makes a fresh PeerConnection and offer (a softphone.closed whose
// "id" names an earlier offer, or one without an id that comes while an
// offer awaits its answer, is about a leg already replaced, and ignored).
// On pagehide the leader sends softphone.release and closes its
// PeerConnection.
//
// Settings live in localStorage:
//   parley.audio.mic         deviceId of the chosen microphone ('' = default)
//   parley.audio.speaker     deviceId of the chosen speaker ('' = default)
//   parley.audio.processing  'off' turns echo cancellation, noise suppression
//                            and automatic gain control off (tone tests need
//                            that); anything else leaves them on
//
// For tests, the page exposes document.body.dataset: audio (the state:
// off, connecting, connected, blocked, other-tab, replaced, error,
// not-used), ring ('' or the AudioContext state while the ring tone
// plays), level (the microphone level, 0-100).

export const MIC_KEY = 'parley.audio.mic';
export const SPEAKER_KEY = 'parley.audio.speaker';
export const PROCESSING_KEY = 'parley.audio.processing';

const REPLACED = 'replaced by another panel';
const GATHER_MS = 3000;
const HEARTBEAT_MS = 1000;

/**
 * Softphone drives the audio of one tab. Its owner passes:
 *   key       'tenant:user' (the lock and channel name suffix)
 *   send      f(frame) -> bool: sends a control frame on the event socket
 *   onChange  f(): the audio state or the devices changed
 *   audio     the <audio> element that plays the remote party
 */
export class Softphone {
  constructor({ key, send, onChange, audio, site }) {
    this.key = key;
    // site is the page in the address bar (the CRM that frames the panel):
    // browsers keep a framed page's microphone permission under it.
    this.site = site || location.origin;
    this.send = send;
    this.onChange = onChange || (() => {});
    this.audio = audio;
    this.id = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
    this.cfg = null; // hello's softphone: {enabled, endpoint, ice_servers}
    this.leader = false;
    this.state = 'off';
    this.detail = '';
    this.remote = null; // the leader's state as another tab sees it
    this.stream = null;
    this.pc = null;
    this.offerID = '';
    this.pending = false; // an offer awaits its answer
    this.negotiating = false;
    this.again = false;
    this.devices = { mics: [], speakers: [] };
    this.level = 0;
    this.ringing = null;
    this.stopped = false;
    this.releaseLock = null;
    this.channel = new BroadcastChannel('parley-audio:' + key);
    this.channel.onmessage = ev => this.onChannel(ev.data || {});
    this.lastBeat = 0;
    this.failures = 0;
    this.onPageHide = () => this.release();
    addEventListener('pagehide', this.onPageHide);
    // A page restored from the back-forward cache starts a new leg.
    this.onPageShow = ev => { if (ev.persisted && this.leader) this.negotiate(); };
    addEventListener('pageshow', this.onPageShow);
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener('devicechange', () => this.listDevices());
    }
    this.elect();
  }

  // --- leadership

  elect() {
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request('parley-audio:' + this.key, () => new Promise(resolve => {
        this.releaseLock = resolve;
        if (this.stopped) { resolve(); return; }
        this.becomeLeader();
      })).catch(e => console.warn('audio lock', e));
      this.channel.postMessage({ type: 'query' });
      return;
    }
    // No Web Locks: a leader beats every second; a tab that hears none for
    // three claims it, and of two claimants the lower id stays.
    this.channel.postMessage({ type: 'query' });
    this.electTimer = setInterval(() => {
      if (this.stopped) return;
      if (this.leader) { this.channel.postMessage({ type: 'beat', from: this.id }); return; }
      if (Date.now() - this.lastBeat > 3 * HEARTBEAT_MS) this.becomeLeader();
    }, HEARTBEAT_MS);
  }

  becomeLeader() {
    if (this.leader || this.stopped) return;
    this.leader = true;
    this.remote = null;
    this.channel.postMessage({ type: 'beat', from: this.id });
    this.setState(this.cfg ? 'connecting' : 'off', '');
    this.listDevices();
    this.negotiate();
  }

  onChannel(m) {
    if (this.stopped) return;
    switch (m.type) {
      case 'query':
        if (this.leader) this.broadcast();
        return;
      case 'beat':
        if (m.from === this.id) return;
        this.lastBeat = Date.now();
        if (this.leader && !navigator.locks && m.from < this.id) this.resign();
        return;
      case 'state':
        if (this.leader) return;
        this.lastBeat = Date.now();
        this.remote = { state: m.state, detail: m.detail };
        this.onChange();
        return;
      case 'gone':
        if (!this.leader) { this.remote = null; this.lastBeat = 0; this.onChange(); }
    }
  }

  resign() {
    this.leader = false;
    this.closePC();
    this.stopMic();
    this.onChange();
  }

  broadcast() {
    if (this.leader) this.channel.postMessage({ type: 'state', from: this.id, state: this.state, detail: this.detail });
  }

  setState(s, detail) {
    this.state = s;
    this.detail = detail || '';
    document.body.dataset.audio = this.view().state;
    this.broadcast();
    this.onChange();
  }

  // --- the hello frame and control frames

  /** hello takes a new socket's softphone settings and (re)negotiates. */
  hello(cfg) {
    // No softphone in the hello: the user is not an agent (supervisors and
    // admins take no calls).
    this.cfg = cfg || { enabled: false, endpoint: '', ice_servers: [] };
    if (!this.cfg.enabled) {
      this.closePC();
      this.stopMic();
      this.setState('not-used', '');
      return;
    }
    if (!this.leader) { this.onChange(); return; }
    // The old leg died with the old socket: start over.
    this.closePC();
    this.negotiate();
  }

  /** control handles softphone.answer, softphone.error and softphone.closed. */
  async control(f) {
    if (!this.leader) return;
    switch (f.type) {
      case 'softphone.answer':
        if (!this.pc || f.id !== this.offerID) return;
        this.pending = false;
        try {
          await this.pc.setRemoteDescription({ type: 'answer', sdp: f.sdp });
        } catch (e) {
          this.setState('error', `Parley's audio answer was not accepted by the browser: ${e.message}`);
        }
        return;
      case 'softphone.error':
        if (f.id !== this.offerID) return;
        this.closePC();
        this.setState('error', (f.error && f.error.message) || 'Parley refused the audio connection');
        return;
      case 'softphone.closed': {
        // A closed frame about an earlier leg (its offer id is not the
        // current one, or, without an id, it comes while the current
        // offer awaits its answer: the server closing the leg this offer
        // replaces) changes nothing.
        if (f.id ? f.id !== this.offerID : this.pending) return;
        const reason = (f.data && f.data.reason) || '';
        this.closePC();
        if (reason === REPLACED) { this.setState('replaced', ''); return; }
        this.setState('connecting', reason);
        // A leg the server ends again and again (it fails at once) is
        // offered anew at most every 2 s, not in a tight loop.
        const now = Date.now();
        const wait = now - (this.closedAt || 0) < 5000 ? 2000 : 0;
        this.closedAt = now;
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.negotiate(), wait);
      }
    }
  }

  /** socketDown notes the event socket closed (the leg goes with it). */
  socketDown() {
    if (!this.leader || !this.cfg || !this.cfg.enabled) return;
    this.closePC();
    if (this.state !== 'blocked') this.setState('connecting', 'waiting for the connection to Parley');
  }

  // --- negotiation

  async negotiate() {
    if (!this.leader || this.stopped || !this.cfg || !this.cfg.enabled) return;
    if (this.negotiating) { this.again = true; return; }
    this.negotiating = true;
    try {
      do {
        this.again = false;
        await this.negotiateOnce();
      } while (this.again && this.leader && !this.stopped);
    } finally {
      this.negotiating = false;
    }
  }

  async negotiateOnce() {
    if (this.state !== 'blocked') this.setState('connecting', '');
    if (!(await this.acquire())) return;
    this.closePC();
    const pc = new RTCPeerConnection({ iceServers: (this.cfg.ice_servers || []).map(s => ({ urls: s.urls, username: s.username, credential: s.credential })) });
    this.pc = pc;
    for (const t of this.stream.getAudioTracks()) pc.addTrack(t, this.stream);
    pc.ontrack = ev => {
      const s = ev.streams[0] || new MediaStream([ev.track]);
      this.audio.srcObject = s;
      // A browser that holds back sound until the user acts on the page
      // plays it from the first click in the panel.
      this.audio.play().catch(() => addEventListener('pointerdown', () => this.audio.play().catch(e => console.warn('audio play', e)), { once: true, capture: true }));
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      switch (pc.connectionState) {
        case 'connected': this.failures = 0; this.setState('connected', ''); break;
        case 'disconnected': this.setState('connecting', 'the audio connection is interrupted'); break;
        case 'failed':
          this.closePC();
          // Try again a few times (2 s, 4 s, 8 s), then ask.
          if (++this.failures <= 3) {
            this.setState('connecting', 'the audio connection failed; trying again');
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => this.negotiate(), 1000 * 2 ** this.failures);
            return;
          }
          this.setState('error', 'The audio connection failed: no network path between this browser and Parley (a firewall, or the contact center needs a TURN server). Retry');
      }
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await gathered(pc, GATHER_MS);
    if (this.pc !== pc) return;
    this.offerID = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
    this.pending = true;
    if (!this.send({ type: 'softphone.offer', id: this.offerID, sdp: pc.localDescription.sdp })) {
      this.setState('connecting', 'waiting for the connection to Parley');
    }
  }

  closePC() {
    const pc = this.pc;
    this.pc = null;
    this.offerID = '';
    this.pending = false;
    if (pc) pc.close();
  }

  // --- microphone

  constraints() {
    const on = localStorage.getItem(PROCESSING_KEY) !== 'off';
    const mic = localStorage.getItem(MIC_KEY) || '';
    const audio = { echoCancellation: on, noiseSuppression: on, autoGainControl: on };
    if (mic) audio.deviceId = { exact: mic };
    return { audio, video: false };
  }

  /** acquire takes the microphone unless held; false (with the state set) when it cannot. */
  async acquire() {
    if (this.stream && this.stream.getAudioTracks().some(t => t.readyState === 'live')) return true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.noMic = false;
      this.setState('blocked', 'This page cannot use a microphone: open Parley over https (or on localhost).');
      return false;
    }
    this.watchPermission();
    if (this.state !== 'blocked') this.setState('connecting', 'waiting for the microphone: allow it if the browser asks');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(this.constraints());
    } catch (e) {
      if (e.name === 'OverconstrainedError' && localStorage.getItem(MIC_KEY)) {
        // The chosen microphone is gone: fall back to the default one.
        localStorage.removeItem(MIC_KEY);
        return this.acquire();
      }
      this.noMic = !!e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError');
      this.setState('blocked', micProblem(e, this.site));
      return false;
    }
    if (!this.leader || this.stopped) { stream.getTracks().forEach(t => t.stop()); return false; }
    this.setState('connecting', '');
    this.useStream(stream);
    this.listDevices();
    return true;
  }

  /** watchPermission retries by itself once the user allows the microphone (where the Permissions API tells). */
  watchPermission() {
    if (this.watching || !navigator.permissions || !navigator.permissions.query) return;
    this.watching = true;
    navigator.permissions.query({ name: 'microphone' }).then(st => {
      st.addEventListener('change', () => { if (st.state === 'granted' && this.leader && this.state === 'blocked') this.retry(); });
    }).catch(() => {});
  }

  useStream(stream) {
    this.stopMic();
    this.stream = stream;
    for (const t of stream.getAudioTracks()) {
      t.onended = () => {
        if (this.stream !== stream) return;
        this.stopMic();
        this.noMic = false;
        this.setState('blocked', 'The microphone stopped (unplugged or taken away): plug it in or choose another, then Retry.');
      };
    }
    this.meter(stream);
  }

  stopMic() {
    if (this.meterTimer) { clearInterval(this.meterTimer); this.meterTimer = null; }
    if (this.meterSrc) { this.meterSrc.disconnect(); this.meterSrc = null; }
    if (this.stream) { for (const t of this.stream.getTracks()) t.stop(); this.stream = null; }
    this.level = 0;
    document.body.dataset.level = '0';
  }

  /** chooseMic switches the microphone: a new stream, replaceTrack on the live leg. */
  async chooseMic(deviceId) {
    if (deviceId) localStorage.setItem(MIC_KEY, deviceId); else localStorage.removeItem(MIC_KEY);
    if (!this.leader) return;
    this.stopMic();
    if (!(await this.acquire())) return;
    const track = this.stream.getAudioTracks()[0];
    const sender = this.pc && this.pc.getSenders().find(s => s.track === null || (s.track && s.track.kind === 'audio'));
    if (sender) await sender.replaceTrack(track);
    else this.negotiate();
  }

  /** chooseSpeaker plays the remote party (and the ring tone) on deviceId. */
  async chooseSpeaker(deviceId) {
    if (deviceId) localStorage.setItem(SPEAKER_KEY, deviceId); else localStorage.removeItem(SPEAKER_KEY);
    await this.applySpeaker();
  }

  async applySpeaker() {
    const id = localStorage.getItem(SPEAKER_KEY) || '';
    try {
      if (this.audio.setSinkId) await this.audio.setSinkId(id);
      if (this.ctx && this.ctx.setSinkId) await this.ctx.setSinkId(id);
    } catch (e) {
      console.warn('setSinkId', e);
      localStorage.removeItem(SPEAKER_KEY);
    }
  }

  canChooseSpeaker() { return typeof this.audio.setSinkId === 'function'; }

  async listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      this.devices = {
        mics: all.filter(d => d.kind === 'audioinput'),
        speakers: all.filter(d => d.kind === 'audiooutput'),
      };
    } catch (e) {
      console.warn('enumerateDevices', e);
    }
    this.applySpeaker();
    this.onChange();
  }

  // --- the level meter

  audioContext() {
    if (!this.ctx) {
      this.ctx = new AudioContext();
      this.applySpeaker();
      // A context made without a gesture starts suspended: the next click resumes it.
      addEventListener('pointerdown', () => { if (this.ctx.state === 'suspended') this.ctx.resume(); }, true);
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    return this.ctx;
  }

  meter(stream) {
    let src, an;
    try {
      const ctx = this.audioContext();
      src = ctx.createMediaStreamSource(stream);
      an = ctx.createAnalyser();
      an.fftSize = 512;
      src.connect(an);
      this.meterSrc = src;
    } catch (e) {
      console.warn('level meter', e);
      return;
    }
    const buf = new Float32Array(an.fftSize);
    this.meterTimer = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      // -60 dBFS .. 0 dBFS onto 0..100.
      const db = rms > 0 ? 20 * Math.log10(rms) : -100;
      const level = Math.max(0, Math.min(100, Math.round((db + 60) * 100 / 60)));
      if (level !== this.level) {
        this.level = level;
        document.body.dataset.level = String(level);
        this.onChange();
      }
    }, 100);
  }

  // --- ring tone

  /** ring plays (on) or stops the ring tone: 440+480 Hz, 2 s on, 4 s off. */
  ring(on) {
    if (on && !this.ringing) {
      let ctx;
      try { ctx = this.audioContext(); } catch (e) { console.warn('ring', e); return; }
      const gain = ctx.createGain();
      gain.gain.value = 0;
      gain.connect(ctx.destination);
      const oscs = [440, 480].map(f => {
        const o = ctx.createOscillator();
        o.frequency.value = f;
        o.connect(gain);
        o.start();
        return o;
      });
      const cycle = () => {
        const t = ctx.currentTime;
        gain.gain.setValueAtTime(0.12, t);
        gain.gain.setValueAtTime(0, t + 2);
      };
      cycle();
      const timer = setInterval(cycle, 6000);
      this.ringing = { gain, oscs, timer };
      const mark = () => { if (this.ringing) document.body.dataset.ring = ctx.state; };
      ctx.onstatechange = mark;
      mark();
    } else if (!on && this.ringing) {
      const r = this.ringing;
      this.ringing = null;
      clearInterval(r.timer);
      for (const o of r.oscs) o.stop();
      r.gain.disconnect();
      document.body.dataset.ring = '';
    }
  }

  // --- DTMF

  /** dtmf sends digits in-band (RFC 4733) on the live leg; false when this tab cannot. */
  dtmf(digits) {
    if (!this.leader || !this.pc || this.pc.connectionState !== 'connected') return false;
    const sender = this.pc.getSenders().find(s => s.dtmf);
    if (!sender || !sender.dtmf || (sender.dtmf.canInsertDTMF === false)) return false;
    // insertDTMF replaces what is still queued: append to it instead, so
    // quick presses all go out, in order.
    sender.dtmf.insertDTMF(sender.dtmf.toneBuffer + digits, 100, 70);
    return true;
  }

  // --- state for the page

  /**
   * view is what the Audio line shows: {state, text, retry, connected}.
   * connected tells whether this agent's audio is live in some tab (the
   * Available choice needs it).
   */
  view() {
    if (!this.cfg) return { state: 'off', text: 'starting…', retry: false, connected: false };
    if (!this.cfg.enabled) {
      if (!this.cfg.endpoint) return { state: 'not-used', text: 'not used: only agents take calls', retry: false, connected: false };
      return { state: 'not-used', text: `not used: this agent takes calls on ${endpointName(this.cfg.endpoint)}`, retry: false, connected: true };
    }
    if (!this.leader) {
      const r = this.remote;
      if (!r) return { state: 'other-tab', text: 'in another tab', retry: false, connected: false };
      const inner = { connected: 'connected', blocked: 'microphone blocked there', replaced: 'taken over by another browser', error: 'not connected: see that tab' }[r.state] || 'connecting';
      return { state: 'other-tab', text: `in another tab (${inner})`, retry: false, connected: r.state === 'connected' };
    }
    switch (this.state) {
      case 'connected': return { state: 'connected', text: 'connected', retry: false, connected: true };
      case 'blocked': return { state: 'blocked', text: `${this.noMic ? 'no microphone' : 'microphone blocked'}. ${this.detail}`, retry: true, connected: false };
      case 'replaced': return { state: 'replaced', text: 'taken over by Parley open in another browser or computer', retry: true, connected: false };
      case 'error': return { state: 'error', text: this.detail, retry: true, connected: false };
      default: return { state: 'connecting', text: this.detail ? `connecting (${this.detail})…` : 'connecting…', retry: false, connected: false };
    }
  }

  /** retry tries the microphone and the connection again. */
  retry() {
    if (!this.leader) return;
    this.failures = 0;
    this.stopMic();
    this.setState('connecting', '');
    this.negotiate();
  }

  /** release drops the leg (softphone.release) and the microphone. */
  release() {
    if (this.leader && this.pc) this.send({ type: 'softphone.release' });
    this.closePC();
    this.stopMic();
    this.ring(false);
    if (this.leader) this.channel.postMessage({ type: 'gone', from: this.id });
  }

  /** stop ends the softphone (sign-out): release, give up leadership. */
  stop() {
    this.release();
    this.stopped = true;
    this.leader = false;
    removeEventListener('pagehide', this.onPageHide);
    removeEventListener('pageshow', this.onPageShow);
    clearTimeout(this.retryTimer);
    clearInterval(this.electTimer);
    if (this.releaseLock) this.releaseLock();
    this.channel.close();
    delete document.body.dataset.audio;
  }
}

/** gathered resolves when ICE gathering is complete, or after ms. */
function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise(resolve => {
    const done = () => { clearTimeout(t); pc.removeEventListener('icegatheringstatechange', check); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const t = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** micProblem says what a getUserMedia failure means and what to do. */
export function micProblem(e, site = location.origin) {
  switch (e && e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `The browser does not let Parley use the microphone: click the lock (or microphone) icon at the left of the address bar, set Microphone to Allow for ${site} (the site in the address bar), then Retry. In the CRM, the page that frames the panel must allow the microphone too.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found: plug in a headset or microphone, then Retry.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone is in use by another program (or the system blocks it): close the other program, then Retry.';
    default:
      return `The microphone could not be opened (${(e && e.name) || 'error'}: ${(e && e.message) || e}): Retry.`;
  }
}

function endpointName(ep) {
  switch (ep) {
    case 'sip': return 'a SIP phone';
    case 'external': return 'an external number';
    default: return ep || 'another endpoint';
  }
}
