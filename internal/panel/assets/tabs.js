// Coordination of the panel's copies when the agent has several CRM tabs
// open: one agent session (the token in localStorage), one focused tab
// (the last one whose CRM page reported focus or navigation), and
// exactly-once actions (the screen pop, refreshView) across tabs.

const FOCUS_KEY = 'parley.focus';
const DONE_PREFIX = 'parley.done.';

/** Tabs is this tab's view of the others. */
export class Tabs {
  constructor(tenant) {
    this.id = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
    this.channel = new BroadcastChannel(`parley.${tenant}`);
    this.listeners = [];
    this.lastView = null;
    this.channel.onmessage = ev => { for (const l of this.listeners) l(ev.data); };
    addEventListener('focus', () => this.claimFocus());
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible' && document.hasFocus()) this.claimFocus(); });
    addEventListener('pagehide', () => { if (this.isFocused()) localStorage.removeItem(FOCUS_KEY); });
    // The first panel to start is focused until another claims it.
    if (!localStorage.getItem(FOCUS_KEY)) this.claimFocus();
    this.sweep();
  }

  /** claimFocus makes this tab the one that pops. */
  claimFocus() {
    if (localStorage.getItem(FOCUS_KEY) !== this.id) localStorage.setItem(FOCUS_KEY, this.id);
  }

  /** isFocused reports whether this tab is the focused one. */
  isFocused() { return localStorage.getItem(FOCUS_KEY) === this.id; }

  broadcast(msg) { this.channel.postMessage(msg); }

  onMessage(fn) { this.listeners.push(fn); }

  /**
   * once runs fn unless any tab already ran it under key (a Web Lock makes
   * the check and the mark atomic across tabs).
   */
  async once(key, fn) {
    const run = async () => {
      const k = DONE_PREFIX + key;
      if (localStorage.getItem(k)) return false;
      localStorage.setItem(k, String(Date.now()));
      await fn();
      return true;
    };
    if (navigator.locks) return navigator.locks.request(`parley.${key}`, run);
    return run();
  }

  /** sweep forgets once-marks older than a day. */
  sweep() {
    const old = Date.now() - 86400e3;
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (k && k.startsWith(DONE_PREFIX) && Number(localStorage.getItem(k)) < old) localStorage.removeItem(k);
    }
  }
}
