/**
 * memhyper explore: build an architecture by clicking the edges of its two cells, and see at
 * once what the hypernetwork does with it (switch map, arrays) and what it costs against
 * individual deployment. Everything is computed in the page by memhyper's library; only the
 * results directory is read from the server.
 */
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  architectureFromConfiguration,
  CATALOGUE,
  type CellType,
  type Configuration,
  configurationToGenotype,
  decodeConfiguration,
  encodeConfiguration,
  formatGenotype,
  type OpIndex,
  resolveArchitecture,
} from "../../src/browser.js";
import { CellGraph, OpPalette, type Selected } from "./cell-editor.js";
import { CostView, EveryPreset } from "./cost-view.js";
import { ArrayMap, SwitchMap } from "./hardware-views.js";
import {
  costsOf,
  crowdedNodes,
  EMPTY,
  genotypeViewRefusal,
  HARDWARE_PRESETS,
  SPEC,
  withOp,
} from "./model.js";
import { type ResultFile, ResultsView } from "./results-view.js";

/** Catalogue entries the edge-complete view holds (one op per edge, all four nodes concatenated). */
const PICKABLE = CATALOGUE.map((e) => resolveArchitecture(e.name)).filter((a) => a.configuration !== null);

/** The configuration as a DARTS genotype, or why it is not one (the edge-complete view holds more). */
function genotypeText(config: Configuration): string {
  try {
    return formatGenotype(configurationToGenotype(config));
  } catch (e) {
    return `not a genotype: ${(e as Error).message}`;
  }
}

function App() {
  const [config, setConfig] = useState<Configuration>(
    () => PICKABLE.find((a) => a.label === "DARTS_V2")!.configuration!,
  );
  const [codeText, setCodeText] = useState(() => encodeConfiguration(config));
  const [codeError, setCodeError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Selected | null>(null);
  const [genotypeView, setGenotypeView] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [preset, setPreset] = useState("default");
  const [results, setResults] = useState<ResultFile[] | null>(null);
  const [resultsError, setResultsError] = useState<string | null>(null);

  const code = encodeConfiguration(config);
  const arch = useMemo(() => architectureFromConfiguration(config), [code]);
  const costs = useMemo(() => costsOf(arch, preset), [code, preset]);
  const named = PICKABLE.find((a) => a.code === code)?.label ?? "";

  useEffect(() => {
    fetch("./api/results")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((j: { files: ResultFile[] }) => setResults(j.files))
      .catch(() =>
        setResultsError(
          "No results server: start the page with memhyper explore --results DIR to see results.",
        ),
      );
  }, []);

  const apply = (next: Configuration): void => {
    setConfig(next);
    setCodeText(encodeConfiguration(next));
    setCodeError(null);
  };
  const choose = (op: OpIndex): void => {
    if (!selected) return;
    const why = genotypeView ? genotypeViewRefusal(config, selected.type, selected.edge, op) : null;
    setRefusal(why);
    if (!why) apply(withOp(config, selected.type, selected.edge, op));
  };
  const onCode = (text: string): void => {
    setCodeText(text);
    try {
      apply(decodeConfiguration(text));
      setCodeText(text);
    } catch (e) {
      setCodeError((e as Error).message);
    }
  };
  const open = (c: string): void => {
    try {
      apply(decodeConfiguration(c));
      document.getElementById("editor")?.scrollIntoView();
    } catch (e) {
      setCodeError((e as Error).message);
    }
  };
  const crowded = (t: CellType) => (genotypeView ? crowdedNodes(config[t]) : []);
  const genotype = genotypeText(config);

  return html`<header>
      <h1>memhyper explore</h1>
      <p>The all-inclusive hypernetwork, edge variant, C=${SPEC.channels}, ${SPEC.layers} cells. Every number is computed in this page by memhyper's library.</p>
    </header>
    <main>
      <section id="editor" aria-labelledby="editor-h">
        <h2 id="editor-h">Architecture</h2>
        <div class="controls">
          <label>catalogue
            <select aria-label="catalogue" data-testid="catalogue" value=${named} onChange=${(e: Event) => {
              const a = PICKABLE.find((p) => p.label === (e.target as HTMLSelectElement).value);
              if (a) apply(a.configuration!);
            }}>
              <option value="">(custom)</option>
              ${PICKABLE.map((a) => html`<option value=${a.label}>${a.label}</option>`)}
            </select>
          </label>
          <button type="button" onClick=${() => apply(EMPTY)}>clear all edges</button>
          <label><input type="checkbox" checked=${genotypeView} onChange=${(e: Event) => {
            setGenotypeView((e.target as HTMLInputElement).checked);
            setRefusal(null);
          }} /> genotype view: two inputs per node</label>
        </div>
        <label class="code">84-bit code
          <input id="code" aria-label="84-bit configuration code" aria-invalid=${codeError ? "true" : "false"} aria-describedby="code-error" spellcheck="false" value=${codeText} onInput=${(e: Event) => onCode((e.target as HTMLInputElement).value)} />
        </label>
        <p id="code-error" class="error" role="alert" data-testid="code-error">${codeError ?? ""}</p>
        <div class="cells">
          <${CellGraph} type="normal" ops=${config.normal} selected=${selected} crowded=${crowded("normal")} onSelect=${setSelected} />
          <${CellGraph} type="reduce" ops=${config.reduce} selected=${selected} crowded=${crowded("reduce")} onSelect=${setSelected} />
        </div>
        <${OpPalette} selected=${selected} current=${selected ? config[selected.type][selected.edge] : null} onChoose=${choose} />
        <p class="error" role="alert" data-testid="refusal">${refusal ?? ""}</p>
        <p class="genotype" data-code=${code}><code>${genotype}</code></p>
      </section>
      <section aria-labelledby="cost-h">
        <h2 id="cost-h">Cost</h2>
        <label>preset
          <select aria-label="hardware preset" data-testid="preset" value=${preset} onChange=${(e: Event) => setPreset((e.target as HTMLSelectElement).value)}>
            ${HARDWARE_PRESETS.map((p) => html`<option value=${p}>${p}</option>`)}
          </select>
        </label>
        <${CostView} costs=${costs} />
        <${EveryPreset} arch=${arch} code=${code} />
      </section>
      <section aria-labelledby="switch-h">
        <h2 id="switch-h">Switch map</h2>
        <${SwitchMap} costs=${costs} />
      </section>
      <section aria-labelledby="arrays-h">
        <h2 id="arrays-h">Arrays of individual deployment</h2>
        <${ArrayMap} costs=${costs} />
      </section>
      <section aria-labelledby="results-h">
        <h2 id="results-h">Results</h2>
        <${ResultsView} files=${results} error=${resultsError} onOpen=${open} />
      </section>
    </main>`;
}

render(html`<${App} />`, document.getElementById("app")!);
// When the first render with every view and cost is in the DOM (the browser suite reports it).
document.body.dataset.readyMs = String(performance.now());
document.body.dataset.ready = "true";
