// Herald dashboard: small progressive enhancements; every page works without this file.
// Times arrive in UTC (<time datetime="…">); show them in the viewer's time zone and language, with the
// UTC value kept on hover.
(function () {
  var lang = document.documentElement.lang || undefined;
  var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) { el.title = el.title || el.textContent; el.textContent = format.format(when); }
  });
})();
