// bertj explain: draws every view of the page from the JSON in <script id="bertj-data">.
// Plain DOM and SVG, no framework, no network. Written to be read: one function per view.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var data = JSON.parse(document.getElementById('bertj-data').textContent);
  var tokens = data.tokens;
  var T = tokens.length;
  var L = data.attentions.length;
  var H = L > 0 ? data.attentions[0].length : 0;
  var state = { layer: 0, heads: range(H), threshold: 0.05, focus: null };

  // ---- small helpers -------------------------------------------------------------------------

  function range(n) { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function titled(e, text) { var t = svgEl('title'); t.textContent = text; e.appendChild(t); return e; }
  function fmt(x, digits) { return x === null || x === undefined ? '' : Number(x).toPrecision(digits || 4); }
  function mix(a, b, t) { return [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * t); }); }
  function rgb(c) { return 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')'; }
  var WHITE = [255, 255, 255], BLUE = [8, 48, 107], RED = [178, 24, 43], NEG = [33, 102, 172];
  // Sequential scale for values in [0, 1]: white to dark blue.
  function heat(t) { return rgb(mix(WHITE, BLUE, Math.max(0, Math.min(1, t)))); }
  // Diverging scale for values in [-1, 1]: blue (negative), white, red (positive).
  function diverging(t) { return t >= 0 ? rgb(mix(WHITE, RED, Math.min(1, t))) : rgb(mix(WHITE, NEG, Math.min(1, -t))); }
  function headColour(h) { return 'hsl(' + Math.round(360 * h / Math.max(1, H)) + ',70%,42%)'; }
  function real(i) { return data.attention_mask[i] === 1; }

  /** A legend: a colour bar between two labelled ends, and what it measures. */
  function legend(box, what, lo, hi, css) {
    box.textContent = '';
    box.appendChild(el('span', {}, what + ':'));
    box.appendChild(el('span', {}, lo));
    var bar = el('span', { 'class': 'bar', role: 'img', 'aria-label': what + ' from ' + lo + ' to ' + hi });
    bar.style.background = css;
    box.appendChild(bar);
    box.appendChild(el('span', {}, hi));
  }
  var HEAT_CSS = 'linear-gradient(to right, ' + heat(0) + ', ' + heat(0.5) + ', ' + heat(1) + ')';
  var DIVERGING_CSS = 'linear-gradient(to right, ' + diverging(-1) + ', ' + diverging(0) + ', ' + diverging(1) + ')';

  // ---- summary and tokens --------------------------------------------------------------------

  function summary() {
    var realCount = data.attention_mask.filter(function (m) { return m === 1; }).length;
    $('summary').textContent = 'Model ' + data.model + ' (' + data.kind.replace('_', '-') + '), ' + T + ' tokens (' + realCount +
      ' real), ' + L + ' layers × ' + H + ' heads. Text: ' + JSON.stringify(data.text) +
      (data.text_pair ? ', pair: ' + JSON.stringify(data.text_pair) : '');
  }

  function tokenTable() {
    var body = $('token-table').tBodies[0];
    for (var i = 0; i < T; i++) {
      var tr = el('tr', { 'data-index': i });
      [i, tokens[i], data.input_ids[i], '[' + data.offsets[i][0] + ', ' + data.offsets[i][1] + ')',
        data.word_ids[i] === null ? '—' : data.word_ids[i], data.token_type_ids[i], data.attention_mask[i]]
        .forEach(function (v) { tr.appendChild(el('td', {}, String(v))); });
      body.appendChild(tr);
    }
  }

  // ---- prediction and saliency ---------------------------------------------------------------

  function prediction() {
    var box = $('prediction-body'), p = data.predictions;
    if (!p) { box.appendChild(el('p', { 'class': 'note' }, 'This checkpoint has no head: nothing to predict.')); return; }
    if (p.task === 'classification') {
      box.appendChild(el('p', {}, 'Predicted label: ' + p.label + '. Explained label (' + p.target_is + '): ' + p.target + '.'));
      var table = el('table', { id: 'probabilities' });
      table.appendChild(el('caption', {}, 'Probability of each label'));
      p.probabilities.forEach(function (r) {
        var tr = el('tr'), bar = el('span', { 'class': 'prob-bar', title: r.label + ': ' + fmt(r.probability) });
        bar.style.width = Math.round(200 * r.probability) + 'px';
        tr.appendChild(el('th', { scope: 'row' }, r.label));
        var td = el('td'); td.appendChild(bar); tr.appendChild(td);
        tr.appendChild(el('td', {}, fmt(r.probability)));
        table.appendChild(tr);
      });
      box.appendChild(table);
      return;
    }
    if (p.masks.length === 0) { box.appendChild(el('p', { 'class': 'note' }, 'The input has no [MASK] token.')); return; }
    p.masks.forEach(function (m) {
      var table = el('table', { 'class': 'mask-predictions' });
      table.appendChild(el('caption', {}, 'Top ' + m.top.length + ' at position ' + m.position));
      m.top.forEach(function (r) {
        var tr = el('tr');
        tr.appendChild(el('th', { scope: 'row' }, r.token));
        tr.appendChild(el('td', {}, fmt(r.probability)));
        table.appendChild(tr);
      });
      box.appendChild(table);
      if (m.logit_lens) box.appendChild(logitLens(m));
    });
  }

  /** The logit lens of one mask: per layer, the top tokens when that layer's state goes through the MLM head. */
  function logitLens(m) {
    var table = el('table', { 'class': 'logit-lens' });
    table.appendChild(el('caption', {}, 'Logit lens at position ' + m.position + ': each layer\'s hidden state through the MLM head ' +
      '(cell colour: probability, white 0 to blue 1)'));
    m.logit_lens.forEach(function (top, l) {
      var tr = el('tr');
      tr.appendChild(el('th', { scope: 'row' }, l === 0 ? 'embeddings' : 'layer ' + (l - 1)));
      top.forEach(function (r) {
        var td = el('td', { title: r.token + ': ' + fmt(r.probability) }, r.token);
        td.style.background = heat(r.probability);
        td.style.color = r.probability > 0.55 ? '#fff' : '#000';
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    return table;
  }

  function saliency() {
    var note = $('saliency-note'), box = $('saliency-text');
    if (!data.saliency) { note.textContent = data.gradients_note || 'No saliency for this checkpoint.'; return; }
    var s = data.saliency, max = 0;
    s.forEach(function (v) { max = Math.max(max, Math.abs(v)); });
    max = max || 1;
    note.textContent = 'Gradient × input of ' + data.saliency_target + ' with respect to each token\'s word embedding, ' +
      'summed over the hidden dimension (red supports the target, blue opposes it). Hover a token for its value.';
    var texts = [data.text, data.text_pair];
    [0, 1].forEach(function (segment) {
      var text = texts[segment];
      if (text === null || text === undefined) return;
      var idx = range(T).filter(function (i) {
        return real(i) && data.token_type_ids[i] === segment && data.offsets[i][1] > data.offsets[i][0];
      }).sort(function (a, b) { return data.offsets[a][0] - data.offsets[b][0]; });
      var p = el('p', { 'class': 'segment' }), at = 0;
      idx.forEach(function (i) {
        var o = data.offsets[i];
        if (o[0] < at) return;
        if (o[0] > at) p.appendChild(document.createTextNode(text.substring(at, o[0])));
        var span = el('span', { 'class': 'tok', 'data-index': i, title: tokens[i] + ' (#' + i + '): ' + fmt(s[i]) },
          text.substring(o[0], o[1]));
        span.style.background = diverging(s[i] / max);
        p.appendChild(span);
        at = o[1];
      });
      p.appendChild(document.createTextNode(text.substring(at)));
      box.appendChild(p);
    });
    legend($('saliency-legend'), 'saliency', fmt(-max, 3), fmt(max, 3), DIVERGING_CSS);
  }

  // ---- head view -----------------------------------------------------------------------------

  var ROW = 18, TOP = 24, LEFT = 150, RIGHT = 450, WIDTH = 600;

  function headControls() {
    var select = $('layer-select');
    for (var l = 0; l < L; l++) select.appendChild(el('option', { value: l }, 'layer ' + l));
    select.addEventListener('change', function () { state.layer = Number(select.value); headView(); });
    var threshold = $('threshold');
    threshold.addEventListener('change', function () {
      var v = Number(threshold.value);
      if (threshold.value !== '' && v >= 0 && v <= 1) { state.threshold = v; headView(); }
    });
    var toggles = $('head-toggles');
    for (var h = 0; h < H; h++) {
      var b = el('button', { type: 'button', 'class': 'head-toggle', 'data-head': h, title: 'head ' + h, 'aria-pressed': 'true' }, String(h));
      b.style.background = headColour(h);
      b.addEventListener('click', toggleHead.bind(null, h));
      toggles.appendChild(b);
    }
  }

  function toggleHead(h) {
    var i = state.heads.indexOf(h);
    if (i >= 0) state.heads.splice(i, 1); else state.heads.push(h);
    state.heads.sort(function (a, b) { return a - b; });
    headView();
  }

  function syncControls() {
    $('layer-select').value = String(state.layer);
    $('threshold').value = String(state.threshold);
    Array.prototype.forEach.call(document.querySelectorAll('.head-toggle'), function (b) {
      var on = state.heads.indexOf(Number(b.getAttribute('data-head'))) >= 0;
      b.classList.toggle('off', !on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  /** Redraws the head view: one line per (selected head, query, key) whose weight exceeds the threshold. */
  function headView() {
    syncControls();
    var svg = $('head-view');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute('width', WIDTH);
    svg.setAttribute('height', TOP + T * ROW);
    svg.setAttribute('data-layer', state.layer);
    svg.setAttribute('data-heads', state.heads.join(','));
    svg.setAttribute('data-threshold', state.threshold);
    svg.setAttribute('data-focus', '');
    var caption = svgEl('text', { x: 4, y: 14 });
    caption.textContent = 'layer ' + state.layer + ', heads ' + (state.heads.length ? state.heads.join(', ') : 'none');
    svg.appendChild(caption);
    var lines = svgEl('g', { 'class': 'lines' });
    svg.appendChild(lines);
    var att = L > 0 ? data.attentions[state.layer] : [];
    state.heads.forEach(function (h) {
      for (var q = 0; q < T; q++) {
        var row = att[h][q];
        for (var k = 0; k < T; k++) {
          var w = row[k];
          if (!(w > state.threshold)) continue;
          lines.appendChild(svgEl('line', {
            'class': 'att', x1: LEFT + 6, y1: y(q), x2: RIGHT - 6, y2: y(k), stroke: headColour(h),
            'stroke-width': 2, 'stroke-opacity': w.toFixed(3), 'data-q': q, 'data-k': k, 'data-head': h
          }));
        }
      }
    });
    for (var i = 0; i < T; i++) {
      svg.appendChild(tokenLabel(i, 'left', LEFT, 'end'));
      svg.appendChild(tokenLabel(i, 'right', RIGHT, 'start'));
    }
    state.focus = null;
  }

  function y(i) { return TOP + i * ROW + ROW / 2; }

  function tokenLabel(i, side, x, anchor) {
    var t = svgEl('text', { 'class': 'hv-token ' + side, x: x, y: y(i) + 4, 'text-anchor': anchor, 'data-index': i });
    t.textContent = tokens[i];
    if (!real(i)) t.setAttribute('fill', '#aaa');
    if (side === 'left') {
      t.addEventListener('mouseenter', function () { focus(i); });
      t.addEventListener('mouseleave', function () { focus(null); });
    }
    return t;
  }

  /** Shows only query row {@code i}'s lines and highlights its token (null: every row). */
  function focus(i) {
    state.focus = i;
    var svg = $('head-view');
    svg.setAttribute('data-focus', i === null ? '' : i);
    Array.prototype.forEach.call(svg.querySelectorAll('text.hv-token.left'), function (t) {
      t.classList.toggle('focus', i !== null && Number(t.getAttribute('data-index')) === i);
    });
    Array.prototype.forEach.call(svg.querySelectorAll('line.att'), function (ln) {
      ln.classList.toggle('hidden', i !== null && Number(ln.getAttribute('data-q')) !== i);
    });
  }

  // A line's tooltip is made when first hovered: thousands of <title> elements up front would slow the page.
  function headViewTooltips() {
    $('head-view').addEventListener('mouseover', function (e) {
      var ln = e.target;
      if (ln.tagName !== 'line' || ln.querySelector('title')) return;
      var q = Number(ln.getAttribute('data-q')), k = Number(ln.getAttribute('data-k')), h = Number(ln.getAttribute('data-head'));
      titled(ln, 'head ' + h + ': ' + tokens[q] + ' → ' + tokens[k] + ' = ' + fmt(data.attentions[state.layer][h][q][k]));
    });
  }

  // ---- model view ----------------------------------------------------------------------------

  function modelView() {
    var grid = $('model-view');
    grid.style.gridTemplateColumns = '60px repeat(' + H + ', 68px)';
    grid.appendChild(el('div'));
    for (var h = 0; h < H; h++) grid.appendChild(el('div', { 'class': 'label' }, 'head ' + h));
    for (var l = 0; l < L; l++) {
      grid.appendChild(el('div', { 'class': 'label' }, 'layer ' + l));
      for (h = 0; h < H; h++) grid.appendChild(thumbnail(l, h));
    }
    legend($('model-legend'), 'attention weight', '0', '1', HEAT_CSS);
  }

  function thumbnail(l, h) {
    var c = el('canvas', { width: T, height: T, 'data-layer': l, 'data-head': h, role: 'button', tabindex: 0,
      'aria-label': 'layer ' + l + ' head ' + h + ': open in the head view', title: 'layer ' + l + ', head ' + h });
    var ctx = c.getContext('2d'), img = ctx.createImageData(T, T), a = data.attentions[l][h];
    for (var q = 0; q < T; q++) {
      for (var k = 0; k < T; k++) {
        var col = mix(WHITE, BLUE, a[q][k]), o = 4 * (q * T + k);
        img.data[o] = col[0]; img.data[o + 1] = col[1]; img.data[o + 2] = col[2]; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    c.addEventListener('mousemove', function (e) {
      var q = Math.min(T - 1, Math.floor(e.offsetY * T / c.clientHeight)), k = Math.min(T - 1, Math.floor(e.offsetX * T / c.clientWidth));
      c.title = 'layer ' + l + ', head ' + h + ': ' + tokens[q] + ' → ' + tokens[k] + ' = ' + fmt(a[q][k]);
    });
    var open = function () {
      state.layer = l;
      state.heads = [h];
      Array.prototype.forEach.call(document.querySelectorAll('#model-view canvas'), function (x) { x.classList.toggle('selected', x === c); });
      headView();
    };
    c.addEventListener('click', open);
    c.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    return c;
  }

  // ---- hidden states -------------------------------------------------------------------------

  /** A layers x tokens heat map as SVG rectangles, each with its value as a tooltip. */
  function heatGrid(box, rows, scaleMax, what, legendBox, lo) {
    var cell = 14, labelH = 70, labelW = 70;
    var svg = svgEl('svg', { 'class': 'heat', width: labelW + T * cell + 4, height: labelH + rows.length * cell + 4, role: 'img', 'aria-label': what });
    for (var i = 0; i < T; i++) {
      var t = svgEl('text', { transform: 'translate(' + (labelW + i * cell + 10) + ',' + (labelH - 4) + ') rotate(-60)' });
      t.textContent = tokens[i];
      svg.appendChild(t);
    }
    rows.forEach(function (row, l) {
      var name = l === 0 ? 'embeddings' : 'layer ' + (l - 1);
      var label = svgEl('text', { x: 2, y: labelH + l * cell + 11 });
      label.textContent = name;
      svg.appendChild(label);
      row.forEach(function (v, i) {
        var t = (v - lo) / (scaleMax - lo || 1);
        svg.appendChild(titled(svgEl('rect', { x: labelW + i * cell, y: labelH + l * cell, width: cell - 1, height: cell - 1, fill: heat(t) }),
          what + ', ' + name + ', ' + tokens[i] + ' (#' + i + '): ' + fmt(v)));
      });
    });
    box.appendChild(svg);
    legend(legendBox, what, fmt(lo, 3), fmt(scaleMax, 3), HEAT_CSS);
  }

  function hidden() {
    var max = 0, minCos = 1;
    data.hidden_norms.forEach(function (r) { r.forEach(function (v) { max = Math.max(max, v); }); });
    data.hidden_cosine.forEach(function (r) { r.forEach(function (v) { minCos = Math.min(minCos, v); }); });
    heatGrid($('hidden-norms'), data.hidden_norms, max, 'hidden-state norm', $('hidden-norms-legend'), 0);
    heatGrid($('hidden-cosine'), data.hidden_cosine, 1, 'cosine to the last layer', $('hidden-cosine-legend'), Math.min(0, minCos));
  }

  // ---- gradient norms ------------------------------------------------------------------------

  function gradients() {
    var g = data.gradients;
    if (!g) { $('gradients-note').textContent = data.gradients_note || 'No gradients for this checkpoint.'; return; }
    $('gradients-note').textContent = 'L2 norm of each parameter group\'s gradient of the ' + g.objective + ' (loss ' + fmt(g.loss) +
      ', total norm ' + fmt(g.total_norm) + '), one backward pass without dropout. Colour is on a log scale.';
    // Encoder layers share their groups (query, key, ...): a layers x groups grid. The embeddings, the
    // pooler and the head each have their own groups: a list beside it.
    var encoder = g.groups.filter(function (e) { return e.layer.indexOf('layer ') === 0; });
    var others = g.groups.filter(function (e) { return e.layer.indexOf('layer ') !== 0; });
    var layers = [], groups = [], at = {};
    encoder.forEach(function (e) {
      if (layers.indexOf(e.layer) < 0) layers.push(e.layer);
      if (groups.indexOf(e.group) < 0) groups.push(e.group);
      at[e.layer + '|' + e.group] = e.norm;
    });
    var logs = g.groups.filter(function (e) { return e.norm > 0; }).map(function (e) { return Math.log10(e.norm); });
    var lo = logs.length ? Math.min.apply(null, logs) : 0, hi = logs.length ? Math.max.apply(null, logs) : 1;
    if (hi <= lo) hi = lo + 1;
    function cell(layer, name, v) {
      var td = el('td', { 'class': 'norm' });
      if (v === undefined) return td;
      var t = v > 0 ? (Math.log10(v) - lo) / (hi - lo) : 0;
      td.textContent = fmt(v, 2);
      td.title = layer + ' ' + name + ': ' + fmt(v);
      td.style.background = heat(t);
      td.style.color = t > 0.55 ? '#fff' : '#000';
      return td;
    }
    var table = el('table', { id: 'gradient-table' }), head = el('tr');
    head.appendChild(el('th', { scope: 'col' }, 'layer'));
    // A zero-width space after each dot lets long module names wrap, so the table fits the page.
    groups.forEach(function (name) { head.appendChild(el('th', { scope: 'col' }, name.replace(/\./g, '.\u200b'))); });
    table.appendChild(head);
    layers.forEach(function (layer) {
      var tr = el('tr');
      tr.appendChild(el('th', { scope: 'row' }, layer));
      groups.forEach(function (name) { tr.appendChild(cell(layer, name, at[layer + '|' + name])); });
      table.appendChild(tr);
    });
    var rest = el('table', { id: 'gradient-others' });
    rest.appendChild(el('caption', {}, 'Embeddings, pooler and head'));
    others.forEach(function (e) {
      var tr = el('tr');
      tr.appendChild(el('th', { scope: 'row' }, e.layer));
      tr.appendChild(el('td', {}, e.group));
      tr.appendChild(cell(e.layer, e.group, e.norm));
      rest.appendChild(tr);
    });
    var box = el('div', { 'class': 'side-by-side' });
    box.appendChild(table);
    box.appendChild(rest);
    table = box;
    $('gradients-body').appendChild(table);
    legend($('gradients-legend'), 'gradient norm (log scale)', fmt(Math.pow(10, lo), 2), fmt(Math.pow(10, hi), 2), HEAT_CSS);
  }

  // ---- start ---------------------------------------------------------------------------------

  summary();
  tokenTable();
  prediction();
  saliency();
  headControls();
  headView();
  headViewTooltips();
  modelView();
  hidden();
  gradients();
  document.body.setAttribute('data-ready', 'true');
})();
