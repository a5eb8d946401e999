// devcrm's host page script: the CRM side of Open CTI. It loads the
// softphone frame at the call center's adapter URL with the parameters
// Salesforce appends, answers the frame's Open CTI calls (Lightning's
// opencti.js and Classic's interaction.js), and runs navigation: the
// Lightning-like shell and the console swap the record area without
// reloading the softphone; Classic pages reload, as Salesforce Classic does.
(function () {
  'use strict';
  var layout = document.body.getAttribute('data-layout'); // lightning, console or classic
  var cfgEl = document.getElementById('devcrm-cti');
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : null;
  var frame = null;
  var standbyTimer = null;
  var state = {
    clickToDial: false,
    visible: layout !== 'lightning',
    initialized: false,
    standby: false,
    listeners: {}, // methodName -> {apiVersion, apiType}
    calls: [] // the methodNames of the last 100 calls answered, for tests
  };
  function noteCall(name) {
    state.calls.push(name);
    if (state.calls.length > 100) state.calls.shift();
  }
  var objectPrefixes = { '003': 'Contact', '00Q': 'Lead', '001': 'Account' };
  var pageObjects = ['Contact', 'Lead', 'Account'];

  // ---- The record area ----

  function activeRoot() {
    if (layout === 'console') {
      return document.querySelector('#console-panes .pane.active') || document.getElementById('pane-home');
    }
    return document.getElementById('main');
  }

  function currentView() {
    var root = activeRoot();
    return root ? root.querySelector('.view') : null;
  }

  function appViewInfo() {
    var v = currentView();
    var info = { url: location.origin + (v ? v.getAttribute('data-url') : location.pathname) };
    if (v && v.getAttribute('data-record-id')) {
      info.recordId = v.getAttribute('data-record-id');
      info.recordName = v.getAttribute('data-record-name');
      info.objectType = v.getAttribute('data-object-type');
    }
    return info;
  }

  function classicPageInfo() {
    var i = appViewInfo();
    return { url: i.url, objectId: i.recordId || '', objectName: i.recordName || '', object: i.objectType || '', displayName: i.objectType ? i.objectType : '' };
  }

  // fetchView loads a view (the record area only) from devcrm.
  function fetchView(url, init) {
    init = init || {};
    init.headers = Object.assign({ 'X-Devcrm-Partial': '1' }, init.headers || {});
    init.credentials = 'same-origin';
    return fetch(url, init).then(function (r) {
      if (r.status === 401) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        throw new Error('signed out');
      }
      return r.text().then(function (html) {
        var u = new URL(r.url);
        return { html: html, url: u.pathname + u.search };
      });
    });
  }

  // show puts a fetched view in root and tells the frame.
  function show(root, res) {
    root.innerHTML = res.html;
    var v = root.querySelector('.view');
    if (v) {
      v.setAttribute('data-url', res.url);
      if (layout === 'console') {
        root.setAttribute('data-url', res.url);
        var tab = document.querySelector('#console-tabs [aria-controls="' + root.id + '"] .tab-title');
        if (tab) tab.textContent = v.getAttribute('data-title') || res.url;
      } else {
        document.title = (v.getAttribute('data-title') || 'devcrm') + ' | devcrm';
      }
    }
    applyClickToDial(root);
    fireNavigation();
  }

  // navigate goes to a devcrm page: in the Lightning shell it swaps the
  // record area (history API), in the console it opens or focuses a tab,
  // in Classic it loads the page.
  function navigate(url, opts) {
    opts = opts || {};
    if (layout === 'classic') {
      location.assign(classicURL(url));
      return Promise.resolve();
    }
    // Classic's screenPop names a record by its Classic URL (/003...): the
    // console shows the record's view in a tab, never a whole Classic page.
    if (layout === 'console') url = recordViewURL(url);
    if (layout === 'console' && !opts.inPane) return openTab(url, opts);
    var root = opts.root || activeRoot();
    return fetchView(url, opts.init).then(function (res) {
      if (layout === 'lightning' && !opts.pop) {
        if (opts.replace) history.replaceState({}, '', res.url); else history.pushState({}, '', res.url);
      }
      show(root, res);
    });
  }

  // recordViewURL turns a Classic record URL (/003..., with its query) into
  // the record's view URL; any other URL stays as it is.
  function recordViewURL(url) {
    var m = /^\/([A-Za-z0-9]{3})([A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)(\?.*)?$/.exec(url);
    if (!m || !objectPrefixes[m[1]]) return url;
    return '/lightning/r/' + objectPrefixes[m[1]] + '/' + m[1] + m[2] + '/view' + (m[3] || '');
  }

  function classicURL(url) {
    var m = /^\/lightning\/r\/\w+\/(\w+)\/view/.exec(url);
    if (m) return '/' + m[1];
    return url;
  }

  var tabCount = 0;
  function openTab(url, opts) {
    var path = url.split('#')[0];
    var existing = document.querySelector('#console-panes .pane[data-url="' + cssEscape(path) + '"]');
    if (existing && !opts.refresh) {
      focusTab(existing.id);
      return Promise.resolve();
    }
    tabCount++;
    var pane = document.createElement('div');
    pane.className = 'pane';
    pane.id = 'pane-' + tabCount;
    pane.setAttribute('role', 'tabpanel');
    pane.setAttribute('data-url', path);
    document.getElementById('console-panes').appendChild(pane);
    addTabButton(pane.id, 'Loading...', true);
    focusTab(pane.id, true);
    return fetchView(url, opts.init).then(function (res) { show(pane, res); });
  }

  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, '\\$&'); }

  function addTabButton(paneId, title, closable) {
    var tabs = document.getElementById('console-tabs');
    var b = document.createElement('div');
    b.className = 'tab';
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-controls', paneId);
    b.setAttribute('tabindex', '0');
    var t = document.createElement('span');
    t.className = 'tab-title';
    t.textContent = title;
    b.appendChild(t);
    if (closable) {
      var x = document.createElement('button');
      x.type = 'button';
      x.className = 'tab-close';
      x.setAttribute('aria-label', 'Close tab');
      x.textContent = '\u00d7';
      x.addEventListener('click', function (e) { e.stopPropagation(); closeTab(paneId); });
      b.appendChild(x);
    }
    b.addEventListener('click', function () { focusTab(paneId); });
    b.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); focusTab(paneId); } });
    tabs.appendChild(b);
  }

  function focusTab(paneId, quiet) {
    document.querySelectorAll('#console-panes .pane').forEach(function (p) { p.classList.toggle('active', p.id === paneId); });
    document.querySelectorAll('#console-tabs .tab').forEach(function (t) { t.setAttribute('aria-selected', String(t.getAttribute('aria-controls') === paneId)); });
    if (!quiet) fireNavigation();
  }

  function closeTab(paneId) {
    var pane = document.getElementById(paneId);
    var tab = document.querySelector('#console-tabs [aria-controls="' + paneId + '"]');
    var wasActive = pane && pane.classList.contains('active');
    if (pane) pane.remove();
    if (tab) tab.remove();
    if (wasActive) focusTab('pane-home');
  }

  function refresh() {
    if (layout === 'classic') {
      location.reload();
      return Promise.resolve();
    }
    var root = activeRoot();
    var v = currentView();
    var url = (layout === 'console' ? root.getAttribute('data-url') : null) || (v && v.getAttribute('data-url')) || location.pathname + location.search;
    return fetchView(url).then(function (res) { show(root, res); });
  }

  // Links and forms of the shells.
  if (layout !== 'classic') {
    document.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('a[data-nav]');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      var inPane = layout === 'console' && !!a.closest('.pane') && !a.classList.contains('record-link') && !/\/view$/.test(a.getAttribute('href'));
      navigate(a.getAttribute('href'), { inPane: inPane });
    });
    document.addEventListener('submit', function (e) {
      var f = e.target;
      if (!f.hasAttribute('data-nav-form')) return;
      e.preventDefault();
      var action = f.getAttribute('action');
      if (f.method.toLowerCase() === 'get') {
        navigate(action + '?' + new URLSearchParams(new FormData(f)).toString());
        return;
      }
      var root = layout === 'console' ? f.closest('.pane') : activeRoot();
      navigate(action, { inPane: true, root: root, init: { method: 'POST', body: new URLSearchParams(new FormData(f)) } });
    });
    window.addEventListener('popstate', function () {
      if (layout === 'lightning') navigate(location.pathname + location.search, { pop: true });
    });
  }
  if (layout === 'console') {
    addTabButton('pane-home', 'Home', false);
    focusTab('pane-home', true);
  }

  // ---- Click-to-dial ----

  function applyClickToDial(root) {
    (root || document).querySelectorAll('.phone').forEach(function (el) {
      var enabled = state.clickToDial && !!cfg;
      if (enabled === (el.tagName === 'A')) return;
      var repl = document.createElement(enabled ? 'a' : 'span');
      for (var i = 0; i < el.attributes.length; i++) repl.setAttribute(el.attributes[i].name, el.attributes[i].value);
      if (enabled) {
        repl.setAttribute('href', '#');
        repl.classList.add('ctd');
        repl.setAttribute('title', 'Click to dial');
      } else {
        repl.removeAttribute('href');
        repl.classList.remove('ctd');
        repl.removeAttribute('title');
      }
      repl.textContent = el.textContent;
      el.replaceWith(repl);
    });
  }

  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a.phone.ctd');
    if (!a) return;
    e.preventDefault();
    if (!state.clickToDial) return;
    var payload = {
      number: a.getAttribute('data-number') || a.textContent,
      recordId: a.getAttribute('data-record-id'),
      recordName: a.getAttribute('data-record-name'),
      objectType: a.getAttribute('data-object-type')
    };
    if (layout === 'lightning') setVisible(true);
    emit('onClickToDial', payload, {
      result: JSON.stringify({ number: payload.number, objectId: payload.recordId, objectName: payload.recordName, object: payload.objectType, displayName: payload.objectType })
    });
  });

  // ---- The softphone frame ----

  function adapterSrc(base) {
    var p = new URLSearchParams();
    if (cfg.mode === 'Lightning') {
      p.set('mode', 'Lightning');
      p.set('isdtp', 'vw');
      p.set('sfdcIframeOrigin', cfg.origin);
      p.set('nonce', cfg.nonce);
      p.set('ltn_app_id', cfg.appId);
      p.set('clc', '0');
    } else {
      p.set('isdtp', 'vw');
      p.set('sfdcIFrameOrigin', cfg.origin);
      p.set('nonce', cfg.nonce);
    }
    return base + (base.indexOf('?') < 0 ? '?' : '&') + p.toString();
  }

  var standbyKey = cfg ? 'devcrm-standby-' + cfg.callCenter : '';

  function loadFrame() {
    var host = document.getElementById('softphone-frame-host');
    if (!host) return;
    frame = document.createElement('iframe');
    frame.id = 'softphone-frame';
    frame.title = 'Open CTI Softphone';
    frame.setAttribute('allow', 'microphone; autoplay; speaker-selection');
    var useStandby = cfg.mode === 'Lightning' && cfg.standbyUrl && sessionStorage.getItem(standbyKey) === '1';
    state.standby = !!useStandby;
    frame.src = adapterSrc(useStandby ? cfg.standbyUrl : cfg.adapterUrl);
    sizePanel(cfg.width, cfg.height);
    host.appendChild(frame);
    if (cfg.standbyUrl && cfg.timeoutMs > 0 && !useStandby) {
      standbyTimer = setTimeout(function () {
        if (state.initialized) return;
        state.standby = true;
        if (cfg.mode === 'Lightning') sessionStorage.setItem(standbyKey, '1');
        frame.src = adapterSrc(cfg.standbyUrl);
      }, cfg.timeoutMs);
    }
  }

  function sizePanel(width, height) {
    var panel = document.getElementById('softphone-panel');
    if (width) {
      if (frame) frame.style.width = width + 'px';
      if (panel) panel.style.width = width + 'px';
    }
    if (height && frame) frame.style.height = height + 'px';
  }

  function setVisible(v) {
    state.visible = v;
    var panel = document.getElementById('softphone-panel');
    var button = document.getElementById('utility-phone');
    if (layout === 'lightning' && panel) panel.classList.toggle('minimized', !v);
    if (button) button.setAttribute('aria-expanded', String(v));
  }

  var phoneButton = document.getElementById('utility-phone');
  if (phoneButton) phoneButton.addEventListener('click', function () { setVisible(!state.visible); });
  var minimize = document.getElementById('panel-minimize');
  if (minimize) minimize.addEventListener('click', function () { setVisible(false); });

  function post(msg) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(msg, cfg.adapterOrigin);
  }

  // emit sends an event to the frame's listeners of methodName (in the
  // shape of the library that registered it).
  function emit(methodName, lightningPayload, classicPayload) {
    var reg = state.listeners[methodName] || (methodName === 'onNavigationChange' ? state.listeners.onFocus : null);
    if (!reg) return;
    var name = reg.apiType === 'interaction' && methodName === 'onNavigationChange' ? 'onFocus' : methodName;
    post({ apiVersion: reg.apiVersion, apiType: reg.apiType, methodName: name, callId: -1,
      response: reg.apiType === 'interaction' ? classicPayload : lightningPayload });
  }

  function fireNavigation() {
    emit('onNavigationChange', appViewInfo(), { result: JSON.stringify(classicPageInfo()) });
  }
  window.addEventListener('focus', fireNavigation);

  // ---- Answering the frame ----

  // runApex runs the method on devcrm, as the user of the browser's devcrm
  // session now (not the one this page was loaded for), as Salesforce runs
  // Apex. Its one class is Parley's (docs/salesforce/ParleyUser.cls).
  function runApex(apexClass, methodName) {
    return api('/devcrm/api/apex', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ apexClass: apexClass, methodName: methodName }) })
      .then(function (r) {
        if (r.status === 200) return { value: r.body.result };
        var e = r.body.errors && r.body.errors[0];
        return { code: e ? e.code : 'APEX_ERROR', error: e ? e.description : 'runApex failed' };
      });
  }
  function ok(v) { return { success: true, returnValue: v === undefined ? null : v, errors: null }; }
  function fail(code, description) { return { success: false, returnValue: null, errors: [{ code: code, description: description }] }; }
  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  function api(path, init) {
    init = init || {};
    init.credentials = 'same-origin';
    init.headers = Object.assign({ 'X-Devcrm-Request': '1' }, init.headers || {});
    return fetch(path, init).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function objectOf(id) {
    return typeof id === 'string' && (id.length === 15 || id.length === 18) && /^[a-zA-Z0-9]+$/.test(id) ? objectPrefixes[id.slice(0, 3)] : undefined;
  }

  function popURL(type, params) {
    params = isObject(params) ? params : {};
    switch (type) {
      case 'url':
        if (typeof params.url !== 'string' || params.url.charAt(0) !== '/' || params.url.charAt(1) === '/') return { error: 'params.url must be a relative URL, such as /lightning/page/home' };
        return { url: params.url };
      case 'sobject':
        var obj = objectOf(params.recordId);
        if (!obj) return { error: 'params.recordId must be the 15- or 18-character Id of a Contact, Lead or Account' };
        return { url: '/lightning/r/' + obj + '/' + params.recordId + '/view' };
      case 'objecthome':
      case 'list':
        if (pageObjects.indexOf(params.scope) < 0) return { error: 'params.scope must be Contact, Lead or Account in devcrm' };
        return { url: '/lightning/o/' + params.scope + (type === 'list' ? '/list' : '/home') };
      case 'search':
        if (typeof params.searchString !== 'string' || params.searchString.length < 3) return { error: 'params.searchString must have at least 3 characters' };
        return { url: '/lightning/search?q=' + encodeURIComponent(params.searchString) };
      case 'newRecord':
        if (pageObjects.indexOf(params.entityName) < 0) return { error: 'params.entityName must be Contact, Lead or Account in devcrm' };
        var q = '';
        if (params.defaultFieldValues !== undefined) {
          if (!isObject(params.defaultFieldValues)) return { error: 'params.defaultFieldValues must be an object of field API names and values' };
          q = '?defaultFieldValues=' + encodeURIComponent(Object.keys(params.defaultFieldValues).map(function (k) {
            return k + '=' + encodeURIComponent(String(params.defaultFieldValues[k]));
          }).join(','));
        }
        return { url: '/lightning/o/' + params.entityName + '/new' + q };
      case 'flow':
        return { error: 'FLOW screen pops are not supported in devcrm: it has no flows', code: 'NOT_SUPPORTED' };
    }
    return { error: 'type must be one of sforce.opencti.SCREENPOP_TYPE: url, sobject, objecthome, list, search, newRecord or flow' };
  }

  function screenPop(type, params) {
    var target = popURL(type, params);
    if (target.error) return Promise.resolve(fail(target.code || 'INVALID_PARAMETER', target.error));
    return navigate(target.url).then(function () { return ok(null); });
  }

  // search runs the softphone layout's search: Contacts, Leads, Accounts.
  function search(searchParams, callType) {
    if (typeof searchParams !== 'string' || searchParams.length < 3) {
      return Promise.resolve({ error: fail('INVALID_PARAMETER', 'searchParams must have at least 3 characters') });
    }
    if (['inbound', 'outbound', 'internal'].indexOf(callType) < 0) {
      return Promise.resolve({ error: fail('INVALID_PARAMETER', 'callType is required: use sforce.opencti.CALL_TYPE.INBOUND, OUTBOUND or INTERNAL') });
    }
    return api('/devcrm/api/search?q=' + encodeURIComponent(searchParams)).then(function (r) {
      if (r.status !== 200) return { error: { success: false, returnValue: null, errors: r.body.errors } };
      var result = {};
      r.body.records.forEach(function (rec) { result[rec.Id] = rec; });
      return { result: result, records: r.body.records };
    });
  }

  // popFor is the softphone layout's rule: one match pops the record,
  // several the search page, none a new Contact with defaultFieldValues.
  function popFor(records, searchParams, defaultFieldValues) {
    if (records.length === 1) return { type: 'sobject', params: { recordId: records[0].Id } };
    if (records.length > 1) return { type: 'search', params: { searchString: searchParams } };
    var p = { entityName: 'Contact' };
    if (isObject(defaultFieldValues)) p.defaultFieldValues = defaultFieldValues;
    return { type: 'newRecord', params: p };
  }

  function saveLog(value) {
    return api('/devcrm/api/savelog', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ value: value }) })
      .then(function (r) { return r.status === 200 ? { id: r.body.id } : { errors: r.body.errors }; });
  }

  function range(v, lo, hi) { return typeof v === 'number' && isFinite(v) && v >= lo && v <= hi; }

  function setText(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }
  function setIcon(id, key) { var el = document.getElementById(id); if (el) el.setAttribute('data-icon', key); }

  function softphoneLayout() {
    var objects = {};
    pageObjects.forEach(function (o) { objects[o] = [{ apiName: 'Name', displayName: 'Name' }, { apiName: 'Phone', displayName: 'Phone' }]; });
    var section = { objects: objects, screenPopSettings: { NoMatch: { screenPopType: 'PopToEntityNew', screenPopData: 'Contact' }, SingleMatch: { screenPopType: 'PopToEntity' }, MultipleMatches: { screenPopType: 'PopToSearch' } } };
    return { Inbound: section, Outbound: section, Internal: section };
  }

  var lightning = {
    setSoftphonePanelVisibility: function (a) {
      if (typeof a.visible !== 'boolean') return fail('INVALID_PARAMETER', 'visible must be true or false');
      setVisible(a.visible);
      return ok(null);
    },
    isSoftphonePanelVisible: function () { return ok({ visible: state.visible }); },
    screenPop: function (a) { return screenPop(a.type, a.params); },
    searchAndScreenPop: function (a) {
      return search(a.searchParams, a.callType).then(function (s) {
        if (s.error) return s.error;
        var pop = popFor(s.records, a.searchParams, a.defaultFieldValues);
        if (a.deferred === true) {
          s.result.SCREEN_POP_DATA = pop;
          return ok(s.result);
        }
        return screenPop(pop.type, pop.params).then(function (r) { return r.success ? ok(s.result) : r; });
      });
    },
    getAppViewInfo: function () { return ok(appViewInfo()); },
    saveLog: function (a) {
      if (!isObject(a.object)) return fail('INVALID_PARAMETER', 'value must be an object');
      return saveLog(a.object).then(function (r) {
        return r.id ? ok({ recordId: r.id }) : { success: false, returnValue: null, errors: r.errors };
      });
    },
    refreshView: function () { return refresh().then(function () { return ok(null); }); },
    notifyInitializationComplete: function () {
      state.initialized = true;
      clearTimeout(standbyTimer);
      return ok(null);
    },
    setSoftphoneItemLabel: function (a) {
      if (typeof a.label !== 'string' || !a.label) return fail('INVALID_PARAMETER', 'label must be a non-empty string');
      setText('utility-label', a.label);
      return ok(null);
    },
    setSoftphonePanelLabel: function (a) {
      if (typeof a.label !== 'string' || !a.label) return fail('INVALID_PARAMETER', 'label must be a non-empty string');
      setText('panel-label', a.label);
      return ok(null);
    },
    setSoftphoneItemIcon: function (a) {
      if (typeof a.key !== 'string' || !a.key) return fail('INVALID_PARAMETER', 'key must be the name of an SLDS utility icon, such as call');
      setIcon('utility-icon', a.key);
      return ok(null);
    },
    setSoftphonePanelIcon: function (a) {
      if (typeof a.key !== 'string' || !a.key) return fail('INVALID_PARAMETER', 'key must be the name of an SLDS utility icon, such as call');
      setIcon('panel-icon', a.key);
      return ok(null);
    },
    setSoftphonePanelHeight: function (a) {
      if (!range(a.heightPX, 240, 2560)) return fail('INVALID_PARAMETER', 'heightPX must be a number from 240 to 2560');
      sizePanel(0, a.heightPX);
      return ok(null);
    },
    setSoftphonePanelWidth: function (a) {
      if (!range(a.widthPX, 200, 1920)) return fail('INVALID_PARAMETER', 'widthPX must be a number from 200 to 1920');
      sizePanel(a.widthPX, 0);
      return ok(null);
    },
    getCallCenterSettings: function () { return ok(cfg.settings); },
    getSoftphoneLayout: function () { return ok(softphoneLayout()); },
    enableClickToDial: function () { state.clickToDial = true; applyClickToDial(); return ok(null); },
    disableClickToDial: function () { state.clickToDial = false; applyClickToDial(); return ok(null); },
    runApex: function (a) {
      return runApex(a.apexClass, a.methodName).then(function (r) {
        return r.error ? fail(r.code, r.error) : ok({ runApex: r.value });
      });
    }
  };

  function classicOK(result) { return { result: result, error: null }; }
  function classicFail(response) {
    var e = response.errors && response.errors[0];
    return { result: null, error: e ? e.description : 'failed' };
  }
  // fromLightning turns a Lightning response into Classic's {result, error}.
  function fromLightning(r, result) { return r.success ? classicOK(result === undefined ? true : result) : classicFail(r); }

  function parseSaveParams(s) {
    var out = {};
    s.split('&').forEach(function (pair) {
      if (!pair) return;
      var i = pair.indexOf('=');
      var k = decodeURIComponent(i < 0 ? pair : pair.slice(0, i));
      out[k] = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' '));
    });
    return out;
  }

  var classic = {
    getPageInfo: function () { return classicOK(JSON.stringify(classicPageInfo())); },
    isInConsole: function () { return classicOK(layout === 'console'); },
    isVisible: function () { return classicOK(state.visible); },
    setVisible: function (a) { setVisible(!!a.visible); return classicOK(true); },
    refreshPage: function () { return refresh().then(function () { return classicOK(true); }); },
    refreshObject: function () { return refresh().then(function () { return classicOK(true); }); },
    refreshRelatedList: function () { return refresh().then(function () { return classicOK(true); }); },
    reloadFrame: function () { setTimeout(function () { frame.src = frame.src; }, 0); return classicOK(true); },
    runApex: function (a) {
      return runApex(a.apexClass, a.methodName).then(function (r) {
        return r.error ? { result: null, error: r.error } : classicOK(r.value);
      });
    },
    saveLog: function (a) {
      var value = parseSaveParams(a.saveParams);
      value.entityApiName = a.objectName;
      return saveLog(value).then(function (r) {
        return r.id ? { result: true, id: r.id, error: null } : { result: false, error: r.errors && r.errors[0] ? r.errors[0].description : 'saveLog failed' };
      });
    },
    screenPop: function (a) {
      if (a.url.charAt(0) !== '/' || a.url.charAt(1) === '/') return { result: false, error: 'url must be relative, such as /003...' };
      return navigate(a.url).then(function () { return classicOK(true); });
    },
    searchAndScreenPop: function (a) {
      return search(a.searchParams, a.callType || 'inbound').then(function (s) {
        if (s.error) return classicFail(s.error);
        // In Classic, outbound and internal searches never pop.
        if (a.callType && a.callType !== 'inbound') return classicOK(JSON.stringify(s.result));
        var pop = popFor(s.records, a.searchParams);
        return screenPop(pop.type, pop.params).then(function () { return classicOK(JSON.stringify(s.result)); });
      });
    },
    searchAndGetScreenPopUrl: function (a) {
      return search(a.searchParams, a.callType || 'inbound').then(function (s) {
        if (s.error) return classicFail(s.error);
        var pop = popFor(s.records, a.searchParams);
        var target = popURL(pop.type, pop.params);
        return { result: JSON.stringify(s.result), screenPopUrl: classicURL(target.url || ''), error: null };
      });
    },
    enableClickToDial: function () { lightning.enableClickToDial(); return classicOK(true); },
    disableClickToDial: function () { lightning.disableClickToDial(); return classicOK(true); },
    getCallCenterSettings: function () { return classicOK(JSON.stringify(cfg.settings)); },
    getSoftphoneLayout: function () { return classicOK(JSON.stringify(softphoneLayout())); },
    getDirectoryNumbers: function () { return classicOK(JSON.stringify({})); },
    setSoftphoneHeight: function (a) { return fromLightning(lightning.setSoftphonePanelHeight(a)); },
    setSoftphoneWidth: function (a) { return fromLightning(lightning.setSoftphonePanelWidth(a)); },
    notifyInitializationComplete: function () { lightning.notifyInitializationComplete(); return classicOK(true); }
  };

  var listenerMethods = { onClickToDial: true, onNavigationChange: true, onFocus: true };

  window.addEventListener('message', function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== cfg.adapterOrigin) return;
    var m = event.data;
    if (!isObject(m) || typeof m.methodName !== 'string' || (m.apiType !== 'opencti' && m.apiType !== 'interaction')) return;
    var table = m.apiType === 'opencti' ? lightning : classic;
    if (listenerMethods[m.methodName]) {
      if (m.isListenerRegistered) state.listeners[m.methodName] = { apiVersion: m.apiVersion, apiType: m.apiType };
      noteCall(m.methodName);
      return;
    }
    var handler = table[m.methodName];
    var args = isObject(m.args) ? m.args : {};
    var result;
    try {
      result = handler ? handler(args) : (m.apiType === 'opencti'
        ? fail('INVALID_API', m.methodName + ' is not an Open CTI method devcrm knows')
        : { result: null, error: m.methodName + ' is not an Open CTI method devcrm knows' });
    } catch (err) {
      result = m.apiType === 'opencti' ? fail('INTERNAL', String(err)) : { result: null, error: String(err) };
    }
    Promise.resolve(result).then(function (response) {
      noteCall(m.methodName);
      if (m.isCallbackRegistered !== false) {
        post({ apiVersion: m.apiVersion, apiType: m.apiType, methodName: m.methodName, callId: m.callId, response: response });
      }
    }, function (err) {
      post({ apiVersion: m.apiVersion, apiType: m.apiType, methodName: m.methodName, callId: m.callId,
        response: m.apiType === 'opencti' ? fail('INTERNAL', String(err)) : { result: null, error: String(err) } });
    });
  });

  window.devcrm = {
    state: state,
    navigate: navigate,
    refresh: refresh,
    appViewInfo: appViewInfo,
    frame: function () { return frame; }
  };

  applyClickToDial();
  if (cfg) loadFrame();
})();
