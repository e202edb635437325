/* Local Kiro dashboard: re-aggregates the embedded, pre-grouped rows for the chosen date range and
   draws every visual as inline SVG or a table. No network, no libraries. Every text value reaches the
   DOM through textContent or setAttribute, never parsed as markup, so names with <, & or quotes stay text. */
(function () {
  'use strict';

  var errorBox = document.getElementById('errors');
  function report(message) {
    errorBox.hidden = false;
    errorBox.textContent += message + '\n';
    document.body.setAttribute('data-errors', '1');
  }
  window.addEventListener('error', function (e) {
    report('Uncaught ' + (e.message || e.error) + ' (line ' + e.lineno + ')');
  });
  window.addEventListener('unhandledrejection', function (e) { report('Unhandled rejection ' + e.reason); });
  var consoleError = console.error.bind(console);
  console.error = function () {
    report(Array.prototype.map.call(arguments, String).join(' '));
    consoleError.apply(null, arguments);
  };

  // The data is gzip-compressed, as 7-bit text (payload_codec.to_text: "<length>:", then one character per 7 bits,
  // an escaped NUL, LF, CR or "<" and the next 7 bits as one character from U+0100): a JSON header, then typed
  // columns and id sets as bytes (payload_codec.py), which main() reads from P.blob.
  var ESCAPED = [0x00, 0x0A, 0x0D, 0x3C];
  function decodeText(text) {
    var colon = text.indexOf(':'), length = parseInt(text.slice(0, colon), 10), bytes = new Uint8Array(length);
    var held = 0, bits = 0, n = 0;
    function put(septet) {
      held = (held << 7) | septet;
      bits += 7;
      if (bits >= 8) {
        bits -= 8;
        bytes[n++] = held >> bits;
        held &= (1 << bits) - 1;
      }
    }
    for (var i = colon + 1; i < text.length && n < length; i++) {
      var code = text.charCodeAt(i);
      if (code < 0x80) { put(code); continue; }
      code -= 0x100;
      put(ESCAPED[code >> 7]);
      put(code & 0x7F);
    }
    return bytes;
  }
  function decodePayload(node) {
    var bytes = decodeText(node.textContent);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var size = new DataView(buffer).getUint32(0, true);
      var header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, size)));
      header.blob = new Uint8Array(buffer, 4 + size);
      return header;
    });
  }
  if (typeof DecompressionStream === 'undefined') {
    report('This browser cannot open the page (no DecompressionStream): use a current Chrome, Edge, Firefox or Safari.');
    return;
  }
  decodePayload(document.getElementById('dashboard-data')).then(main).catch(function (e) {
    report('loading the data: ' + (e && e.stack ? e.stack : e));
  });

  function main(P) {
    // A packed column (payload_codec.py): rows x width byte planes of zig-zag codes + 1 (0 = null), optionally
    // differences from the previous value, over 10^scale.
    var SCALES = [1, 10, 100, 1000, 10000, 100000, 1000000];
    function unpackColumn(entry) {
      if (!entry || Array.isArray(entry)) return entry;
      var blob = P.blob, offset = entry.c[0], rows = entry.c[1], width = entry.c[2], factor = SCALES[entry.s];
      var values = new Array(rows), previous = 0;
      for (var i = 0; i < rows; i++) {
        var code = 0;
        for (var k = width - 1; k >= 0; k--) code = code * 256 + blob[offset + k * rows + i];
        if (code === 0) { values[i] = null; continue; }
        var zig = code - 1, value = zig % 2 === 0 ? zig / 2 : -(zig + 1) / 2;
        if (entry.d) { value += previous; previous = value; }
        values[i] = entry.s ? value / factor : value;
      }
      return values;
    }
    // Key columns and parts shared by several visuals are shipped once (dashboard_data.share_arrays); an array
    // close to an earlier one is shipped as that one's index and the rows where it differs.
    P.arrays = P.arrays || [];
    P.arrays.forEach(function (entry, position) {
      if (entry.like === undefined) { P.arrays[position] = unpackColumn(entry); return; }
      var values = P.arrays[entry.like].slice(), row = -1, at = unpackColumn(entry.at), changed = unpackColumn(entry.v);
      for (var k = 0; k < at.length; k++) { row += at[k]; values[row] = changed[k]; }
      P.arrays[position] = values;
    });
    Object.keys(P.visuals).forEach(function (id) {
      var vis = P.visuals[id];
      vis.keys.forEach(function (column) { column.v = P.arrays[column.v]; });
      vis.parts = vis.parts.map(function (part) { return P.arrays[part]; });
      if (vis.pre) {
        vis.pre.keys.forEach(function (column) { column.v = P.arrays[column.v]; });
        vis.pre.parts = vis.pre.parts.map(function (part) { return P.arrays[part]; });
      }
      if (vis.wide) unwiden(vis);
    });
    // Rows shipped with a part column per value of the visual's one dimension (dashboard_data._widen: the model
    // mix's models), a null cell where that row is absent: back to one row per (other keys, value).
    function unwiden(vis) {
      var pivot = vis.wide.key, values = vis.wide.values, n = values.length, count = vis.parts.length / n;
      var keys = vis.keys.map(function (column) { return column.v; }), rows = keys[pivot === 0 ? 1 : 0].length;
      var total = 0, row, j, i, k, p;
      for (j = 0; j < n; j++) for (row = 0; row < rows; row++) if (vis.parts[j][row] !== null) total++;
      // Each long row's wide row and value, in wide-row order; then each column filled in one pass (8.4 M rows at
      // 20k users: 0.9 s, where pushing each row into every column took 1.8 s).
      var from = new Int32Array(total), slot = new Uint8Array(total);
      for (row = 0, i = 0; row < rows; row++) {
        for (j = 0; j < n; j++) if (vis.parts[j][row] !== null) { from[i] = row; slot[i] = j; i++; }
      }
      vis.keys.forEach(function (column, position) {
        var out = new Array(total), source = keys[position];
        if (position === pivot) for (k = 0; k < total; k++) out[k] = values[slot[k]];
        else for (k = 0; k < total; k++) out[k] = source[from[k]];
        column.v = out;
      });
      var longParts = [];
      for (p = 0; p < count; p++) {
        var out = new Array(total), cells = vis.parts.slice(p * n, p * n + n);
        for (k = 0; k < total; k++) out[k] = cells[slot[k]][from[k]];
        longParts.push(out);
      }
      vis.parts = longParts;
      vis.wide = null;
    }
    var S = P.strings;
    var UI = P.ui;
    var IDS = P.idsets || {sizes: {}, sets: []};
    var CODES = P.codes || {labels: {}, columns: []};
    var CODE_COLUMNS = new Set(CODES.columns);
    var PARAMS = {};  // string parameter -> Set of chosen values; empty = every value (SelectAllOptions)
    var LOCALE = P.lang === 'zh' ? 'zh-CN' : 'en-US';
    var WEEK_START = {SUNDAY: 0, MONDAY: 1, TUESDAY: 2, WEDNESDAY: 3, THURSDAY: 4, FRIDAY: 5, SATURDAY: 6}[P.weekStart] || 0;
    var PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#64748b',
      '#d97706'];
    var SVG_NS = 'http://www.w3.org/2000/svg';
    var PAGE_SIZE = 50, DENSE_COLUMNS = 12;
    var formatters = {};

    // ---- formatting -------------------------------------------------------------------------------
    function numberFormat(options) {
      var key = JSON.stringify(options);
      if (!formatters[key]) formatters[key] = new Intl.NumberFormat(LOCALE, options);
      return formatters[key];
    }
    function formatValue(value, fmt, compact) {
      if (value === null || value === undefined || (typeof value === 'number' && isNaN(value))) return '–';
      if (typeof value !== 'number') return String(value);
      fmt = fmt || {};
      var x = value, prefix = fmt.prefix || '', suffix = fmt.suffix || '';
      if (fmt.kind === 'percent') { x = value * 100; suffix = '%' + suffix; }
      if (fmt.kind === 'currency') prefix = (!fmt.symbol || fmt.symbol === 'USD' ? '$' : fmt.symbol + ' ') + prefix;
      var decimals = fmt.decimals !== undefined ? fmt.decimals : (Number.isInteger(x) ? 0 : 2);
      var options = {maximumFractionDigits: decimals, minimumFractionDigits: decimals};
      if (compact && Math.abs(x) >= 1e6) { options.notation = 'compact'; options.maximumFractionDigits = 1; }
      return prefix + numberFormat(options).format(x) + suffix;
    }
    function dateLabel(text, gran) {
      if (gran === 'MONTH') return text.slice(0, 7);
      if (gran === 'YEAR') return text.slice(0, 4);
      if (gran === 'QUARTER') return text.slice(0, 4) + ' Q' + (Math.floor((+text.slice(5, 7) - 1) / 3) + 1);
      return text;
    }
    function truncDate(text, gran) {
      if (!gran || gran === 'DAY') return text;
      if (gran === 'MONTH') return text.slice(0, 7) + '-01';
      if (gran === 'YEAR') return text.slice(0, 4) + '-01-01';
      if (gran === 'QUARTER') {
        var month = Math.floor((+text.slice(5, 7) - 1) / 3) * 3 + 1;
        return text.slice(0, 4) + '-' + (month < 10 ? '0' : '') + month + '-01';
      }
      var d = new Date(text + 'T00:00:00Z');
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() - WEEK_START + 7) % 7));
      return d.toISOString().slice(0, 10);
    }

    var truncMemo = {};
    function truncCached(code, gran) {
      var memo = truncMemo[gran] || (truncMemo[gran] = new Map()), hit = memo.get(code);
      if (hit === undefined) { hit = truncDate(S[code], gran); memo.set(code, hit); }
      return hit;
    }

    // ---- distinct ids (id_sets.encode_bytes: "b" bitmap, or "d" LEB128 gaps, bytes in P.blob) --------
    var POPCOUNT = new Uint8Array(256), decodedSets = [];
    for (var pc = 1; pc < 256; pc++) POPCOUNT[pc] = POPCOUNT[pc >> 1] + (pc & 1);
    function idSet(index) {
      if (decodedSets[index]) return decodedSets[index];
      var entry = IDS.sets[index], bytes = P.blob.subarray(entry[2], entry[2] + entry[3]), set;
      if (entry[1] === 'b') set = {bits: bytes, column: entry[0]};
      else {
        var ids = [], value = 0, scale = 1, previous = -1;
        for (var k = 0; k < bytes.length; k++) {
          value += (bytes[k] & 127) * scale; scale *= 128;
          if (!(bytes[k] & 128)) { previous += value; ids.push(previous); value = 0; scale = 1; }
        }
        set = {list: ids, column: entry[0]};
      }
      decodedSets[index] = set;
      return set;
    }
    // A distinct-count accumulator is a small Set until it holds 1/32 of its dictionary, then a bitmap (OR is fast).
    function idsToBits(acc) {
      if (acc.bits) return;
      acc.bits = new Uint8Array(((IDS.sizes[acc.column] || 0) >> 3) + 1);
      acc.ids.forEach(function (id) { acc.bits[id >> 3] |= 1 << (id & 7); });
      acc.ids = null;
    }
    function idsAdd(acc, set) {
      acc.column = set.column;
      if (set.bits) {
        idsToBits(acc);
        for (var i = 0; i < set.bits.length; i++) acc.bits[i] |= set.bits[i];
      } else if (acc.bits) {
        for (var j = 0; j < set.list.length; j++) acc.bits[set.list[j] >> 3] |= 1 << (set.list[j] & 7);
      } else {
        for (var k = 0; k < set.list.length; k++) acc.ids.add(set.list[k]);
        if (acc.ids.size * 32 > (IDS.sizes[set.column] || 0)) idsToBits(acc);
      }
    }
    function idsMerge(into, acc) {
      if (acc.column === null) return;
      idsAdd(into, acc.bits ? {bits: acc.bits, column: acc.column} : {list: Array.from(acc.ids), column: acc.column});
    }
    // Filters applied to the counted ids (dashboard_data.id_filter_columns): a bitmap of the ids whose value of
    // each filtered column is chosen, built once per choice; null while no such filter chooses anything.
    var ID_ATTRS = P.idattrs || {}, ID_MASK = null, maskMemo = {};
    function idMask(vis) {
      var active = vis.filters.filter(function (f) {
        var wanted = f.param ? PARAMS[f.param] : f.wanted || (f.wanted = new Set(f.values));
        return f.ids && wanted && wanted.size;
      });
      if (!active.length) return null;
      var memo = JSON.stringify(active.map(function (f) {
        return [f.ids, f.nulls, Array.from(f.param ? PARAMS[f.param] : f.wanted)];
      }));
      if (maskMemo[memo]) return maskMemo[memo];
      var size = ID_ATTRS[active[0].ids].length, mask = new Uint8Array((size >> 3) + 1);
      for (var id = 0; id < size; id++) {
        var keep = true;
        for (var k = 0; k < active.length && keep; k++) {
          var f = active[k], code = ID_ATTRS[f.ids][id];
          keep = code === null ? f.nulls : (f.param ? PARAMS[f.param] : f.wanted).has(S[code]);
        }
        if (keep) mask[id >> 3] |= 1 << (id & 7);
      }
      maskMemo = {};  // one choice at a time: the page re-draws on every change
      maskMemo[memo] = mask;
      return mask;
    }
    function idsCount(acc) {
      var n = 0, mask = ID_MASK, i;
      if (!acc.bits) {
        if (!mask) return acc.ids.size;
        acc.ids.forEach(function (id) { if (mask[id >> 3] >> (id & 7) & 1) n += 1; });
        return n;
      }
      if (mask) for (i = 0; i < acc.bits.length; i++) n += POPCOUNT[acc.bits[i] & (mask[i] || 0)];
      else for (i = 0; i < acc.bits.length; i++) n += POPCOUNT[acc.bits[i]];
      return n;
    }

    // ---- aggregation -------------------------------------------------------------------------------
    function rowCount(vis) {
      if (vis.keys.length) return vis.keys[0].v.length;
      return vis.parts.length ? vis.parts[0].length : 0;
    }
    function dimValue(vis, dim, i) {
      var column = vis.keys[dim.key], raw = column.v[i];
      if (raw === null || raw === undefined) return null;
      if (column.t === 'n') return raw;
      var text = S[raw];
      return column.t === 'd' && dim.gran ? truncDate(text, dim.gran) : text;
    }
    // Per text code, whether it passes (1) or not (2), filled as rows are met: a date range or a filter's chosen
    // values is then one typed-array read per row, not a string truncation or a Set look-up (443k rows a visual).
    var rangeMemo = {key: '', seen: {}};
    function inRange(vis, i, range) {
      if (vis.date < 0) return true;
      var raw = vis.keys[vis.date].v[i];
      if (raw === null) return false;
      var memoKey = range[0] + '|' + range[1];
      if (rangeMemo.key !== memoKey) rangeMemo = {key: memoKey, seen: {}};
      var seen = rangeMemo.seen[vis.dateGran] || (rangeMemo.seen[vis.dateGran] = new Uint8Array(S.length));
      if (!seen[raw]) {
        var when = truncCached(raw, vis.dateGran);
        seen[raw] = when >= truncDate(range[0], vis.dateGran) && when <= truncDate(range[1], vis.dateGran) ? 1 : 2;
      }
      return seen[raw] === 1;
    }
    // Category filters (CategoryFilter): a parameter's chosen values, or a fixed list; nothing chosen keeps all.
    function passesFilters(vis, i) {
      for (var k = 0; k < vis.filters.length; k++) {
        var f = vis.filters[k], wanted = f.param ? PARAMS[f.param] : f.wanted || (f.wanted = new Set(f.values));
        if (f.ids || !wanted || !wanted.size) continue;
        var column = vis.keys[f.key], raw = column.v[i];
        if (raw === null || raw === undefined) { if (f.nulls) continue; return false; }
        if (column.t === 'n') { if (!wanted.has(String(raw))) return false; continue; }
        if (f.memoFor !== wanted) { f.memoFor = wanted; f.memo = new Uint8Array(S.length); }
        if (!f.memo[raw]) f.memo[raw] = wanted.has(S[raw]) ? 1 : 2;
        if (f.memo[raw] === 2) return false;
      }
      return true;
    }
    function newAcc(measure) {
      return measure.agg === 'DISTINCT_COUNT' ? {ids: new Set(), bits: null, column: null} : {s: 0, c: 0, n: 0, v: null};
    }
    function addAcc(acc, measure, parts, i) {
      var first = parts[measure.parts[0]][i];
      switch (measure.agg) {
        case 'SUM': if (first !== null) { acc.s += first; acc.n += 1; } break;
        case 'AVG': if (first !== null) { acc.s += first; acc.c += parts[measure.parts[1]][i]; } break;
        // sum(a) / sum(b) over whatever is grouped: keep both sums, divide only in finish().
        case 'RATIO': acc.s += first || 0; acc.c += parts[measure.parts[1]][i] || 0; acc.n += 1; break;
        case 'COUNT': acc.c += first || 0; acc.n += 1; break;
        case 'MIN': if (first !== null && (acc.v === null || first < acc.v)) acc.v = first; break;
        case 'MAX': if (first !== null && (acc.v === null || first > acc.v)) acc.v = first; break;
        case 'DISTINCT_COUNT': idsAdd(acc, idSet(first)); break;
        default: throw new Error('unknown aggregation ' + measure.agg);
      }
    }
    function mergeAcc(into, acc, measure) {
      if (measure.agg === 'DISTINCT_COUNT') { idsMerge(into, acc); return; }
      into.s += acc.s; into.c += acc.c; into.n += acc.n;
      if (acc.v !== null && (into.v === null || (measure.agg === 'MIN' ? acc.v < into.v : acc.v > into.v))) into.v = acc.v;
    }
    function finish(acc, measure) {
      switch (measure.agg) {
        case 'SUM': return acc.n ? acc.s : null;
        case 'AVG': return acc.c ? acc.s / acc.c : null;
        case 'RATIO': return acc.c ? acc.s / acc.c : null;
        case 'COUNT': return acc.c;
        case 'DISTINCT_COUNT': return idsCount(acc);
        default: return acc.v;
      }
    }
    function finishGroup(group, vis) {
      group.vals = group.acc.map(function (acc, j) { return finish(acc, vis.measures[j]); });
      return group;
    }
    // Each row's group key, built once per visual from the raw codes (a date coarser than a day by its period);
    // a group's dimension values are decoded only for its first row, not for every row.
    function rowKey(vis, dim, i) {
      var column = vis.keys[dim.key], raw = column.v[i];
      if (raw === null || raw === undefined) return '~';
      return column.t === 'd' && dim.gran && dim.gran !== 'DAY' ? truncCached(raw, dim.gran) : raw;
    }
    function rowKeys(vis) {
      if (vis.rowKeys) return vis.rowKeys;
      var n = rowCount(vis), keys = new Array(n), dims = vis.dims, single = dims.length === 1;
      for (var i = 0; i < n; i++) {
        if (single) { keys[i] = rowKey(vis, dims[0], i); continue; }
        var key = '';
        for (var d = 0; d < dims.length; d++) key += (d ? '|' : '') + rowKey(vis, dims[d], i);
        keys[i] = key;
      }
      vis.rowKeys = keys;
      return keys;
    }
    // The rows to aggregate: the visual's own pre-grouped rows while none of its row filters chooses anything
    // (dashboard_data: a KPI over days, not over every user-day), else the dataset's shared rows.
    function rowsFor(vis) {
      if (!vis.pre) return vis;
      for (var k = 0; k < vis.filters.length; k++) {
        var f = vis.filters[k], wanted = f.param ? PARAMS[f.param] : null;
        if (f.key >= 0 && (!f.param || (wanted && wanted.size))) return vis;
      }
      if (!vis.preVis) {
        vis.preVis = Object.assign({}, vis, {keys: vis.pre.keys, parts: vis.pre.parts, filters: [], rowKeys: null,
          dims: vis.dims.map(function (d, k) { return Object.assign({}, d, {key: vis.pre.dims[k]}); })});
      }
      return vis.preVis;
    }
    function aggregate(vis, range) {
      var src = rowsFor(vis), n = rowCount(src), groups = new Map(), result = [], keys = src.raw ? null : rowKeys(src);
      for (var i = 0; i < n; i++) {
        if (!inRange(src, i, range) || (src.filters.length && !passesFilters(src, i))) continue;
        if (src.raw) {
          result.push({dims: src.dims.map(function (d) { return dimValue(src, d, i); }), acc: [], vals: []});
          continue;
        }
        var key = keys[i], group = groups.get(key);
        if (!group) {
          group = {dims: src.dims.map(function (d) { return dimValue(src, d, i); }), acc: vis.measures.map(newAcc)};
          groups.set(key, group);
        }
        for (var j = 0; j < vis.measures.length; j++) addAcc(group.acc[j], vis.measures[j], src.parts, i);
      }
      groups.forEach(function (group) {
        finishGroup(group, vis);
        // Under an id filter a group none of whose ids is chosen had no row passing it: QuickSight shows no group.
        if (ID_MASK && group.vals.every(function (v) { return v === 0; })) return;
        result.push(group);
      });
      return topBottom(vis, sortGroups(vis, result));
    }
    function fieldRef(vis, fieldId) {
      for (var d = 0; d < vis.dims.length; d++) if (vis.dims[d].id === fieldId) return {dim: d};
      for (var m = 0; m < vis.measures.length; m++) if (vis.measures[m].id === fieldId) return {measure: m};
      return null;
    }
    function compare(a, b) {
      if (a === b) return 0;
      if (a === null) return 1;
      if (b === null) return -1;
      return a < b ? -1 : 1;
    }
    function sortGroups(vis, groups) {
      var orders = vis.sort.map(function (s) { return {ref: fieldRef(vis, s[0]), desc: s[1] === 'DESC'}; });
      if (!orders.length) {
        var firstCat = vis.dims.findIndex(function (d) { return d.role !== 'color'; });
        var visible = vis.measures.findIndex(function (m) { return !m.hidden; });
        var byDate = vis.kind === 'line' || (firstCat >= 0 && vis.dims[firstCat].kind === 'date');
        if (firstCat >= 0 && (byDate || visible < 0)) orders.push({ref: {dim: firstCat}, desc: false});
        else if (visible >= 0) orders.push({ref: {measure: visible}, desc: true});
      }
      return groups.sort(function (a, b) {
        for (var k = 0; k < orders.length; k++) {
          var ref = orders[k].ref;
          var x = ref.dim !== undefined ? a.dims[ref.dim] : a.vals[ref.measure];
          var y = ref.dim !== undefined ? b.dims[ref.dim] : b.vals[ref.measure];
          var c = (x === null || y === null) ? compare(x, y) : (orders[k].desc ? -compare(x, y) : compare(x, y));
          if (c) return c;
        }
        return 0;
      });
    }
    // QuickSight TopBottomFilter: keep the top N values of one dimension, ranked by an aggregated measure.
    function topBottom(vis, groups) {
      if (!vis.top) return groups;
      var ref = fieldRef(vis, vis.top.field), m = fieldRef(vis, vis.top.measure).measure, measure = vis.measures[m];
      var totals = new Map();
      groups.forEach(function (g) {
        var key = g.dims[ref.dim];
        if (!totals.has(key)) totals.set(key, newAcc(measure));
        mergeAcc(totals.get(key), g.acc[m], measure);
      });
      var ranked = Array.from(totals.keys()).sort(function (a, b) {
        var c = compare(finish(totals.get(a), measure), finish(totals.get(b), measure));
        return vis.top.direction === 'ASC' ? c : -c;
      });
      var keep = new Set(ranked.slice(0, vis.top.limit));
      return groups.filter(function (g) { return keep.has(g.dims[ref.dim]); });
    }
    // CategoryItemsLimit on the category dimension; OtherCategories INCLUDE folds the rest into one group.
    function limitCategories(vis, groups, catIndex) {
      if (!vis.limit || catIndex < 0) return groups;
      var order = [], seen = new Set();
      groups.forEach(function (g) { var v = g.dims[catIndex]; if (!seen.has(v)) { seen.add(v); order.push(v); } });
      if (order.length <= vis.limit) return groups;
      var keep = new Set(order.slice(0, vis.limit)), kept = [], others = new Map();
      groups.forEach(function (g) {
        if (keep.has(g.dims[catIndex])) { kept.push(g); return; }
        if (!vis.other) return;
        var dims = g.dims.slice(); dims[catIndex] = UI.other;
        var key = JSON.stringify(dims), into = others.get(key);
        if (!into) { into = {dims: dims, acc: vis.measures.map(newAcc)}; others.set(key, into); }
        g.acc.forEach(function (acc, j) { mergeAcc(into.acc[j], acc, vis.measures[j]); });
      });
      others.forEach(function (g) { kept.push(finishGroup(g, vis)); });
      return kept;
    }

    // ---- drawing helpers ---------------------------------------------------------------------------
    function el(tag, attrs, parent, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) node.textContent = text;
      if (parent) parent.appendChild(node);
      return node;
    }
    function svg(tag, attrs, parent, text) {
      var node = document.createElementNS(SVG_NS, tag);
      Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) node.textContent = text;
      if (parent) parent.appendChild(node);
      return node;
    }
    function tip(node, text) { svg('title', {}, node, text); }
    function niceTicks(lo, hi, count, whole) {
      if (hi - lo <= 0) hi = lo + 1;  // an all-zero series still gets an axis
      var raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
      [1, 2, 2.5, 5, 10].some(function (f) { step = f * mag; return raw <= step; });
      // A count of users or rows has no 2.5th person: whole-number steps only.
      if (whole) step = Math.max(1, Math.ceil(step));
      var ticks = [], start = Math.floor(lo / step) * step;
      for (var t = start; t <= hi + step * 0.5; t += step) ticks.push(Math.round(t / step) * step);
      if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
      return ticks;
    }
    function textWidth(text) {
      var w = 0;
      for (var ch of String(text)) w += ch.charCodeAt(0) > 0x2e80 ? 12 : 6.6;
      return w;
    }
    function shorten(text, width) {
      text = String(text);
      if (textWidth(text) <= width) return text;
      var out = '';
      for (var ch of text) { if (textWidth(out + ch + '…') > width) break; out += ch; }
      return out + '…';
    }
    function legend(parent, items) {
      var box = el('div', {'class': 'legend'}, parent);
      items.forEach(function (item, k) {
        var entry = el('span', {'class': 'legend-item'}, box);
        el('i', {style: 'background:' + PALETTE[k % PALETTE.length]}, entry);
        el('span', {}, entry, item);
      });
    }
    function isCount(measure) { return measure.agg === 'COUNT' || measure.agg === 'DISTINCT_COUNT'; }
    function allWhole(series) { return series.every(function (s) { return s.whole; }); }
    function visibleMeasures(vis) {
      return vis.measures.map(function (m, j) { return {m: m, j: j}; }).filter(function (x) { return !x.m.hidden; });
    }
    function codeLabel(column, value) {
      return CODE_COLUMNS.has(column) && Object.prototype.hasOwnProperty.call(CODES.labels, value)
        ? CODES.labels[value] : value;
    }
    function dimText(dim, value) {
      if (value === null) return '–';
      if (dim.kind === 'date') return dateLabel(String(value), dim.gran);
      if (typeof value === 'string') return codeLabel(dim.col, value);
      return typeof value === 'number' ? formatValue(value, dim.fmt) : String(value);
    }
    // Series for line and bar charts: one per Colors value, or one per measure when there is no Colors field.
    function seriesOf(vis, groups) {
      var cat = vis.dims.findIndex(function (d) { return d.role === 'category'; });
      var color = vis.dims.findIndex(function (d) { return d.role === 'color'; });
      groups = limitCategories(vis, groups, cat);
      var cats = [], catSeen = new Set();
      groups.forEach(function (g) { var v = g.dims[cat]; if (!catSeen.has(v)) { catSeen.add(v); cats.push(v); } });
      var measures = visibleMeasures(vis), series = [];
      if (color >= 0) {
        var first = measures[0], byColor = new Map();
        groups.forEach(function (g) {
          var key = g.dims[color];
          if (!byColor.has(key)) byColor.set(key, new Map());
          byColor.get(key).set(g.dims[cat], g.vals[first.j]);
        });
        byColor.forEach(function (values, key) {
          series.push({label: dimText(vis.dims[color], key), fmt: first.m.fmt, values: values, whole: isCount(first.m),
            key: key});
        });
      } else {
        measures.forEach(function (x) {
          var values = new Map();
          groups.forEach(function (g) { values.set(g.dims[cat], g.vals[x.j]); });
          series.push({label: x.m.label, fmt: x.m.fmt, values: values, whole: isCount(x.m)});
        });
      }
      return {catDim: vis.dims[cat], cats: cats, series: series, cat: cat, color: color};
    }

    // VisualCustomAction on a data point: set parameters from the clicked point's fields, then open the target sheet.
    function clickable(node, vis, dims) {
      if (!vis.actions.length) return;
      node.setAttribute('class', ((node.getAttribute('class') || '') + ' clickable').trim());
      node.addEventListener('click', function () { runActions(vis, dims); });
    }
    function pointDims(vis, data, category, series) {
      var dims = vis.dims.map(function () { return null; });
      dims[data.cat] = category;
      if (data.color >= 0 && series) dims[data.color] = series.key;
      return dims;
    }
    function runActions(vis, dims) {
      var target = null;
      vis.actions.forEach(function (action) {
        action.set.forEach(function (pair) {
          var value = dims[pair[1]];
          PARAMS[pair[0]] = new Set(value === null || value === undefined ? [] : [String(value)]);
        });
        if (action.target) target = action.target;
      });
      syncControls();
      var index = target === null ? -1 : sections.findIndex(function (s) { return s.getAttribute('data-sheet-id') === target; });
      if (index >= 0 && index !== current) location.hash = 'sheet=' + (index + 1);
      else renderSheet(current);
    }

    // ---- visuals -----------------------------------------------------------------------------------
    function drawKpi(body, vis, groups) {
      var shown = visibleMeasures(vis)[0], acc = newAcc(shown.m);
      groups.forEach(function (g) { mergeAcc(acc, g.acc[shown.j], shown.m); });
      var value = finish(acc, shown.m);
      el('div', {'class': 'kpi-value', 'data-value': value === null ? '' : String(value)}, body,
        formatValue(value, shown.m.fmt));
      // A KPI's title already names it; repeat only a custom label that says something else.
      if (shown.m.named && shown.m.label !== vis.title) el('div', {'class': 'kpi-label'}, body, shown.m.label);
      var trend = vis.dims.findIndex(function (d) { return d.role === 'trend'; });
      if (trend >= 0 && groups.length > 1) {
        var values = groups.map(function (g) { return g.vals[shown.j] || 0; });
        var hi = Math.max.apply(null, values), lo = Math.min.apply(null, values), w = 200, h = 36;
        var spark = svg('svg', {'class': 'spark', viewBox: '0 0 ' + w + ' ' + h, preserveAspectRatio: 'none'}, body);
        var points = values.map(function (v, k) {
          return (k * w / (values.length - 1)).toFixed(1) + ',' + (h - 2 - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (h - 4)).toFixed(1);
        });
        svg('polyline', {points: points.join(' '), fill: 'none', stroke: PALETTE[0], 'stroke-width': 1.5}, spark);
      }
      return 1;
    }

    function axesFrame(body, width, height, margin, ticks, yFmt, vertical) {
      var root = svg('svg', {width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'class': 'chart'}, body);
      var lo = ticks[0], hi = ticks[ticks.length - 1];
      var plotW = width - margin.l - margin.r, plotH = height - margin.t - margin.b;
      function scale(v) {
        return vertical ? margin.t + plotH - (v - lo) / (hi - lo) * plotH : margin.l + (v - lo) / (hi - lo) * plotW;
      }
      var axis = svg('g', {'class': 'axis'}, root);
      ticks.forEach(function (t) {
        var p = scale(t);
        if (vertical) {
          svg('line', {x1: margin.l, x2: width - margin.r, y1: p, y2: p, 'class': t === 0 ? 'zero' : 'grid'}, axis);
          svg('text', {x: margin.l - 6, y: p + 4, 'text-anchor': 'end'}, axis, formatValue(t, yFmt, true));
        } else {
          svg('line', {y1: margin.t, y2: height - margin.b, x1: p, x2: p, 'class': t === 0 ? 'zero' : 'grid'}, axis);
          svg('text', {x: p, y: height - margin.b + 16, 'text-anchor': 'middle'}, axis, formatValue(t, yFmt, true));
        }
      });
      return {root: root, scale: scale, plotW: plotW, plotH: plotH};
    }
    function valueRange(series) {
      var lo = 0, hi = 0;
      series.forEach(function (s) {
        s.values.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      });
      return [lo, hi];
    }
    function yMargin(ticks, fmt) {
      return Math.max(40, Math.max.apply(null, ticks.map(function (t) { return textWidth(formatValue(t, fmt, true)); })) + 14);
    }

    function drawLine(body, vis, groups) {
      var data = seriesOf(vis, groups), width = Math.max(body.clientWidth, 320), height = 280;
      var range = valueRange(data.series), ticks = niceTicks(range[0], range[1], 5, allWhole(data.series));
      var fmt = data.series[0].fmt;
      var margin = {l: yMargin(ticks, fmt), r: 18, t: 12, b: 48};
      var frame = axesFrame(body, width, height, margin, ticks, fmt, true), root = frame.root;
      var n = data.cats.length, step = n > 1 ? frame.plotW / (n - 1) : 0;
      function x(k) { return margin.l + (n > 1 ? k * step : frame.plotW / 2); }
      var every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(frame.plotW / 84))));
      var labels = svg('g', {'class': 'axis'}, root);
      data.cats.forEach(function (c, k) {
        if (k % every === 0) svg('text', {x: x(k), y: height - margin.b + 18, 'text-anchor': 'middle'}, labels, dimText(data.catDim, c));
      });
      svg('text', {x: margin.l + frame.plotW / 2, y: height - 8, 'text-anchor': 'middle', 'class': 'axis-title'}, root,
        data.catDim.label);
      data.series.forEach(function (s, k) {
        var color = PALETTE[k % PALETTE.length], d = '', pen = 'M';
        data.cats.forEach(function (c, i) {
          var v = s.values.get(c);
          if (v === null || v === undefined) { pen = 'M'; return; }
          d += pen + x(i).toFixed(1) + ',' + frame.scale(v).toFixed(1) + ' '; pen = 'L';
        });
        svg('path', {d: d, fill: 'none', stroke: color, 'stroke-width': 2, 'class': 'series'}, root);
        var dots = svg('g', {'class': 'dots'}, root);
        data.cats.forEach(function (c, i) {
          var v = s.values.get(c);
          if (v === null || v === undefined) return;
          var dot = svg('circle', {cx: x(i).toFixed(1), cy: frame.scale(v).toFixed(1), r: n > 60 ? 2 : 3, fill: color}, dots);
          tip(dot, dimText(data.catDim, c) + '\n' + s.label + ': ' + formatValue(v, s.fmt));
        });
      });
      legend(body, data.series.map(function (s) { return s.label; }));
      return n;
    }

    function drawBar(body, vis, groups) {
      var data = seriesOf(vis, groups), vertical = vis.opts.orientation === 'VERTICAL';
      var stacked = String(vis.opts.arrangement).indexOf('STACKED') === 0, width = Math.max(body.clientWidth, 320);
      var totals = data.cats.map(function (c) {
        return data.series.reduce(function (sum, s) { return sum + (s.values.get(c) || 0); }, 0);
      });
      var range = stacked ? [Math.min(0, Math.min.apply(null, totals)), Math.max.apply(null, totals.concat([0]))]
        : valueRange(data.series);
      var ticks = niceTicks(range[0], range[1], vertical ? 5 : Math.max(3, Math.floor(width / 130)), allWhole(data.series));
      var fmt = data.series[0].fmt, n = data.cats.length, lanes = stacked ? 1 : data.series.length;
      var catLabels = data.cats.map(function (c) { return dimText(data.catDim, c); });
      var margin, height, frame, band;
      if (vertical) {
        height = 300;
        margin = {l: yMargin(ticks, fmt), r: 12, t: 12, b: 64};
        frame = axesFrame(body, width, height, margin, ticks, fmt, true);
        band = frame.plotW / Math.max(n, 1);
      } else {
        var labelW = Math.min(width * 0.35, Math.max.apply(null, catLabels.map(textWidth).concat([40])) + 12);
        band = Math.max(22, 10 + 12 * lanes);
        // Room on the right for the value printed after the longest bar.
        var valueW = data.series.length === 1 ? Math.max.apply(null, data.cats.map(function (c) {
          return textWidth(formatValue(data.series[0].values.get(c), data.series[0].fmt));
        }).concat([0])) : 0;
        margin = {l: labelW, r: Math.max(24, valueW + 10), t: 8, b: 44};
        height = margin.t + margin.b + band * Math.max(n, 1);
        frame = axesFrame(body, width, height, margin, ticks, fmt, false);
      }
      var root = frame.root, bars = svg('g', {'class': 'bars'}, root), labels = svg('g', {'class': 'axis'}, root);
      var inner = band * 0.72, lane = inner / lanes, zero = frame.scale(0);
      data.cats.forEach(function (c, i) {
        var offset = 0, start = (vertical ? margin.l : margin.t) + i * band + (band - inner) / 2;
        data.series.forEach(function (s, k) {
          var v = s.values.get(c);
          if (v === null || v === undefined) return;
          var from = stacked ? frame.scale(offset) : zero, to = frame.scale((stacked ? offset : 0) + v);
          var pos = start + (stacked ? 0 : k * lane), thick = Math.max(1, (stacked ? inner : lane) - 1);
          var rect = vertical
            ? svg('rect', {x: pos, y: Math.min(from, to), width: thick, height: Math.abs(to - from), fill: PALETTE[k % PALETTE.length]}, bars)
            : svg('rect', {y: pos, x: Math.min(from, to), height: thick, width: Math.abs(to - from), fill: PALETTE[k % PALETTE.length]}, bars);
          tip(rect, catLabels[i] + '\n' + s.label + ': ' + formatValue(v, s.fmt));
          if (!(vis.other && c === UI.other)) clickable(rect, vis, pointDims(vis, data, c, s));
          if (stacked) offset += v;
        });
        if (vertical) {
          var cx = margin.l + (i + 0.5) * band, text = shorten(catLabels[i], n > 8 ? 90 : band - 4);
          var t = svg('text', {x: cx, y: height - margin.b + 16, 'text-anchor': n > 8 ? 'end' : 'middle',
            transform: n > 8 ? 'rotate(-35 ' + cx + ' ' + (height - margin.b + 16) + ')' : ''}, labels, text);
          tip(t, catLabels[i]);
        } else {
          var label = svg('text', {x: margin.l - 6, y: margin.t + (i + 0.5) * band + 4, 'text-anchor': 'end'}, labels,
            shorten(catLabels[i], margin.l - 10));
          tip(label, catLabels[i]);
          if (lanes === 1 && data.series.length === 1) {
            var v1 = data.series[0].values.get(c);
            svg('text', {x: frame.scale(v1 || 0) + 4, y: margin.t + (i + 0.5) * band + 4, 'class': 'value-label'}, bars,
              formatValue(v1, data.series[0].fmt));
          }
        }
      });
      legend(body, data.series.map(function (s) { return s.label; }));
      return n;
    }

    function drawPie(body, vis, groups) {
      var cat = vis.dims.findIndex(function (d) { return d.role === 'category'; });
      groups = limitCategories(vis, groups, cat);
      var shown = visibleMeasures(vis)[0], dim = vis.dims[cat];
      var slices = groups.filter(function (g) { return g.vals[shown.j] > 0; });
      var total = slices.reduce(function (sum, g) { return sum + g.vals[shown.j]; }, 0);
      var wrap = el('div', {'class': 'pie'}, body), size = 220, r = 100, c = size / 2;
      var root = svg('svg', {width: size, height: size, viewBox: '0 0 ' + size + ' ' + size, 'class': 'chart'}, wrap);
      var angle = -Math.PI / 2, list = el('ul', {'class': 'pie-legend'}, wrap);
      slices.forEach(function (g, k) {
        var v = g.vals[shown.j], share = v / total, next = angle + share * 2 * Math.PI, color = PALETTE[k % PALETTE.length];
        var label = dimText(dim, g.dims[cat]), text = label + ': ' + formatValue(v, shown.m.fmt) + ' (' +
          formatValue(share * 100, {decimals: 1}) + '%)';
        var node;
        if (slices.length === 1) node = svg('circle', {cx: c, cy: c, r: r, fill: color}, root);
        else {
          var large = next - angle > Math.PI ? 1 : 0;
          node = svg('path', {fill: color, d: 'M' + c + ',' + c + ' L' + (c + r * Math.cos(angle)).toFixed(2) + ',' +
            (c + r * Math.sin(angle)).toFixed(2) + ' A' + r + ',' + r + ' 0 ' + large + ' 1 ' +
            (c + r * Math.cos(next)).toFixed(2) + ',' + (c + r * Math.sin(next)).toFixed(2) + ' Z'}, root);
        }
        tip(node, text);
        clickable(node, vis, g.dims);
        var item = el('li', {}, list);
        el('i', {style: 'background:' + color}, item);
        el('span', {}, item, text);
        angle = next;
      });
      if (vis.opts.donut) svg('circle', {cx: c, cy: c, r: r * 0.55, fill: '#fff'}, root);
      svg('text', {x: c, y: c + 5, 'text-anchor': 'middle', 'class': 'pie-total'}, root,
        vis.opts.donut ? formatValue(total, shown.m.fmt) : '');
      return slices.length;
    }

    function csvCell(value) {
      if (value === null || value === undefined) return '';
      var text = String(value);
      // A text cell starting with = + - @ is a formula to a spreadsheet: quote it as text (CSV injection).
      if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = "'" + text;
      return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    }
    function downloadCsv(vis, columns, groups) {
      var lines = [columns.map(function (c) { return csvCell(c.label); }).join(',')];
      groups.forEach(function (g) { lines.push(columns.map(function (c) { return csvCell(c.get(g)); }).join(',')); });
      // The BOM makes spreadsheet programs read the names as UTF-8.
      var blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], {type: 'text/csv;charset=utf-8'});
      var link = el('a', {href: URL.createObjectURL(blob), download: vis.id + '.csv'}, document.body);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 5000);
    }
    // Rows are sorted as a whole and only one page is in the DOM (26k rows as DOM took seconds to draw).
    function drawTable(body, vis, groups) {
      var columns = vis.dims.map(function (d, k) { return {label: d.label, get: function (g) { return g.dims[k]; }, dim: d}; })
        .concat(visibleMeasures(vis).map(function (x) {
          return {label: x.m.label, get: function (g) { return g.vals[x.j]; }, fmt: x.m.fmt, numeric: true};
        }));
      var size = vis.opts.pageSize > 0 ? vis.opts.pageSize : PAGE_SIZE, container = body.parentNode;
      var wrap = el('div', {'class': 'table-wrap'}, body);
      var table = el('table', columns.length > DENSE_COLUMNS ? {'class': 'dense'} : {}, wrap);
      var head = el('tr', {}, el('thead', {}, table)), tbody = el('tbody', {}, table);
      var state = {col: -1, desc: false, page: 0};
      var foot = el('div', {'class': 'table-foot'}, body), info = el('span', {'class': 'page-info'}, foot);
      var prev = el('button', {type: 'button', 'class': 'page-prev', title: UI.previous}, foot, '‹');
      var next = el('button', {type: 'button', 'class': 'page-next', title: UI.next}, foot, '›');
      var csv = el('button', {type: 'button', 'class': 'csv'}, foot, UI.csv);
      function pages() { return Math.max(1, Math.ceil(groups.length / size)); }
      function fill() {
        tbody.textContent = '';
        var from = state.page * size;
        groups.slice(from, from + size).forEach(function (g) {
          var tr = el('tr', {}, tbody);
          columns.forEach(function (col) {
            var v = col.get(g);
            el('td', {'class': col.numeric || typeof v === 'number' ? 'num' : (col.dim && col.dim.kind === 'date' ? 'date' : '')}, tr,
              col.dim ? dimText(col.dim, v) : formatValue(v, col.fmt));
          });
          clickable(tr, vis, g.dims);
        });
        info.textContent = formatValue(groups.length) + ' ' + UI.rows + ' · ' + UI.page + ' ' + (state.page + 1) +
          ' / ' + pages();
        prev.disabled = state.page === 0;
        next.disabled = state.page >= pages() - 1;
        container.setAttribute('data-page', String(state.page + 1));
        container.setAttribute('data-pages', String(pages()));
      }
      prev.addEventListener('click', function () { if (state.page > 0) { state.page -= 1; fill(); } });
      next.addEventListener('click', function () { if (state.page < pages() - 1) { state.page += 1; fill(); } });
      csv.addEventListener('click', function () { downloadCsv(vis, columns, groups); });
      columns.forEach(function (col, k) {
        var th = el('th', {'class': col.numeric ? 'num' : '', title: UI.sortHint, 'data-col': String(k)}, head, col.label);
        th.addEventListener('click', function () {
          state.desc = state.col === k ? !state.desc : !!col.numeric;
          state.col = k;
          state.page = 0;
          groups.sort(function (a, b) {
            var x = col.get(a), y = col.get(b);
            return (x === null || y === null) ? compare(x, y) : (state.desc ? -compare(x, y) : compare(x, y));
          });
          Array.prototype.forEach.call(head.children, function (cell, i) {
            cell.setAttribute('aria-sort', i === k ? (state.desc ? 'descending' : 'ascending') : 'none');
          });
          fill();
        });
      });
      fill();
      return groups.length;
    }

    var DRAW = {kpi: drawKpi, line: drawLine, bar: drawBar, pie: drawPie, table: drawTable};

    // ---- page --------------------------------------------------------------------------------------
    var startInput = document.getElementById('start-date'), endInput = document.getElementById('end-date');
    var sections = Array.prototype.slice.call(document.querySelectorAll('section.sheet'));
    var tabs = Array.prototype.slice.call(document.querySelectorAll('#tabs button'));
    var current = 0;

    // Parameter controls (Dropdown, List) of each sheet; a parameter is global, so every control of it shows its value.
    function buildControls() {
      sections.forEach(function (section) {
        var list = (P.controls || {})[section.getAttribute('data-sheet-id')] || [];
        if (!list.length) return;
        var bar = el('div', {'class': 'sheet-controls'});
        section.insertBefore(bar, section.firstChild);
        list.forEach(function (c) {
          var label = el('label', {}, bar);
          el('span', {}, label, c.title);
          var select = el('select', {'data-param': c.param, 'data-control-id': c.id}, label);
          if (c.multi) {
            select.multiple = true;
            select.size = Math.min(5, Math.max(2, c.values.length));
          } else {
            el('option', {value: ''}, select, UI.all);
          }
          c.values.forEach(function (v) { el('option', {value: v}, select, codeLabel(c.col, v)); });
          select.addEventListener('change', function () {
            PARAMS[c.param] = new Set(Array.prototype.filter.call(select.options, function (o) {
              return o.selected && o.value !== '';
            }).map(function (o) { return o.value; }));
            syncControls();
            renderSheet(current);
          });
          var clear = el('button', {type: 'button', 'class': 'clear', title: UI.all}, label, '×');
          clear.addEventListener('click', function () { PARAMS[c.param] = new Set(); syncControls(); renderSheet(current); });
        });
      });
    }
    function syncControls() {
      Array.prototype.forEach.call(document.querySelectorAll('select[data-param]'), function (select) {
        var chosen = PARAMS[select.getAttribute('data-param')] || new Set();
        Array.prototype.forEach.call(select.options, function (o) {
          o.selected = o.value === '' ? !chosen.size : chosen.has(o.value);
        });
      });
    }

    function currentRange() {
      var lo = startInput.value || (P.range ? P.range[0] : '0000-01-01');
      var hi = endInput.value || (P.range ? P.range[1] : '9999-12-31');
      return lo <= hi ? [lo, hi] : [hi, lo];
    }
    function renderVisual(container, range) {
      var vis = P.visuals[container.getAttribute('data-visual-id')], body = container.querySelector('.body');
      body.textContent = '';
      container.removeAttribute('data-rendered');
      var started = performance.now();
      try {
        ID_MASK = idMask(vis);
        var groups = aggregate(vis, range);
        if (!groups.length) {
          el('div', {'class': 'empty'}, body, UI.noData);
          container.setAttribute('data-rows', '0');
        } else {
          container.setAttribute('data-rows', String(DRAW[vis.kind](body, vis, groups)));
        }
        container.setAttribute('data-rendered', '1');
        container.setAttribute('data-ms', String(Math.round(performance.now() - started)));
      } catch (e) {
        report('visual ' + vis.id + ': ' + (e && e.stack ? e.stack : e));
      }
    }
    function renderSheet(index) {
      var range = currentRange();
      Array.prototype.forEach.call(sections[index].querySelectorAll('.visual'), function (v) { renderVisual(v, range); });
    }
    function show(index) {
      current = Math.min(Math.max(index, 0), sections.length - 1);
      sections.forEach(function (s, k) { s.hidden = k !== current; });
      tabs.forEach(function (t, k) { t.setAttribute('aria-selected', k === current ? 'true' : 'false'); });
      renderSheet(current);
    }
    function sheetFromHash() {
      var match = /(?:^#|&)sheet=([^&]+)/.exec(location.hash);
      if (!match) return 0;
      var wanted = decodeURIComponent(match[1]), byId = sections.findIndex(function (s) { return s.getAttribute('data-sheet-id') === wanted; });
      return byId >= 0 ? byId : Math.max(0, (parseInt(wanted, 10) || 1) - 1);
    }
    tabs.forEach(function (tab, k) {
      tab.addEventListener('click', function () { location.hash = 'sheet=' + (k + 1); });
    });
    window.addEventListener('hashchange', function () { show(sheetFromHash()); });
    [startInput, endInput].forEach(function (input) {
      input.addEventListener('change', function () { renderSheet(current); });
    });
    document.getElementById('reset-dates').addEventListener('click', function () {
      if (P.range) { startInput.value = P.range[0]; endInput.value = P.range[1]; }
      renderSheet(current);
    });
    var resizeTimer = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { renderSheet(current); }, 150);
    });
    function hashDate(name) {
      var match = new RegExp('(?:^#|&)' + name + '=(\\d{4}-\\d{2}-\\d{2})(?:&|$)').exec(location.hash);
      return match ? match[1] : null;
    }
    Object.keys(P.params || {}).forEach(function (name) { PARAMS[name] = new Set(P.params[name].defaults); });
    buildControls();
    syncControls();
    if (P.range) {
      startInput.value = P.range[0]; endInput.value = P.range[1];
      [startInput, endInput].forEach(function (input) { input.min = P.range[0]; input.max = P.range[1]; });
    }
    // #sheet=N&start=YYYY-MM-DD&end=YYYY-MM-DD opens a sheet with a date range (links, the browser test).
    if (hashDate('start')) startInput.value = hashDate('start');
    if (hashDate('end')) endInput.value = hashDate('end');
    show(sheetFromHash());
    // Milliseconds from navigation to a drawn first sheet, data decoding included (bench/dashboard_html.py).
    document.body.setAttribute('data-ready-ms', String(Math.round(performance.now())));
    document.body.setAttribute('data-ready', '1');
  }
})();
