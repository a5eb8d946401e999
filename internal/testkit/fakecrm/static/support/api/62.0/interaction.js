// Fake Classic Open CTI library (sforce.interaction) for tests: positional
// arguments with a trailing callback that gets {result, error}, results as
// JSON strings.
(function () {
  const q = new URLSearchParams(location.search);
  const origin = q.get('sfdcIFrameOrigin') || q.get('sfdcIframeOrigin');
  let callId = 0;
  const callbacks = {};
  const listeners = {};
  function send(methodName, args, cb, listener) {
    const id = ++callId;
    if (typeof cb === 'function') callbacks[methodName + '_' + id] = cb;
    if (listener) (listeners[methodName] = listeners[methodName] || []).push(listener);
    parent.postMessage({ methodName, callId: id, apiType: 'interaction', isCallbackRegistered: typeof cb === 'function', isListenerRegistered: !!listener, args }, origin);
  }
  addEventListener('message', ev => {
    if (ev.origin !== origin) return;
    const m = ev.data || {};
    if (m.apiType !== 'interaction') return;
    if (m.event) { for (const l of listeners[m.methodName] || []) l(m.response); return; }
    const key = m.methodName + '_' + m.callId;
    const cb = callbacks[key];
    if (cb) { delete callbacks[key]; cb(m.response); }
  });
  const i = {
    screenPop: (url, force, cb) => send('screenPop', { url, force, recordId: String(url).replace(/^\//, '').split(/[/?]/)[0] }, cb),
    searchAndScreenPop: (search, queryParams, callType, cb) => send('searchAndScreenPop', { search, queryParams, callType }, cb),
    getPageInfo: cb => send('getPageInfo', {}, cb),
    setVisible: (visible, cb) => send('setVisible', { visible }, cb),
    isVisible: cb => send('isVisible', {}, cb),
    refreshPage: cb => send('refreshPage', {}, cb),
    onFocus: l => send('onFocus', {}, null, l),
    cti: {
      enableClickToDial: cb => send('enableClickToDial', {}, cb),
      disableClickToDial: cb => send('disableClickToDial', {}, cb),
      onClickToDial: l => send('onClickToDial', {}, null, l),
      getCallCenterSettings: cb => send('getCallCenterSettings', {}, cb),
      setSoftphoneWidth: (px, cb) => send('setSoftphoneWidth', { px }, cb),
      setSoftphoneHeight: (px, cb) => send('setSoftphoneHeight', { px }, cb),
      notifyInitializationComplete: () => send('notifyInitializationComplete', {}),
    },
  };
  window.sforce = window.sforce || {};
  window.sforce.interaction = i;
})();
