// sforce.opencti for devcrm's Lightning-like pages (Open CTI for Lightning
// Experience). The API, its argument checks and error strings, and the
// postMessage protocol are those of Salesforce's library; devcrm's host page
// (host.js) answers. It differs from Salesforce's in one way only: the frame
// origin may be any http(s) origin (devcrm's), not only *.force.com and
// *.salesforce.com. devcrm's server prepends __devcrmApiVersion (the NN of
// the /support/api/NN.0/ path).
(function () {
  'use strict';
  var API_VERSION = typeof __devcrmApiVersion === 'number' ? __devcrmApiVersion : 66;
  var API_TYPE = 'opencti';
  var originPattern = /^https?:\/\/[\w.-]+(:\d+)?$/;
  var config = { sfdcIframeOrigin: null, mode: null };
  var callbacks = {};
  var listeners = {};
  var nextCallId = 0;

  function parseQuery(search) {
    var out = {};
    if (typeof search !== 'string') return out;
    if (search.charAt(0) === '?') search = search.slice(1);
    if (!search) return out;
    search.split('&').forEach(function (pair) {
      var i = pair.indexOf('=');
      var k = i < 0 ? pair : pair.slice(0, i);
      var v = i < 0 ? null : pair.slice(i + 1);
      if (!k) return;
      try { v = v ? decodeURIComponent(v.replace(/\+/g, ' ')) : null; } catch (e) { v = null; }
      if (!(k in out)) out[k] = v;
    });
    return out;
  }

  function onMessage(event) {
    var d = event.data;
    if (!d || d.apiVersion !== API_VERSION || d.apiType !== API_TYPE || event.origin !== config.sfdcIframeOrigin) return;
    var key = d.methodName + '_' + d.callId;
    var cb = callbacks[key];
    if (cb) {
      delete callbacks[key];
      cb.call(null, d.response);
    }
    (listeners[d.methodName] || []).forEach(function (l) { l.call(null, d.response); });
  }

  function invoke(methodName, args, callback, listener) {
    var msg = {
      methodName: methodName,
      callId: nextCallId++,
      apiVersion: API_VERSION,
      apiType: API_TYPE,
      isCallbackRegistered: false,
      isListenerRegistered: false,
      args: args
    };
    if (typeof callback === 'function') {
      callbacks[methodName + '_' + msg.callId] = callback;
      msg.isCallbackRegistered = true;
    }
    if (typeof listener === 'function') {
      (listeners[methodName] = listeners[methodName] || []).push(listener);
      msg.isListenerRegistered = true;
    }
    parent.postMessage(msg, config.sfdcIframeOrigin);
  }

  function checkArgs(args, optional) {
    if (optional && !args.length) return;
    if (!(args.length === 1 && args[0] !== null && typeof args[0] === 'object' && Object.keys(args[0]).length)) {
      throw new Error('Must pass in only one object which holds arguments to this API method call.');
    }
  }
  function checkCallback(a) {
    if (!(a && typeof a.callback === 'function')) throw new Error('Missing the required argument `callback`!');
  }
  function checkListener(a) {
    if (!(a && typeof a.listener === 'function')) throw new Error('Missing the required argument `listener`!');
  }
  function checkValue(a) {
    if (!(a && a.value !== null && typeof a.value === 'object')) throw new Error('Missing the required argument `value object`!');
  }
  function cb(a) { return a ? a.callback : undefined; }

  var api = {
    SCREENPOP_TYPE: { URL: 'url', SOBJECT: 'sobject', OBJECTHOME: 'objecthome', LIST: 'list', SEARCH: 'search', NEW_RECORD_MODAL: 'newRecord', FLOW: 'flow' },
    CALL_TYPE: { INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal' },
    initialize: function () {
      var p = parseQuery(location.search);
      var origin = p.sfdcIframeOrigin;
      if (origin && p.mode && originPattern.test(origin) && origin.indexOf(location.protocol) === 0) {
        config.sfdcIframeOrigin = origin;
        config.mode = p.mode;
      } else {
        throw 'Failed to initialize Open CTI. Ensure that it is loaded from the right frame with correct URL parameters';
      }
      window.addEventListener('message', onMessage, false);
    },
    setSoftphonePanelVisibility: function (a) { checkArgs(arguments); invoke('setSoftphonePanelVisibility', { visible: a.visible }, cb(a)); },
    isSoftphonePanelVisible: function (a) { checkArgs(arguments); checkCallback(a); invoke('isSoftphonePanelVisible', {}, a.callback); },
    screenPop: function (a) { checkArgs(arguments); invoke('screenPop', { type: a.type, params: a.params }, cb(a)); },
    searchAndScreenPop: function (a) {
      checkArgs(arguments);
      invoke('searchAndScreenPop', { searchParams: a.searchParams, callType: a.callType, queryParams: a.queryParams, defaultFieldValues: a.defaultFieldValues, deferred: a.deferred, params: a.params }, cb(a));
    },
    getAppViewInfo: function (a) { checkArgs(arguments); checkCallback(a); invoke('getAppViewInfo', {}, a.callback); },
    saveLog: function (a) { checkArgs(arguments); checkValue(a); invoke('saveLog', { object: a.value }, cb(a)); },
    refreshView: function (a) { checkArgs(arguments, true); invoke('refreshView', {}, cb(a)); },
    notifyInitializationComplete: function (a) { invoke('notifyInitializationComplete', {}, cb(a)); },
    setSoftphoneItemLabel: function (a) { checkArgs(arguments); invoke('setSoftphoneItemLabel', { label: a.label }, cb(a)); },
    setSoftphonePanelLabel: function (a) { checkArgs(arguments); invoke('setSoftphonePanelLabel', { label: a.label }, cb(a)); },
    setSoftphoneItemIcon: function (a) { checkArgs(arguments); invoke('setSoftphoneItemIcon', { key: a.key }, cb(a)); },
    setSoftphonePanelIcon: function (a) { checkArgs(arguments); invoke('setSoftphonePanelIcon', { key: a.key }, cb(a)); },
    setSoftphonePanelHeight: function (a) { checkArgs(arguments); invoke('setSoftphonePanelHeight', { heightPX: a.heightPX }, cb(a)); },
    setSoftphonePanelWidth: function (a) { checkArgs(arguments); invoke('setSoftphonePanelWidth', { widthPX: a.widthPX }, cb(a)); },
    getCallCenterSettings: function (a) { checkArgs(arguments); checkCallback(a); invoke('getCallCenterSettings', {}, a.callback); },
    onClickToDial: function (a) { checkArgs(arguments); checkListener(a); invoke('onClickToDial', {}, undefined, a.listener); },
    enableClickToDial: function (a) { checkArgs(arguments, true); invoke('enableClickToDial', {}, cb(a)); },
    disableClickToDial: function (a) { checkArgs(arguments, true); invoke('disableClickToDial', {}, cb(a)); },
    getSoftphoneLayout: function (a) { checkArgs(arguments); checkCallback(a); invoke('getSoftphoneLayout', {}, a.callback); },
    onNavigationChange: function (a) { checkArgs(arguments); checkListener(a); invoke('onNavigationChange', {}, undefined, a.listener); },
    runApex: function (a) {
      checkArgs(arguments);
      invoke('runApex', { apexClass: a.apexClass, methodName: a.methodName, methodParams: a.methodParams }, cb(a));
    }
  };

  window.sforce = window.sforce || {};
  window.sforce.opencti = api;
  api.initialize();
})();
