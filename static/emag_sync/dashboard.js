// The sync dashboard, live: progress bars polled from a small JSON view, connection tests,
// cancel buttons, and the Sync form's options shown for the chosen mode. Without this
// script every form still works by posting and reloading.
(function () {
  "use strict";

  const root = document.getElementById("mf-dashboard");
  if (!root) {
    return;
  }
  const progressUrl = root.dataset.progressUrl;
  const pollMs = Number(root.dataset.pollMs) || 1500;
  const board = document.getElementById("mf-board");
  const template = document.getElementById("mf-run-template");
  // Runs this page shows: it keeps asking about them until they end, to show how they ended.
  const tracked = new Set();
  // Connection test outcomes survive the cards being re-rendered after a sync.
  const connectionResults = new Map();
  let activeIds = "";
  let wantFragments = false;
  let failures = 0;
  // Texts come from Django's JavaScript catalogue (/jsi18n/, loaded before this script), in
  // the page's language; without it they stay English. Numbers follow the page's language.
  const gettext = window.gettext || function (text) { return text; };
  const interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (match) {
      return values[match.slice(2, -2)];
    });
  };
  const language = document.documentElement.lang || "en";

  function number(value) {
    return Number(value).toLocaleString(language);
  }

  function csrfToken() {
    return root.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok && response.headers.get("Content-Type") !== "application/json") {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function field(element, name) {
    return element.querySelector('[data-field="' + name + '"]');
  }

  function orDash(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function percentText(run) {
    if (run.percent !== null) {
      return run.percent + " %";
    }
    return run.status === "queued" ? gettext("waiting for a worker") : gettext("counting pages…");
  }

  function renderRun(element, run) {
    element.dataset.runId = run.id;
    element.dataset.status = run.status;
    const account = field(element, "account");
    account.textContent = run.account_label;
    account.className = "mf-tag mf-account-tag " + run.colour_class;
    field(element, "link").href = run.url;
    field(element, "id").textContent = run.id;
    field(element, "what").textContent = run.mode + " " + run.kind.toLowerCase();
    const status = field(element, "status");
    status.textContent = run.status_label;
    status.className = "mf-tag mf-status-" + run.status;
    field(element, "stopping").hidden = !(run.cancel_requested && run.active);

    const bar = element.querySelector(".mf-progress");
    const fill = element.querySelector(".mf-progress-fill");
    if (run.percent === null) {
      bar.classList.add("mf-indeterminate");
      bar.removeAttribute("aria-valuenow");
    } else {
      bar.classList.remove("mf-indeterminate");
      bar.setAttribute("aria-valuenow", String(run.percent));
      fill.style.width = run.percent + "%";
    }
    field(element, "percent").textContent = percentText(run);
    field(element, "pages").textContent = run.pages_done + "/" + (run.pages_total ?? "?");
    field(element, "items").textContent = number(run.items_seen);
    field(element, "items_noun").textContent = run.items_noun;
    field(element, "speed").textContent = orDash(run.items_per_second);
    field(element, "eta").textContent = orDash(run.eta);
    field(element, "elapsed").textContent = orDash(run.elapsed);
    const error = field(element, "error");
    error.textContent = run.last_error;
    error.hidden = !run.last_error;

    const cancelForm = element.querySelector(".mf-cancel-form");
    cancelForm.action = run.cancel_url;
    cancelForm.hidden = !run.can_cancel;
  }

  function upsertRun(run) {
    let element = board.querySelector('.mf-run[data-run-id="' + run.id + '"]');
    if (!element) {
      element = template.content.firstElementChild.cloneNode(true);
      board.appendChild(element);
    }
    renderRun(element, run);
    tracked.add(run.id);
  }

  function swap(id, html) {
    if (typeof html === "string") {
      document.getElementById(id).innerHTML = html;
    }
  }

  function restoreConnectionResults() {
    connectionResults.forEach(function (result, account) {
      const form = root.querySelector('form.mf-test-connection[data-account="' + account + '"]');
      if (form) {
        showConnection(form, result);
      }
    });
  }

  function applyProgress(data) {
    data.runs.forEach(upsertRun);
    document.getElementById("mf-board-empty").hidden = board.children.length > 0;
    if (data.cards_html !== undefined) {
      swap("mf-cards", data.cards_html);
      swap("mf-history", data.history_html);
      swap("mf-conflicts", data.conflicts_html);
      swap("mf-health", data.health_html);
      restoreConnectionResults();
    }
    // A run started or ended: the cards and the history change, so fetch them next.
    const nowActive = data.runs
      .filter(function (run) { return run.active; })
      .map(function (run) { return run.id; })
      .sort()
      .join(",");
    const changed = nowActive !== activeIds;
    activeIds = nowActive;
    return changed;
  }

  function poll() {
    const params = new URLSearchParams();
    if (tracked.size) {
      params.set("track", Array.from(tracked).join(","));
    }
    const fragments = wantFragments;
    if (fragments) {
      params.set("fragments", "1");
    }
    fetch(progressUrl + "?" + params.toString(), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        document.getElementById("mf-poll-error").hidden = true;
        if (fragments) {
          wantFragments = false;
        }
        const changed = applyProgress(data);
        if (changed) {
          wantFragments = true;
        }
        // Fetch the changed cards and history at once rather than a poll later.
        setTimeout(poll, changed ? 0 : pollMs);
      })
      .catch(function () {
        failures += 1;
        document.getElementById("mf-poll-error").hidden = false;
        setTimeout(poll, Math.min(pollMs * (failures + 1), 15000));
      });
  }

  // --- connection tests -------------------------------------------------------------------

  function showConnection(form, result) {
    const output = form.querySelector(".mf-connection-result");
    output.classList.remove("mf-ok", "mf-fail", "mf-pending");
    output.classList.add(result.className);
    output.textContent = result.text;
    output.title = result.title || "";
  }

  function testConnection(form) {
    const button = form.querySelector("button");
    const account = form.dataset.account;
    button.disabled = true;
    showConnection(form, { className: "mf-pending", text: gettext("Testing…") });
    post(form.action)
      .then(function (data) {
        const result = data.ok
          ? {
              className: "mf-ok",
              text: interpolate(
                gettext("✔ Connected · %(latency)s ms · %(offers)s offers on eMAG"),
                { latency: number(data.latency_ms), offers: number(data.total_products) },
                true
              ),
              title: data.message,
            }
          : { className: "mf-fail", text: "✖ " + data.message, title: data.message };
        connectionResults.set(account, result);
        showConnection(form, result);
      })
      .catch(function (error) {
        showConnection(form, {
          className: "mf-fail",
          text: interpolate(gettext("✖ The test could not run: %(error)s"), { error: error.message }, true),
        });
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  // --- cancel -----------------------------------------------------------------------------

  function cancelRun(form) {
    const button = form.querySelector("button");
    button.disabled = true;
    post(form.action)
      .then(function (run) {
        upsertRun(run);
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  // Delegated: the cards are re-rendered after each sync, with fresh forms.
  root.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.classList.contains("mf-test-connection")) {
      event.preventDefault();
      testConnection(form);
    } else if (form.classList.contains("mf-cancel-form")) {
      event.preventDefault();
      cancelRun(form);
    }
  });

  // --- the Sync form shows the options of the chosen mode -------------------------------

  const syncForm = document.getElementById("mf-sync-form");
  function showModeOptions() {
    const checked = syncForm.querySelector('input[name="mode"]:checked');
    const mode = checked ? checked.value : "";
    syncForm.querySelectorAll("[data-modes]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.dataset.modes.split(" ").indexOf(mode) === -1;
    });
  }
  if (syncForm) {
    syncForm.addEventListener("change", function (event) {
      if (event.target.name === "mode") {
        showModeOptions();
      }
    });
    showModeOptions();
  }

  board.querySelectorAll(".mf-run").forEach(function (element) {
    tracked.add(Number(element.dataset.runId));
    // Widths are set here, not in the markup: the page has no style attributes (CSP).
    const percent = element.querySelector(".mf-progress").getAttribute("aria-valuenow");
    element.querySelector(".mf-progress-fill").style.width = (percent || 0) + "%";
  });
  activeIds = Array.from(tracked).sort().join(",");
  setTimeout(poll, pollMs);
})();
