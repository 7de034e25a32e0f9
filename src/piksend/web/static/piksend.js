// Progressive enhancement only: every page works without this file.
// Copy buttons: shown only when the Clipboard API is there; the values stay selectable text.
(function () {
  'use strict';
  var live = document.getElementById('live');
  function announce(text) { if (live) { live.textContent = text; } }
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var target = document.getElementById(button.getAttribute('data-copy'));
    if (!target || !navigator.clipboard || !window.isSecureContext) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = 'Copied';
        announce(label.replace(/^Copy /, '') + ' copied to the clipboard');
      }, function () {
        button.textContent = 'Copy failed: select the text instead';
      });
    });
  });
}());
