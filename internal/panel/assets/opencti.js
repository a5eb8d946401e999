// One promise-based API over the two Open CTI libraries a CRM offers its
// softphone frame: Lightning's sforce.opencti (opencti_min.js) and
// Classic/Console's sforce.interaction (interaction.js). It hides
// Classic's positional arguments and JSON-string results, and every call
// fails with a clear error when the CRM page never answers.

/** How long a call waits for the CRM page's answer. */
export const CALL_TIMEOUT_MS = 5000;
/** How long loading the library may take. */
export const LOAD_TIMEOUT_MS = 10000;

/** CTIError is a failed or unanswered Open CTI call. */
export class CTIError extends Error {
  constructor(method, message) {
    super(`${method}: ${message}`);
    this.name = 'CTIError';
    this.method = method;
  }
}

/** loadScript adds a script element and resolves when it has run. */
function loadScript(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    const timer = setTimeout(() => reject(new CTIError('load', `the CRM's Open CTI library ${url} did not load within ${timeoutMs / 1000} s`)), timeoutMs);
    s.src = url;
    s.async = true;
    s.onload = () => { clearTimeout(timer); resolve(); };
    s.onerror = () => { clearTimeout(timer); reject(new CTIError('load', `the CRM's Open CTI library ${url} could not be loaded: check the CTI adapter URL and that the panel runs inside the CRM`)); };
    document.head.appendChild(s);
  });
}

/** parseMaybeJSON reads Classic's results, which are JSON strings. */
function parseMaybeJSON(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

/** errorText renders a Lightning errors array. */
function errorText(errors) {
  if (!Array.isArray(errors) || errors.length === 0) return 'the CRM refused the call';
  return errors.map(e => (e && (e.description || e.message || e.code)) || String(e)).join('; ');
}

/**
 * withTimeout calls start(done) and settles with done's value, or fails
 * when done is not called within ms.
 */
function withTimeout(method, ms, start) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      const e = new CTIError(method, `the CRM page did not answer within ${ms / 1000} s`);
      e.timeout = true;
      reject(e);
    }, ms);
    const done = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err); else resolve(value);
    };
    try {
      start(done);
    } catch (e) {
      done(new CTIError(method, e && e.message ? e.message : String(e)));
    }
  });
}

/** Lightning wraps sforce.opencti. */
class Lightning {
  constructor(api, timeoutMs) { this.api = api; this.timeoutMs = timeoutMs; this.kind = 'lightning'; }

  call(method, args = {}) {
    return withTimeout(method, this.timeoutMs, done => {
      if (typeof this.api[method] !== 'function') throw new Error('this CRM has no such Open CTI method');
      this.api[method]({ ...args, callback: r => {
        if (r && r.success) done(null, r.returnValue);
        else done(new CTIError(method, errorText(r && r.errors)));
      } });
    });
  }

  // register adds a listener; events come later, so nothing is awaited
  // beyond the library taking the registration.
  register(method, listener) {
    if (typeof this.api[method] !== 'function') return Promise.reject(new CTIError(method, 'this CRM has no such Open CTI method'));
    try { this.api[method]({ listener }); } catch (e) { return Promise.reject(new CTIError(method, e.message || String(e))); }
    return Promise.resolve();
  }

