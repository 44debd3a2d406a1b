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
    var token = randomToken();
    var polling = null;
    var request = new XMLHttpRequest();
    request.open("POST", form.action + (form.action.indexOf("?") < 0 ? "?" : "&") + "progress=" + token);
    request.setRequestHeader("Accept", "text/html");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
        stage.textContent = "Uploading the recording: " + bar.value + " %";
      }
    });
    request.upload.addEventListener("load", function () {
      bar.value = 0;
      stage.textContent = "Upload complete; the server is reading the recording…";
      polling = window.setInterval(function () { poll(token); }, 500);
    });
    request.addEventListener("loadend", function () { if (polling) { window.clearInterval(polling); } });
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

  function randomToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // The server's stage of this upload (reading, analysing, storing, saving): step k of n fills k/n of the bar.
  function poll(token) {
    var check = new XMLHttpRequest();
    check.open("GET", "/clinic/upload-progress?token=" + token);
    check.setRequestHeader("Accept", "application/json");
    check.addEventListener("load", function () {
      if (check.status !== 200) { return; }
      var answer = JSON.parse(check.responseText);
      if (answer.stage === null) { return; }
      bar.value = Math.round((100 * answer.step) / answer.steps);
      stage.textContent = "Step " + (answer.step + 1) + " of " + answer.steps + ": " + answer.stage + "…";
    });
    check.send();
  }
})();
