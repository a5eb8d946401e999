package panel

// pageHTML is the CTI adapter page. With a Problem it shows only that; the
// panel's markup is otherwise static, and panel.js fills it (as text) from
// the API.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.Assets}}/panel.css">
{{- if not .Problem}}
<script type="application/json" id="parley-config">{{.Config}}</script>
<script type="module" src="{{.Assets}}/panel.js"></script>
{{- end}}
</head>
<body>
{{- if .Problem}}
<main class="problem" role="alert" id="problem">
<h1>The panel cannot start</h1>
<p id="problem-text">{{.Problem}}</p>
</main>
{{- else}}
<header class="bar">
  <span class="brand">Parley</span>
  <span id="who" class="who" aria-label="Signed-in agent"></span>
</header>
<div id="fatal" class="fatal" role="alert" hidden></div>
<div id="status" class="status" role="status" aria-live="polite"></div>

<form id="signin" class="card" hidden aria-labelledby="signin-title">
  <h1 id="signin-title">Sign in</h1>
  <p id="signin-notice" class="notice" role="note" hidden></p>
  <div id="signin-sso" hidden>
    <button id="signin-sso-button" type="button">Sign in with the CRM</button>
    <p id="signin-sso-error" class="error" role="alert"></p>
    <button id="signin-sso-retry" type="button" hidden>Try again</button>
    <p class="hint">or with your contact-center password:</p>
  </div>
  <label for="signin-tenant">Contact center</label>
  <input id="signin-tenant" name="tenant" autocomplete="organization" required>
  <label for="signin-username">Username</label>
  <input id="signin-username" name="username" autocomplete="username" required>
  <label for="signin-password">Password</label>
  <input id="signin-password" name="password" type="password" autocomplete="current-password" required>
  <button id="signin-submit" type="submit">Sign in</button>
  <p id="signin-error" class="error" role="alert"></p>
</form>

<main id="main" hidden>
  <section class="presence" aria-label="Your state">
    <label for="presence">State</label>
    <select id="presence"></select>
    <span id="presence-since" class="muted"></span>
  </section>

  <section id="audio" class="audio" aria-label="Audio" hidden>
    <p class="audio-line"><span id="audio-text" role="status" aria-live="polite"></span></p>
    <button id="audio-retry" type="button" hidden>Retry</button>
    <div id="audio-meter" class="meter" hidden role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><span id="audio-level"></span></div>
    <details id="audio-settings">
      <summary>Audio settings</summary>
      <label for="audio-mic">Microphone</label>
      <select id="audio-mic"></select>
      <label for="audio-speaker">Speaker</label>
      <select id="audio-speaker"></select>
      <label class="check"><input id="audio-processing" type="checkbox"> Echo cancellation, noise suppression and gain control</label>
    </details>
    <audio id="remote-audio" autoplay></audio>
  </section>

  <section id="offer" class="card offer" hidden aria-labelledby="offer-title" role="region">
    <h2 id="offer-title">Incoming call</h2>
    <p class="caller"><span id="offer-caller"></span></p>
    <p class="muted"><span id="offer-queue"></span> · waited <span id="offer-wait"></span></p>
    <ul id="offer-matches" class="matches" aria-label="CRM matches"></ul>
    <div class="row">
      <button id="offer-accept" type="button" class="good">Accept</button>
      <button id="offer-reject" type="button" class="bad">Reject</button>
    </div>
  </section>

  <section id="call" class="card" hidden aria-labelledby="call-title" role="region">
    <h2 id="call-title">On call <span id="call-timer"></span></h2>
    <p class="caller"><span id="call-caller"></span></p>
    <p class="muted" id="call-queue"></p>
    <div id="call-pick" hidden>
      <p>Several records match: pick one for the log and the screen pop.</p>
      <ul id="call-matches" class="matches" aria-label="Pick a CRM record"></ul>
    </div>
    <p id="call-linked" class="muted"></p>
    <div class="row">
      <button id="call-mute" type="button" aria-pressed="false">Mute</button>
      <button id="call-hold" type="button" aria-pressed="false">Hold</button>
      <button id="call-keypad-toggle" type="button" aria-expanded="false" aria-controls="keypad">Keypad</button>
    </div>
    <div id="keypad" class="keypad" hidden role="group" aria-label="Dial pad">
      <button type="button" data-digit="1">1</button><button type="button" data-digit="2">2</button><button type="button" data-digit="3">3</button>
      <button type="button" data-digit="4">4</button><button type="button" data-digit="5">5</button><button type="button" data-digit="6">6</button>
      <button type="button" data-digit="7">7</button><button type="button" data-digit="8">8</button><button type="button" data-digit="9">9</button>
      <button type="button" data-digit="*">*</button><button type="button" data-digit="0">0</button><button type="button" data-digit="#">#</button>
    </div>
    <form id="transfer" class="transfer">
      <label for="transfer-target">Transfer to</label>
      <select id="transfer-target"></select>
      <button id="transfer-go" type="submit">Transfer</button>
    </form>
    <button id="call-hangup" type="button" class="bad wide">Hang up</button>
  </section>

  <form id="wrapup" class="card" hidden aria-labelledby="wrapup-title">
    <h2 id="wrapup-title">Wrap-up</h2>
    <p class="caller"><span id="wrapup-caller"></span></p>
    <label for="wrapup-disposition">Disposition</label>
    <select id="wrapup-disposition"></select>
    <label for="wrapup-notes">Notes</label>
    <textarea id="wrapup-notes" rows="5" aria-describedby="wrapup-count"></textarea>
    <p id="wrapup-count" class="muted" aria-live="polite"></p>
    <button id="wrapup-submit" type="submit" class="good wide">Save and finish</button>
    <p id="wrapup-error" class="error" role="alert"></p>
  </form>

  <section class="queues" aria-labelledby="queues-title">
    <h2 id="queues-title">Queues</h2>
    <table>
      <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Longest</th><th scope="col">Free</th></tr></thead>
      <tbody id="queues"></tbody>
    </table>
  </section>

  <section class="today" aria-labelledby="today-title">
    <h2 id="today-title">Today</h2>
    <ol id="today" class="today-list"></ol>
  </section>

  <details id="settings" class="settings">
    <summary>Settings</summary>
    <form id="settings-advanced" class="advanced" aria-labelledby="settings-advanced-title" novalidate>
      <h2 id="settings-advanced-title">Advanced</h2>
      <label for="settings-domain">Contact center domain</label>
      <input id="settings-domain" name="domain" type="url" inputmode="url" autocomplete="off" spellcheck="false" aria-describedby="settings-domain-result">
      <button id="settings-domain-save" type="submit">Check and save</button>
      <p id="settings-domain-result" class="muted" role="status" aria-live="polite"></p>
    </form>
    <p id="settings-crm-user" class="muted"></p>
  </details>
</main>
{{- end}}
</body>
</html>
`
