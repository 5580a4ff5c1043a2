/* Openbaar: small additions to Chainlit's chat page (loaded through `custom_js` in .chainlit/config.toml).
 * - The theme button's hidden label is Chainlit's fixed English "Toggle theme": name it in the page's language
 *   (the text comes from the translation file the page itself uses: openbaar.themeToggle).
 * - A wrong user name or password makes the login request answer 401, which Chainlit shows twice: in the form
 *   and as a raw "Unauthorized: credentialssignin" notice. The login request's 401 is turned into the answer
 *   Chainlit's form expects for a failed login, so only the form's own message shows (auth.login.errors.default).
 * - Chainlit scrolls the message area to its end when it appears, so on a phone the welcome screen opened in the
 *   middle of its text with the logo cut off: a new welcome screen starts at its top.
 * Written for the page of the Chainlit version chainlit_compat.py checks.
 */
(function () {
  'use strict';
  var meta = document.querySelector('meta[property="og:root_path"]');
  var root = (meta && meta.getAttribute('content')) || '';

  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === 'string' ? input : (input && input.url) || '';
    var method = String((init && init.method) || (input && input.method) || 'GET').toUpperCase();
    var login = method === 'POST' && new URL(url, window.location.href).pathname === root + '/login';
    return realFetch(input, init).then(function (response) {
      if (login && response.status === 401) {
        return new Response(JSON.stringify({ success: false }), {
          status: 200,
          headers: { 'content-type': 'application/json' }
        });
      }
      return response;
    });
  };

  var label = null;
  function nameThemeButton() {
    if (!label) return;
    var buttons = document.querySelectorAll('#theme-toggle');
    for (var i = 0; i < buttons.length; i++) {
      var hidden = buttons[i].querySelector('.sr-only');
      if (hidden && hidden.textContent !== label) hidden.textContent = label;
      if (buttons[i].getAttribute('aria-label') !== label) buttons[i].setAttribute('aria-label', label);
    }
  }
  var language = navigator.language || 'en-US';
  realFetch(root + '/project/translations?language=' + encodeURIComponent(language), { credentials: 'same-origin' })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      var texts = data && data.translation && data.translation.openbaar;
      label = (texts && texts.themeToggle) || null;
      nameThemeButton();
    })
    .catch(function () {});

  var welcomeShown = null;
  var moved = false; // the visitor scrolled or typed: leave the scroll position alone
  ['wheel', 'touchmove', 'keydown'].forEach(function (kind) {
    window.addEventListener(kind, function () { moved = true; }, { capture: true, passive: true });
  });
  function welcomeAtTop() {
    var welcome = document.getElementById('welcome-screen');
    if (welcome === welcomeShown) return;
    welcomeShown = welcome;
    if (!welcome) return;
    moved = false;
    var box = welcome.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowY !== 'auto') box = box.parentElement;
    if (!box || box === document.body) return;
    [0, 100, 400, 900].forEach(function (delay) {
      setTimeout(function () {
        if (!moved && document.getElementById('welcome-screen') === welcome) box.scrollTop = 0;
      }, delay);
    });
  }

  new MutationObserver(function () {
    nameThemeButton();
    welcomeAtTop();
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
