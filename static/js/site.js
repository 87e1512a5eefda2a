// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // The language menu switches as soon as a language is picked.
  document.querySelectorAll("form.language-switch select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Print buttons (the compound's QR code sheet).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // The request form offers only the buildings of the chosen compound.
  var compound = document.getElementById("id_compound");
  var building = document.getElementById("id_building");
  if (compound && building && building.querySelector("option[data-compound]")) {
    var sync = function () {
      Array.prototype.forEach.call(building.options, function (option) {
        var owner = option.getAttribute("data-compound");
        option.hidden = owner !== null && compound.value !== "" && owner !== compound.value;
        if (option.hidden && option.selected) { building.value = ""; }
      });
    };
    compound.addEventListener("change", sync);
    sync();
  }

  // Monthly reports being built refresh their row every few seconds.
  document.querySelectorAll('tr[data-status="pending"], tr[data-status="running"]').forEach(function (row) {
    var timer = setInterval(function () {
      fetch(row.dataset.statusUrl, {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          var status = row.querySelector(".report-status");
          status.textContent = data.label + (data.error ? " — " + data.error : "");
          if (data.status !== "done" && data.status !== "failed") { return; }
          clearInterval(timer);
          if (data.download) {
            var link = document.createElement("a");
            link.href = data.download;
            link.textContent = row.dataset.downloadLabel;
            row.querySelector(".report-download").appendChild(link);
          }
        });
    }, 3000);
  });
});
