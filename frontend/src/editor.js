// The Tools page's schema editor: CodeMirror 6 mounted by Streamlit's components v2 (no iframe).
//
// Python owns the text (the tool draft) and the checks; this module owns typing. Data in:
// {text, fmt, revision, problems: [{from, to, severity, message, where}]}. State out:
// `text` (debounced while typing, at once on Ctrl+Enter); trigger out: `action` ({kind: "save"
// | "check", text}). The editor adopts `data.text` only when `revision` moves on (Python
// rewrote the text: Make strict, a format switch, a form edit, Revert), so a rerun that
// answers an older keystroke never overwrites what the user typed since.

import { basicSetup } from "codemirror";
import { Compartment, EditorState, Prec, Annotation } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { schemaCompletions } from "./completions.js";

const DEBOUNCE_MS = 350;
const fromPython = Annotation.define();
const instances = new WeakMap();

const theme = EditorView.theme({
  "&": {
    fontSize: "var(--st-code-font-size, 14px)",
    border: "1px solid var(--st-border-color, #d5dae5)",
    borderRadius: "var(--st-base-radius, 0.5rem)",
    backgroundColor: "var(--st-background-color, #fff)",
    color: "var(--st-text-color, #31333f)",
    maxHeight: "min(70vh, 720px)", // grows with the text, then scrolls
  },
  ".cm-scroller": { overflow: "auto" },
  ".cm-content, .cm-gutter": { minHeight: "12rem" },
  "&.cm-focused": { outline: "2px solid var(--st-primary-color, #2f6fed)", outlineOffset: "-1px" },
  ".cm-scroller": { fontFamily: "var(--st-code-font, 'Source Code Pro', monospace)" },
  ".cm-gutters": {
    backgroundColor: "var(--st-secondary-background-color, #f0f2f6)",
    borderRight: "1px solid var(--st-border-color, #d5dae5)",
  },
});

const css = `
.ts-problems { margin: 0.5rem 0 0; padding: 0; list-style: none;
  font-family: var(--st-font, sans-serif); font-size: 0.875rem; }
.ts-problems li { padding: 0.25rem 0.5rem; border-radius: 0.25rem; cursor: pointer;
  display: flex; gap: 0.5rem; align-items: baseline; }
.ts-problems li:hover, .ts-problems li:focus { background: var(--st-secondary-background-color, #f0f2f6);
  outline: none; }
.ts-problems .where { font-family: var(--st-code-font, monospace); white-space: nowrap;
  color: var(--st-text-color, #31333f); opacity: 0.75; }
.ts-problems .error .sev { color: var(--st-red-color, #d33); }
.ts-problems .warning .sev { color: var(--st-orange-color, #e8800c); }
.ts-status { font-family: var(--st-font, sans-serif); font-size: 0.8rem; opacity: 0.7;
  margin-top: 0.25rem; }
`;

function language(fmt) {
  return fmt === "json" ? json() : yaml();
}

function diagnostics(problems, length) {
  return (problems || []).map((p) => ({
    from: Math.max(0, Math.min(p.from, length)),
    to: Math.max(0, Math.min(Math.max(p.to, p.from), length)),
    severity: p.severity === "warning" ? "warning" : "error",
    message: p.message,
    source: p.where,
  }));
}

function create(component) {
  const { parentElement } = component;
  const root = parentElement instanceof ShadowRoot ? parentElement : undefined;
  const host = document.createElement("div");
  host.className = "ts-editor";
  const style = document.createElement("style");
  style.textContent = css;
  const list = document.createElement("ul");
  list.className = "ts-problems";
  list.setAttribute("aria-label", "Problems");
  const status = document.createElement("div");
  status.className = "ts-status";
  parentElement.appendChild(style);
  parentElement.appendChild(host);
  parentElement.appendChild(list);
  parentElement.appendChild(status);

  const inst = { api: component, revision: null, fmt: null, sent: null, timer: null, problems: [], data: null };
  const complete = (ctx) => schemaCompletions(ctx, inst.fmt);
  const lang = new Compartment();

  const send = () => {
    clearTimeout(inst.timer);
    inst.timer = null;
    const text = inst.view.state.doc.toString();
    if (text === inst.sent) return false;
    inst.sent = text;
    inst.api.setStateValue("text", text);
    return true;
  };
  const act = (kind) => () => {
    send();
    inst.api.setTriggerValue("action", { kind, text: inst.view.state.doc.toString() });
    return true;
  };

  inst.extensions = [
    Prec.highest(keymap.of([
      { key: "Mod-s", run: act("save"), preventDefault: true },
      { key: "Mod-Enter", run: act("check"), preventDefault: true },
    ])),
    basicSetup,
    keymap.of([indentWithTab]), // Tab indents, as in other code editors (Esc, Tab leaves)
    lintGutter(),
    lang.of(yaml()),
    theme,
    // One source function for the editor's life: the completion state tells its sources
    // apart by identity, and a new function per lookup would restart every query.
    EditorState.languageData.of(() => [{ autocomplete: complete }]),
    EditorView.contentAttributes.of({ "aria-label": "Tool definition", "data-testid": "tool-editor" }),
    EditorView.updateListener.of((update) => {
      if (!update.docChanged || update.transactions.some((t) => t.annotation(fromPython))) return;
      status.textContent = "Checking when you pause…";
      clearTimeout(inst.timer);
      inst.timer = setTimeout(send, DEBOUNCE_MS);
    }),
  ];
  inst.view = new EditorView({ root, parent: host, state: EditorState.create({ doc: "", extensions: inst.extensions }) });
  inst.view.contentDOM.addEventListener("blur", () => { if (inst.timer) send(); });
  inst.list = list;
  inst.status = status;
  inst.lang = lang;
  return inst;
}

