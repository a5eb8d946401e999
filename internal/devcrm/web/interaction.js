// sforce.interaction and sforce.interaction.cti for devcrm's Classic and
// console pages (Open CTI for Salesforce Classic): positional arguments with
// a trailing callback that receives {result, error}, results mostly JSON
// strings, as in Salesforce's library. devcrm's host page (host.js) answers
// over postMessage (apiType "interaction"). The frame origin comes from the
// sfdcIFrameOrigin parameter (capital F), and may be any http(s) origin.
// devcrm's server prepends __devcrmApiVersion.
(function () {
  'use strict';
  var API_VERSION = typeof __devcrmApiVersion === 'number' ? __devcrmApiVersion : 66;
  var API_TYPE = 'interaction';
  var originPattern = /^https?:\/\/[\w.-]+(:\d+)?$/;
  var frameOrigin = null;
  var callbacks = {};
  var listeners = {};
  var nextCallId = 0;

  function param(name) {
    var found = null;
    location.search.replace(/^\?/, '').split('&').forEach(function (pair) {
      var i = pair.indexOf('=');
      if (i > 0 && pair.slice(0, i) === name && found === null) {
        try { found = decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' ')); } catch (e) { found = null; }
      }
    });
    return found;
  }

  function onMessage(event) {
    var d = event.data;
    if (!d || d.apiVersion !== API_VERSION || d.apiType !== API_TYPE || event.origin !== frameOrigin) return;
    var key = d.methodName + '_' + d.callId;
    var cb = callbacks[key];
    if (cb) {
      delete callbacks[key];
      cb.call(null, d.response);
    }
    (listeners[d.methodName] || []).forEach(function (l) { l.call(null, d.response); });
  }

  function invoke(methodName, args, callback, listener) {
    var msg = { methodName: methodName, callId: nextCallId++, apiVersion: API_VERSION, apiType: API_TYPE,
      isCallbackRegistered: typeof callback === 'function', isListenerRegistered: typeof listener === 'function', args: args };
    if (msg.isCallbackRegistered) callbacks[methodName + '_' + msg.callId] = callback;
    if (msg.isListenerRegistered) (listeners[methodName] = listeners[methodName] || []).push(listener);
    parent.postMessage(msg, frameOrigin);
  }

  function optionalCallback(name, cb) {
    if (cb !== undefined && cb !== null && typeof cb !== 'function') throw new Error(name + ': the callback must be a function');
  }
  function requiredCallback(name, cb) {
    if (typeof cb !== 'function') throw new Error(name + ': a callback function is required');
  }
  function requiredListener(name, l) {
    if (typeof l !== 'function') throw new Error(name + ': a listener function is required');
  }
  function requiredString(name, what, v) {
    if (typeof v !== 'string' || v === '') throw new Error(name + ': ' + what + ' must be a non-empty string');
  }

  var cti = {
    enableClickToDial: function (cb) { optionalCallback('enableClickToDial', cb); invoke('enableClickToDial', {}, cb); },
    disableClickToDial: function (cb) { optionalCallback('disableClickToDial', cb); invoke('disableClickToDial', {}, cb); },
    onClickToDial: function (l) { requiredListener('onClickToDial', l); invoke('onClickToDial', {}, undefined, l); },
    getCallCenterSettings: function (cb) { requiredCallback('getCallCenterSettings', cb); invoke('getCallCenterSettings', {}, cb); },
    getSoftphoneLayout: function (cb) { requiredCallback('getSoftphoneLayout', cb); invoke('getSoftphoneLayout', {}, cb); },
    getDirectoryNumbers: function (isGlobal, callCenterName, cb, resultSetPage, resultSetPageSize) {
      requiredCallback('getDirectoryNumbers', cb);
      invoke('getDirectoryNumbers', { isGlobal: !!isGlobal, callCenterName: callCenterName || null }, cb);
    },
    setSoftphoneHeight: function (px, cb) {
      if (typeof px !== 'number') throw new Error('setSoftphoneHeight: height must be a number of pixels');
      optionalCallback('setSoftphoneHeight', cb); invoke('setSoftphoneHeight', { heightPX: px }, cb);
    },
    setSoftphoneWidth: function (px, cb) {
      if (typeof px !== 'number') throw new Error('setSoftphoneWidth: width must be a number of pixels');
      optionalCallback('setSoftphoneWidth', cb); invoke('setSoftphoneWidth', { widthPX: px }, cb);
    },
    notifyInitializationComplete: function () { invoke('notifyInitializationComplete', {}); }
  };

  var api = {
    cti: cti,
    getPageInfo: function (cb) { requiredCallback('getPageInfo', cb); invoke('getPageInfo', {}, cb); },
    isInConsole: function (cb) { requiredCallback('isInConsole', cb); invoke('isInConsole', {}, cb); },
    isVisible: function (cb) { requiredCallback('isVisible', cb); invoke('isVisible', {}, cb); },
    setVisible: function (value, cb) {
      if (typeof value !== 'boolean') throw new Error('setVisible: value must be true or false');
      optionalCallback('setVisible', cb); invoke('setVisible', { visible: value }, cb);
    },
    onFocus: function (l) { requiredListener('onFocus', l); invoke('onFocus', {}, undefined, l); },
    refreshPage: function (cb) { optionalCallback('refreshPage', cb); invoke('refreshPage', {}, cb); },
    refreshObject: function (objectId, refreshDetail, refreshRelatedList, refreshFeed, cb) {
      requiredString('refreshObject', 'objectId', objectId); optionalCallback('refreshObject', cb);
      invoke('refreshObject', { objectId: objectId }, cb);
    },
    refreshRelatedList: function (listName, cb) {
      requiredString('refreshRelatedList', 'listName', listName); optionalCallback('refreshRelatedList', cb);
      invoke('refreshRelatedList', { listName: listName }, cb);
    },
    reloadFrame: function (cb) { optionalCallback('reloadFrame', cb); invoke('reloadFrame', {}, cb); },
    runApex: function (apexClass, methodName, methodParams, cb) {
      requiredString('runApex', 'apexClass', apexClass); requiredString('runApex', 'methodName', methodName);
      optionalCallback('runApex', cb);
      invoke('runApex', { apexClass: apexClass, methodName: methodName, methodParams: methodParams || '' }, cb);
    },
    saveLog: function (objectName, saveParams, cb) {
      requiredString('saveLog', 'objectName', objectName);
      if (typeof saveParams !== 'string') throw new Error('saveLog: saveParams must be a string of field=value pairs joined by &');
      optionalCallback('saveLog', cb); invoke('saveLog', { objectName: objectName, saveParams: saveParams }, cb);
    },
    screenPop: function (url, force, cb) {
      requiredString('screenPop', 'url', url);
      if (typeof force === 'function' && cb === undefined) { cb = force; force = false; }
      optionalCallback('screenPop', cb); invoke('screenPop', { url: url, force: !!force }, cb);
    },
    searchAndScreenPop: function (searchParams, queryParams, callType, cb) {
      if (typeof searchParams !== 'string') throw new Error('searchAndScreenPop: searchParams must be a string');
      optionalCallback('searchAndScreenPop', cb);
      invoke('searchAndScreenPop', { searchParams: searchParams, queryParams: queryParams || '', callType: callType }, cb);
    },
    searchAndGetScreenPopUrl: function (searchParams, queryParams, callType, cb) {
      if (typeof searchParams !== 'string') throw new Error('searchAndGetScreenPopUrl: searchParams must be a string');
      requiredCallback('searchAndGetScreenPopUrl', cb);
      invoke('searchAndGetScreenPopUrl', { searchParams: searchParams, queryParams: queryParams || '', callType: callType }, cb);
    }
  };

  var origin = param('sfdcIFrameOrigin');
  if (!origin || !originPattern.test(origin) || origin.indexOf(location.protocol) !== 0 || window.parent === window) {
    throw 'Failed to initialize Open CTI. Ensure that it is loaded from the right frame with correct URL parameters';
  }
  frameOrigin = origin;
  window.addEventListener('message', onMessage, false);
  window.sforce = window.sforce || {};
  window.sforce.interaction = api;
})();
