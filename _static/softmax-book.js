// Local fix for the sidebar buttons of sphinx-book-theme 1.3.0 on pydata-sphinx-theme 0.17.1,
// loaded by tools/launch.py. The page has two .primary-toggle (and two .secondary-toggle)
// buttons. Both themes wire only the first one they find, which is hidden; the visible one,
// in the article header, does nothing (pydata/pydata-sphinx-theme#2451). A click on any other
// toggle is handed to the wired one, so the themes' own behaviour applies: on a wide screen the
// book theme collapses or restores the primary sidebar, on a narrow one the pydata theme opens
// the sidebar in its dialog. The listener sits on the document, so it holds however the themes
// rearrange the header. Remove this file when the theme pair is fixed upstream.
document.addEventListener(
  "click",
  (event) => {
    const button = event.target.closest(".primary-toggle, .secondary-toggle");
    if (!button) return;
    const kind = button.classList.contains("primary-toggle") ? "primary" : "secondary";
    const wired = document.querySelector(`.${kind}-toggle`);
    if (!wired || wired === button) return;
    event.preventDefault();
    event.stopPropagation();
    wired.click();
  },
  true,
);
document.documentElement.dataset.sidebarToggles = "wired";
