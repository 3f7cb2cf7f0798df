// adgraph playground: the page. It only draws; training runs in the server (apps/playground/server.cpp), through
// the JSON API of docs/playground.md. Plain JavaScript, no build step, no external resources.
//
// Element ids (stable; tests/playground/browser_test.py uses them):
//   play, step, reset            run/pause (class "playing" while running), one epoch, reset to epoch 0
//   epoch                        the epoch counter ("000,123")
//   learning-rate, activation, regularization, regularization-rate, problem    the top bar's <select>s
//   dataset-<name>               data-set buttons: circle xor gauss spiral plane multigauss (class "selected")
//   train-percent, noise, batch-size    range inputs (the value is sent on "change"); regenerate (seed + 1); seed
//   feature-<name>               input features x1 x2 x1sq x2sq x1x2 sinx1 sinx2, click toggles (class "active")
//   add-layer, remove-layer, layer-count     hidden layers (0..6)
//   layer-<i>-add, layer-<i>-remove          neurons of hidden layer i (1-based, 1..8)
//   node-<l>-<j>                 neuron j (0-based) of layer l of the network (l = 1..hidden layers; the output is
//                                l = hidden layers + 1); click selects it for the gradient view (class "selected")
//   links                        the <svg> of the connections (each <path class="link"> has data-l/-j/-i)
//   gradient-panel, gradient-table, sweep, sweep-play    the gradient view (shown while a neuron is selected)
//   loss-train, loss-test        the losses as numbers ("0.123", or "diverged"); loss-curve: their canvas
//   output-canvas                the output heat map with the points; show-test, discretize: its checkboxes
//   error (error-text, error-action)         the message area: API errors, and "Start a new session" after a 404
//   export                       link to the session's model.safetensors
// window.playgroundStats = {frames, fps, lastStepMs, lastDrawMs, epoch, trainLoss, testLoss}: training frames drawn
// since load, frames per second over the last ~2 s, the last step request's round trip (request to parsed JSON), the
// last redraw's time in script (decode + canvases + links; the browser's own painting comes after), the last state.
//
// The URL hash holds the configuration and the view: #dataset=circle&noise=0&train_percent=50&batch_size=10&
// seed=1&features=x1,x2&layers=4,2&activation=tanh&learning_rate=0.03&regularization=none&regularization_rate=0&
// show_test=0&discretize=0&selected=2-0 (any subset; the rest take their defaults). Values are passed to the
// server as they are, so a bad one shows the server's message.
'use strict';

const DATASETS = {
    classification: ['circle', 'xor', 'gauss', 'spiral'],
    regression: ['plane', 'multigauss'],
};
const FEATURES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'];
const FEATURE_LABELS = {
    x1: 'X\u2081', x2: 'X\u2082', x1sq: 'X\u2081\u00b2', x2sq: 'X\u2082\u00b2', x1x2: 'X\u2081X\u2082',
    sinx1: 'sin(X\u2081)', sinx2: 'sin(X\u2082)',
};
const MAX_LAYERS = 6;
const MAX_NEURONS = 8;
const DOMAIN = 6;
// The fields of the server's Config, in the hash's order, and how the hash spells each kind.
const CONFIG_KEYS = ['dataset', 'noise', 'train_percent', 'batch_size', 'seed', 'features', 'layers', 'activation',
    'learning_rate', 'regularization', 'regularization_rate'];
const STRING_KEYS = ['dataset', 'activation', 'regularization'];
const VIEW_KEYS = ['show_test', 'discretize', 'selected'];

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers (no DOM; exported for node at the end of the file).

// base64 (RFC 4648, padded) to bytes.
function decodeBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; ++i) out[i] = bin.charCodeAt(i);
    return out;
}

// A map byte back to its value in [-1, 1] (the API's encoding: byte = round((v + 1) * 127.5)).
function byteToValue(b) {
    return b / 127.5 - 1;
}

