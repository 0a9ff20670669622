// finops: click a column heading of a table marked `sortable` to sort it
// by that column (again to reverse). Numbers (money, percentages, counts)
// sort by value, largest first; text sorts A to Z. A table with one body
// per group (a platform and its regions) sorts the groups by their first
// row and the rows within each group, keeping the group's first row on
// top. Totals in the table foot stay where they are. Pages work without
// this script; it only reorders what is already there.
(function () {
  "use strict";

  function cellValue(cell) {
    if (!cell) { return { num: null, text: "" }; }
    var explicit = cell.getAttribute("data-v");
    if (explicit !== null && explicit !== "" && !isNaN(Number(explicit))) {
      return { num: Number(explicit), text: explicit };
    }
    var text = cell.textContent.trim();
    // Dates as the pages print them: "1 Dec 2026".
    if (/^\d{1,2} [A-Z][a-z]{2} \d{4}$/.test(text)) {
      var when = Date.parse(text);
      if (!isNaN(when)) { return { num: when, text: text }; }
    }
    // Money, percentages and counts: "$1,234.56", "−4.0 %", "+12", "1.2k",
    // "1,234.00 EUR"; anything else sorts as text.
    var m = text.replace(/\u2212/g, "-").match(/^[+-]?[^\dA-Za-z+-]{0,4}[+-]?[\d,]*\.?\d+\s*(k|K|m|M|%|[A-Z]{3})?$/);
    if (m) {
      var raw = m[0];
      var negative = /^[^\d]*-/.test(raw);
      var digits = raw.replace(/[^\d.]/g, "");
      var value = parseFloat(digits);
      var unit = (m[1] || "").toLowerCase();
      if (unit === "k") { value *= 1e3; }
      if (unit === "m") { value *= 1e6; }
      if (!isNaN(value)) { return { num: negative ? -value : value, text: text }; }
    }
    return { num: null, text: text.toLowerCase() };
  }

  function compare(a, b, descending) {
    var x = a.value, y = b.value, order;
    if (x.num !== null && y.num !== null) {
      order = x.num - y.num;
    } else if (x.num !== null) {
      return -1; // numbers before blanks and dashes, either way
    } else if (y.num !== null) {
      return 1;
    } else {
      order = x.text.localeCompare(y.text);
    }
    if (order === 0) { return a.index - b.index; }
    return descending ? -order : order;
  }

  function sortRows(rows, column, descending) {
    return rows
      .map(function (row, index) {
        return { row: row, index: index, value: cellValue(row.children[column]) };
      })
      .sort(function (a, b) { return compare(a, b, descending); })
      .map(function (item) { return item.row; });
  }

  function sortTable(table, column, descending) {
    var bodies = Array.prototype.slice.call(table.tBodies);
    if (bodies.length > 1) {
      bodies.forEach(function (body) {
        var rows = Array.prototype.slice.call(body.rows);
        var head = rows.shift();
        sortRows(rows, column, descending).forEach(function (r) { body.appendChild(r); });
        if (head) { body.insertBefore(head, body.firstChild); }
      });
      var heads = bodies.map(function (b) { return b.rows[0]; });
      var order = sortRows(heads, column, descending);
      var anchor = table.tFoot;
      order.forEach(function (headRow) { table.insertBefore(headRow.parentNode, anchor); });
    } else if (bodies.length === 1) {
      var body = bodies[0];
      sortRows(Array.prototype.slice.call(body.rows), column, descending)
        .forEach(function (r) { body.appendChild(r); });
    }
  }

  function enable(table) {
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) { return; }
    Array.prototype.forEach.call(headRow.cells, function (th, column) {
      if (th.colSpan > 1 || th.classList.contains("no-sort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = cellValue(table.tBodies[0] && table.tBodies[0].rows[0] &&
          table.tBodies[0].rows[0].children[column]).num !== null;
        var current = th.getAttribute("aria-sort");
        var descending = current ? current === "ascending" : numeric;
        Array.prototype.forEach.call(headRow.cells, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sortTable(table, column, descending);
      });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), enable);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
