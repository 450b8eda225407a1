// The dashboard's source editor: CodeMirror 6 with Python, built by ./build.sh into
// ui/assets/editor.min.js. It enhances every `textarea[data-code]`: the textarea stays
// in the form (hidden) and receives the editor's text on every change, so the form posts
// exactly what it would without JavaScript and the server's checks stay where they are.
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import {
  defaultKeymap, history, historyKeymap, indentWithTab,
} from "@codemirror/commands";
import {
  indentOnInput, indentUnit, bracketMatching, syntaxHighlighting,
} from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { classHighlighter } from "@lezer/highlight";

function enhance(textarea) {
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        // PEP 8 indentation; Tab indents the selection (Escape then Tab leaves the
        // editor, CodeMirror's documented way out for keyboard users).
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        python(),
        // Token classes (tok-keyword, ...) coloured by app.css, so both themes work.
        syntaxHighlighting(classHighlighter),
        EditorView.contentAttributes.of({
          "aria-label": textarea.getAttribute("aria-label") || "Script source",
        }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) textarea.value = u.state.doc.toString();
        }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.insertAdjacentElement("afterend", view.dom);
  // Lets a page script (or a browser test) reach the editor from its field.
  textarea.cmView = view;
  return view;
}

function start() {
  document.querySelectorAll("textarea[data-code]").forEach(enhance);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