// The original's colour scale: orange at -1, light grey-white at 0, blue at +1 (clamped).
const ORANGE = [245, 147, 34];
const MIDDLE = [232, 234, 235];
const BLUE = [8, 119, 189];
function colorOf(v) {
    if (!(v === v)) return MIDDLE.slice();  // NaN
    const t = Math.max(-1, Math.min(1, v));
    const end = t < 0 ? ORANGE : BLUE;
    const a = Math.abs(t);
    return [0, 1, 2].map((c) => Math.round(MIDDLE[c] + (end[c] - MIDDLE[c]) * a));
}
function cssColor(v) {
    const c = colorOf(v);
    return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// Colour of each map byte, as RGBA, continuous and discretised (sign only).
function makeLut(discrete) {
    const lut = new Uint8ClampedArray(256 * 4);
    for (let b = 0; b < 256; ++b) {
        const v = byteToValue(b);
        const c = colorOf(discrete ? (v < 0 ? -1 : 1) : v);
        lut.set([c[0], c[1], c[2], 255], b * 4);
    }
    return lut;
}

// A hash value to a number when it reads as one, else the string (the server then names the wrong type).
function hashValue(text) {
    return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : text;
}

// "#a=1&b=x" to {config: {...fields present}, view: {...}}; unknown keys are ignored.
function parseHash(hash) {
    const config = {};
    const view = {};
    const text = hash.replace(/^#/, '');
    if (!text) return {config, view};
    for (const part of text.split('&')) {
        if (!part) continue;
        const eq = part.indexOf('=');
        const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
        const raw = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
        if (key === 'features') {
            config.features = raw === '' ? [] : raw.split(',');
        } else if (key === 'layers') {
            config.layers = raw === '' ? [] : raw.split(',').map(hashValue);
        } else if (STRING_KEYS.includes(key)) {
            config[key] = raw;
        } else if (CONFIG_KEYS.includes(key)) {
            config[key] = hashValue(raw);
        } else if (key === 'show_test' || key === 'discretize') {
            view[key] = raw === '1' || raw === 'true';
        } else if (key === 'selected') {
            view.selected = raw;
        }
    }
    return {config, view};
}

// The inverse of parseHash for a full config and view.
function formatHash(config, view) {
    const parts = [];
    for (const key of CONFIG_KEYS) {
        if (!(key in config)) continue;
        const v = config[key];
        const text = Array.isArray(v) ? v.join(',') : String(v);
        parts.push(key + '=' + encodeURIComponent(text).replace(/%2C/g, ','));
    }
    parts.push('show_test=' + (view.show_test ? 1 : 0));
    parts.push('discretize=' + (view.discretize ? 1 : 0));
    if (view.selected) parts.push('selected=' + encodeURIComponent(view.selected));
    return parts.join('&');
}

// "000,123" like the original's counter.
function formatEpoch(n) {
    const s = String(Math.max(0, Math.floor(n))).padStart(6, '0');
    return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatLoss(v) {
    return v === null || v === undefined || !isFinite(v) ? 'diverged' : v.toFixed(3);
}

function formatNumber(v) {
    if (v === null || v === undefined || !isFinite(v)) return 'diverged';
    if (v === 0) return '0';
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e4 ? v.toPrecision(3) : v.toExponential(2);
}

// Frames per second over the frames finished in the last `window_ms` (times in ms, ascending).
function framesPerSecond(times, now, windowMs) {
    const recent = times.filter((t) => t >= now - windowMs);
    if (recent.length < 2) return 0;
    const span = recent[recent.length - 1] - recent[0];
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
}

function problemOf(dataset) {
    return DATASETS.regression.includes(dataset) ? 'regression' : 'classification';
}

// ---------------------------------------------------------------------------------------------------------------
// The page.

class ApiError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

const app = {
    id: null,
    config: null,
    data: null,
    state: null,
    maps: null,  // {outputSide, output: Uint8Array, nodeSide, nodes: [Uint8Array]}
    view: {show_test: false, discretize: false, selected: ''},
    playing: false,
    busy: 0,
    queue: Promise.resolve(),
    history: [],  // {epoch, train, test}
    frameTimes: [],
    hover: null,
    sweepLit: -1,
    sweepTimer: null,
    links: [],  // {path, hit, l, j, i}
    lut: null,
    lutDiscrete: null,
};

const stats = {frames: 0, fps: 0, lastStepMs: 0, lastDrawMs: 0, epoch: 0, trainLoss: null, testLoss: null};

function $(id) {
    return document.getElementById(id);
}

// One request to the API; an error response becomes an ApiError with the server's message.
async function api(method, path, body) {
    const options = {method, headers: {}};
    if (body !== undefined) {
        options.body = JSON.stringify(body);
        options.headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
        response = await fetch(path, options);
    } catch (e) {
        throw new ApiError(0, 'playground: the server does not answer (' + e.message +
            '); is adgraph playground still running?');
    }
    if (response.status === 204) return null;
    let json = null;
    try {
        json = await response.json();
    } catch (e) {
        json = null;
    }
    if (!response.ok) {
        throw new ApiError(response.status, json && json.error ? json.error : 'HTTP ' + response.status);
    }
    return json;
}

// Requests that change the session run one after another, in the order asked.
function serial(task) {
    app.busy += 1;
    const run = app.queue.then(() => task());
    app.queue = run.catch(() => {}).then(() => {
        app.busy -= 1;
    });
    return run;
}

function showError(message, offerNewSession) {
    $('error-text').textContent = message;
    $('error-action').hidden = !offerNewSession;
    $('error').hidden = false;
}

function clearError() {
    $('error').hidden = true;
    $('error-text').textContent = '';
}

function handleError(e) {
    const status = e instanceof ApiError ? e.status : -1;
    if (status === 404) {
        setPlaying(false);
        showError(e.message, true);
    } else {
        showError(e.message || String(e), false);
    }
}

function sessionPath(suffix) {
    return '/api/sessions/' + app.id + suffix;
}

// A response carrying {id, config, data, state}: a new session or a new configuration.
function applySession(r) {
    const structureChanged = !app.config || JSON.stringify(app.config.layers) !== JSON.stringify(r.config.layers) ||
        JSON.stringify(app.config.features) !== JSON.stringify(r.config.features);
    app.id = r.id;
    app.config = r.config;
    app.data = r.data;
    app.history = [];
    $('export').href = sessionPath('/model.safetensors');
    syncControls();
    if (structureChanged || !app.links.length) buildNetwork();
    applyState(r.state);
    updateHash();
}

function applyState(state) {
    app.state = state;
    if (state.maps) {
        app.maps = {
            outputSide: state.maps.output_side,
            output: decodeBase64(state.maps.output),
            nodeSide: state.maps.node_side,
            nodes: state.maps.nodes.map(decodeBase64),
        };
    }
    const last = app.history.length ? app.history[app.history.length - 1] : null;
    if (last && state.epoch < last.epoch) app.history = [];
    if (!last || state.epoch !== last.epoch || !app.history.length) {
        app.history.push({epoch: state.epoch, train: state.loss.train, test: state.loss.test});
        if (app.history.length > 4000) app.history = app.history.filter((_, k) => k % 2 === 0);
    }
    stats.epoch = state.epoch;
    stats.trainLoss = state.loss.train;
    stats.testLoss = state.loss.test;
    render();
}

async function createSession(config) {
    const r = await serial(() => api('POST', '/api/sessions', config));
    applySession(r);
}

// Sends the configuration with `patch` applied; on an error the page returns to the session's configuration.
async function changeConfig(patch) {
    const config = Object.assign({}, app.config, patch);
    try {
        const r = await serial(() => api('PUT', sessionPath('/config'), config));
        clearError();
        applySession(r);
    } catch (e) {
        handleError(e);
        syncControls();
        updateHash();
    }
}

async function stepOnce() {
    const t0 = performance.now();
    const r = await serial(() => api('POST', sessionPath('/step'), {epochs: 1, maps: true}));
    stats.lastStepMs = performance.now() - t0;
    applyState(r.state);
    const now = performance.now();
    app.frameTimes.push(now);
    while (app.frameTimes.length && app.frameTimes[0] < now - 2000) app.frameTimes.shift();
    stats.frames += 1;
    stats.fps = framesPerSecond(app.frameTimes, now, 2000);
    $('speed').textContent = `${stats.fps.toFixed(1)} frames/s; step request ${stats.lastStepMs.toFixed(1)} ms, ` +
        `redraw ${stats.lastDrawMs.toFixed(1)} ms`;
}

// While playing: on each animation frame, one step request when the previous one has returned.
function frame() {
    if (!app.playing) return;
    if (app.busy === 0 && app.id) {
        stepOnce().catch((e) => {
            setPlaying(false);
            handleError(e);
        });
    }
    requestAnimationFrame(frame);
}

function setPlaying(on) {
    const was = app.playing;
    app.playing = on;
    $('play').classList.toggle('playing', on);
    if (on && !was) {
        app.frameTimes = [];
        requestAnimationFrame(frame);
    }
}

function updateHash() {
    if (!app.config) return;
    history.replaceState(null, '', '#' + formatHash(app.config, app.view));
}

// ---------------------------------------------------------------------------------------------------------------
// Controls.

function setSelect(el, value) {
    const text = String(value);
    if (![...el.options].some((o) => o.value === text)) {
        const o = document.createElement('option');
        o.value = text;
        o.textContent = text;
        el.appendChild(o);
    }
    el.value = text;
}

function syncControls() {
    const c = app.config;
    setSelect($('learning-rate'), c.learning_rate);
    setSelect($('activation'), c.activation);
    setSelect($('regularization'), c.regularization);
    setSelect($('regularization-rate'), c.regularization_rate);
    const problem = problemOf(c.dataset);
    $('problem').value = problem;
    for (const name of [...DATASETS.classification, ...DATASETS.regression]) {
        const b = $('dataset-' + name);
        b.classList.toggle('selected', name === c.dataset);
        b.hidden = problemOf(name) !== problem;
    }
    for (const [id, key] of [['train-percent', 'train_percent'], ['noise', 'noise'], ['batch-size', 'batch_size']]) {
        $(id).value = c[key];
        $(id + '-value').textContent = c[key];
    }
    $('seed').textContent = c.seed;
    $('show-test').checked = app.view.show_test;
    $('discretize').checked = app.view.discretize;
    $('layer-count').textContent = c.layers.length;
    $('add-layer').disabled = c.layers.length >= MAX_LAYERS;
    $('remove-layer').disabled = c.layers.length === 0;
}

function wireControls() {
    $('play').addEventListener('click', () => setPlaying(!app.playing));
    $('step').addEventListener('click', () => {
        setPlaying(false);
        stepOnce().catch(handleError);
    });
    $('reset').addEventListener('click', () => {
        serial(() => api('POST', sessionPath('/reset'), {}))
            .then((r) => {
                app.history = [];
                applyState(r.state);
            })
            .catch(handleError);
    });
    $('learning-rate').addEventListener('change', (e) => changeConfig({learning_rate: Number(e.target.value)}));
    $('activation').addEventListener('change', (e) => changeConfig({activation: e.target.value}));
    $('regularization').addEventListener('change', (e) => changeConfig({regularization: e.target.value}));
    $('regularization-rate').addEventListener('change',
        (e) => changeConfig({regularization_rate: Number(e.target.value)}));
    $('problem').addEventListener('change', (e) => changeConfig({dataset: DATASETS[e.target.value][0]}));
    for (const b of document.querySelectorAll('.dataset')) {
        b.addEventListener('click', () => changeConfig({dataset: b.dataset.dataset}));
    }
    for (const [id, key] of [['train-percent', 'train_percent'], ['noise', 'noise'], ['batch-size', 'batch_size']]) {
        $(id).addEventListener('input', (e) => {
            $(id + '-value').textContent = e.target.value;
        });
        $(id).addEventListener('change', (e) => changeConfig({[key]: Number(e.target.value)}));
    }
    $('regenerate').addEventListener('click', () => changeConfig({seed: app.config.seed + 1}));
    $('add-layer').addEventListener('click', () => {
        if (app.config.layers.length < MAX_LAYERS) changeConfig({layers: [...app.config.layers, 2]});
    });
    $('remove-layer').addEventListener('click', () => {
        if (app.config.layers.length > 0) changeConfig({layers: app.config.layers.slice(0, -1)});
    });
    $('show-test').addEventListener('change', (e) => {
        app.view.show_test = e.target.checked;
        updateHash();
        drawOutput();
    });
    $('discretize').addEventListener('change', (e) => {
        app.view.discretize = e.target.checked;
        updateHash();
        render();
    });
    $('error-close').addEventListener('click', clearError);
    $('error-action').addEventListener('click', () => {
        clearError();
        createSession(app.config || {}).catch(handleError);
    });
    $('sweep-play').addEventListener('click', () => startSweep());
    window.addEventListener('hashchange', onHashChange);
    window.addEventListener('resize', () => layoutLinks());
    window.addEventListener('pagehide', () => {
        if (app.id) fetch(sessionPath(''), {method: 'DELETE', keepalive: true}).catch(() => {});
    });
}

// A hash typed into the address bar: apply what differs.
function onHashChange() {
    const parsed = parseHash(location.hash);
    Object.assign(app.view, parsed.view);
    syncControls();
    const config = Object.assign({}, app.config, parsed.config);
    if (JSON.stringify(config) !== JSON.stringify(app.config)) {
        changeConfig(parsed.config);
    } else {
        render();
        updateHash();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The network: feature and neuron nodes with thumbnails, links in an SVG behind them.

function makeNode(id, label, side) {
    const node = document.createElement('div');
    node.className = 'node';
    node.id = id;
    const canvas = document.createElement('canvas');
    canvas.width = side;
    canvas.height = side;
    node.appendChild(canvas);
    if (label) {
        const span = document.createElement('span');
        span.className = 'node-label';
        span.textContent = label;
        node.appendChild(span);
    }
    return node;
}

function layerSizes() {
    return [app.config.features.length, ...app.config.layers, 1];
}

// The DOM node of neuron j of layer l (0: the active input features in the config's order).
function nodeElement(l, j) {
    if (l === 0) return $('feature-' + app.config.features[j]);
    return $(`node-${l}-${j}`);
}

function nodeName(l, j) {
    const sizes = layerSizes();
    if (l === 0) return FEATURE_LABELS[app.config.features[j]] || app.config.features[j];
    if (l === sizes.length - 1) return 'output';
    return `neuron ${l}.${j + 1}`;
}

function buildNetwork() {
    const features = $('features');
    features.textContent = '';
    for (const f of FEATURES) {
        const node = makeNode('feature-' + f, FEATURE_LABELS[f], 20);
        node.classList.add('feature');
        node.classList.toggle('active', app.config.features.includes(f));
        node.title = 'Click to switch this input on or off';
        node.addEventListener('click', () => {
            const on = app.config.features.includes(f);
            const next = FEATURES.filter((g) => (g === f ? !on : app.config.features.includes(g)));
            changeConfig({features: next});
        });
        features.appendChild(node);
    }
    drawInactiveFeatures();

    const hidden = $('hidden-layers');
    hidden.textContent = '';
    const sizes = layerSizes();
    for (let l = 1; l < sizes.length; ++l) {
        const isOutput = l === sizes.length - 1;
        const column = document.createElement('div');
        column.className = 'layer' + (isOutput ? ' output-layer' : '');
        const head = document.createElement('div');
        head.className = 'layer-head';
        if (isOutput) {
            head.textContent = 'output';
        } else {
            const add = document.createElement('button');
            add.id = `layer-${l}-add`;
            add.className = 'round small';
            add.textContent = '+';
            add.disabled = sizes[l] >= MAX_NEURONS;
            add.addEventListener('click', () => changeNeurons(l - 1, +1));
            const remove = document.createElement('button');
            remove.id = `layer-${l}-remove`;
            remove.className = 'round small';
            remove.innerHTML = '&minus;';
            remove.disabled = sizes[l] <= 1;
            remove.addEventListener('click', () => changeNeurons(l - 1, -1));
            const count = document.createElement('div');
            count.className = 'layer-count';
            count.textContent = sizes[l] === 1 ? '1 neuron' : `${sizes[l]} neurons`;
            head.append(add, remove, count);
        }
        column.appendChild(head);
        for (let j = 0; j < sizes[l]; ++j) {
            const node = makeNode(`node-${l}-${j}`, '', 20);
            node.classList.add('neuron');
            node.dataset.l = l;
            node.dataset.j = j;
            node.addEventListener('click', () => selectNeuron(l, j));
            node.addEventListener('mouseenter', (e) => setHover({kind: 'node', l, j}, e));
            node.addEventListener('mousemove', moveHover);
            node.addEventListener('mouseleave', () => setHover(null));
            column.appendChild(node);
        }
        hidden.appendChild(column);
    }
    if (app.view.selected && !selectedNeuron()) app.view.selected = '';
    buildLinks();
    layoutLinks();
}

function changeNeurons(layer, delta) {
    const layers = app.config.layers.slice();
    const n = layers[layer] + delta;
    if (n < 1 || n > MAX_NEURONS) return;
    layers[layer] = n;
    changeConfig({layers});
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function buildLinks() {
    const svg = $('links');
    svg.textContent = '';
    app.links = [];
    const sizes = layerSizes();
    for (let l = 1; l < sizes.length; ++l) {
        for (let j = 0; j < sizes[l]; ++j) {
            for (let i = 0; i < sizes[l - 1]; ++i) {
                const path = document.createElementNS(SVG_NS, 'path');
                path.setAttribute('class', 'link');
                path.dataset.l = l;
                path.dataset.j = j;
                path.dataset.i = i;
                const hit = document.createElementNS(SVG_NS, 'path');
                hit.setAttribute('class', 'link-hit');
                hit.addEventListener('mouseenter', (e) => setHover({kind: 'link', l, j, i}, e));
                hit.addEventListener('mousemove', moveHover);
                hit.addEventListener('mouseleave', () => setHover(null));
                svg.append(path, hit);
                app.links.push({path, hit, l, j, i});
            }
        }
    }
}

// Positions: from the right edge of the sending node's thumbnail to the left edge of the receiving one.
function layoutLinks() {
    if (!app.config) return;
    const net = $('network');
    const box = net.getBoundingClientRect();
    const svg = $('links');
    svg.setAttribute('width', net.scrollWidth);
    svg.setAttribute('height', net.scrollHeight);
    const anchor = (el, right) => {
        const r = el.querySelector('canvas').getBoundingClientRect();
        return [(right ? r.right : r.left) - box.left + net.scrollLeft, r.top + r.height / 2 - box.top + net.scrollTop];
    };
    for (const link of app.links) {
        const from = nodeElement(link.l - 1, link.i);
        const to = nodeElement(link.l, link.j);
        if (!from || !to) continue;
        const [x0, y0] = anchor(from, true);
        const [x1, y1] = anchor(to, false);
        const mx = (x0 + x1) / 2;
        const d = `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`;
        link.path.setAttribute('d', d);
        link.hit.setAttribute('d', d);
    }
}

function selectedNeuron() {
    const m = /^(\d+)-(\d+)$/.exec(app.view.selected || '');
    if (!m || !app.config) return null;
    const l = Number(m[1]);
    const j = Number(m[2]);
    const sizes = layerSizes();
    if (l < 1 || l >= sizes.length || j >= sizes[l]) return null;
    return {l, j};
}

function selectNeuron(l, j) {
    const key = `${l}-${j}`;
    app.view.selected = app.view.selected === key ? '' : key;
    updateHash();
    render();
    if (app.view.selected) startSweep();
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing.

function paintMap(canvas, bytes, side, lut) {
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(side, side);
    const px = image.data;
    for (let k = 0; k < side * side; ++k) {
        const o = bytes[k] * 4;
        px[4 * k] = lut[o];
        px[4 * k + 1] = lut[o + 1];
        px[4 * k + 2] = lut[o + 2];
        px[4 * k + 3] = 255;
    }
    if (canvas.width !== side) {
        canvas.width = side;
        canvas.height = side;
    }
    ctx.putImageData(image, 0, 0);
}

// Thumbnails of the features not fed in (the server sends maps of the active ones only), computed here.
const FEATURE_FUNCTIONS = {
    x1: (a) => a,
    x2: (a, b) => b,
    x1sq: (a) => a * a,
    x2sq: (a, b) => b * b,
    x1x2: (a, b) => a * b,
    sinx1: (a) => Math.sin(a),
    sinx2: (a, b) => Math.sin(b),
};
function drawInactiveFeatures() {
    const side = 20;
    const lut = makeLut(false);
    for (const f of FEATURES) {
        if (app.config.features.includes(f)) continue;
        const bytes = new Uint8Array(side * side);
        for (let r = 0; r < side; ++r) {
            for (let c = 0; c < side; ++c) {
                const x1 = -DOMAIN + ((c + 0.5) * 2 * DOMAIN) / side;
                const x2 = DOMAIN - ((r + 0.5) * 2 * DOMAIN) / side;
                const v = Math.max(-1, Math.min(1, FEATURE_FUNCTIONS[f](x1, x2)));
                bytes[r * side + c] = Math.round((v + 1) * 127.5);
            }
        }
        paintMap($('feature-' + f).querySelector('canvas'), bytes, side, lut);
    }
}

function render() {
    if (!app.state) return;
    const t0 = performance.now();
    const s = app.state;
    $('epoch').textContent = formatEpoch(s.epoch);
    $('loss-train').textContent = formatLoss(s.loss.train);
    $('loss-test').textContent = formatLoss(s.loss.test);
    drawNodes();
    drawLinks();
    drawOutput();
    drawLossCurve();
    drawGradientPanel();
    updateHoverCard();
    stats.lastDrawMs = performance.now() - t0;
}

function drawNodes() {
    if (!app.maps) return;
    const lut = app.view.discretize ? app.lutDiscrete : app.lut;
    const sizes = layerSizes();
    let k = 0;
    for (let l = 0; l < sizes.length; ++l) {
        for (let j = 0; j < sizes[l]; ++j, ++k) {
            const el = nodeElement(l, j);
            if (!el || !app.maps.nodes[k]) continue;
            paintMap(el.querySelector('canvas'), app.maps.nodes[k], app.maps.nodeSide, l === 0 ? app.lut : lut);
        }
    }
    const sel = selectedNeuron();
    for (const el of document.querySelectorAll('.neuron')) {
        el.classList.toggle('selected', !!sel && Number(el.dataset.l) === sel.l && Number(el.dataset.j) === sel.j);
    }
}

// Weights by sign and size; the selected neuron's incoming links by their gradient (scaled by the largest).
function drawLinks() {
    const s = app.state;
    const sel = selectedNeuron();
    let gmax = 0;
    if (sel) {
        for (const g of s.gradients.weights[sel.l - 1][sel.j]) gmax = Math.max(gmax, Math.abs(g || 0));
    }
    for (const link of app.links) {
        const w = s.weights[link.l - 1][link.j][link.i];
        let value;
        let width;
        const isGradient = sel && link.l === sel.l && link.j === sel.j;
        if (isGradient) {
            const g = s.gradients.weights[link.l - 1][link.j][link.i];
            const t = gmax > 0 && g !== null ? g / gmax : 0;
            value = t;
            width = 1.5 + 6 * Math.abs(t);
        } else if (w === null) {
            value = 0;
            width = 0.5;
        } else {
            value = w;
            width = 1 + Math.min(Math.abs(w), 5) * 1.6;
        }
        link.path.setAttribute('stroke', cssColor(value));
        link.path.setAttribute('stroke-width', width.toFixed(2));
        link.path.classList.toggle('gradient', !!isGradient);
        link.path.classList.toggle('dim', !!sel && !isGradient);
    }
}

function drawOutput() {
    if (!app.maps || !app.data) return;
    const canvas = $('output-canvas');
    const ctx = canvas.getContext('2d');
    const side = app.maps.outputSide;
    if (!app.offscreen || app.offscreen.width !== side) {
        app.offscreen = document.createElement('canvas');
        app.offscreen.width = side;
        app.offscreen.height = side;
    }
    paintMap(app.offscreen, app.maps.output, side, app.view.discretize ? app.lutDiscrete : app.lut);
    // The map a little lighter than the points' colours, so that points of either class stand out on it.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.globalAlpha = 0.8;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(app.offscreen, 0, 0, canvas.width, canvas.height);
    ctx.globalAlpha = 1;
    const W = canvas.width;
    const H = canvas.height;
    const drawPoints = (points, stroke) => {
        ctx.lineWidth = 1;
        ctx.strokeStyle = stroke;
        for (const p of points) {
            const x = ((p[0] + DOMAIN) / (2 * DOMAIN)) * W;
            const y = ((DOMAIN - p[1]) / (2 * DOMAIN)) * H;
            ctx.beginPath();
            ctx.arc(x, y, 3, 0, 2 * Math.PI);
            ctx.fillStyle = cssColor(p[2]);
            ctx.fill();
            ctx.stroke();
        }
    };
    drawPoints(app.data.train, '#ffffff');
    if (app.view.show_test) drawPoints(app.data.test, '#000000');
}

function drawLossCurve() {
    const canvas = $('loss-curve');
    const ctx = canvas.getContext('2d');
    const W = canvas.width;
    const H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const h = app.history;
    if (h.length < 2) return;
    let ymax = 0;
    for (const e of h) ymax = Math.max(ymax, isFinite(e.train) ? e.train : 0, isFinite(e.test) ? e.test : 0);
    if (!(ymax > 0)) ymax = 1;
    const x = (k) => (k / (h.length - 1)) * (W - 2) + 1;
    const y = (v) => H - 2 - (Math.min(v, ymax) / ymax) * (H - 4);
    for (const [key, colour] of [['train', '#999999'], ['test', '#333333']]) {
        ctx.beginPath();
        ctx.strokeStyle = colour;
        ctx.lineWidth = 1.5;
        let started = false;
        h.forEach((e, k) => {
            const v = e[key];
            if (v === null || !isFinite(v)) return;
            if (started) ctx.lineTo(x(k), y(v));
            else ctx.moveTo(x(k), y(v));
            started = true;
        });
        ctx.stroke();
    }
}

function drawGradientPanel() {
    const sel = selectedNeuron();
    const panel = $('gradient-panel');
    panel.hidden = !sel;
    if (!sel) {
        stopSweep();
        return;
    }
    const s = app.state;
    const sizes = layerSizes();
    $('gradient-title').textContent = `Gradient view: ${nodeName(sel.l, sel.j)}`;
    const rows = [['from', 'weight', '\u2202L/\u2202w']];
    for (let i = 0; i < sizes[sel.l - 1]; ++i) {
        rows.push([nodeName(sel.l - 1, i), s.weights[sel.l - 1][sel.j][i], s.gradients.weights[sel.l - 1][sel.j][i]]);
    }
    rows.push(['bias', s.biases[sel.l - 1][sel.j], s.gradients.biases[sel.l - 1][sel.j]]);
    const table = $('gradient-table');
    if (table.rows.length !== rows.length) {
        table.textContent = '';
        rows.forEach((row, r) => {
            const tr = table.insertRow();
            for (let c = 0; c < 3; ++c) {
                const cell = document.createElement(r === 0 ? 'th' : 'td');
                tr.appendChild(cell);
            }
        });
    }
    rows.forEach((row, r) => {
        const cells = table.rows[r].cells;
        cells[0].textContent = row[0];
        for (let c = 1; c < 3; ++c) {
            cells[c].textContent = r === 0 ? row[c] : formatNumber(row[c]);
            if (r > 0) cells[c].style.color = c === 2 ? (row[c] < 0 ? '#c0620a' : '#0877bd') : '';
        }
    });
    drawSweep();
}

// The reverse sweep: one box per layer from the output back to the first hidden layer, each listing its bias
// gradients; the lit box moves backwards on a timer.
function drawSweep() {
    const s = app.state;
    const sizes = layerSizes();
    const sweep = $('sweep');
    const layers = [];
    for (let l = sizes.length - 1; l >= 1; --l) layers.push(l);
    if (sweep.children.length !== layers.length + 1 || sweep.dataset.shape !== sizes.join(',')) {
        sweep.textContent = '';
        sweep.dataset.shape = sizes.join(',');
        for (const l of layers) {
            const box = document.createElement('div');
            box.className = 'sweep-layer';
            box.dataset.l = l;
            const title = document.createElement('div');
            title.className = 'sweep-title';
            title.textContent = l === sizes.length - 1 ? 'output' : `layer ${l}`;
            box.appendChild(title);
            for (let j = 0; j < sizes[l]; ++j) {
                const cell = document.createElement('div');
                cell.className = 'sweep-cell';
                box.appendChild(cell);
            }
            sweep.appendChild(box);
            const arrow = document.createElement('div');
            arrow.className = 'sweep-arrow';
            arrow.textContent = '\u2192';
            if (l !== 1) sweep.appendChild(arrow);
        }
        const inputs = document.createElement('div');
        inputs.className = 'sweep-layer inputs';
        inputs.textContent = 'inputs';
        sweep.appendChild(inputs);
    }
    for (const box of sweep.querySelectorAll('.sweep-layer[data-l]')) {
        const l = Number(box.dataset.l);
        const grads = s.gradients.biases[l - 1];
        let gmax = 0;
        for (const g of grads) gmax = Math.max(gmax, Math.abs(g || 0));
        box.querySelectorAll('.sweep-cell').forEach((cell, j) => {
            const g = grads[j];
            cell.textContent = formatNumber(g);
            cell.style.borderLeftColor = cssColor(gmax > 0 && g !== null ? g / gmax : 0);
        });
        box.classList.toggle('lit', l === app.sweepLit);
    }
    for (const el of document.querySelectorAll('.neuron')) {
        el.classList.toggle('lit', Number(el.dataset.l) === app.sweepLit);
    }
}

function startSweep() {
    stopSweep();
    const sizes = layerSizes();
    app.sweepLit = sizes.length - 1;
    app.sweepTimer = setInterval(() => {
        // output → ... → layer 1, then a beat with nothing lit, then again
        app.sweepLit = app.sweepLit <= 0 ? layerSizes().length - 1 : app.sweepLit - 1;
        if (app.state && selectedNeuron()) drawSweep();
    }, 450);
    if (app.state) drawSweep();
}

function stopSweep() {
    if (app.sweepTimer) clearInterval(app.sweepTimer);
    app.sweepTimer = null;
    app.sweepLit = -1;
    for (const el of document.querySelectorAll('.neuron.lit')) el.classList.remove('lit');
}

// ---------------------------------------------------------------------------------------------------------------
// Hover card: a link's weight and gradient, a neuron's bias and gradient; refreshed with every frame.

function setHover(target, event) {
    app.hover = target;
    const card = $('hovercard');
    card.hidden = !target;
    if (target && event) moveHover(event);
    updateHoverCard();
}

function moveHover(event) {
    const card = $('hovercard');
    card.style.left = event.clientX + 14 + 'px';
    card.style.top = event.clientY + 14 + 'px';
}

function updateHoverCard() {
    const h = app.hover;
    if (!h || !app.state) return;
    const s = app.state;
    const sizes = layerSizes();
    if (h.l < 1 || h.l >= sizes.length || h.j >= sizes[h.l] || (h.kind === 'link' && h.i >= sizes[h.l - 1])) {
        setHover(null);
        return;
    }
    let text;
    if (h.kind === 'link') {
        text = `${nodeName(h.l - 1, h.i)} \u2192 ${nodeName(h.l, h.j)}\n` +
            `weight ${formatNumber(s.weights[h.l - 1][h.j][h.i])}\n` +
            `\u2202L/\u2202w ${formatNumber(s.gradients.weights[h.l - 1][h.j][h.i])}`;
    } else {
        text = `${nodeName(h.l, h.j)}\nbias ${formatNumber(s.biases[h.l - 1][h.j])}\n` +
            `\u2202L/\u2202b ${formatNumber(s.gradients.biases[h.l - 1][h.j])}`;
    }
    $('hovercard').textContent = text;
}

// ---------------------------------------------------------------------------------------------------------------
// Data-set previews: small sketches of each set's shape (not its points, which only the chosen set has).

function drawPreview(canvas, name) {
    const ctx = canvas.getContext('2d');
    const W = canvas.width;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, W, W);
    let seed = 7;
    const rand = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
    };
    const points = [];
    for (let k = 0; k < 120; ++k) {
        const x = rand() * 12 - 6;
        const y = rand() * 12 - 6;
        if (name === 'circle') {
            const r = Math.hypot(x, y);
            if (r < 2.5) points.push([x, y, 1]);
            else if (r > 3.5 && r < 5.5) points.push([x, y, -1]);
        } else if (name === 'xor') {
            if (Math.abs(x) > 0.4 && Math.abs(y) > 0.4) points.push([x, y, x * y > 0 ? 1 : -1]);
        } else if (name === 'gauss') {
            const c = k % 2 ? 1 : -1;
            points.push([2 * c + (x / 6) * 1.3, 2 * c + (y / 6) * 1.3, c]);
        } else if (name === 'spiral') {
            const t = (k / 120) * 1.75 * Math.PI;
            const r = (k / 120) * 5;
            const c = k % 2 ? 1 : -1;
            const a = t + (c > 0 ? 0 : Math.PI);
            points.push([r * Math.sin(a), r * Math.cos(a), c]);
        } else if (name === 'plane') {
            points.push([x, y, (x + y) / 10]);
        } else {
            const bump = (cx, cy, s) => s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
            points.push([x, y, bump(-3, 3, 1) + bump(3, -3, 1) + bump(3, 3, -1) + bump(-3, -3, -1)]);
        }
    }
    for (const p of points) {
        ctx.fillStyle = cssColor(p[2]);
        ctx.beginPath();
        ctx.arc(((p[0] + 6) / 12) * W, ((6 - p[1]) / 12) * W, 1.6, 0, 2 * Math.PI);
        ctx.fill();
    }
}

// ---------------------------------------------------------------------------------------------------------------

async function start() {
    window.playgroundStats = stats;
    app.lut = makeLut(false);
    app.lutDiscrete = makeLut(true);
    for (const b of document.querySelectorAll('.dataset')) drawPreview(b.querySelector('canvas'), b.dataset.dataset);
    wireControls();
    const parsed = parseHash(location.hash);
    Object.assign(app.view, parsed.view);
    try {
        await createSession(parsed.config);
    } catch (e) {
        // A link with a bad configuration: say why, and start from the defaults.
        handleError(e);
        if (e instanceof ApiError && e.status === 400) {
            try {
                await createSession({});
            } catch (e2) {
                handleError(e2);
            }
        }
    }
}

if (typeof document !== 'undefined') {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
}

if (typeof module !== 'undefined') {
    module.exports = {decodeBase64, byteToValue, colorOf, makeLut, parseHash, formatHash, formatEpoch, framesPerSecond,
        hashValue, problemOf};
}
