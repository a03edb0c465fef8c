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

// Accessibility: a box that scrolls sideways must be reachable with the keyboard (WCAG 2.1.1;
// axe scrollable-region-focusable). pydata-sphinx-theme 0.17.1 gives code blocks, outputs and
// its table wrappers tabindex 0 when they overflow, but not the tables that softmax-book.css
// makes scroll on a phone (table.table). The same rule for them: focusable while they
// overflow, not otherwise; checked on load, when MathJax has typeset, and on every resize.
// (Wide display equations are focusable already: MathJax gives each a tabindex, for its menu.)
(() => {
  const scrollers = "article.bd-article table.table";
  const update = () => {
    document.querySelectorAll(scrollers).forEach((box) => {
      if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
      else box.removeAttribute("tabindex");
    });
  };
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 100);
  };
  window.addEventListener("load", () => {
    update();
    window.MathJax?.startup?.promise?.then(update);
  });
  window.addEventListener("resize", soon);
})();
