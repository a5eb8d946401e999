// Fake Lightning Open CTI library (sforce.opencti) for tests: the
// documented postMessage protocol with the parent page.
(function () {
  const q = new URLSearchParams(location.search);
  const origin = q.get('sfdcIframeOrigin');
  if (!origin || !q.get('mode')) throw 'Failed to initialize Open CTI. Ensure that it is loaded from the right frame with correct URL parameters';
  const API_VERSION = '62.0';
  let callId = 0;
  const callbacks = {};
  const listeners = {};
  function invoke(methodName, args, needsCallback, listenerName) {
    if (args !== undefined && (typeof args !== 'object' || args === null)) throw new Error('Must pass in only one object');
    args = args || {};
    if (needsCallback && typeof args.callback !== 'function') throw new Error(methodName + ' requires a callback');
    const id = ++callId;
    const plain = {};
    for (const k of Object.keys(args)) if (typeof args[k] !== 'function') plain[k] = args[k];
    if (typeof args.callback === 'function') callbacks[methodName + '_' + id] = args.callback;
    if (listenerName) {
      if (typeof args.listener !== 'function') throw new Error(methodName + ' requires a listener');
      (listeners[methodName] = listeners[methodName] || []).push(args.listener);
    }
    parent.postMessage({ methodName, callId: id, apiVersion: API_VERSION, apiType: 'opencti',
      isCallbackRegistered: typeof args.callback === 'function', isListenerRegistered: !!listenerName, args: plain }, origin);
  }
  addEventListener('message', ev => {
    if (ev.origin !== origin) return;
    const m = ev.data || {};
    if (m.apiType !== 'opencti' || m.apiVersion !== API_VERSION) return;
    if (m.event) { for (const l of listeners[m.methodName] || []) l(m.response); return; }
    const key = m.methodName + '_' + m.callId;
    const cb = callbacks[key];
    if (cb) { delete callbacks[key]; cb(m.response); }
  });
  const api = {
    SCREENPOP_TYPE: { SOBJECT: 'sobject', URL: 'url', OBJECTHOME: 'objecthome', LIST: 'list', SEARCH: 'search', NEW_RECORD_MODAL: 'newRecord', FLOW: 'flow' },
    CALL_TYPE: { INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal' },
  };
  const plainMethods = ['screenPop', 'searchAndScreenPop', 'enableClickToDial', 'disableClickToDial', 'setSoftphonePanelVisibility',
    'setSoftphoneItemLabel', 'setSoftphoneItemIcon', 'setSoftphonePanelLabel', 'setSoftphonePanelIcon', 'setSoftphonePanelHeight',
    'setSoftphonePanelWidth', 'saveLog', 'refreshView', 'runApex', 'notifyInitializationComplete'];
  for (const m of plainMethods) api[m] = a => invoke(m, a, false);
  for (const m of ['getAppViewInfo', 'getCallCenterSettings', 'getSoftphoneLayout', 'isSoftphonePanelVisible']) api[m] = a => invoke(m, a, true);
  for (const m of ['onClickToDial', 'onNavigationChange']) api[m] = a => invoke(m, a, false, true);
  window.sforce = window.sforce || {};
  window.sforce.opencti = api;
})();
