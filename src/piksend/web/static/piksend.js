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
// Confirmations: a link or a form with data-dialog="<id>" opens that <dialog> instead of its
// confirmation page. A form with data-dialog-if="name=value" asks only when that field has that
// value (an immediate secret rotation); the dialog's own confirm button then submits it.
(function () {
  'use strict';
  function dialogFor(element) {
    var dialog = document.getElementById(element.getAttribute('data-dialog'));
    return dialog && typeof dialog.showModal === 'function' ? dialog : null;
  }
  document.querySelectorAll('a[data-dialog]').forEach(function (link) {
    var dialog = dialogFor(link);
    if (!dialog) { return; }
    link.addEventListener('click', function (event) {
      event.preventDefault();
      dialog.showModal();
    });
  });
  document.querySelectorAll('form[data-dialog]').forEach(function (form) {
    var dialog = dialogFor(form);
    if (!dialog) { return; }
    var rule = (form.getAttribute('data-dialog-if') || '').split('=');
    form.addEventListener('submit', function (event) {
      var confirmed = event.submitter && event.submitter.name === 'confirm';
      var field = rule.length === 2 ? form.elements[rule[0]] : null;
      var applies = !field || field.value === rule[1];
      if (!confirmed && applies) {
        event.preventDefault();
        dialog.showModal();
      }
    });
  });
}());