function renderList(inst, problems) {
  const { view, list } = inst;
  list.replaceChildren();
  for (const p of problems) {
    const item = document.createElement("li");
    item.className = p.severity === "warning" ? "warning" : "error";
    item.tabIndex = 0;
    item.dataset.from = String(p.from);
    const sev = document.createElement("span");
    sev.className = "sev";
    sev.textContent = p.severity === "warning" ? "⚠" : "✖";
    const where = document.createElement("span");
    where.className = "where";
    where.textContent = p.where;
    const message = document.createElement("span");
    message.className = "message";
    message.textContent = p.message;
    item.append(sev, where, message);
    const jump = () => {
      const length = view.state.doc.length;
      const from = Math.min(p.from, length);
      view.dispatch({ selection: { anchor: from, head: Math.min(Math.max(p.to, from), length) },
        scrollIntoView: true });
      view.focus();
    };
    item.addEventListener("click", jump);
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") jump(); });
    list.appendChild(item);
  }
}

function update(inst, data) {
  const { view } = inst;
  inst.data = data;
  if (data.fmt !== inst.fmt) {
    const switched = inst.fmt !== null;
    inst.fmt = data.fmt;
    view.dispatch({ effects: inst.lang.reconfigure(language(data.fmt)) });
    if (switched && data.revision !== inst.revision) {
      // A YAML <-> JSON switch starts a fresh undo history: undoing into the other format's
      // text would leave JSON under the YAML switch (and the reverse).
      view.setState(EditorState.create({ doc: data.text, extensions: inst.extensions,
        selection: { anchor: Math.min(view.state.selection.main.head, data.text.length) } }));
      view.dispatch({ effects: inst.lang.reconfigure(language(data.fmt)) });
    }
  }
  if (data.revision !== inst.revision) {
    inst.revision = data.revision;
    const current = view.state.doc.toString();
    if (current !== data.text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: data.text },
        annotations: fromPython.of(true) });
    }
    inst.sent = data.text;
  }
  // Marks are placed only on the text they were computed for; while the user is ahead of the
  // last check, CodeMirror keeps the previous marks mapped through the edits.
  if (view.state.doc.toString() === data.text) {
    const marks = diagnostics(data.problems, view.state.doc.length);
    view.dispatch(setDiagnostics(view.state, marks));
    renderList(inst, data.problems || []);
    const errors = marks.filter((m) => m.severity === "error").length;
    const warnings = marks.length - errors;
    inst.status.textContent = marks.length
      ? `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`
        + " — hover a mark or pick a problem to jump to it. Ctrl+S saves, Ctrl+Enter checks."
      : "No problems. Ctrl+S saves, Ctrl+Enter checks.";
    if (inst.status.textContent) inst.status.dataset.checked = "true";
  }
}

export default function (component) {
  const { parentElement, data } = component;
  let inst = instances.get(parentElement);
  if (!inst) {
    inst = create(component);
    instances.set(parentElement, inst);
  }
  inst.api = component;
  update(inst, data || { text: "", fmt: "yaml", revision: 0, problems: [] });
  // Streamlit calls this function again for every new `data` and may run the cleanup of a
  // superseded call while the editor is still on the page: only a detached editor is destroyed.
  return () => {
    if (parentElement.isConnected) return;
    if (inst.timer) inst.api.setStateValue("text", inst.view.state.doc.toString());
    clearTimeout(inst.timer);
    inst.view.destroy();
    instances.delete(parentElement);
  };
}
