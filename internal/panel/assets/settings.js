// Settings > Advanced: the contact center domain. The server checks it
// against the signed-in user's tenant (GET /api/v1/cti/domain-check, the
// same check as parley admin cti-url check) and names the form expected;
// only a domain that passes is saved (in this browser, per tenant).

/** The localStorage key of the saved domain of a tenant. */
export const domainKey = tenant => `parley.contact-center-domain.${tenant}`;

/**
 * wireSettings connects the settings' contact center domain field. api is
 * the panel's API, config the page's config (tenant, launch.vcc_domain).
 */
export function wireSettings(api, config) {
  const $ = id => document.getElementById(id);
  const input = $('settings-domain');
  const out = $('settings-domain-result');
  const key = domainKey(config.tenant);
  input.value = localStorage.getItem(key) || (config.launch && config.launch.vcc_domain) || '';
  const say = (msg, bad) => {
    out.textContent = msg;
    out.classList.toggle('error', !!bad);
    input.setAttribute('aria-invalid', bad ? 'true' : 'false');
  };
  const check = async ev => {
    if (ev) ev.preventDefault();
    const domain = input.value.trim();
    say('Checking…', false);
    try {
      const r = await api.get('/cti/domain-check?domain=' + encodeURIComponent(domain), 'The domain check');
      if (r.ok) {
        localStorage.setItem(key, r.domain);
        input.value = r.domain;
        say(`Saved: the contact center domain of ${r.tenant}.`, false);
      } else {
        say(r.message, true);
      }
    } catch (e) {
      say(e && e.message ? e.message : String(e), true);
    }
  };
  $('settings-advanced').addEventListener('submit', check);
}
