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

// Phone fixes of issue 31, each on its own; remove one when the theme does the same.
(() => {
  // 1. An inline formula wider than its line scrolls in its own box (softmax-book.css,
  // span.math.math-wide). Whether it is wider depends on the screen, so the spans are
  // watched: a span changes size when MathJax fills it and when the window is resized.
  const wide = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const span = entry.target.closest("span.math");
      const formula = span && span.querySelector("mjx-container");
      if (!formula) continue;
      const over = formula.getBoundingClientRect().width - span.getBoundingClientRect().width;
      span.classList.toggle("math-wide", over > 1);
      // A box that scrolls must be reachable from the keyboard (test_accessibility.py).
      if (over > 1) span.tabIndex = 0;
      else span.removeAttribute("tabindex");
    }
  });
  const watch = (formula) => {
    const span = formula.closest("span.math");
    if (!span) return; // display math scrolls already (softmax-book.css)
    wide.observe(formula);
    wide.observe(span);
  };
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName === "MJX-CONTAINER") watch(node);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.querySelectorAll("span.math mjx-container").forEach(watch);

  // 2. A link tapped in the navigation or "On this page" drawer (pydata-sphinx-theme's
  // sidebar dialogs) left the drawer open over the section it scrolled to. Close the drawer
  // first, then follow the link: on closing, the theme gives focus back to the toggle button,
  // which scrolls the page (and would show the button's tooltip), so the link is followed
  // after that, with the focus taken off the button.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    const drawer = link && link.closest("dialog[open]");
    if (!drawer || !drawer.id.endsWith("-sidebar-modal")) return;
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // new tab
    event.preventDefault();
    drawer.addEventListener(
      "close",
      () => {
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
        window.location.assign(link.href);
      },
      { once: true },
    );
    drawer.close();
  });

  // 3. Bootstrap shows a toolbar button's tooltip on hover or focus. A tap is both, and
  // there is no "leave" after it: the tooltip stayed up over the toolbar. After a touch,
  // tooltips are not shown (the buttons keep their labels for screen readers); a key or a
  // mouse brings them back.
  let touched = false;
  document.addEventListener(
    "pointerdown",
    (event) => {
      touched = event.pointerType !== "mouse";
      if (!touched || !window.bootstrap) return;
      document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((button) => {
        bootstrap.Tooltip.getInstance(button)?.hide();
      });
    },
    true,
  );
  document.addEventListener("keydown", () => (touched = false), true);
  document.addEventListener("show.bs.tooltip", (event) => touched && event.preventDefault(), true);

  // 4. A table cell holding one number keeps it on one line: Chromium breaks 9.5e-02 after
  // its hyphen when the column is narrow. The table scrolls in its own box instead.
  const number = /^[+\-\u2212]?[\d.,]+(?:[eE][+\-\u2212]?\d+)?%?$/;
  const numberCells = () => {
    document.querySelectorAll("article td, article th").forEach((cell) => {
      if (number.test(cell.textContent.trim())) cell.classList.add("number-cell");
    });
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", numberCells);
  } else {
    numberCells();
  }
})();

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
