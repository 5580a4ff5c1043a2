/* Openbaar: what the chat widget adds to Chainlit's Copilot. The server appends this file, with its texts filled
 * in, to /copilot/index.js (assistant/interfaces/chat/chainlit_compat.py, install_widget), so the two lines of
 * docs/embedding.md are all a site needs. It wraps window.mountChainlitWidget and:
 * - takes the site owner's options: button.style {bgcolor, color, bgcolorHover, borderColor, size} and
 *   texts {button, placeholder} (Chainlit's Copilot has none of these), and our icon when no button.imageUrl is set;
 * - keeps the widget's own look on any host page: its font from this server (declared in the host document, where
 *   browsers look for @font-face), no inherited letter spacing or line height, its own text colour;
 * - shows the welcome line above the starters, and one line in the visitor's language instead of a raw
 *   "TypeError: Failed to fetch" when the site is not allowed or the server cannot be reached.
 */
(function () {
  'use strict';
  var TEXTS = __OPENBAAR_TEXTS__;
  var mount = window.mountChainlitWidget;
  if (typeof mount !== 'function' || mount.openbaar) return;

  function language(config) {
    var tag = String(config.language || navigator.language || 'en').toLowerCase();
    return tag.indexOf('nl') === 0 ? 'nl' : 'en';
  }

  function cssColor(value) {
    // Only plain colour values reach the style sheet (no "}" or ";" that could end the rule).
    return typeof value === 'string' && /^[#(),.%\w\s-]{1,64}$/.test(value) ? value : null;
  }

  function styleSheet(style) {
    var rules = [
      '#cl-shadow-root{font-family:"Inter",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
        'letter-spacing:normal;word-spacing:normal;line-height:1.5;text-align:left;text-transform:none;' +
        'font-style:normal;font-weight:400;color:hsl(var(--foreground));}',
      '#cl-shadow-root *,#cl-shadow-root *::before,#cl-shadow-root *::after{letter-spacing:inherit;word-spacing:inherit;}',
      '#cl-shadow-root #chat-input{line-height:1.5;color:hsl(var(--foreground));}',
      '#cl-shadow-root .openbaar-welcome{margin:0 0 0.75rem;font-size:0.875rem;color:hsl(var(--muted-foreground));}',
      '#chainlit-copilot-button{padding:0.6rem;}'
    ];
    var button = '#chainlit-copilot-button';
    var bg = cssColor(style.bgcolor);
    var fg = cssColor(style.color);
    var hover = cssColor(style.bgcolorHover);
    var border = cssColor(style.borderColor);
    if (bg) rules.push(button + '{background-color:' + bg + ' !important;}');
    if (fg) rules.push(button + '{color:' + fg + ' !important;}');
    if (hover) rules.push(button + ':hover{background-color:' + hover + ' !important;}');
    if (border) rules.push(button + '{border:2px solid ' + border + ' !important;}');
    var size = parseInt(style.size, 10);
    if (size >= 32 && size <= 96) rules.push(button + '{width:' + size + 'px !important;height:' + size + 'px !important;}');
    return rules.join('\n');
  }

  function addFonts(server) {
    var href = server + '/public/fonts/inter.css';
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) if (links[i].href === href) return;
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    document.head.appendChild(link);
  }

  var RAW_ERROR = /TypeError|Failed to fetch|NetworkError|Load failed|No authentication token/i;

  window.mountChainlitWidget = function (options) {
    var config = Object.assign({}, options || {});
    var server = String(config.chainlitServer || '').replace(/\/+$/, '');
    var texts = Object.assign({}, (TEXTS && TEXTS[language(config)]) || {}, config.texts || {});
    var button = Object.assign({}, config.button || {});
    var style = Object.assign({}, button.style || {});
    if (!button.imageUrl && server) button.imageUrl = server + '/public/openbaar-chat.svg';
    config.button = button;
    if (server) addFonts(server);
    mount(config);

    var host = document.getElementById('chainlit-copilot');
    var shadow = host && host.shadowRoot;
    if (!shadow) return;
    var sheet = document.createElement('style');
    sheet.textContent = styleSheet(style);
    shadow.appendChild(sheet);

    var reachable = null; // after a failure: is the server there at all? (an opaque request needs no CORS)
    function explain(paragraph) {
      if (reachable === null) {
        reachable = 'pending';
        fetch(server + '/api/health', { mode: 'no-cors', credentials: 'omit' })
          .then(function () { reachable = true; })
          .catch(function () { reachable = false; })
          .then(update);
      }
      if (reachable === 'pending') return;
      var text = reachable ? texts.refused : texts.unreachable;
      if (text && paragraph.textContent !== text) paragraph.textContent = text;
    }

    function update() {
      var toggle = shadow.getElementById('chainlit-copilot-button');
      if (toggle && texts.button && toggle.getAttribute('aria-label') !== texts.button) {
        toggle.setAttribute('aria-label', texts.button);
        toggle.setAttribute('title', texts.button);
        var image = toggle.querySelector('img');
        if (image) image.setAttribute('alt', '');
      }
      var input = shadow.getElementById('chat-input');
      if (input && texts.placeholder && input.getAttribute('placeholder') !== texts.placeholder) {
        input.setAttribute('placeholder', texts.placeholder);
      }
      var welcome = shadow.querySelector('.welcome-screen');
      if (welcome && texts.welcome && !welcome.querySelector('.openbaar-welcome')) {
        var line = document.createElement('p');
        line.className = 'openbaar-welcome';
        line.textContent = texts.welcome;
        welcome.insertBefore(line, welcome.firstChild);
      }
      var alerts = shadow.querySelectorAll('#chainlit-copilot-chat [role="alert"] p');
      for (var i = 0; i < alerts.length; i++) {
        if (RAW_ERROR.test(alerts[i].textContent || '') || alerts[i].getAttribute('data-openbaar')) {
          alerts[i].setAttribute('data-openbaar', 'explained');
          explain(alerts[i]);
        }
      }
    }

    new MutationObserver(update).observe(shadow, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['placeholder', 'aria-label']
    });
    update();
  };
  window.mountChainlitWidget.openbaar = true;
})();
