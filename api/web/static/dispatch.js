/* Dispatch page: a dispatcher types a token to see the reporter's name and phone. */
function wanggeDispatch(map, cfg) {
  "use strict";
  var form = document.getElementById("wg-token-form");
  if (!form) { return; }
  var T = cfg.text;
  var saved = window.sessionStorage.getItem("wangge-token");
  if (saved) { document.getElementById("wg-token").value = saved; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = document.getElementById("wg-token").value.trim();
    var out = document.getElementById("wg-reporter");
    fetch("/maps/dispatch/" + cfg.incident + "/reporter", { headers: { Authorization: "Bearer " + token } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        out.innerHTML = "";
        if (!res.ok) {
          var row = out.insertRow(); row.className = "wg-error"; row.insertCell().textContent = res.body.error;
          return;
        }
        window.sessionStorage.setItem("wangge-token", token);
        [[T.reporter, res.body.reporter_name], [T.phone, res.body.reporter_phone]].forEach(function (r) {
          var tr = out.insertRow(); var th = document.createElement("th"); th.textContent = r[0];
          tr.appendChild(th); tr.insertCell().textContent = r[1] || "—";
        });
      });
  });
}
