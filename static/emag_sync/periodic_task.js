// The schedule form: say in words when the chosen crontab fires, below its help text.
// (django-celery-beat does this with an inline script, which the Content-Security-Policy blocks.)
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  if (!data || !select || !help) {
    return;
  }
  const readable = JSON.parse(data.textContent);
  const translation = document.createElement("div");
  help.appendChild(translation);
  const explain = () => {
    const words = readable[select.value];
    translation.textContent = words ? `Translation: ${words}` : "";
  };
  // The read-only copy of the same words is redundant next to the live one.
  for (const row of document.querySelectorAll(".field-crontab_translation")) {
    row.style.display = "none";
  }
  select.addEventListener("change", explain);
  explain();
});
