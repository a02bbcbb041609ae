// The language switch: the choice is kept in a cookie (a year) so that the server renders
// every later page in it; the page is then loaded again in the new language.
(function () {
  "use strict";
  var button = document.getElementById("lang-switch");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var cookie = button.getAttribute("data-cookie");
    var lang = button.getAttribute("data-lang");
    document.cookie = cookie + "=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
    window.location.reload();
  });
})();
