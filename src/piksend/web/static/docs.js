// /docs/oauth, progressive enhancement only: without this file every example is still on the
// page as selectable text. With it, each code block gets a "Copy" button (only where the
// Clipboard API is available), and the result is announced to screen readers.
(function () {
  'use strict';
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  var live = document.getElementById('live');
  document.querySelectorAll('.docs pre').forEach(function (block, index) {
    var code = block.querySelector('code') || block;
    var heading = block.closest('section, article');
    var title = heading && heading.querySelector('h2, h3, h4');
    var what = title ? title.textContent.trim() : 'example ' + (index + 1);
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
