// Copy buttons (SKU, PNK, eMAG id): the value goes to the clipboard, the button says so.
(function () {
  "use strict";

  function copyWithSelection(text) {
    // Fallback for pages served over plain HTTP to another host, where the Clipboard API
    // is unavailable.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  // Texts from Django's JavaScript catalogue (/jsi18n/, in every admin page's head).
  const gettext = window.gettext || function (text) { return text; };

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".mf-copy");
    if (!button) {
      return;
    }
    event.preventDefault();
    copy(button.dataset.copy).then(
      function () {
        button.textContent = gettext("Copied");
        button.classList.add("mf-copied");
      },
      function () {
        button.textContent = gettext("Copy failed");
      }
    ).finally(function () {
      setTimeout(function () {
        button.textContent = gettext("Copy");
        button.classList.remove("mf-copied");
      }, 1500);
    });
  });
})();
