// Applies a filter as soon as it changes, leaving empty ones out of the address. Without this script
// the form's Apply button does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  if (!form) return;
  function apply() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) { if (value !== "") params.append(name, value); });
    var query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
});