  screenPop(type, params) {
    const T = this.api.SCREENPOP_TYPE || {};
    const types = { sobject: T.SOBJECT || 'sobject', search: T.SEARCH || 'search', newRecord: T.NEW_RECORD_MODAL || 'newRecord', url: T.URL || 'url' };
    if (!types[type]) return Promise.reject(new CTIError('screenPop', `unknown pop type ${type}`));
    return this.call('screenPop', { type: types[type], params });
  }
  searchAndScreenPop({ searchParams, callType = 'inbound', deferred = false, defaultFieldValues }) {
    const C = this.api.CALL_TYPE || {};
    const ct = { inbound: C.INBOUND || 'inbound', outbound: C.OUTBOUND || 'outbound', internal: C.INTERNAL || 'internal' }[callType];
    const args = { searchParams, callType: ct, deferred };
    if (defaultFieldValues) args.defaultFieldValues = defaultFieldValues;
    return this.call('searchAndScreenPop', args);
  }
  enableClickToDial() { return this.call('enableClickToDial'); }
  disableClickToDial() { return this.call('disableClickToDial'); }
  onClickToDial(listener) {
    return this.register('onClickToDial', p => listener({
      number: p.number || '', recordId: p.recordId || '', recordName: p.recordName || '', objectType: p.objectType || '',
    }));
  }
  setPanelVisible(visible) { return this.call('setSoftphonePanelVisibility', { visible: !!visible }); }
  isPanelVisible() { return this.call('isSoftphonePanelVisible').then(r => !!(r && r.visible)); }
  setLabel(label) { return this.call('setSoftphoneItemLabel', { label }); }
  setIcon(key) { return this.call('setSoftphoneItemIcon', { key }); }
  async setPanelSize(widthPX, heightPX) {
    if (widthPX) await this.call('setSoftphonePanelWidth', { widthPX });
    if (heightPX) await this.call('setSoftphonePanelHeight', { heightPX });
  }
  getCallCenterSettings() { return this.call('getCallCenterSettings'); }
  // runApex calls a webservice static method of a global Apex class and
  // resolves with the string it returns (Lightning's {runApex: value}). A
  // method without parameters gets no methodParams, as Salesforce asks.
  runApex(apexClass, methodName, methodParams = '') {
    const args = { apexClass, methodName };
    if (methodParams) args.methodParams = methodParams;
    return this.call('runApex', args).then(apexString);
  }
  getAppViewInfo() { return this.call('getAppViewInfo').then(normalizeView); }
  onNavigationChange(listener) { return this.register('onNavigationChange', p => listener(normalizeView(p))); }
  refreshView() { return this.call('refreshView'); }
  notifyInitializationComplete() { return this.call('notifyInitializationComplete'); }
}

/**
 * apexString is what an Apex method returned, as a string: Lightning
 * answers {runApex: value}, Classic the value (which parseMaybeJSON may
 * have read as a number or JSON).
 */
