"""The page's look and behaviour: its stylesheet, its one script and its theme.

The script does what the server cannot: a click on a [n] marker selects that source and
highlights the quote of *that sentence* (in the side panel, or under the answer when the
panel is hidden at phone width); the elapsed time of an answer in progress ticks every
second between updates; folds the reader opened stay open while an answer streams; Copy
puts an answer, with its numbered sources, on the clipboard as Markdown.
No icon fonts or emoji: every sign is drawn with CSS, so nothing shows as an empty box.
"""

from __future__ import annotations

import gradio as gr

PHONE_MAX_PX = 768  # below this width the sources panel gives way to sources under each answer

CSS = """
#chat { height: clamp(320px, calc(100vh - 330px), 820px); overflow-y: auto !important;
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: .75em; background: var(--background-fill-primary); }
.rag-chat { display: flex; flex-direction: column; gap: 1em; }
.rag-empty { color: var(--body-text-color-subdued); }
.rag-q { align-self: flex-end; width: fit-content; max-width: 85%; margin-left: auto; padding: .45em .8em;
  border-radius: 12px; background: var(--color-accent-soft); overflow-wrap: anywhere; }
.rag-a { max-width: 100%; padding: .55em .8em; border-radius: 12px; overflow-wrap: anywhere;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.rag-status { display: flex; align-items: center; gap: .5em; font-weight: 600; }
.rag-elapsed { font-weight: 400; color: var(--body-text-color-subdued);
  font-variant-numeric: tabular-nums; }
.rag-spinner { display: inline-block; width: .9em; height: .9em; border-radius: 50%; flex: none;
  border-width: 2px; border-style: solid; border-color: #cbd5e1;
  border-top-color: var(--color-accent);
  animation: rag-spin .9s linear infinite; }
@keyframes rag-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .rag-spinner { animation: none; } }
.rag-steps { display: flex; flex-wrap: wrap; gap: .2em .9em; list-style: none; padding: 0;
  margin: .35em 0 0; font-size: .85em; color: var(--body-text-color-subdued); }
.rag-steps li::before { content: ""; display: inline-block; width: .55em; height: .55em;
  margin-right: .35em; border-radius: 50%; border: 1.5px solid currentColor; }
.rag-steps li.done::before { background: #16a34a; border-color: #16a34a; }
.rag-steps li.current { color: var(--body-text-color); font-weight: 600; }
.rag-steps li.current::before { background: var(--color-accent); border-color: var(--color-accent); }
.rag-draft { margin-top: .5em; color: var(--body-text-color-subdued); }
.rag-draft .label, .rag-kind { font-size: .8em; font-weight: 600; text-transform: uppercase;
  letter-spacing: .03em; color: var(--body-text-color-subdued); margin: 0 0 .25em; }
.rag-draft .text::after { content: ""; display: inline-block; width: .45em; height: 1em;
  margin-left: .15em; vertical-align: text-bottom; background: currentColor; opacity: .5; }
.rag-answer .s.unverified, .rag-answer .s.left_out, .rag-answer .s.cut {
  color: var(--body-text-color-subdued); }
.rag-answer .s.unverified .body { text-decoration: underline dotted #b45309; }
.rag-why { display: inline-block; font-size: .78em; font-weight: 600; margin: 0 .3em;
  padding: 0 .45em; border-radius: 9px; border: 1px solid; white-space: normal; }
.s.unverified .rag-why, .s.cut .rag-why { color: #92400e; background: #fef3c7; border-color: #f59e0b; }
.s.left_out .rag-why { color: #475569; background: #f1f5f9; border-color: #cbd5e1; }
.rag-answer blockquote { margin: .2em 0 .4em; padding: .1em .8em; border-left: 3px solid var(--color-accent); }
.rag-answer .rejected { margin-top: .5em; font-size: .92em; }
.rag-answer.abstained .lead { font-weight: 600; }
.rag-foot { display: flex; flex-wrap: wrap; gap: .3em 1em; align-items: baseline; margin-top: .45em;
  font-size: .8em; color: var(--body-text-color-subdued); }
.rag-actions { display: inline-flex; gap: .8em; margin-left: auto; }
.rag-copy, .rag-save { font: inherit; color: var(--link-text-color); background: none; border: 0;
  padding: 0; cursor: pointer; text-decoration: underline; }
.rag-error { color: #b91c1c; }
a.cite { font-weight: 600; text-decoration: none; padding: 0 .15em; border-radius: 4px;
  background: var(--color-accent-soft); color: var(--link-text-color); cursor: pointer; }
a.cite:hover, a.cite:focus-visible { text-decoration: underline; }
.rag-sources { font-size: .92em; overflow-wrap: anywhere; }
.rag-sources details { margin-bottom: .5em; }
.rag-sources summary { cursor: pointer; font-weight: 600; }
.rag-note { color: var(--body-text-color-subdued); font-size: .9em; margin: .2em 0; }
.src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5em .7em;
  margin: .5em 0; scroll-margin: 1em; background: var(--background-fill-primary); }
.src.selected { outline: 3px solid var(--color-accent); }
.src .meta { color: var(--body-text-color-subdued); font-size: .9em; }
.src .markers { color: var(--link-text-color); }
.src .passage { white-space: pre-wrap; margin: .4em 0 0; }
.src mark { background: #fef3c7; color: inherit; padding: 0 .1em; border-radius: 2px; }
.src mark.ev { background: #e0f2fe; }
.src.selected mark:not(.active) { background: transparent; text-decoration: underline dotted #ca8a04; }
.src mark.active { background: #fde047; color: #111; }
.rag-inline-sources { display: none; margin-top: .5em; }
.rag-flag { display: inline-block; font-size: .78em; padding: 0 .45em; margin-left: .3em;
  border-radius: 9px; color: #9a3412; background: #ffedd5; border: 1px solid #fb923c; }
.rag-message.error { color: #b91c1c; }
.rag-message.ok { color: var(--body-text-color); }
#filter-message:not(:has(.rag-message)), #corpus-message:not(:has(.rag-message)),
#web-message:not(:has(.rag-message)) { display: none; }
.rag-message .problem, .rag-feeds .problem { color: #b91c1c; }
.rag-articles td.title a { color: inherit; padding: 0; text-decoration: underline;
  text-decoration-color: var(--border-color-primary); text-underline-offset: .15em; }
.rag-articles td.title a:hover { color: var(--link-text-color); }
.rag-feeds .url { display: block; font-size: .85em; font-weight: 400;
  color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.rag-articles { width: 100%; border-collapse: collapse; font-family: var(--font); font-size: .95em;
  border: 0 !important; margin: 0; }
.rag-articles th, .rag-articles td { text-align: left; padding: .35em .5em; vertical-align: top;
  border: 0 !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.rag-articles th { font-weight: 600; color: var(--body-text-color-subdued); }
@media (max-width: PHONE_MAX_PX) {
  #sources-column { display: none !important; }
  .rag-inline-sources { display: block; }
  #chat { height: calc(100dvh - 260px); min-height: 300px; padding: .5em; }
  .rag-q { max-width: 92%; }
  .rag-articles thead { display: none; }
  .rag-articles, .rag-articles tbody { display: block; }
  .rag-articles tr { display: block; padding: .4em 0; border: 0 !important;
    border-bottom: 1px solid var(--border-color-primary) !important; }
  .rag-articles td { display: inline; border: 0 !important; padding: 0; }
  .rag-articles td:not(.title) + td:not(:empty)::before { content: " · "; }
  .rag-articles td.title { display: block; font-weight: 600; }
  .rag-articles td:empty { display: none; }
}
""".replace("PHONE_MAX_PX", f"{PHONE_MAX_PX}px")

