/* GraphQL explorer served by the gateway itself.
 *
 * A plain deferred script (no modules, no build step, no third-party code) so the page works on
 * machines without internet access. The page runs under a Content-Security-Policy without
 * 'unsafe-inline': no inline handlers, no style attributes, and every node is built with
 * createElement/textContent, so nothing from the server or the user is ever parsed as HTML.
 */
(function () {
  "use strict";

  const ENDPOINT = document.body.dataset.endpoint || "/graphql";
  // One set of saved editors per endpoint, so two gateways on one origin don't overwrite each other.
  const STORE_PREFIX = "gateway-explorer:" + ENDPOINT + ":";
  const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");
  const MOD_KEY = IS_MAC ? "\u2318" : "Ctrl";
  const MAX_HIGHLIGHT_CHARS = 300000; // past this, colouring every token costs more than it helps
  const MAX_SEARCH_RESULTS = 200;
  const INDENT = "  ";

  const DEFAULT_QUERY = [
    "# Welcome to the gateway explorer.",
    "#",
    "# " + MOD_KEY + "+Enter (or Run) sends the query to " + ENDPOINT + ".",
    "# Docs, on the right: click a type to open it,",
    "#   or a field name to insert it here.",
    "# Variables and headers are JSON, in the tabs below,",
    "#   e.g. { \"Authorization\": \"Bearer ...\" }.",
    "",
    "query {",
    "  __typename",
    "}",
    "",
  ].join("\n");

  const INTROSPECTION_QUERY = `query ExplorerIntrospection {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
`;

  // ---- small helpers ---------------------------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  /** createElement with properties and children; strings become text nodes, never HTML. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key === "dataset") Object.assign(el.dataset, value);
        else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const store = {
    get(key, fallback) {
      try {
        const value = localStorage.getItem(STORE_PREFIX + key);
        return value === null ? fallback : value;
      } catch (_) {
        return fallback; // storage blocked (privacy settings): the page still works, it just forgets
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(STORE_PREFIX + key, value);
      } catch (_) {
        /* full or blocked: not worth interrupting the user for */
      }
    },
  };

  function debounce(fn, ms) {
    let timer = 0;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  function formatBytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " kB";
    return (n / 1024 / 1024).toFixed(2) + " MB";
  }

  const STATUS_TEXT = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
  };

  // ---- elements --------------------------------------------------------------------------------

  const queryEditor = $("query");
  const variablesEditor = $("variables");
  const headersEditor = $("headers");
  const runButton = $("run");
  const operationPicker = $("operation-picker");
  const operationSelect = $("operation");
  const resultView = $("result");
  const metaView = $("meta");
  const jsonStatus = $("json-status");
  const docsBody = $("docs-body");
  const docsTitle = $("docs-title");
  const docsBack = $("docs-back");
  const docsSearch = $("docs-search");
  const tabs = {
    variables: { tab: $("tab-variables"), panel: $("variables-panel"), editor: variablesEditor },
    headers: { tab: $("tab-headers"), panel: $("headers-panel"), editor: headersEditor },
  };
  let activeTab = "variables";

  $("endpoint-label").textContent = "POST " + ENDPOINT;
  $("keys-hint").textContent = MOD_KEY + "+Enter runs \u00b7 Tab indents \u00b7 Esc then Tab leaves the editor";
  $("keys-hint").title = $("keys-hint").textContent; // the hint is cut short on narrow panes
  runButton.title = "Run the query (" + MOD_KEY + "+Enter)";

  // ---- editing: Tab indentation, auto-indent, run shortcut ------------------------------------

  /** Replaces [start, end) with text, through the browser's editing command where it can so the
   * change lands in the textarea's own undo history (setRangeText would wipe Ctrl+Z). */
  function replaceRange(editor, start, end, text) {
    editor.focus();
    editor.setSelectionRange(start, end);
    let done = false;
    // execCommand edits whatever has focus: a hidden editor cannot take it, so it must not be used then.
    if (document.activeElement === editor) {
      try {
        done = text === "" ? document.execCommand("delete") : document.execCommand("insertText", false, text);
      } catch (_) {
        done = false;
      }
    }
    if (!done) {
      editor.setRangeText(text, start, end, "end");
      editor.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function lineStartOf(value, index) {
    return value.lastIndexOf("\n", index - 1) + 1;
  }

  function indentSelection(editor, outdent) {
    const { value, selectionStart, selectionEnd } = editor;
    const multiLine = value.slice(selectionStart, selectionEnd).includes("\n");
    // Like most code editors: Tab with a selection indents its lines instead of replacing it.
    if (!outdent && selectionStart === selectionEnd) {
      replaceRange(editor, selectionStart, selectionEnd, INDENT);
      return;
    }
    const blockStart = lineStartOf(value, selectionStart);
    // A selection ending right at a line start does not include that line.
    const lastChar = selectionEnd > selectionStart && value[selectionEnd - 1] === "\n" ? selectionEnd - 1 : selectionEnd;
    let blockEnd = value.indexOf("\n", lastChar);
    if (blockEnd === -1) blockEnd = value.length;
    const lines = value.slice(blockStart, blockEnd).split("\n");
    let firstDelta = 0;
    let totalDelta = 0;
    const changed = lines.map((line, i) => {
      let next;
      if (outdent) {
        const strip = line.startsWith(INDENT) ? INDENT.length : line.startsWith(" ") || line.startsWith("\t") ? 1 : 0;
        next = line.slice(strip);
      } else {
        next = line.length ? INDENT + line : line;
      }
      const delta = next.length - line.length;
      if (i === 0) firstDelta = delta;
      totalDelta += delta;
      return next;
    });
    const text = changed.join("\n");
    if (text === value.slice(blockStart, blockEnd)) return;
    replaceRange(editor, blockStart, blockEnd, text);
    const newStart = Math.max(blockStart, selectionStart + firstDelta);
    const newEnd = multiLine ? selectionEnd + totalDelta : Math.max(blockStart, selectionEnd + firstDelta);
    editor.setSelectionRange(newStart, Math.max(newStart, newEnd));
    editor.focus();
  }

  const OPENERS = { "{": "}", "[": "]", "(": ")" };

  function newlineWithIndent(editor) {
    const { value, selectionStart, selectionEnd } = editor;
    const lineStart = lineStartOf(value, selectionStart);
    const indent = /^[ \t]*/.exec(value.slice(lineStart, selectionStart))[0];
    const before = value[selectionStart - 1];
    const after = value[selectionEnd];
    if (before in OPENERS) {
      if (after === OPENERS[before]) {
        // `{|}` becomes three lines with the caret on the indented middle one.
        replaceRange(editor, selectionStart, selectionEnd, "\n" + indent + INDENT + "\n" + indent);
        const caret = selectionStart + 1 + indent.length + INDENT.length;
        editor.setSelectionRange(caret, caret);
        return;
      }
      replaceRange(editor, selectionStart, selectionEnd, "\n" + indent + INDENT);
      return;
    }
    replaceRange(editor, selectionStart, selectionEnd, "\n" + indent);
  }

  function attachEditing(editor) {
    let escaped = false; // after Esc, Tab moves focus again: keyboard users must be able to leave
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Shift" || event.key === "Control" || event.key === "Alt" || event.key === "Meta") return;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run({ fromCursor: editor === queryEditor });
        return;
      }
      if (event.key === "Escape") {
        escaped = true;
        return;
      }
      if (event.key === "Tab" && !escaped && !event.ctrlKey && !event.altKey && !event.metaKey) {
        event.preventDefault();
        indentSelection(editor, event.shiftKey);
        return;
      }
      if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
        event.preventDefault();
        newlineWithIndent(editor);
      }
      escaped = false;
    });
    editor.addEventListener("blur", () => {
      escaped = false;
    });
  }

  [queryEditor, variablesEditor, headersEditor].forEach(attachEditing);

  // ---- reading the document: operations and indentation ---------------------------------------

  /** Blanks comments and strings (keeping every offset and newline) so that words and braces
   * inside them are not mistaken for syntax. */
  function blankIgnored(source) {
    return source.replace(/"""[\s\S]*?(?:"""|$)|"(?:\\.|[^"\\\n])*"?|#[^\n]*/g, (m) => m.replace(/[^\n]/g, " "));
  }

  /** Top-level definitions (operations and fragments), in order, with where each starts. */
  function scanDefinitions(source) {
    const text = blankIgnored(source);
    const found = [];
    // `$query` is a variable, not a keyword; brackets and parentheses both hide nested words.
    const pattern = /[{}()]|(?<![$\w])(query|mutation|subscription|fragment)\b(?:\s+([_A-Za-z][_0-9A-Za-z]*))?/g;
    let depth = 0;
    let open = false; // a keyword was seen whose selection set has not started yet
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const token = match[0];
      if (token === "{" || token === "(") {
        if (token === "{" && depth === 0) {
          if (!open) found.push({ type: "query", name: null, start: match.index }); // shorthand `{ ... }`
          open = false;
        }
        depth += 1;
      } else if (token === "}" || token === ")") {
        depth = Math.max(0, depth - 1);
      } else if (depth === 0) {
        found.push({ type: match[1], name: match[2] || null, start: match.index });
        open = true;
      }
    }
    return found;
  }

  /** The operations of the document (fragments left out). */
  function scanOperations(source) {
    return scanDefinitions(source).filter((def) => def.type !== "fragment");
  }

  /** The definition the caret is in (the last one that starts before it); may be a fragment. */
  function definitionAt(source, offset) {
    const defs = scanDefinitions(source).filter((def) => def.start <= offset);
    return defs.length ? defs[defs.length - 1] : null;
  }

  /** Re-indents a GraphQL document by its brackets; tokens themselves are left alone. */
  function reindent(source) {
    const lines = source.split("\n");
    const blanked = blankIgnored(source).split("\n");
    const out = [];
    let depth = 0;
    let inBlockString = false;
    lines.forEach((raw, i) => {
      const quotes = (raw.match(/"""/g) || []).length;
      if (inBlockString) {
        out.push(raw); // the inside of a block string is content, not layout
        if (quotes % 2 === 1) inBlockString = false;
        return;
      }
      const code = blanked[i].trim();
      const closers = (/^[\s})\]]*/.exec(code)[0].match(/[})\]]/g) || []).length;
      const text = raw.trim();
      out.push(text ? INDENT.repeat(Math.max(0, depth - closers)) + text : "");
      for (const ch of code) {
        if (ch === "{" || ch === "(" || ch === "[") depth += 1;
        else if (ch === "}" || ch === ")" || ch === "]") depth = Math.max(0, depth - 1);
      }
      if (quotes % 2 === 1) inBlockString = true;
    });
    return out.join("\n");
  }

  // ---- operation picker ------------------------------------------------------------------------

  let chosenOperation = store.get("operation", "");

  function refreshOperations() {
    const names = [];
    for (const op of scanOperations(queryEditor.value)) {
      if (op.name && !names.includes(op.name)) names.push(op.name);
    }
    const current = Array.from(operationSelect.options, (o) => o.value);
    if (current.join("\n") !== names.join("\n")) {
      operationSelect.replaceChildren(...names.map((name) => h("option", { value: name, text: name })));
    }
    if (names.length) operationSelect.value = names.includes(chosenOperation) ? chosenOperation : names[0];
    operationPicker.hidden = names.length < 2;
  }

  /** The operationName to send: only needed (and only sent) when the document has several. */
  function selectedOperation(fromCursor) {
    const ops = scanOperations(queryEditor.value);
    if (ops.length < 2) return null;
    if (fromCursor) {
      const here = definitionAt(queryEditor.value, queryEditor.selectionStart);
      if (here && here.name && here.type !== "fragment") {
        chosenOperation = here.name;
        store.set("operation", chosenOperation);
        refreshOperations();
        return here.name;
      }
    }
    return operationSelect.value || null;
  }

  operationSelect.addEventListener("change", () => {
    chosenOperation = operationSelect.value;
    store.set("operation", chosenOperation);
  });

  // ---- JSON editors ----------------------------------------------------------------------------

  /** Parses an editor that must hold a JSON object; empty means {}. */
  function readObject(editor, what) {
    const text = editor.value.trim();
    if (!text) return { value: {} };
    let value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { error: what + " are not valid JSON: " + error.message };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { error: what + " must be a JSON object, like { \"name\": \"value\" }." };
    }
    return { value };
  }

  function readHeaders() {
    const parsed = readObject(headersEditor, "Headers");
    if (parsed.error) return parsed;
    const headers = {};
    for (const [name, value] of Object.entries(parsed.value)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return { error: "\"" + name + "\" is not a valid header name." };
      if (value === null || value === undefined) continue;
      if (typeof value === "object") return { error: "Header \"" + name + "\" must be a string, not " + JSON.stringify(value) + "." };
      headers[name] = String(value);
    }
    return { value: headers };
  }

  function updateJsonStatus() {
    const editor = tabs[activeTab].editor;
    const parsed = activeTab === "headers" ? readHeaders() : readObject(editor, "Variables");
    jsonStatus.classList.toggle("bad", Boolean(parsed.error));
    jsonStatus.textContent = editor.value.trim() === "" ? "" : parsed.error ? "\u2717 " + parsed.error : "\u2713 valid JSON";
    jsonStatus.title = parsed.error || "";
  }

  function selectTab(name) {
    activeTab = name;
    for (const [key, { tab, panel }] of Object.entries(tabs)) {
      const on = key === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    }
    store.set("tab", name);
    updateJsonStatus();
  }

  for (const [name, { tab }] of Object.entries(tabs)) {
    tab.addEventListener("click", () => selectTab(name));
    tab.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        const other = name === "variables" ? "headers" : "variables";
        selectTab(other);
        tabs[other].tab.focus();
      }
    });
  }

  // ---- persistence -----------------------------------------------------------------------------

  queryEditor.value = store.get("query", DEFAULT_QUERY);
  variablesEditor.value = store.get("variables", "");
  headersEditor.value = store.get("headers", "");

  const saveQuery = debounce(() => store.set("query", queryEditor.value), 250);
  const saveVariables = debounce(() => store.set("variables", variablesEditor.value), 250);
  const saveHeaders = debounce(() => store.set("headers", headersEditor.value), 250);
  const refreshOperationsSoon = debounce(refreshOperations, 150);
  const updateJsonStatusSoon = debounce(updateJsonStatus, 150);

  queryEditor.addEventListener("input", () => {
    saveQuery();
    refreshOperationsSoon();
  });
  variablesEditor.addEventListener("input", () => {
    saveVariables();
    updateJsonStatusSoon();
  });
  headersEditor.addEventListener("input", () => {
    saveHeaders();
    updateJsonStatusSoon();
  });
  // Debounced saves must not be lost when the tab closes.
  window.addEventListener("pagehide", () => {
    store.set("query", queryEditor.value);
    store.set("variables", variablesEditor.value);
    store.set("headers", headersEditor.value);
  });

  // ---- sending requests ------------------------------------------------------------------------

  async function postGraphQL(payload, extraHeaders, signal) {
    const headers = new Headers({
      "content-type": "application/json",
      // Prefer the GraphQL-over-HTTP media type: the status code then tells validation errors apart.
      accept: "application/graphql-response+json, application/json;q=0.9",
    });
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value); // may throw on a bad name
    const started = performance.now();
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify(payload),
      signal,
      credentials: "same-origin",
      cache: "no-store",
    });
    const text = await response.text();
    const elapsed = performance.now() - started;
    let json;
    try {
      json = JSON.parse(text);
    } catch (_) {
      json = undefined;
    }
    return { response, text, json, elapsed };
  }

  /** Builds the request from the editors, or says what is wrong with them. */
  function buildRequest(fromCursor) {
    const variables = readObject(variablesEditor, "Variables");
    if (variables.error) return { error: variables.error, tab: "variables" };
    const headers = readHeaders();
    if (headers.error) return { error: headers.error, tab: "headers" };
    const payload = { query: queryEditor.value };
    const operationName = selectedOperation(fromCursor);
    if (operationName) payload.operationName = operationName;
    if (Object.keys(variables.value).length) payload.variables = variables.value;
    return { payload, headers: headers.value };
  }

  let inflight = null;

  function setRunning(running) {
    runButton.textContent = running ? "Cancel" : "Run";
    runButton.classList.toggle("running", running);
    resultView.setAttribute("aria-busy", String(running));
  }

  async function run(options) {
    if (inflight) {
      inflight.abort(); // the Run button doubles as Cancel while a request is out
      return;
    }
    const request = buildRequest(Boolean(options && options.fromCursor));
    if (request.error) {
      selectTab(request.tab);
      showMessage(request.error, "bad");
      return;
    }
    const controller = new AbortController();
    inflight = controller;
    setRunning(true);
    metaView.replaceChildren(h("span", { class: "chip", text: "Running\u2026" }));
    try {
      const result = await postGraphQL(request.payload, request.headers, controller.signal);
      showResult(result);
    } catch (error) {
      if (error && error.name === "AbortError") showMessage("Request cancelled.", "muted");
      else showMessage("The request could not be sent to " + ENDPOINT + ": " + (error && error.message ? error.message : error), "bad");
    } finally {
      inflight = null;
      setRunning(false);
    }
  }

  runButton.addEventListener("click", () => run({ fromCursor: false }));

  // ---- showing results -------------------------------------------------------------------------

  const JSON_TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(?:true|false)\b|\bnull\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

  /** Pretty JSON as text nodes wrapped in classed spans (no HTML parsing involved). */
  function highlightJson(text) {
    const fragment = document.createDocumentFragment();
    if (text.length > MAX_HIGHLIGHT_CHARS) {
      fragment.append(text);
      return fragment;
    }
    let last = 0;
    let match;
    JSON_TOKEN.lastIndex = 0;
    while ((match = JSON_TOKEN.exec(text)) !== null) {
      if (match.index > last) fragment.append(text.slice(last, match.index));
      const token = match[0];
      if (match[1] !== undefined) {
        if (match[2] !== undefined) fragment.append(h("span", { class: "j-key", text: match[1] }), match[2]);
        else fragment.append(h("span", { class: "j-string", text: token }));
      } else if (token === "true" || token === "false") {
        fragment.append(h("span", { class: "j-boolean", text: token }));
      } else if (token === "null") {
        fragment.append(h("span", { class: "j-null", text: token }));
      } else {
        fragment.append(h("span", { class: "j-number", text: token }));
      }
      last = JSON_TOKEN.lastIndex;
    }
    if (last < text.length) fragment.append(text.slice(last));
    return fragment;
  }

  function showMessage(text, kind) {
    metaView.replaceChildren();
    resultView.className = "result message " + (kind || "");
    resultView.textContent = text;
  }

  function showResult({ response, text, json, elapsed }) {
    const status = response.status;
    const statusText = response.statusText || STATUS_TEXT[status] || "";
    const requestId = response.headers.get("x-request-id");
    const chips = [
      h("span", { class: "chip " + (response.ok ? "ok" : "bad"), title: "HTTP status" }, "HTTP " + status + (statusText ? " " + statusText : "")),
      h("span", { class: "chip", title: "Time until the whole response was read" }, Math.round(elapsed) + " ms"),
      h("span", { class: "chip", title: "Response body size" }, formatBytes(new Blob([text]).size)),
    ];
    if (json && Array.isArray(json.errors) && json.errors.length) {
      const codes = [...new Set(json.errors.map((e) => e && e.extensions && e.extensions.code).filter(Boolean))];
      chips.push(h("span", { class: "chip bad", title: codes.join(", ") }, json.errors.length + (json.errors.length === 1 ? " error" : " errors") + (codes.length ? ": " + codes.join(", ") : "")));
    }
    if (requestId) {
      // user-select: all (CSS) makes one click select the whole id for copying into a log search.
      chips.push(h("span", { class: "chip request-id", title: "x-request-id: find this request in the gateway's logs" }, "x-request-id: ", h("code", { text: requestId })));
    }
    metaView.replaceChildren(...chips);
    resultView.className = "result";
    if (json !== undefined) {
      resultView.replaceChildren(highlightJson(JSON.stringify(json, null, 2)));
    } else {
      const contentType = response.headers.get("content-type") || "no content type";
      resultView.replaceChildren(h("span", { class: "j-note", text: "Not JSON (" + contentType + "):\n\n" }), text || "(empty body)");
    }
    resultView.scrollTop = 0;
  }

  showMessage("Press Run (" + MOD_KEY + "+Enter) to send the query to " + ENDPOINT + ".", "muted");

  // ---- prettify and curl ---------------------------------------------------------------------

  function prettifyEditors() {
    const focused = document.activeElement;
    const pretty = reindent(queryEditor.value);
    if (pretty !== queryEditor.value) replaceRange(queryEditor, 0, queryEditor.value.length, pretty);
    for (const editor of [variablesEditor, headersEditor]) {
      const text = editor.value.trim();
      if (!text) continue;
      try {
        const formatted = JSON.stringify(JSON.parse(text), null, 2);
        if (formatted !== editor.value) replaceRange(editor, 0, editor.value.length, formatted);
      } catch (_) {
        /* invalid JSON is left for the user; the status line already says why */
      }
    }
    if (focused instanceof HTMLElement && focused !== document.body) focused.focus(); // editing moved focus
    updateJsonStatus();
  }

  $("prettify").addEventListener("click", prettifyEditors);

  function shellQuote(text) {
    return "'" + text.replace(/'/g, "'\\''") + "'";
  }

  function curlCommand(request) {
    const url = new URL(ENDPOINT, location.href).href;
    const parts = ["curl " + shellQuote(url), "-H " + shellQuote("content-type: application/json")];
    for (const [name, value] of Object.entries(request.headers)) parts.push("-H " + shellQuote(name + ": " + value));
    parts.push("--data-raw " + shellQuote(JSON.stringify(request.payload)));
    return parts.join(" \\\n  ");
  }

  const copyButton = $("copy-curl");
  copyButton.addEventListener("click", async () => {
    const request = buildRequest(false);
    if (request.error) {
      selectTab(request.tab);
      showMessage(request.error, "bad");
      return;
    }
    const command = curlCommand(request);
    try {
      await navigator.clipboard.writeText(command);
      copyButton.textContent = "Copied";
      setTimeout(() => {
        copyButton.textContent = "Copy curl";
      }, 1500);
    } catch (_) {
      // The clipboard API needs a secure context (https or localhost): show the command instead.
      showMessage(command, "");
    }
  });

  // ---- schema docs -------------------------------------------------------------------------

  let schema = null; // { types: Map, roots: [{label, name}] }
  let views = [{ kind: "root" }]; // navigation stack; the last one is shown
  let schemaProblem = null; // a node explaining why there are no docs

  const KIND_LABEL = {
    OBJECT: "type", INTERFACE: "interface", UNION: "union", ENUM: "enum",
    INPUT_OBJECT: "input", SCALAR: "scalar", LIST: "list", NON_NULL: "non-null",
  };
  const KIND_ORDER = ["OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT", "SCALAR"];
  const KIND_HEADINGS = {
    OBJECT: "Object types", INTERFACE: "Interfaces", UNION: "Unions", ENUM: "Enums",
    INPUT_OBJECT: "Input types", SCALAR: "Scalars",
  };

  function indexSchema(raw) {
    const types = new Map();
    for (const type of raw.types || []) if (type && type.name) types.set(type.name, type);
    const roots = [];
    if (raw.queryType) roots.push({ label: "Query", name: raw.queryType.name });
    if (raw.mutationType) roots.push({ label: "Mutation", name: raw.mutationType.name });
    if (raw.subscriptionType) roots.push({ label: "Subscription", name: raw.subscriptionType.name });
    return { types, roots };
  }

  function namedType(ref) {
    let current = ref;
    while (current && current.ofType) current = current.ofType;
    return current ? current.name : null;
  }

  function isComposite(ref) {
    const type = schema && schema.types.get(namedType(ref));
    return Boolean(type && (type.kind === "OBJECT" || type.kind === "INTERFACE" || type.kind === "UNION"));
  }

  /** `[User!]!` with the named type as a link. */
  function typeRef(ref) {
    if (!ref) return h("span", { class: "type" }, "?");
    if (ref.kind === "NON_NULL") return h("span", { class: "type" }, typeRef(ref.ofType), "!");
    if (ref.kind === "LIST") return h("span", { class: "type" }, "[", typeRef(ref.ofType), "]");
    return typeLink(ref.name);
  }

  function typeLink(name) {
    return h("a", { class: "type-link", href: "#", dataset: { type: name }, title: "Open " + name }, name);
  }

  function description(text) {
    return text ? h("p", { class: "desc", text }) : null;
  }

  function deprecation(item) {
    if (!item.isDeprecated) return null;
    return h("span", { class: "badge deprecated", title: item.deprecationReason || "Deprecated" }, "deprecated");
  }

  function argumentList(args) {
    if (!args || !args.length) return null;
    const items = [];
    args.forEach((arg, i) => {
      if (i) items.push(", ");
      items.push(h("span", { class: "arg-name", text: arg.name }), ": ", typeRef(arg.type));
      if (arg.defaultValue !== null && arg.defaultValue !== undefined) items.push(h("span", { class: "default", text: " = " + arg.defaultValue }));
    });
    return h("span", { class: "args" }, "(", items, ")");
  }

  function fieldItem(field, owner) {
    const insertable = owner && owner.kind !== "INPUT_OBJECT";
    const name = insertable
      ? h("button", { type: "button", class: "field-name insert", title: "Insert \u201c" + field.name + "\u201d into the query", dataset: { insert: owner.name + "." + field.name } }, field.name)
      : h("span", { class: "field-name", text: field.name });
    const argDocs = (field.args || []).filter((arg) => arg.description);
    return h(
      "li",
      { class: "field" + (field.isDeprecated ? " is-deprecated" : "") },
      h("div", { class: "sig" }, name, argumentList(field.args), ": ", typeRef(field.type), field.defaultValue != null ? h("span", { class: "default", text: " = " + field.defaultValue }) : null, " ", deprecation(field)),
      description(field.description),
      field.isDeprecated && field.deprecationReason ? h("p", { class: "desc deprecated-reason", text: "Deprecated: " + field.deprecationReason }) : null,
      argDocs.length ? h("ul", { class: "arg-docs" }, argDocs.map((arg) => h("li", null, h("span", { class: "arg-name", text: arg.name }), ": " + arg.description))) : null,
    );
  }

  function section(title, items) {
    if (!items || !items.length) return null;
    return h("section", { class: "docs-section" }, h("h3", { text: title }), h("ul", { class: "docs-list" }, items));
  }

  function renderRoot() {
    const blocks = [];
    for (const root of schema.roots) {
      const type = schema.types.get(root.name);
      if (!type) continue;
      blocks.push(
        h("section", { class: "docs-section" },
          h("h3", null, root.label === root.name ? typeLink(root.name) : [root.label + " (", typeLink(root.name), ")"]),
          h("ul", { class: "docs-list" }, (type.fields || []).map((field) => fieldItem(field, type)))),
      );
    }
    const byKind = {};
    for (const type of schema.types.values()) {
      if (type.name.startsWith("__")) continue; // introspection's own types only add noise here
      (byKind[type.kind] = byKind[type.kind] || []).push(type);
    }
    for (const kind of KIND_ORDER) {
      const list = (byKind[kind] || []).sort((a, b) => a.name.localeCompare(b.name));
      if (!list.length) continue;
      blocks.push(
        h("details", { class: "docs-section kind-group", open: kind !== "SCALAR" },
          h("summary", null, KIND_HEADINGS[kind] + " ", h("span", { class: "count", text: String(list.length) })),
          h("ul", { class: "type-list" }, list.map((type) => h("li", null, typeLink(type.name))))),
      );
    }
    return blocks;
  }

  /** Where a type is used: fields returning it and arguments / input fields taking it. */
  function usages(name) {
    const found = [];
    for (const type of schema.types.values()) {
      if (type.name.startsWith("__")) continue;
      for (const field of type.fields || []) {
        if (namedType(field.type) === name) found.push([type.name, field.name]);
        for (const arg of field.args || []) if (namedType(arg.type) === name) found.push([type.name, field.name + "(" + arg.name + ")"]);
      }
      for (const field of type.inputFields || []) if (namedType(field.type) === name) found.push([type.name, field.name]);
    }
    return found;
  }

  function renderType(name) {
    const type = schema.types.get(name);
    if (!type) return [h("p", { class: "notice", text: "There is no type named \u201c" + name + "\u201d in the schema." })];
    const blocks = [
      h("h2", { class: "type-title" }, h("span", { class: "kind", text: KIND_LABEL[type.kind] || type.kind }), " ", type.name),
      description(type.description),
    ];
    if (type.interfaces && type.interfaces.length) {
      blocks.push(h("p", { class: "implements" }, "implements ", type.interfaces.map((ref, i) => [i ? ", " : "", typeRef(ref)])));
    }
    blocks.push(section("Fields", (type.fields || []).map((field) => fieldItem(field, type))));
    blocks.push(section("Input fields", (type.inputFields || []).map((field) => fieldItem(field, type))));
    blocks.push(section("Values", (type.enumValues || []).map((value) =>
      h("li", { class: "field" + (value.isDeprecated ? " is-deprecated" : "") },
        h("div", { class: "sig" }, h("span", { class: "field-name enum-value", text: value.name }), " ", deprecation(value)),
        description(value.description),
        value.isDeprecated && value.deprecationReason ? h("p", { class: "desc deprecated-reason", text: "Deprecated: " + value.deprecationReason }) : null))));
    const possibleTitle = type.kind === "UNION" ? "Members" : "Implemented by";
    blocks.push(section(possibleTitle, (type.possibleTypes || []).map((ref) => h("li", null, typeRef(ref)))));
    const used = usages(type.name);
    if (used.length) {
      blocks.push(
        h("details", { class: "docs-section" },
          h("summary", null, "Used by ", h("span", { class: "count", text: String(used.length) })),
          h("ul", { class: "type-list" }, used.map(([owner, where]) => h("li", null, typeLink(owner), "." + where)))),
      );
    }
    return blocks;
  }

  function highlightMatch(text, query) {
    const at = text.toLowerCase().indexOf(query);
    if (at < 0) return text;
    return [text.slice(0, at), h("mark", { text: text.slice(at, at + query.length) }), text.slice(at + query.length)];
  }

  function renderSearch(raw) {
    const query = raw.trim().toLowerCase();
    const showIntrospection = query.startsWith("__");
    const typeHits = [];
    const fieldHits = [];
    for (const type of schema.types.values()) {
      if (type.name.startsWith("__") && !showIntrospection) continue;
      if (type.name.toLowerCase().includes(query)) typeHits.push(type);
      for (const field of [...(type.fields || []), ...(type.inputFields || []), ...(type.enumValues || [])]) {
        if (field.name.toLowerCase().includes(query)) fieldHits.push([type, field]);
      }
    }
    typeHits.sort((a, b) => a.name.localeCompare(b.name));
    const blocks = [];
    if (!typeHits.length && !fieldHits.length) {
      return [h("p", { class: "notice", text: "Nothing in the schema matches \u201c" + raw.trim() + "\u201d." })];
    }
    blocks.push(section("Types", typeHits.slice(0, MAX_SEARCH_RESULTS).map((type) =>
      h("li", null, h("a", { class: "type-link", href: "#", dataset: { type: type.name } }, highlightMatch(type.name, query)), " ", h("span", { class: "kind", text: KIND_LABEL[type.kind] || type.kind })))));
    blocks.push(section("Fields", fieldHits.slice(0, MAX_SEARCH_RESULTS).map(([type, field]) =>
      h("li", null, typeLink(type.name), ".", h("span", { class: "field-name" }, highlightMatch(field.name, query)), field.type ? [": ", typeRef(field.type)] : null))));
    const hidden = Math.max(0, typeHits.length - MAX_SEARCH_RESULTS) + Math.max(0, fieldHits.length - MAX_SEARCH_RESULTS);
    if (hidden) blocks.push(h("p", { class: "notice", text: hidden + " more matches not shown; narrow the search." }));
    return blocks;
  }

  function renderDocs() {
    const view = views[views.length - 1];
    docsBack.disabled = views.length < 2;
    if (!schema) {
      docsTitle.textContent = "Schema";
      docsBody.replaceChildren(schemaProblem || h("p", { class: "notice", text: "Loading the schema\u2026" }));
      return;
    }
    let blocks;
    if (view.kind === "type") {
      docsTitle.textContent = view.name;
      blocks = renderType(view.name);
    } else if (view.kind === "search") {
      docsTitle.textContent = "Search";
      blocks = renderSearch(view.query);
    } else {
      docsTitle.textContent = "Schema";
      blocks = renderRoot();
    }
    docsBody.replaceChildren(...blocks.flat().filter(Boolean));
    docsBody.scrollTop = 0;
  }

  function navigate(view) {
    const top = views[views.length - 1];
    if (top.kind === "search" && view.kind === "search") views[views.length - 1] = view; // typing refines, it doesn't stack
    else if (!(top.kind === view.kind && top.name === view.name)) views.push(view);
    renderDocs();
  }

  docsBack.addEventListener("click", () => {
    if (views.length > 1) views.pop();
    const top = views[views.length - 1];
    if (top.kind !== "search") docsSearch.value = "";
    else docsSearch.value = top.query;
    renderDocs();
  });

  docsBody.addEventListener("click", (event) => {
    const link = event.target.closest("[data-type]");
    if (link) {
      event.preventDefault();
      navigate({ kind: "type", name: link.dataset.type });
      return;
    }
    const insert = event.target.closest("[data-insert]");
    if (insert) {
      const [owner, fieldName] = insert.dataset.insert.split(".");
      const type = schema && schema.types.get(owner);
      const field = type && (type.fields || []).find((f) => f.name === fieldName);
      if (field) insertField(field);
    }
  });

  const searchSoon = debounce(() => {
    const query = docsSearch.value;
    if (query.trim()) {
      navigate({ kind: "search", query });
    } else if (views[views.length - 1].kind === "search") {
      views.pop();
      renderDocs();
    }
  }, 120);
  docsSearch.addEventListener("input", searchSoon);
  docsSearch.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && docsSearch.value) {
      docsSearch.value = "";
      searchSoon();
    }
  });

  /** Inserts `field(requiredArg: )` or `field { }` at the caret, caret where typing goes next. */
  function insertField(field) {
    const { value, selectionStart, selectionEnd } = queryEditor;
    const required = (field.args || []).filter((arg) => arg.type && arg.type.kind === "NON_NULL" && arg.defaultValue == null);
    const before = value[selectionStart - 1];
    let text = before && /[\w)}\]]/.test(before) ? " " + field.name : field.name;
    let caret = null;
    if (required.length) {
      text += "(";
      caret = text.length + required[0].name.length + 2;
      text += required.map((arg) => arg.name + ": ").join(", ") + ")";
    }
    if (isComposite(field.type)) {
      text += " {  }";
      if (caret === null) caret = text.length - 2;
    }
    if (caret === null) caret = text.length;
    replaceRange(queryEditor, selectionStart, selectionEnd, text);
    const at = selectionStart + Math.min(caret, text.length);
    queryEditor.setSelectionRange(at, at);
    queryEditor.focus();
  }

  function problem(title, ...lines) {
    return h("div", { class: "notice problem" }, h("strong", { text: title }), lines.map((line) => h("p", null, line)));
  }

  let schemaLoad = null;

  async function loadSchema() {
    if (schemaLoad) schemaLoad.abort();
    const controller = new AbortController();
    schemaLoad = controller;
    schemaProblem = null;
    docsBody.setAttribute("aria-busy", "true");
    renderDocsLoading();
    const headers = readHeaders();
    try {
      if (headers.error) {
        schemaProblem = problem("The schema was not loaded.", headers.error, "Fix the headers, then press \u21bb.");
        return;
      }
      let result;
      try {
        result = await postGraphQL({ query: INTROSPECTION_QUERY, operationName: "ExplorerIntrospection" }, headers.value, controller.signal);
      } catch (error) {
        if (error && error.name === "AbortError") return;
        schemaProblem = problem("The schema could not be loaded.", "The request to " + ENDPOINT + " failed: " + (error && error.message ? error.message : error));
        return;
      }
      const body = result.json;
      const errors = body && Array.isArray(body.errors) ? body.errors : [];
      if (errors.some((e) => e && e.extensions && e.extensions.code === "INTROSPECTION_DISABLED")) {
        schemaProblem = problem(
          "Introspection is switched off on this gateway.",
          "The gateway answered INTROSPECTION_DISABLED, so it does not reveal its schema and the docs cannot be shown.",
          "Queries still run as usual. To browse the schema here, run the gateway with introspection enabled.",
        );
        return;
      }
      const raw = body && body.data && body.data.__schema;
      if (!raw) {
        const first = errors[0];
        const code = first && first.extensions && first.extensions.code;
        schemaProblem = problem(
          "The schema could not be loaded.",
          "HTTP " + result.response.status + (first ? ": " + first.message + (code ? " (" + code + ")" : "") : body === undefined ? ": the answer was not JSON." : "."),
          result.response.status === 401 || code === "UNAUTHENTICATED" ? "Check the Authorization header in the Headers tab, then press \u21bb." : "Press \u21bb to try again.",
        );
        return;
      }
      schema = indexSchema(raw);
      // Keep the reader where they were if the type still exists after a reload.
      views = views.filter((view) => view.kind !== "type" || schema.types.has(view.name));
      if (!views.length || views[0].kind !== "root") views.unshift({ kind: "root" });
    } finally {
      if (schemaLoad === controller) {
        schemaLoad = null;
        docsBody.removeAttribute("aria-busy");
        renderDocs();
      }
    }
  }

  function renderDocsLoading() {
    schema = null;
    renderDocs();
  }

  $("docs-reload").addEventListener("click", loadSchema);

  // ---- docs panel visibility -------------------------------------------------------------------

  const docsToggle = $("toggle-docs");
  let docsLoaded = false;

  function setDocsVisible(visible) {
    document.body.classList.toggle("docs-hidden", !visible);
    docsToggle.setAttribute("aria-pressed", String(visible));
    store.set("docs", visible ? "shown" : "hidden");
    if (visible && !docsLoaded) {
      docsLoaded = true; // fetch the schema only once someone looks at it
      loadSchema();
    }
  }

  docsToggle.addEventListener("click", () => setDocsVisible(document.body.classList.contains("docs-hidden")));

  // ---- start -------------------------------------------------------------------------------------

  selectTab(store.get("tab", "variables") === "headers" ? "headers" : "variables");
  refreshOperations();
  setDocsVisible(store.get("docs", "shown") !== "hidden");
  queryEditor.focus();
})();
