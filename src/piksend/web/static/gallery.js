// Progressive enhancement of the owner's gallery page; every part works without this file.
// - "Delete gallery" opens a dialog instead of the confirmation page.
// - Photos chosen or dropped are uploaded one per request with a progress bar each, to the
//   same URL the plain form posts to (Accept: application/json for a per-file answer).
(function () {
  'use strict';
  var live = document.getElementById('live');
  function announce(text) { if (live) { live.textContent = text; } }

  document.querySelectorAll('a[data-dialog]').forEach(function (link) {
    var dialog = document.getElementById(link.getAttribute('data-dialog'));
    if (!dialog || typeof dialog.showModal !== 'function') { return; }
    link.addEventListener('click', function (event) {
      event.preventDefault();
      dialog.showModal();
    });
    dialog.querySelectorAll('[data-close-dialog]').forEach(function (button) {
      button.addEventListener('click', function () { dialog.close(); link.focus(); });
    });
  });

  var form = document.querySelector('form.upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = form.querySelector('input[type=file]');
  var zone = form.querySelector('.dropzone');
  var list = form.querySelector('.upload-progress');
  var token = form.querySelector('input[name=csrf_token]').value;
  var maxBytes = parseInt(form.getAttribute('data-max-bytes'), 10);
  var busy = false;
  form.querySelector('.drop-hint').hidden = false;

  function row(file) {
    var item = document.createElement('li');
    var name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = file.name;
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Uploading ' + file.name);
    var state = document.createElement('span');
    state.className = 'upload-state';
    state.textContent = 'Waiting';
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(state);
    list.appendChild(item);
    return { item: item, bar: bar, state: state };
  }

  function send(file, view) {
    return new Promise(function (resolve) {
      if (file.size > maxBytes) {
        view.item.className = 'refused';
        view.state.textContent = 'Not uploaded: the file is larger than ' + maxBytes + ' bytes.';
        resolve(false);
        return;
      }
      var body = new FormData();
      body.append('csrf_token', token);
      body.append('file', file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', function (event) {
        if (event.lengthComputable) {
          view.bar.value = Math.round(100 * event.loaded / event.total);
          view.state.textContent = view.bar.value + '%';
        }
      });
      xhr.addEventListener('load', function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (ignored) { answer = null; }
        if (xhr.status === 201) {
          view.bar.value = 100;
          view.item.className = 'uploaded';
          view.state.textContent = 'Uploaded';
          resolve(true);
          return;
        }
        var why = answer && answer.refused && answer.refused.length ? answer.refused[0].error
          : 'the server answered ' + xhr.status + '; reload the page and try again.';
        view.item.className = 'refused';
        view.state.textContent = 'Not uploaded: ' + why;
        resolve(false);
      });
      xhr.addEventListener('error', function () {
        view.item.className = 'refused';
        view.state.textContent = 'Not uploaded: the connection failed.';
        resolve(false);
      });
      view.state.textContent = '0%';
      xhr.send(body);
    });
  }

  function uploadAll(files) {
    if (busy || !files.length) { return; }
    busy = true;
    list.hidden = false;
    list.textContent = '';
    var views = Array.prototype.map.call(files, row);
    var done = 0;
    var failed = 0;
    announce('Uploading ' + files.length + ' file' + (files.length === 1 ? '' : 's'));
    var chain = Promise.resolve();
    Array.prototype.forEach.call(files, function (file, index) {
      chain = chain.then(function () { return send(file, views[index]); }).then(function (ok) {
        if (ok) { done += 1; } else { failed += 1; }
      });
    });
    chain.then(function () {
      busy = false;
      input.value = '';
      announce(done + ' uploaded, ' + failed + ' not uploaded');
      if (!failed) {
        window.location.assign(window.location.pathname + '?done=uploaded#photos');
        return;
      }
      var more = document.createElement('li');
      var link = document.createElement('a');
      link.href = window.location.pathname + '#photos';
      link.textContent = done + ' uploaded, ' + failed + ' not uploaded: show the gallery';
      more.appendChild(link);
      list.appendChild(more);
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    uploadAll(input.files);
  });
  ['dragenter', 'dragover'].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  });
  zone.addEventListener('dragleave', function () { zone.classList.remove('dragging'); });
  zone.addEventListener('drop', function (event) {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (event.dataTransfer && event.dataTransfer.files) { uploadAll(event.dataTransfer.files); }
  });
}());