function apexString(v) {
  if (v && typeof v === 'object' && 'runApex' in v) v = v.runApex;
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** normalizeView gives Lightning's and Classic's page info one shape. */
function normalizeView(p) {
  p = parseMaybeJSON(p) || {};
  return {
    url: p.url || '',
    recordId: p.recordId || p.objectId || '',
    recordName: p.recordName || p.objectName || p.displayName || '',
    objectType: p.objectType || p.object || '',
  };
}

/** Classic wraps sforce.interaction and sforce.interaction.cti. */
class Classic {
  constructor(api, timeoutMs) { this.api = api; this.timeoutMs = timeoutMs; this.kind = 'classic'; }

  // call runs fn(...args, callback); the callback gets {result, error}.
  call(method, fn, ...args) {
    return withTimeout(method, this.timeoutMs, done => {
      if (typeof fn !== 'function') throw new Error('this CRM has no such Open CTI method');
      fn(...args, r => {
        if (r && r.error) done(new CTIError(method, String(r.error)));
        else done(null, parseMaybeJSON(r ? r.result : undefined));
      });
    });
  }
  // register adds a listener; the library gives no answer to wait for.
  register(method, fn, listener) {
    if (typeof fn !== 'function') return Promise.reject(new CTIError(method, 'this CRM has no such Open CTI method'));
    try { fn(listener); } catch (e) { return Promise.reject(new CTIError(method, e.message || String(e))); }
    return Promise.resolve();
  }

  screenPop(type, params) {
    let url;
    switch (type) {
      case 'sobject': url = '/' + encodeURIComponent(params.recordId); break;
      case 'search': url = '/_ui/search/ui/UnifiedSearchResults?str=' + encodeURIComponent(params.searchString); break;
      case 'newRecord': {
        const prefix = { Contact: '003', Lead: '00Q', Account: '001' }[params.entityName];
        if (!prefix) return Promise.reject(new CTIError('screenPop', `no new-record page for ${params.entityName} in Classic`));
        const q = new URLSearchParams();
        const phone = params.defaultFieldValues && params.defaultFieldValues.Phone;
        if (phone) q.set({ Contact: 'con10', Lead: 'lea8', Account: 'acc10' }[params.entityName], phone);
        url = `/${prefix}/e` + (phone ? '?' + q : '');
        break;
      }
      case 'url': url = params.url; break;
      default: return Promise.reject(new CTIError('screenPop', `unknown pop type ${type}`));
    }
    return this.call('screenPop', this.api.screenPop, url, true);
  }
  searchAndScreenPop({ searchParams, callType = 'inbound' }) {
    return this.call('searchAndScreenPop', this.api.searchAndScreenPop, searchParams, '', callType);
  }
  enableClickToDial() { return this.call('enableClickToDial', this.api.cti.enableClickToDial); }
  disableClickToDial() { return this.call('disableClickToDial', this.api.cti.disableClickToDial); }
  onClickToDial(listener) {
    return this.register('onClickToDial', this.api.cti.onClickToDial, r => {
      const p = parseMaybeJSON(r && r.result) || {};
      listener({ number: p.number || '', recordId: p.objectId || '', recordName: p.objectName || p.displayName || '', objectType: p.object || '' });
    });
  }
  setPanelVisible(visible) { return this.call('setVisible', this.api.setVisible, !!visible); }
  isPanelVisible() { return this.call('isVisible', this.api.isVisible).then(v => v === true || v === 'true'); }
  // Classic has no utility item: its label and icon are Lightning's.
  setLabel() { return Promise.resolve(); }
  setIcon() { return Promise.resolve(); }
  async setPanelSize(widthPX, heightPX) {
    if (widthPX) await this.call('setSoftphoneWidth', this.api.cti.setSoftphoneWidth, widthPX);
    if (heightPX) await this.call('setSoftphoneHeight', this.api.cti.setSoftphoneHeight, heightPX);
  }
  getCallCenterSettings() { return this.call('getCallCenterSettings', this.api.cti.getCallCenterSettings); }
  runApex(apexClass, methodName, methodParams = '') {
    return this.call('runApex', this.api.runApex, apexClass, methodName, methodParams).then(apexString);
  }
  getAppViewInfo() { return this.call('getPageInfo', this.api.getPageInfo).then(normalizeView); }
  onNavigationChange(listener) {
    return this.register('onFocus', this.api.onFocus, r => listener(normalizeView(r && r.result)));
  }
  refreshView() { return this.call('refreshPage', this.api.refreshPage); }
  notifyInitializationComplete() {
    const fn = this.api.cti.notifyInitializationComplete;
    if (typeof fn !== 'function') return Promise.reject(new CTIError('notifyInitializationComplete', 'this CRM has no such Open CTI method'));
    fn();
    return Promise.resolve();
  }
}

/**
 * connect loads the Open CTI library of the launch (api "lightning" or
 * "classic") from scriptURL and returns the shim.
 */
export async function connect({ api, scriptURL, timeoutMs = CALL_TIMEOUT_MS, loadTimeoutMs = LOAD_TIMEOUT_MS }) {
  await loadScript(scriptURL, loadTimeoutMs);
  const sf = window.sforce;
  if (api === 'lightning') {
    if (!sf || !sf.opencti) throw new CTIError('load', `${scriptURL} loaded but defined no sforce.opencti`);
    return new Lightning(sf.opencti, timeoutMs);
  }
  if (!sf || !sf.interaction || !sf.interaction.cti) throw new CTIError('load', `${scriptURL} loaded but defined no sforce.interaction.cti`);
  return new Classic(sf.interaction, timeoutMs);
}
