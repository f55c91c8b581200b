// Idle logout warning ({% idle_warning %} in templates/admin/base_site.html). The server
// ends a session after SESSION_IDLE_TIMEOUT_MINUTES without a request (accounts.middleware);
// this counts down from the page's load, shows "即将因长时间未操作而退出登录" a couple of minutes
// before, and 继续使用 sends a keep-alive request (which is activity). At zero the page is
// opened again: the server answers with the login page and its message. Pages of the same
// browser share the last activity time (localStorage), so work in one tab keeps the others.
// Local file: no CDN.
(function () {
  "use strict";
  var KEY = "medins-last-activity";
  function now() { return Date.now(); }
  function lastActivity() {
    var stored = 0;
    try { stored = parseInt(window.localStorage.getItem(KEY), 10) || 0; } catch (e) { stored = 0; }
    return Math.max(stored, lastLocal);
  }
  function touch() {
    lastLocal = now();
    try { window.localStorage.setItem(KEY, String(lastLocal)); } catch (e) { /* private mode */ }
  }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function format(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m ? m + " 分 " : "") + s + " 秒";
  }
  var lastLocal = now();
  var box, timeout, warning, ended = false;
  function tick() {
    if (ended) { return; }
    var left = Math.ceil((lastActivity() + timeout * 1000 - now()) / 1000);
    if (left <= -1) {  // a second late: the server's clock has passed the limit too
      ended = true;
      box.hidden = true;
      window.location.assign(window.location.href.split("#")[0]);  // a GET, even after a POST
      return;
    }
    if (left <= warning) {
      document.getElementById("idle-remaining").textContent = format(Math.max(left, 0));
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }
  function keepAlive() {
    fetch(box.dataset.keepaliveUrl, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
      .then(function (r) {
        if (r.ok) { touch(); tick(); } else { window.location.reload(); }
      })
      .catch(function () { /* offline: the countdown goes on */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    box = document.getElementById("idle-warning");
    if (!box) { return; }
    timeout = parseInt(box.dataset.timeout, 10);
    warning = parseInt(box.dataset.warning, 10);
    touch();
    document.getElementById("idle-continue").addEventListener("click", keepAlive);
    window.setInterval(tick, 1000);
  });
})();