# Runs once in the page's <head>. Gradio replaces the HTML of #chat and #sources on
# every update; the script keeps the reader's place across those updates.
HEAD = """<script>
(function () {
  var opened = {};            // details[data-key] the reader opened or closed
  var starts = {};            // elapsed-time key -> when it started, in this page's clock
  function visible(el) { return !!el && el.offsetParent !== null; }
  function sourcesRoot(link) {
    var panel = document.querySelector("#sources .rag-sources");
    if (visible(panel)) return panel;
    var turn = link.closest(".rag-turn");
    var inline = turn && turn.querySelector(".rag-inline-sources");
    if (inline) { inline.open = true; opened[inline.dataset.key] = true; }
    return inline;
  }
  function select(link) {
    var root = sourcesRoot(link);
    if (!root) return;
    var d = link.dataset, card;
    if (d.marker) card = root.querySelector('.src[data-turn="' + d.turn + '"][data-markers~="' + d.marker + '"]');
    else card = root.querySelector('.src[data-turn="' + d.turn + '"][data-evs~="' + d.ev + '"]');
    if (!card) return;
    document.querySelectorAll(".src.selected").forEach(function (el) { el.classList.remove("selected"); });
    document.querySelectorAll("mark.active").forEach(function (el) { el.classList.remove("active"); });
    for (var up = card.parentElement; up; up = up.parentElement) if (up.tagName === "DETAILS") up.open = true;
    card.classList.add("selected");
    var marks = d.quote ? card.querySelectorAll('mark[data-quote="' + d.quote + '"]')
                        : card.querySelectorAll('mark[data-ev="' + d.ev + '"]');
    marks.forEach(function (m) { m.classList.add("active"); });
    (marks[0] || card).scrollIntoView({behavior: "smooth", block: "center"});
    card.focus({preventScroll: true});
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cite");
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    select(link);
  }, true);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.rag-copy");
    if (!button) return;
    navigator.clipboard.writeText(button.dataset.md).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    }, function () { button.textContent = "Select and copy the text instead"; });
  });
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (el.tagName === "DETAILS" && el.dataset.key) opened[el.dataset.key] = el.open;
  }, true);
  function restore() {
    document.querySelectorAll("details[data-key]").forEach(function (el) {
      if (el.dataset.key in opened && el.open !== opened[el.dataset.key]) el.open = opened[el.dataset.key];
    });
  }
  function tick() {
    var now = performance.now();
    document.querySelectorAll(".rag-elapsed[data-key]").forEach(function (el) {
      var key = el.dataset.key;
      if (!(key in starts)) starts[key] = now - Number(el.dataset.ms || 0);
      var text = Math.floor((now - starts[key]) / 1000) + " s";
      if (el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(tick, 1000);
  new MutationObserver(function () { restore(); tick(); }).observe(document.documentElement,
    {childList: true, subtree: true});
})();
</script>"""

THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])
