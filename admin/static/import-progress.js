// Polls an import's progress route and moves the bar until the import is done or failed.
(function () {
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
      }
    } catch (error) {
      // a dropped request: try again
    }
    setTimeout(poll, 400);
  };
  poll();
})();
