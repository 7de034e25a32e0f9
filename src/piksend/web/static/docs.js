// /docs/oauth, progressive enhancement only: without this file every example is still on the
// page as selectable text. With it, each code block gets a "Copy" button (only where the
// Clipboard API is available), and the result is announced to screen readers.
(function () {
  'use strict';
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  var live = document.getElementById('live');
  var used = {};
  // WCAG 2.4.6: each button's name says which block it copies — the nearest heading before the
  // block, plus the short label just above it ("Example request:"), numbered if still repeated.
  function nameOf(block, index) {
    var found = document.evaluate('preceding::*[self::h2 or self::h3 or self::h4][1]', block,
      null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
    var what = found ? found.textContent.replace(/\s+/g, ' ').trim() : 'example ' + (index + 1);
    var label = block.previousElementSibling;
    var text = label && label.tagName === 'P' ? label.textContent.replace(/\s+/g, ' ').trim() : '';
    if (text && text.length <= 40) { what += ', ' + text.replace(/:$/, ''); }
    used[what] = (used[what] || 0) + 1;
    return used[what] > 1 ? what + ' (' + used[what] + ')' : what;
  }
  document.querySelectorAll('.docs pre').forEach(function (block, index) {
    var code = block.querySelector('code') || block;
    var what = nameOf(block, index);
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-code';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy code: ' + what);
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        button.textContent = 'Copied';
        if (live) { live.textContent = 'Code copied to the clipboard'; }
        window.setTimeout(function () { button.textContent = 'Copy'; }, 2000);
      }, function () {
        button.textContent = 'Copy failed: select the text instead';
      });
    });
    var wrapper = document.createElement('div');
    wrapper.className = 'code-block';
    block.parentNode.insertBefore(wrapper, block);
    wrapper.appendChild(button);
    wrapper.appendChild(block);
  });
}());
