// FastDFS.NET dashboard: polls /api/cluster every 2 s and renders groups and storages.
"use strict";
const REFRESH_MS = 2000;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function mb(value) {
  if (value >= 1024 * 1024) return (value / 1024 / 1024).toFixed(1) + " TB";
  if (value >= 1024) return (value / 1024).toFixed(1) + " GB";
  return value + " MB";
}

function bytes(value) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return (i === 0 ? value : value.toFixed(1)) + " " + units[i];
}

function usage(total, free) {
  const used = total > 0 ? Math.round(100 * (total - free) / total) : 0;
  return el("div", {}, el("div", { class: "bar", title: used + "% used" }, el("span", { style: "width:" + used + "%" })),
    el("span", { class: "muted" }, mb(free) + " free of " + mb(total)));
}

function integrity(s) {
  const i = s.integrity;
  if (!i) return el("span", { class: "muted" }, "—");
  const damage = i.unrepairable > 0
    ? el("div", { class: "error" }, i.unrepairable + " not repairable")
    : el("div", { class: "muted" }, i.damagedFound + " damaged, " + i.repaired + " repaired");
  const scrub = i.scrubRunning ? "scrub running" : i.scrubPasses + " scrub passes" +
    (i.scrubFinished > 0 ? " · last " + new Date(i.scrubFinished * 1000).toLocaleDateString() : "");
  return el("div", {}, scrub, damage,
    el("div", { class: "muted" }, i.replicasRefused + " refused · " + i.antiEntropyResent + " re-sent · " + i.antiEntropyRestored + " restored"));
}

function failedPaths(s) {
  const failed = (s.paths || []).map((p, i) => p.failed ? "M" + i.toString(16).toUpperCase().padStart(2, "0") : null).filter(x => x);
  return failed.length ? el("div", { class: "error" }, "failed disk: " + failed.join(", ")) : el("span", {});
}

function storageRow(s) {
  const c = s.counters;
  return el("tr", { "data-storage": s.id },
    el("td", {}, s.id, el("div", { class: "muted" }, s.ip + ":" + s.port + (s.isTrunkServer ? " · trunk server" : ""))),
    el("td", {}, el("span", { class: "state " + s.status, "data-field": "status" }, s.status), el("div", { class: "reason" }, s.reason),
      s.drain ? el("div", { class: "drain", "data-field": "drain" }, s.drain) : ""),
    el("td", { "data-field": "disk" }, usage(s.totalMb, s.freeMb), failedPaths(s)),
    el("td", { class: "num", "data-field": "syncLag" }, s.syncLagSeconds + " s"),
    el("td", { class: "num", "data-field": "uploads" }, c.uploads),
    el("td", { class: "num", "data-field": "downloads" }, c.downloads),
    el("td", { class: "num", "data-field": "deletes" }, c.deletes),
    el("td", { class: "num" }, bytes(c.uploadBytes) + " / " + bytes(c.downloadBytes)),
    el("td", { class: "num" }, c.connections),
    el("td", { "data-field": "integrity" }, integrity(s)));
}

function groupSection(g) {
  const head = el("tr", {}, ...["Storage", "State", "Disk", "Sync lag", "Uploads", "Downloads", "Deletes", "Bytes in / out", "Conns", "Integrity"]
    .map(h => el("th", {}, h)));
  return el("section", { class: "group", "data-group": g.name },
    el("h2", {}, "Group ", el("span", { "data-field": "group-name" }, g.name)),
    el("div", { class: "muted" }, g.activeCount + " of " + g.storageCount + " storages active · " + mb(g.freeMb) + " free of " + mb(g.totalMb)),
    el("table", {}, el("thead", {}, head), el("tbody", {}, ...g.storages.map(storageRow))));
}

// Spare storages (spare_storage = true): waiting for a group member that stays OFFLINE, or given its place.
function spareSection(spares) {
  if (!spares || !spares.length) return el("span", {});
  const head = el("tr", {}, ...["Spare storage", "For", "Store paths", "Free", "State", "Last heard"].map(h => el("th", {}, h)));
  const rows = spares.map(w => el("tr", { "data-spare": w.address },
    el("td", {}, w.address),
    el("td", {}, w.wantedGroup || "any group"),
    el("td", { class: "num" }, w.storePathCount),
    el("td", { class: "num" }, mb(w.freeMb)),
    el("td", { "data-field": "spare-state" }, w.assignedGroup ? "takes the place of " + w.assignedGroup + "/" + w.replacedId : "waiting"),
    el("td", {}, new Date(w.lastSeen * 1000).toLocaleTimeString())));
  return el("section", { class: "group", "data-section": "spares" },
    el("h2", {}, "Spare storages"), el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
}

async function refresh() {
  const status = document.getElementById("refresh");
  try {
    const response = await fetch("/api/cluster", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    const t = data.tracker;
    document.getElementById("tracker").textContent =
      "tracker " + t.version + " · up since " + new Date(t.startTime * 1000).toLocaleString() + " · " + t.connections + " connections";
    const groups = document.getElementById("groups");
    groups.replaceChildren(...(data.groups.length ? data.groups.map(groupSection) : [el("p", { class: "muted" }, "No storage has joined yet.")]),
      spareSection(data.spares));
    status.className = "muted";
    status.textContent = "updated " + new Date(data.time * 1000).toLocaleTimeString();
  } catch (e) {
    status.className = "error";
    status.textContent = "cannot reach the tracker: " + e.message;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
