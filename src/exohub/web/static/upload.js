// Session form: send the recording with a progress bar, then say that it is being analysed.
// Without JavaScript the form posts normally; the server's answer is the same.
(function () {
  "use strict";
  var form = document.getElementById("session-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var status = document.getElementById("upload-status");
  var stage = document.getElementById("upload-stage");
  var bar = document.getElementById("upload-progress");

  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file || !file.files.length) { return; }  // nothing to upload: a plain post is as quick
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.hidden = false;
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "text/html");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
        stage.textContent = "Uploading the recording: " + bar.value + " %";
      }
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server reads and analyses
      stage.textContent = "Analysing the recording (gait events, strides, joint curves, signal quality)…";
    });
    request.addEventListener("load", function () {
      if (request.status < 400 && request.responseURL && request.responseURL !== form.action) {
        window.location.assign(request.responseURL);
        return;
      }
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var main = page.querySelector("main");
      if (main) {
        document.querySelector("main").replaceWith(main);
        var script = document.createElement("script");
        script.src = "/static/upload.js";
        document.body.appendChild(script);
      } else {
        stage.textContent = "The upload failed (" + request.status + "). Nothing was saved; try again.";
        button.disabled = false;
      }
    });
    request.addEventListener("error", function () {
      stage.textContent = "The connection broke during the upload. Nothing was saved; try again.";
      button.disabled = false;
    });
    request.send(new FormData(form));
  });
})();
