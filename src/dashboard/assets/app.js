// pidpilot dashboard: the live page. Plain browser JavaScript, no framework, no build step.
// Data arrives as server-sent events: /api/stream (status, events) and /api/logs (output).

(() => {
  const csrf = document.querySelector('meta[name="pidpilot-csrf"]').content;
  const actions = document.querySelector('meta[name="pidpilot-actions"]').content;
  const TERMINAL = new Set(['stopped', 'completed', 'failed']);
  const MAX_EVENTS = 200;
  const MAX_LINES = 1000;

  const $ = (sel) => document.querySelector(sel);
  const tbody = $('#jobs tbody');
  const rows = new Map();
  let status = null;
  let clockOffset = 0; // server time minus ours
  let jobNames = '';
  let selected = '';
  let logs = null;

  function uptime(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
    return Math.floor(s / 86400) + 'd' + String(Math.floor(s / 3600) % 24).padStart(2, '0') + 'h';
  }

  function lastExit(j) {
    const r = j.lastRun;
    if (!r) return '-';
    if (r.signal) return r.outcome + ' (' + r.signal + ')';
    if (r.code !== null && r.code !== undefined) return r.outcome + ' (' + r.code + ')';
    return r.reason ? r.outcome + ' (' + r.reason + ')' : r.outcome;
  }

  function cell(tr, cls, text) {
    const td = tr.querySelector('td.' + cls);
    if (td.textContent !== text) td.textContent = text;
    return td;
  }

  function makeRow(name) {
    const tr = document.createElement('tr');
    tr.dataset.job = name;
    for (const cls of ['name', 'state', 'reason', 'pid', 'uptime', 'restarts', 'exit', 'health', 'ready', 'actions']) {
      const td = document.createElement('td');
      td.className = cls;
      tr.appendChild(td);
    }
    for (const action of ['start', 'stop', 'restart']) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = action;
      b.textContent = action;
      b.hidden = actions === 'off';
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        act(name, action);
      });
      tr.querySelector('td.actions').appendChild(b);
    }
    tr.addEventListener('click', () => select(name));
    return tr;
  }

  function renderJobs() {
    const now = Date.now() + clockOffset;
    const seen = new Set();
    for (const j of status.jobs) {
      seen.add(j.name);
      let tr = rows.get(j.name);
      if (!tr) {
        tr = makeRow(j.name);
        rows.set(j.name, tr);
      }
      tbody.appendChild(tr); // keeps the order of the status
      cell(tr, 'name', j.name);
      cell(tr, 'state', j.state).className = 'state s-' + j.state;
      cell(tr, 'reason', j.reason || '');
      cell(tr, 'pid', j.pid === null ? '-' : String(j.pid));
      cell(tr, 'uptime', j.startedAt === null ? '-' : uptime(now - j.startedAt));
      cell(tr, 'restarts', String(j.restarts));
      cell(tr, 'exit', lastExit(j));
      cell(tr, 'health', j.health);
      cell(tr, 'ready', j.ready ? 'yes' : 'no');
      tr.querySelector('button.start').disabled = !TERMINAL.has(j.state);
      tr.querySelector('button.stop').disabled = TERMINAL.has(j.state);
      tr.classList.toggle('selected', j.name === selected);
    }
    for (const [name, tr] of rows) {
      if (!seen.has(name)) {
        tr.remove();
        rows.delete(name);
      }
    }
  }

  function renderSummary() {
    const mode = status.maintenance ? ', maintenance mode' : status.shuttingDown ? ', shutting down' : '';
    $('#summary').textContent =
      'v' +
      status.version +
      ', pid ' +
      status.pid +
      ', up ' +
      uptime(Date.now() + clockOffset - status.startedAt) +
      mode;
  }

  function colourGraph() {
    for (const j of status.jobs) {
      const g = document.querySelector('#graph g.node[data-job="' + CSS.escape(j.name) + '"]');
      if (g) g.setAttribute('class', 'node job s-' + j.state);
    }
  }

  function loadGraph() {
    fetch('graph.svg')
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((svg) => {
        $('#graph').innerHTML = svg; // drawn by pidpilot, every label escaped
        if (status) colourGraph();
      })
      .catch((err) => {
        $('#graph').textContent = 'no graph: ' + err.message;
      });
  }

  function renderJobChoice() {
    const sel = $('#output-job');
    const names = status.jobs.map((j) => j.name);
    if (names.join('\n') === jobNames) return;
    jobNames = names.join('\n');
    while (sel.options.length > 1) sel.remove(1);
    for (const name of names) sel.add(new Option(name, name));
    sel.value = selected;
    loadGraph();
  }

  function onStatus(s) {
    clockOffset = s.now - Date.now();
    status = s;
    renderSummary();
    renderJobs();
    renderJobChoice();
    colourGraph();
  }

  function onEvent(e) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = new Date(e.time).toLocaleTimeString();
    li.appendChild(time);
    li.appendChild(document.createTextNode(e.code + ' ' + e.source + (e.reason ? ' (' + e.reason + ')' : '')));
    const list = $('#events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  }

  function follow() {
    const stream = new EventSource('api/stream');
    stream.addEventListener('status', (m) => onStatus(JSON.parse(m.data)));
    stream.addEventListener('event', (m) => onEvent(JSON.parse(m.data)));
    stream.addEventListener('contact', (m) => {
      const lost = JSON.parse(m.data).error;
      const el = $('#contact');
      el.textContent = lost ? 'supervisor unreachable: ' + lost : '';
      el.classList.toggle('lost', Boolean(lost));
    });
    stream.onerror = () => {
      $('#contact').textContent = 'dashboard server unreachable, retrying…';
      $('#contact').classList.add('lost');
    };
    stream.onopen = () => {
      $('#contact').textContent = '';
      $('#contact').classList.remove('lost');
    };
  }

  function select(name) {
    selected = name;
    $('#output-job').value = name;
    for (const [n, tr] of rows) tr.classList.toggle('selected', n === name);
    tailOutput();
  }

  function tailOutput() {
    if (logs) logs.close();
    const out = $('#output');
    out.textContent = '';
    logs = new EventSource('api/logs' + (selected ? '?job=' + encodeURIComponent(selected) : ''));
    logs.onmessage = (m) => {
      const l = JSON.parse(m.data);
      const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
      const line = document.createElement('div');
      if (l.stream === 'stderr') line.className = 'stderr';
      if (!selected) {
        const name = document.createElement('span');
        name.className = 'job';
        name.textContent = l.job + ' | ';
        line.appendChild(name);
      }
      line.appendChild(document.createTextNode(l.line));
      out.appendChild(line);
      while (out.children.length > MAX_LINES) out.firstChild.remove();
      if (atEnd) out.scrollTop = out.scrollHeight;
    };
  }

  function token() {
    if (actions !== 'token') return '';
    let t = sessionStorage.getItem('pidpilot-token');
    if (!t) {
      t = window.prompt('Token for start/stop/restart (pidpilot ui --token):') || '';
      sessionStorage.setItem('pidpilot-token', t);
    }
    return t;
  }

  function act(job, action) {
    const result = $('#action-result');
    result.className = '';
    result.textContent = action + ' ' + job + '…';
    fetch('api/jobs/' + encodeURIComponent(job) + '/' + action, {
      method: 'POST',
      headers: { 'x-pidpilot-csrf': csrf, 'x-pidpilot-token': token() },
    })
      .then((r) => r.json().then((body) => ({ ok: r.ok, status: r.status, body })))
      .then(({ ok, status: code, body }) => {
        if (code === 403 && actions === 'token') sessionStorage.removeItem('pidpilot-token');
        result.className = ok ? '' : 'bad';
        result.textContent = ok
          ? job + ': ' + action + ' done (now ' + body.state + ')'
          : job + ': ' + (body.error || 'HTTP ' + code);
      })
      .catch((err) => {
        result.className = 'bad';
        result.textContent = job + ': ' + err.message;
      });
  }

  $('#output-job').addEventListener('change', (e) => select(e.target.value));
  setInterval(() => {
    if (!status) return;
    renderSummary();
    renderJobs();
  }, 1000);
  follow();
  tailOutput();
})();
