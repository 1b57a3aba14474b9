// The viewdag docs site: the DAG (Cytoscape.js) and a details panel per view.
// Data comes from data.js (window.VIEWDAG_DATA), written by `viewdag docs`.
(function () {
  'use strict';
  var data = window.VIEWDAG_DATA;
  // Plain maps: a view named `constructor` or `toString` is a view like any other.
  var views = Object.create(null);
  data.views.forEach(function (view) { views[view.name] = view; });

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    (children || []).forEach(function (child) { node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); });
    return node;
  }
  function table(headers, rows, rowClass) {
    var head = element('tr', {}, headers.map(function (header) { return element('th', {}, [header]); }));
    var body = rows.map(function (row, index) {
      return element('tr', rowClass ? { class: rowClass(index) } : {}, row.map(function (cell) { return element('td', {}, [String(cell)]); }));
    });
    return element('table', {}, [head].concat(body));
  }
  function section(title, content) {
    return [element('h3', {}, [title]), content];
  }
  function pre(text) { return element('pre', {}, [text || '']); }

  function showView(name) {
    var view = views[name];
    var details = document.getElementById('details');
    details.innerHTML = '';
    details.setAttribute('data-view', name);
    if (!view) { details.appendChild(element('p', {}, ['Source ' + name + '.'])); return; }
    var parts = [element('h2', { id: 'view-name' }, [name])];
    parts.push(element('p', {}, [view.status + (view.materialized ? ', materialized' : ', ephemeral') + '; reads ' + (view.reads.join(', ') || 'nothing') + ' ']
      .concat(view.tags.map(function (tag) { return element('span', { class: 'tag' }, ['tag:' + tag]); }))));
    parts = parts.concat(section('Schema', element('div', { id: 'schema' }, [table(['column', 'type', 'nullable'], view.schema.map(function (field) { return [field.name, field.type, field.nullable]; }))])));
    parts = parts.concat(section('Definition', pre(JSON.stringify(view.definition, null, 2))));
    parts = parts.concat(section('Expectations', view.expectations.length
      ? table(['expectation', 'on fail'], view.expectations.map(function (expectation) { return [expectation.name, expectation.on_fail]; }))
      : element('p', {}, ['none'])));
    var bundle = view.bundle;
    if (bundle) {
      var edges = [];
      bundle.lineage.forEach(function (column) {
        column.depends_on.forEach(function (edge) { edges.push([column.column, edge.relation + '.' + edge.column, edge.kind]); });
      });
      parts = parts.concat(section('Column lineage (filter and join-key edges highlighted)', table(['column', 'depends on', 'edge'], edges, function (index) { return 'edge-' + edges[index][2]; })));
      parts = parts.concat(section('P0: unoptimized logical plan', pre(bundle.plans.p0.text)));
      parts = parts.concat(section('P1: optimized logical plan', pre(bundle.plans.p1.text)));
      parts = parts.concat(section('P2: physical plan', pre(bundle.plans.p2.text)));
      parts = parts.concat(section('Pass trace', table(['pass', 'outcome'], bundle.pass_trace.filter(function (pass) { return pass.changed || pass.outcome !== 'unchanged'; }).map(function (pass) { return [pass.pass, pass.outcome]; }))));
      parts = parts.concat(section('Pushdown report', bundle.pushdown_report.length
        ? table(['plan', 'relation', 'predicate', 'provider', 'placement', 'verdict'], bundle.pushdown_report.map(function (entry) { return [entry.plan, entry.relation, entry.predicate, entry.outcome, entry.placement, entry.verdict]; }))
        : element('p', {}, ['no scan predicates'])));
    } else {
      parts.push(element('p', {}, ['No plan bundle (the view did not compile).']));
    }
    view.tasks.forEach(function (task) {
      var cost = task.cost || {};
      parts = parts.concat(section('Task ' + task.id + ': cost estimate', table(['bytes read', 'rows read', 'bytes written', 'rows written', 'work', 'critical path'],
        [[cost.input_bytes, cost.input_rows, cost.output_bytes, cost.output_rows, cost.work, cost.critical_path]])));
      var run = task.last_run;
      if (!run) { parts.push(element('p', {}, ['Not run yet.'])); return; }
      parts.push(element('p', {}, ['Last run: ' + run.outcome.status + (run.outcome.rows !== undefined ? ', ' + run.outcome.rows + ' rows' : '') + (run.outcome.version !== undefined ? ', version ' + run.outcome.version : '') + (run.outcome.message ? ': ' + run.outcome.message : '')]));
      if (run.expectations.length) {
        parts.push(table(['expectation', 'on fail', 'checked', 'failed', 'dropped'], run.expectations.map(function (result) {
          return [result.owner + ' ' + result.name, result.on_fail, result.rows_checked, result.rows_failed, result.rows_dropped];
        }), function (index) { return run.expectations[index].rows_failed ? 'fail' : 'ok'; }));
      }
    });
    parts.forEach(function (part) { details.appendChild(part); });
  }

  // Node ids carry their kind (`source:`, `view:`, `output:`, `missing:`) and edges are
  // numbered (`edge:N`), so no name can collide with another node or an edge (a view named
  // `o->v`). A name nothing declares gets a node marked missing, so every spec `check` can
  // read renders, broken entries included.
  var elements = [];
  var sourceNames = Object.create(null);
  data.sources.forEach(function (source) {
    sourceNames[source.name] = true;
    elements.push({ data: { id: 'source:' + source.name, name: source.name, label: source.name, kind: 'source' } });
  });
  var missing = Object.create(null);
  function nodeOf(name) {
    if (views[name]) { return 'view:' + name; }
    if (sourceNames[name]) { return 'source:' + name; }
    if (!missing[name]) {
      missing[name] = true;
      elements.push({ data: { id: 'missing:' + name, name: name, label: name + ' (missing)', kind: 'missing', status: 'failed' } });
    }
    return 'missing:' + name;
  }
  var edgeCount = 0;
  function edge(from, to) { elements.push({ data: { id: 'edge:' + (edgeCount++), source: from, target: to } }); }
  data.views.forEach(function (view) {
    elements.push({ data: { id: 'view:' + view.name, name: view.name, view: view.name, label: view.name, kind: view.materialized ? 'table' : 'view', status: view.status } });
  });
  data.views.forEach(function (view) { view.reads.forEach(function (read) { edge(nodeOf(read), 'view:' + view.name); }); });
  data.outputs.forEach(function (output) {
    var id = 'output:' + output.name;
    elements.push({ data: { id: id, name: output.name, view: output.view, label: output.name + ' → ' + output.path, kind: 'output', status: views[output.view] ? undefined : 'failed' } });
    edge(nodeOf(output.view), id);
  });
  var cy = cytoscape({
    container: document.getElementById('graph'),
    elements: elements,
    wheelSensitivity: 0.3,
    layout: { name: 'preset' },
    style: [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'background-color': '#5b7db1', width: 18, height: 18 } },
      { selector: 'node[kind = "source"]', style: { shape: 'barrel', 'background-color': '#8a6d3b' } },
      { selector: 'node[kind = "table"]', style: { shape: 'round-rectangle', 'background-color': '#2e7d32' } },
      { selector: 'node[kind = "output"]', style: { shape: 'tag', 'background-color': '#6a1b9a' } },
      { selector: 'node[kind = "missing"]', style: { shape: 'octagon' } },
      { selector: 'node[status = "failed"], node[status = "blocked"]', style: { 'background-color': '#b00020' } },
      { selector: 'edge', style: { width: 1.5, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#999', 'target-arrow-color': '#999' } },
      { selector: '.dimmed', style: { opacity: 0.2 } },
      { selector: ':selected', style: { 'border-width': 3, 'border-color': '#ff9800' } }
    ]
  });
  var sourceNodes = cy.nodes('[kind = "source"]');
  cy.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1.1, roots: sourceNodes.length ? sourceNodes : undefined }).run();
  window.VIEWDAG_GRAPH = cy;
  cy.on('tap', 'node', function (event) {
    var id = event.target.id();
    cy.nodes().unselect();
    event.target.select();
    showView(event.target.data('view') !== undefined ? event.target.data('view') : event.target.data('name'));
  });
  var search = document.getElementById('search');
  search.addEventListener('input', function () {
    var query = search.value.trim().toLowerCase();
    cy.nodes().forEach(function (node) { node.toggleClass('dimmed', query !== '' && String(node.data('label')).toLowerCase().indexOf(query) < 0); });
  });
  search.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter') { return; }
    var match = cy.nodes().filter(function (node) { return !node.hasClass('dimmed'); })[0];
    if (match) { match.emit('tap'); cy.animate({ center: { eles: match } }); }
  });
  document.getElementById('zoom-in').addEventListener('click', function () { cy.zoom(cy.zoom() * 1.25); });
  document.getElementById('zoom-out').addEventListener('click', function () { cy.zoom(cy.zoom() / 1.25); });
  document.getElementById('fit').addEventListener('click', function () { cy.fit(); });
  document.getElementById('spec-name').textContent = data.spec || '';
  document.getElementById('summary').textContent = data.views.length + ' views, ' + data.sources.length + ' sources, ' + data.outputs.length + ' outputs';

  // `index.html#view=NAME` opens a view as a click on its node would; `#click=NAME` clicks
  // the node: mouse events at its position on the canvas, hit-tested by Cytoscape.
  // NAME is a view's, a source's or an output's name, looked up in that order.
  function nodeNamed(name) {
    var found = ['view:', 'source:', 'output:'].map(function (prefix) { return cy.getElementById(prefix + name); }).filter(function (node) { return node.length; });
    return found[0];
  }
  var wanted = nodeNamed(decodeURIComponent((location.hash.match(/view=([^&]+)/) || [])[1] || ''));
  if (wanted) { wanted.emit('tap'); }
  var clicked = nodeNamed(decodeURIComponent((location.hash.match(/click=([^&]+)/) || [])[1] || ''));
  if (clicked) {
    var position = clicked.renderedPosition();
    var box = cy.container().getBoundingClientRect();
    var x = box.left + position.x, y = box.top + position.y;
    var target = document.elementFromPoint(x, y);
    ['mousedown', 'mouseup', 'click'].forEach(function (type) {
      target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, button: 0, view: window }));
    });
  }
  document.body.setAttribute('data-graph-views', String(cy.nodes().filter(function (node) { return node.id().indexOf('view:') === 0; }).length));
  document.body.setAttribute('data-errors', String(window.VIEWDAG_ERRORS.length));
  document.body.setAttribute('data-loaded', 'true');
  window.setTimeout(function () {
    document.getElementById('errors').textContent = window.VIEWDAG_ERRORS.join('; ');
    document.body.setAttribute('data-errors', String(window.VIEWDAG_ERRORS.length));
  }, 0);
})();
