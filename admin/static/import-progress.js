// Polls an import's progress route and moves the bar until the import is done or failed; stops, with a
// message, when the route says the import is gone (404) or not this session's to see (401, 403).
(function () {
  const GONE = {
    401: "You are signed out: sign in again and look at the patient list to see what was imported.",
    403: "You may not follow this import: look at the patient list to see what was imported.",
    404: "This import is no longer known here (the server may have restarted): look at the patient list to see what was imported.",
  };
  const box = document.getElementById("import-job");
  if (!box) return;
  const bar = document.getElementById("import-bar");
  const show = (job) => {
    bar.max = Math.max(job.total, 1);
    bar.value = job.done;
    document.getElementById("import-done").textContent = job.done;
    document.getElementById("import-state").textContent = job.state;
    document.getElementById("import-message").textContent = job.message || "";
    document.getElementById("import-invites").hidden = job.state !== "done";
  };
  const poll = async () => {
    try {
      const answer = await fetch(box.dataset.progress, { credentials: "same-origin" });
      if (answer.ok) {
        const job = await answer.json();
        show(job);
        if (job.state !== "running") return;
      } else if (GONE[answer.status]) {
        // asking again cannot help: the import is forgotten (404) or this session may not see it
        document.getElementById("import-state").textContent = "unknown";
        document.getElementById("import-message").textContent = GONE[answer.status];
        return;
      }
    } catch (error) {
      // a dropped request: try again
    }
    setTimeout(poll, 400);
  };
  poll();
})();
