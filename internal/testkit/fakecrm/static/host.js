// The fake CRM page: frames the panel and answers its Open CTI requests.
(function () {
  const params = new URLSearchParams(location.search);
  const frame = document.getElementById('panel');
  const crm = window.crm = {
    api: params.get('api') || 'lightning',
    calls: [],
    label: '',
    icon: '',
    clickToDial: false,
    silent: params.get('silent') === '1',
    refreshes: 0,
    record: { recordId: '', objectType: '', recordName: '', url: location.href },
    listeners: {},
  };
  let panelOrigin = '';
  try { panelOrigin = new URL(params.get('panel')).origin; } catch (e) { panelOrigin = ''; }
  frame.src = params.get('panel');

  function reply(methodName, callId, payload) {
    const msg = crm.api === 'classic'
      ? { apiType: 'interaction', methodName, callId, response: payload }
      : { apiVersion: '62.0', apiType: 'opencti', methodName, callId, response: payload };
    frame.contentWindow.postMessage(msg, panelOrigin);
  }
  function ok(value) {
    if (crm.api === 'classic') return { result: value === undefined ? 'true' : JSON.stringify(value) };
    return { success: true, returnValue: value === undefined ? null : value, errors: null };
  }

  const handlers = {
    screenPop(a) {
      if (a.recordId || (a.params && a.params.recordId)) {
        const id = a.recordId || a.params.recordId;
        crm.record = { recordId: id, objectType: '', recordName: '', url: '/' + id };
        document.getElementById('record').textContent = 'Record ' + id;
      }
      return ok(true);
    },
    searchAndScreenPop() { return ok({}); },
    enableClickToDial() { crm.clickToDial = true; return ok(); },
    disableClickToDial() { crm.clickToDial = false; return ok(); },
    setSoftphonePanelVisibility(a) { crm.visible = a.visible; return ok(); },
    setVisible(a) { crm.visible = a.visible; return ok(); },
    isSoftphonePanelVisible() { return ok({ visible: crm.visible !== false }); },
    setSoftphoneItemLabel(a) { crm.label = a.label; return ok(); },
    setSoftphoneItemIcon(a) { crm.icon = a.key; return ok(); },
    setSoftphonePanelWidth() { return ok(); },
    setSoftphonePanelHeight() { return ok(); },
    setSoftphoneWidth() { return ok(); },
    setSoftphoneHeight() { return ok(); },
    getCallCenterSettings() { return ok({ '/reqGeneralInfo/reqSoftphoneWidth': '260' }); },
    getAppViewInfo() { return ok(crm.record); },
    getPageInfo() { return ok({ url: crm.record.url, objectId: crm.record.recordId, object: crm.record.objectType }); },
    refreshView() { crm.refreshes++; return ok(); },
    refreshPage() { crm.refreshes++; return ok(); },
    notifyInitializationComplete() { crm.initialized = true; return ok(); },
  };
  // apexUser=USERNAME: the org has Parley's Apex class, ParleyUser.userName
  // answers USERNAME (crm.apexUser, which a test may change).
  crm.apexUser = params.get('apexUser');
  if (crm.apexUser !== null) {
    handlers.runApex = (a) => {
      if (a.apexClass !== 'ParleyUser' || a.methodName !== 'userName') {
        return crm.api === 'classic' ? { error: 'no such Apex method' } : { success: false, returnValue: null, errors: [{ code: 'APEX', description: 'no such Apex method' }] };
      }
      return crm.api === 'classic' ? { result: crm.apexUser } : ok({ runApex: crm.apexUser });
    };
  }

  addEventListener('message', ev => {
    if (ev.origin !== panelOrigin || ev.source !== frame.contentWindow) return;
    const m = ev.data || {};
    if (!m.methodName) return;
    crm.calls.push({ methodName: m.methodName, args: m.args || {}, at: Date.now() });
    if (m.isListenerRegistered) { crm.listeners[m.methodName] = true; }
    if (crm.silent) return;
    const h = handlers[m.methodName];
    if (m.isListenerRegistered && !h) return;
    const res = h ? h(m.args || {}) : (crm.api === 'classic' ? { error: 'unknown method' } : { success: false, returnValue: null, errors: [{ code: 'UNKNOWN', description: 'unknown method ' + m.methodName }] });
    if (m.isCallbackRegistered) reply(m.methodName, m.callId, res);
  });

  function event(methodName, payload) {
    const msg = crm.api === 'classic'
      ? { apiType: 'interaction', methodName, event: true, response: { result: JSON.stringify(payload) } }
      : { apiVersion: '62.0', apiType: 'opencti', methodName, event: true, response: payload };
    frame.contentWindow.postMessage(msg, panelOrigin);
  }

  crm.dial = function (number, recordId, objectType, recordName) {
    if (crm.api === 'classic') event('onClickToDial', { number, objectId: recordId, object: objectType, objectName: recordName });
    else event('onClickToDial', { number, recordId, objectType, recordName });
  };
  crm.navigate = function (recordId, objectType, recordName) {
    crm.record = { recordId: recordId || '', objectType: objectType || '', recordName: recordName || '', url: '/' + (recordId || '') };
    if (crm.api === 'classic') event('onFocus', { url: crm.record.url, objectId: recordId, object: objectType, objectName: recordName });
    else event('onNavigationChange', crm.record);
  };
  crm.count = function (name) { return crm.calls.filter(c => c.methodName === name).length; };
  crm.find = function (name) { return crm.calls.filter(c => c.methodName === name).map(c => c.args); };
})();
